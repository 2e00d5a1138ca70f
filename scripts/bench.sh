#!/usr/bin/env bash
# Side-by-side benchmarks of audience_mintegral_file against what a user
# would do by hand, on the local sandbox (127.0.0.1 only):
#   - no-change plan of one big file plus many small ones, in the same
#     checkout and on a fresh copy (new inodes and times), against md5sum of
#     the same bytes, both beyond a "floor": the same resources over
#     one-line files, i.e. what Terraform itself costs;
#   - apply of a new big file against md5sum + presign + curl -X PUT -T;
#   - peak RSS of the provider process.
#   - the scale scenario (scripts/bench-scale.sh): 300 files each feeding
#     its own audience, against as many terraform_data resources.
# Writes BENCHMARKS.md and benchmarks.svg (ratios against the targets).
# BENCH_SCENARIOS=files or BENCH_SCENARIOS=scale runs one of the two; a
# scale run alone rewrites only its own section of BENCHMARKS.md.
#
# Needs Go, Terraform, curl, md5sum, timeout and /usr/bin/time (Debian:
# apt-get install time). Sizes come from the environment, so a quick run
# works: BENCH_BIG_MB=64 BENCH_SMALL_MB=1 BENCH_RUNS=3 make bench
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

big_mb=${BENCH_BIG_MB:-1024}
small_mb=${BENCH_SMALL_MB:-8}
small_count=${BENCH_SMALL_COUNT:-64}
runs=${BENCH_RUNS:-3}
cmd_timeout=${BENCH_TIMEOUT:-1800} # seconds, per terraform or curl command
report=${BENCH_REPORT:-$root/BENCHMARKS.md}
chart=${BENCH_CHART:-$root/benchmarks.svg}
base_dir=${BENCH_DIR:-${TMPDIR:-/tmp}}
scenarios=${BENCH_SCENARIOS:-files,scale}

# Targets and the numbers before the changes, from issues #10 and #16 (the
# fresh copy of a checkout whose lists were written just before the apply).
target_same=0.05 before_same=0.68
target_fresh=0.35 before_fresh=1.00
target_apply=0.8 before_apply=1.40
target_rss_mib=32

die() {
  echo "bench: $*" >&2
  exit 1
}

for var in big_mb small_mb small_count runs cmd_timeout; do
  [[ ${!var} =~ ^[1-9][0-9]*$ ]] || die "$var must be a positive whole number, got '${!var}' (see the BENCH_* variables at the top of scripts/bench.sh)"
done
for scenario in ${scenarios//,/ }; do
  [[ $scenario == files || $scenario == scale ]] || die "BENCH_SCENARIOS lists '$scenario'; the scenarios are files and scale (comma-separated)"
done
# want SCENARIO: whether BENCH_SCENARIOS selects it.
want() { [[ ,$scenarios, == *,$1,* ]]; }
((runs >= 3)) || die "BENCH_RUNS must be at least 3: the results are medians of at least 3 runs"
((big_mb <= 5120)) || die "BENCH_BIG_MB must be at most 5120: Mintegral accepts files up to 5 GiB"
for tool in go terraform curl md5sum timeout awk; do
  command -v "$tool" >/dev/null || die "$tool is not on PATH; the benchmark needs it"
done
[[ -x /usr/bin/time ]] || die "/usr/bin/time is missing (it records the provider's peak RSS); install it, e.g. apt-get install time"
[[ -d $base_dir ]] || die "BENCH_DIR $base_dir is not a directory"

mib=$((1024 * 1024))
set_mb=$((big_mb + small_mb * small_count))
# The data set, its fresh copy, the apply file and one object in the sandbox.
need_mb=$((2 * set_mb + 3 * big_mb + 64))
want files || need_mb=256
avail_mb=$(df -Pm "$base_dir" | awk 'NR == 2 {print $4}')
((avail_mb >= need_mb)) || die "$base_dir has ${avail_mb} MiB free; the benchmark needs about ${need_mb} MiB (set BENCH_DIR elsewhere or use smaller BENCH_BIG_MB / BENCH_SMALL_MB)"

work=$(mktemp -d "$base_dir/audience-bench.XXXXXX")
sandbox_pid=
scale_sandbox_pid=
terraform_pid=
cleanup() {
  local status=$?
  if [[ -n $terraform_pid ]]; then
    # timeout passes the signal on to terraform and the provider; give them
    # up to 30 s to stop the upload, then kill them.
    kill -TERM "$terraform_pid" 2>/dev/null || true
    for _ in $(seq 1 300); do
      kill -0 "$terraform_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$terraform_pid" 2>/dev/null || true
  fi
  for pid in $sandbox_pid $scale_sandbox_pid; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  ((status == 0)) || echo "bench: stopped (exit $status); BENCH_KEEP=1 keeps the work directory and its logs" >&2
  if [[ ${BENCH_KEEP:-0} == 1 ]]; then
    echo "bench: kept $work (BENCH_KEEP=1)"
  else
    rm -rf "$work"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -p "$work/bin" "$work/plugins" "$work/rss" "$work/logs" "$work/results" "$work/sandbox"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
# The commit measured; the benchmark's own outputs do not make it dirty.
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
outputs=()
for f in "$report" "$chart"; do
  f=$(realpath -m --relative-to="$root" "$f")
  [[ $f == ../* ]] || outputs+=(":(exclude)$f")
done
if [[ $commit != unknown ]] && ! git diff --quiet HEAD -- . "${outputs[@]}"; then
  commit="$commit with uncommitted changes"
fi

echo "==> building the provider (as the release does) and the sandbox"
# The release build's settings (.goreleaser.yml): what users run.
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$work/bin/terraform-provider-audience" .
go build -o "$work/bin/audience-sandbox" ./cmd/audience-sandbox

# Terraform starts the provider through this wrapper, so every provider
# process runs under /usr/bin/time and leaves its peak RSS (KiB) in
# rss/<label>.<pid>. The wrapper costs one exec per provider start, the
# same in the floor and in the measured plans.
cat >"$work/plugins/terraform-provider-audience" <<WRAPPER
#!/bin/sh
exec /usr/bin/time -f %M -o "$work/rss/\${BENCH_RSS_LABEL:-other}.\$\$" "$work/bin/terraform-provider-audience" "\$@"
WRAPPER
chmod +x "$work/plugins/terraform-provider-audience"

cat >"$work/terraformrc" <<RC
provider_installation {
  dev_overrides {
    "audiencekit/audience" = "$work/plugins"
  }
  direct {}
}
RC
export TF_CLI_CONFIG_FILE="$work/terraformrc" TF_IN_AUTOMATION=1 TF_INPUT=0 CHECKPOINT_DISABLE=1
# Anything the provider keeps in the user's cache directory starts empty
# here and goes with the work directory.
export XDG_CACHE_HOME="$work/cache"
unset TF_LOG TF_LOG_PROVIDER TF_LOG_PATH TF_CLI_ARGS TF_CLI_ARGS_plan TF_CLI_ARGS_apply

echo "==> starting the sandbox on 127.0.0.1"
"$work/bin/audience-sandbox" -addr 127.0.0.1:0 -dir "$work/sandbox" -env-file "$work/sandbox.env" >"$work/logs/sandbox.log" 2>&1 &
sandbox_pid=$!
for _ in $(seq 1 100); do
  [[ -s $work/sandbox.env ]] && break
  kill -0 "$sandbox_pid" 2>/dev/null || die "the sandbox exited: $(cat "$work/logs/sandbox.log")"
  sleep 0.1
done
[[ -s $work/sandbox.env ]] || die "the sandbox did not start within 10 s: $(cat "$work/logs/sandbox.log")"
# shellcheck disable=SC1091
source "$work/sandbox.env"

# gen_ids FILE BYTES writes random 32-hex-digit device IDs, one a line
# (the IDFA_MD5 shape), exactly BYTES long.
gen_ids() {
  local file=$1 bytes=$2
  (
    set +o pipefail # head stops the pipe once it has enough
    # base64 digits mapped onto hex digits, character by character.
    # shellcheck disable=SC2020
    head -c $(((bytes / 33 + 1) * 24)) /dev/urandom | base64 -w 32 |
      tr 'g-zA-Z+/' '0-9a-f0-9a-f0-9a-f' | head -c $((bytes - 2))
    # A hex letter before the final newline, so the last line is never
    # empty (Mintegral refuses empty lines) whatever BYTES is, and a short
    # last line is never 7 to 13 digits alone, which the content check
    # rightly takes for a phone number.
    printf 'a\n'
  ) >"$file"
  [[ $(stat -c %s "$file") == "$bytes" ]] || die "could not generate $file"
}

# new_content FILE gives FILE new content in place: a new first line.
new_content() {
  local id
  id=$(printf '%s-%s' "$RANDOM" "$(date +%s%N)" | md5sum | cut -c1-32)
  printf '%s' "$id" | dd of="$1" bs=32 count=1 conv=notrunc status=none
}

# write_config DIR LISTS [generate] declares one audience_mintegral_file
# per LISTS/*.txt, uploading DIR/data/<name>.txt. With "generate", an
# audience_id_list data source writes each DIR/data/<name>.txt from
# LISTS/<name>.txt during the plan, just before the resource hashes it, as
# a pipeline generates its lists; the resources' source is the same string
# either way, so the plain configuration plans no change after that apply.
write_config() {
  local dir=$1 lists=$2 generate=${3:-} f name id
  {
    cat <<'HCL'
terraform {
  required_providers {
    audience = {
      source = "audiencekit/audience"
    }
  }
}

provider "audience" {}
HCL
    for f in "$lists"/*.txt; do
      name=$(basename "$f" .txt)
      id=${name//-/_}
      if [[ -n $generate ]]; then
        # shellcheck disable=SC2016 # ${path.module} is HCL, for Terraform
        printf '\ndata "audience_id_list" "%s" {\n  source      = "%s"\n  output_path = "${path.module}/data/%s.txt"\n}\n' "$id" "$f" "$name"
        printf '\nresource "audience_mintegral_file" "%s" {\n  source = data.audience_id_list.%s.output_path\n}\n' "$id" "$id"
      else
        # shellcheck disable=SC2016 # ${path.module} is HCL, for Terraform
        printf '\nresource "audience_mintegral_file" "%s" {\n  source = "${path.module}/data/%s.txt"\n}\n' "$id" "$name"
      fi
    done
  } >"$dir/main.tf"
}

# tf LABEL DIR ARGS... runs terraform in DIR; the provider's peak RSS goes
# under LABEL and the output to logs/LABEL.log. It runs in the background
# so that an interrupt reaches cleanup at once, which stops it.
tf() {
  local label=$1 dir=$2 code=0
  shift 2
  BENCH_RSS_LABEL=$label timeout -k 30 "$cmd_timeout" terraform -chdir="$dir" "$@" >"$work/logs/$label.log" 2>&1 &
  terraform_pid=$!
  wait "$terraform_pid" || code=$?
  terraform_pid=
  return "$code"
}

fail_with_log() {
  echo "bench: $1; the end of its output:" >&2
  tail -n 40 "$work/logs/$2.log" >&2
  exit 1
}

clear_sandbox_objects() {
  rm -rf "$work/sandbox/objects/"*
}

started=0
start_clock() { started=$(date +%s%N); }
# record METRIC appends the milliseconds since start_clock to METRIC's runs.
record() { echo $((($(date +%s%N) - started) / 1000000)) >>"$work/results/$1"; }

# plan_no_change LABEL DIR [METRIC] times a plan that must find no changes.
plan_no_change() {
  local label=$1 dir=$2 metric=${3:-} code=0
  start_clock
  tf "$label" "$dir" plan -input=false -detailed-exitcode -no-color || code=$?
  case $code in
  0) [[ -z $metric ]] || record "$metric" ;;
  2) fail_with_log "the plan in $dir shows changes, but nothing changed: it must be a no-change plan" "$label" ;;
  *) fail_with_log "terraform plan in $dir failed (exit $code)" "$label" ;;
  esac
}

apply() {
  local label=$1 dir=$2
  tf "$label" "$dir" apply -auto-approve -input=false -no-color || fail_with_log "terraform apply in $dir failed" "$label"
}

# manual_upload FILE does by hand what the resource does: md5sum, the
# presign GET with Mintegral's token headers, and curl -X PUT -T.
# The md5sum and the PUT are also timed on their own (manual_md5,
# manual_put), to compare part by part with the provider.
manual_upload() {
  local file=$1 md5 ts inner token resp url t0 t1
  t0=$(date +%s%N)
  md5=$(md5sum "$file" | cut -d' ' -f1)
  echo $((($(date +%s%N) - t0) / 1000000)) >>"$work/results/manual_md5"
  ts=$(date +%s)
  inner=$(printf '%s' "$ts" | md5sum | cut -d' ' -f1)
  token=$(printf '%s%s' "$MINTEGRAL_API_KEY" "$inner" | md5sum | cut -d' ' -f1)
  resp=$(curl -sS -f --max-time 60 -H "access-key: $MINTEGRAL_ACCESS_KEY" -H "timestamp: $ts" -H "token: $token" \
    "$MINTEGRAL_ENDPOINT/api/open/v1/audience/presigned-upload-data?area_type=1&file_name=$(basename "$file")&file_md5=$md5")
  # Go's JSON encoder writes & as \u0026.
  url=$(printf '%s' "$resp" | sed -n 's/.*"url":"\([^"]*\)".*/\1/p' | sed 's/\\u0026/\&/g')
  [[ -n $url ]] || die "manual path: presigned-upload-data gave no URL (answer code: $(printf '%s' "$resp" | sed -n 's/.*"code":\([0-9]*\).*/\1/p'))"
  t1=$(date +%s%N)
  curl -sS -f --max-time "$cmd_timeout" -X PUT -T "$file" "$url" -o /dev/null || die "manual path: curl -X PUT -T failed"
  echo $((($(date +%s%N) - t1) / 1000000)) >>"$work/results/manual_put"
}

# median METRIC prints the median of METRIC's runs in milliseconds.
median() {
  sort -n "$work/results/$1" | awk '{v[NR] = $1} END {if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}
# runs_s METRIC lists METRIC's runs in seconds.
runs_s() { awk '{printf "%s%.3f", (NR > 1 ? ", " : ""), $1 / 1000}' "$work/results/$1"; }
secs() { awk -v ms="$1" 'BEGIN {printf "%.3f", ms / 1000}'; }
# peak_mib LABEL prints the largest peak RSS of LABEL's provider processes.
peak_mib() {
  cat "$work/rss/$1".* 2>/dev/null | awk '/^[0-9]+$/ {if ($1 > m) m = $1} END {printf "%.1f", m / 1024}'
}

# shellcheck source=scripts/bench-scale.sh
source "$root/scripts/bench-scale.sh"

if want files; then
echo "==> generating the data set in $work: ${big_mb} MiB + ${small_count} x ${small_mb} MiB, and the floor"
mkdir -p "$work/gen/set" "$work/gen/floor" "$work/set/data" "$work/floor/data" "$work/apply"
width=${#small_count}
gen_ids "$work/gen/set/big.txt" $((big_mb * mib))
printf '%s\n' "$(echo floor-big | md5sum | cut -c1-32)" >"$work/gen/floor/big.txt"
for i in $(seq 1 "$small_count"); do
  name=$(printf 'small-%0*d' "$width" "$i")
  gen_ids "$work/gen/set/$name.txt" $((small_mb * mib))
  printf '%s\n' "$(echo "floor-$name" | md5sum | cut -c1-32)" >"$work/gen/floor/$name.txt"
done
cp "$work/gen/set/big.txt" "$work/apply/new.txt"
cat >"$work/apply/main.tf" <<'HCL'
terraform {
  required_providers {
    audience = {
      source = "audiencekit/audience"
    }
  }
}

provider "audience" {}

resource "audience_mintegral_file" "new" {
  source = "${path.module}/new.txt"
}
HCL
sync

# As a pipeline does: the first apply writes each list (audience_id_list)
# moments before its resource hashes it, so the files' times are too recent
# to vouch for their bytes. The timed plans then run the plain
# configuration over the files that apply wrote.
echo "==> first apply of the data set and of the floor, their lists generated by the same run"
for dir in set floor; do
  write_config "$work/$dir" "$work/gen/$dir" generate
  apply "apply-$dir" "$work/$dir"
  write_config "$work/$dir" "$work/gen/$dir"
done
rm -rf "$work/gen"
# What the applies left in private state: a fresh copy plans without MD5
# only for resources whose private state holds the upload's record.
recorded=$(grep -c '"private": "' "$work/set/terraform.tfstate" || true)
clear_sandbox_objects
echo "==> warm-up (untimed): page cache, Terraform and the provider binary"
plan_no_change plan-floor "$work/floor"
plan_no_change plan-same "$work/set"
md5sum "$work/set/data/"*.txt >/dev/null

for run in $(seq 1 "$runs"); do
  echo "==> run $run of $runs"
  plan_no_change plan-floor "$work/floor" floor
  plan_no_change plan-same "$work/set" plan_same
  start_clock
  md5sum "$work/set/data/"*.txt >/dev/null
  record md5sum

  # A fresh clone: same relative paths and state; new inodes, times and
  # absolute path, so nothing remembered about earlier copies applies.
  cp -r "$work/set" "$work/fresh-$run"
  sync
  plan_no_change plan-fresh "$work/fresh-$run" plan_fresh
  rm -rf "$work/fresh-$run"

  # A new big file each time, manual path and provider in alternating order;
  # the plan alone of a new content shows the provider's part before the
  # upload (Terraform, hashing and checks).
  new_content "$work/apply/new.txt"
  rm -f "$work/apply/terraform.tfstate" "$work/apply/terraform.tfstate.backup"
  # Each measurement starts with no dirty pages left by the one before
  # (the fresh copy, an upload stored by the sandbox), so their writeback
  # slows neither path.
  sync
  start_clock
  tf plan-new "$work/apply" plan -input=false -no-color || fail_with_log "terraform plan of the new file failed" plan-new
  record plan_new
  order="manual apply"
  ((run % 2)) || order="apply manual"
  for path in $order; do
    new_content "$work/apply/new.txt"
    sync
    if [[ $path == manual ]]; then
      start_clock
      manual_upload "$work/apply/new.txt"
      record manual
    else
      rm -f "$work/apply/terraform.tfstate" "$work/apply/terraform.tfstate.backup"
      start_clock
      apply apply-new "$work/apply"
      record apply
    fi
    clear_sandbox_objects
  done
done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- results ----

m_floor=$(median floor)
m_same=$(median plan_same)
m_md5=$(median md5sum)
m_fresh=$(median plan_fresh)
m_manual=$(median manual)
m_apply=$(median apply)
m_plan_new=$(median plan_new)
m_manual_md5=$(median manual_md5)
m_manual_put=$(median manual_put)
upload_part=$((m_apply - m_plan_new))
part_ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
ratio_same=$(awk -v p="$m_same" -v f="$m_floor" -v m="$m_md5" 'BEGIN {printf "%.3f", (p - f) / m}')
ratio_fresh=$(awk -v p="$m_fresh" -v f="$m_floor" -v m="$m_md5" 'BEGIN {printf "%.3f", (p - f) / m}')
ratio_apply=$(awk -v a="$m_apply" -v m="$m_manual" 'BEGIN {printf "%.3f", a / m}')
rss_labels="apply-set plan-floor plan-same plan-fresh apply-new"
rss_max=0
for label in $rss_labels; do
  rss_max=$(awk -v a="$rss_max" -v b="$(peak_mib "$label")" 'BEGIN {print (b > a ? b : a)}')
done
if [[ $rss_max == 0 ]]; then
  rss_verdict="unknown (no RSS recorded)"
else
  rss_verdict=$(awk -v v="$rss_max" -v t="$target_rss_mib" 'BEGIN {print v <= t ? "pass" : "FAIL"}')
fi
verdict_ratio() { awk -v v="$1" -v t="$2" 'BEGIN {print v <= t ? "pass" : "FAIL"}'; }
v_same=$(verdict_ratio "$ratio_same" "$target_same")
v_fresh=$(verdict_ratio "$ratio_fresh" "$target_fresh")
v_apply=$(verdict_ratio "$ratio_apply" "$target_apply")
# Run-to-run spread of the floor, in md5sum units: plan ratios finer than
# this are noise (a busy machine, too small a data set).
floor_spread=$(sort -n "$work/results/floor" | awk -v m="$m_md5" 'NR == 1 {lo = $1} {hi = $1} END {printf "%.3f", (hi - lo) / m}')
noise_note=
if awk -v n="$floor_spread" -v t="$target_same" 'BEGIN {exit !(n > t)}'; then
  v_same="$v_same (noisy)" v_fresh="$v_fresh (noisy)"
  noise_note="> **Noisy run**: the floor plan's runs spread over ${floor_spread}× md5sum, more than the ${target_same}× target, so the plan ratios are not precise enough to judge it. Run on a quiet machine, with the reference sizes, or with more runs (BENCH_RUNS)."
fi

# ---- chart: one row per target, each on its own scale ----
mkdir -p "$(dirname "$chart")" "$(dirname "$report")"
{
  printf '%s|%s|%s|%s|%s\n' "no-change plan, same checkout: (plan − floor) / md5sum" "$ratio_same" "$target_same" "$before_same" "×"
  printf '%s|%s|%s|%s|%s\n' "no-change plan, fresh copy: (plan − floor) / md5sum" "$ratio_fresh" "$target_fresh" "$before_fresh" "×"
  printf '%s|%s|%s|%s|%s\n' "apply of a new ${big_mb} MiB file / manual path" "$ratio_apply" "$target_apply" "$before_apply" "×"
  printf '%s|%s|%s|%s|%s\n' "provider peak RSS" "$rss_max" "$target_rss_mib" "" " MiB"
} | awk -F'|' -v title="terraform-provider-audience vs. the manual path" \
  -v subtitle="${big_mb} MiB + ${small_count} × ${small_mb} MiB, medians of $runs runs. Bar: this run (green pass, red fail); grey: before (issues #10, #16); dashed: target" '
  function esc(s) { gsub(/&/, "\\&amp;", s); gsub(/</, "\\&lt;", s); return s }
  {
    label[NR] = $1; shown[NR] = $2; value[NR] = $2 + 0; target[NR] = $3 + 0; before[NR] = $4; unit[NR] = $5
  }
  END {
    x0 = 20; bar = 520; row = 78; top = 62
    height = top + NR * row + 30
    printf "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"13\">\n", x0 * 2 + bar + 120, height, x0 * 2 + bar + 120, height
    printf "<rect width=\"100%%\" height=\"100%%\" fill=\"#ffffff\"/>\n"
    printf "<text x=\"%d\" y=\"26\" font-size=\"15\" font-weight=\"bold\">%s</text>\n", x0, esc(title)
    printf "<text x=\"%d\" y=\"44\" font-size=\"11\" fill=\"#616161\">%s</text>\n", x0, esc(subtitle)
    for (i = 1; i <= NR; i++) {
      y = top + (i - 1) * row
      scale = value[i]; if (target[i] > scale) scale = target[i]; if (before[i] != "" && before[i] + 0 > scale) scale = before[i] + 0
      scale = scale * 1.15; if (scale <= 0) scale = 1
      v = value[i] < 0 ? 0 : value[i]
      pass = value[i] <= target[i]
      printf "<text x=\"%d\" y=\"%d\">%s</text>\n", x0, y + 14, esc(label[i])
      if (before[i] != "") {
        printf "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"8\" fill=\"#bdbdbd\"/>\n", x0, y + 22, before[i] / scale * bar
        printf "<text x=\"%.1f\" y=\"%d\" font-size=\"11\" fill=\"#616161\">before: %s%s</text>\n", x0 + before[i] / scale * bar + 6, y + 30, before[i], unit[i]
      }
      printf "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"18\" fill=\"%s\"/>\n", x0, y + 34, v / scale * bar, pass ? "#2e7d32" : "#c62828"
      tx = x0 + target[i] / scale * bar
      vx = x0 + v / scale * bar; if (tx > vx) vx = tx
      printf "<text x=\"%.1f\" y=\"%d\" font-weight=\"bold\">%s%s %s</text>\n", vx + 6, y + 48, shown[i], unit[i], pass ? "pass" : "FAIL"
      printf "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#000000\" stroke-width=\"1.5\" stroke-dasharray=\"4 3\"/>\n", tx, y + 18, tx, y + 58
      printf "<text x=\"%.1f\" y=\"%d\" font-size=\"11\">target ≤ %s%s</text>\n", tx + 4, y + 66, target[i], unit[i]
    }
    printf "</svg>\n"
  }' >"$chart"

# ---- report ----
chart_ref=$(realpath --relative-to="$(dirname "$report")" "$chart")
quick_note=
if ((big_mb != 1024 || small_mb != 8 || small_count != 64)); then
  quick_note="> **Quick run, not the reference data set**: ${big_mb} MiB + ${small_count} × ${small_mb} MiB instead of 1024 MiB + 64 × 8 MiB. The targets are defined on the reference set; run \`make bench\` with the default sizes for numbers to compare with them."
fi
{
  cat <<EOF
# Benchmarks

Written by \`make bench\` (\`scripts/bench.sh\`) on $(date -u '+%Y-%m-%d %H:%M UTC'), provider at \`$commit\`.
Data set: one ${big_mb} MiB file plus ${small_count} files of ${small_mb} MiB (${set_mb} MiB in ${small_count}+1 \`audience_mintegral_file\` resources), medians of ${runs} runs.

$quick_note

$noise_note

![ratios against the targets]($chart_ref)

## Against the targets (issues #10 and #16)

| measure | result | target | before | verdict |
| --- | --- | --- | --- | --- |
| no-change plan, same checkout: (plan − floor) / md5sum of the same bytes | ${ratio_same}× | ≤ ${target_same}× | ${before_same}× | ${v_same} |
| no-change plan, fresh copy: (plan − floor) / md5sum of the same bytes | ${ratio_fresh}× | ≤ ${target_fresh}× | ${before_fresh}× | ${v_fresh} |
| apply of a new ${big_mb} MiB file / manual path | ${ratio_apply}× | ≤ ${target_apply}× | ${before_apply}× | ${v_apply} |
| provider peak RSS (largest of the scenarios below) | ${rss_max} MiB | ≤ ${target_rss_mib} MiB | | ${rss_verdict} |

## Medians (seconds)

| measurement | median | runs |
| --- | --- | --- |
| floor: no-change plan, the same resources over one-line files (spread: ${floor_spread}× md5sum) | $(secs "$m_floor") | $(runs_s floor) |
| no-change plan, same checkout | $(secs "$m_same") | $(runs_s plan_same) |
| \`md5sum\` of the same ${set_mb} MiB (page cache warm) | $(secs "$m_md5") | $(runs_s md5sum) |
| no-change plan, fresh copy | $(secs "$m_fresh") | $(runs_s plan_fresh) |
| manual path: \`md5sum\` + presign GET + \`curl -X PUT -T\` of a new ${big_mb} MiB file | $(secs "$m_manual") | $(runs_s manual) |
| \`terraform apply\` of a new ${big_mb} MiB file | $(secs "$m_apply") | $(runs_s apply) |
| \`terraform plan\` of a new ${big_mb} MiB file | $(secs "$m_plan_new") | $(runs_s plan_new) |
| manual path's \`md5sum\` alone | $(secs "$m_manual_md5") | $(runs_s manual_md5) |
| manual path's \`curl -X PUT -T\` alone | $(secs "$m_manual_put") | $(runs_s manual_put) |

## The apply of a new file, part by part

Both paths read the new file twice, one pass after the other: its MD5 first, because Mintegral's presign request
takes \`file_md5\`, then the upload, which the server hashes as it receives (the sandbox checks it against the
declared \`file_md5\`, as the platform does). The provider's first pass is the plan; the final plan during apply
reuses it, and the upload reads the file once more, hashing as it sends.

| part | provider | manual path | provider / manual |
| --- | --- | --- | --- |
| before the upload: Terraform, MD5, fingerprint and one-column check / \`md5sum\` | $(secs "$m_plan_new") | $(secs "$m_manual_md5") | $(part_ratio "$m_plan_new" "$m_manual_md5")× |
| the upload (apply − plan) / \`curl -X PUT -T\` | $(secs "$upload_part") | $(secs "$m_manual_put") | $(part_ratio "$upload_part" "$m_manual_put")× |
| whole | $(secs "$m_apply") | $(secs "$m_manual") | ${ratio_apply}× |

A whole below 1× needs one part to beat its counterpart: MD5 is one sequential stream whichever program computes
it, and both uploads go to the same server, which hashes what it receives.

## Provider peak RSS (MiB, largest provider process of the scenario)

| scenario | peak RSS |
| --- | --- |
| first apply of the data set (${small_count}+1 uploads, Terraform's default parallelism) | $(peak_mib apply-set) |
| floor plan | $(peak_mib plan-floor) |
| no-change plan, same checkout | $(peak_mib plan-same) |
| no-change plan, fresh copy | $(peak_mib plan-fresh) |
| apply of a new ${big_mb} MiB file | $(peak_mib apply-new) |

The floor plan's peak is what the provider costs for ${small_count}+1 resources without reading any file content.

## Machine

- CPU: $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo), $(nproc) cores available
- Memory: $(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo); kernel $(uname -sr); work directory on $(df -PT "$work" | awk 'NR == 2 {print $2}')
- Load average (1, 5, 15 min): ${load_start} at the start, ${load_end} at the end

## Versions

- $(terraform version | head -n 1)
- $(go version)
- $(curl --version | head -n 1 | cut -d' ' -f1-2), $(md5sum --version | head -n 1)

## Method

- The sandbox (\`cmd/audience-sandbox\`) listens on 127.0.0.1 and stores uploads on the same disk; it checks every
  upload's signature and MD5 in both paths. Terraform runs the freshly built provider through \`dev_overrides\`,
  built as the release is (\`CGO_ENABLED=0\`, \`-trimpath\`, \`-ldflags "-s -w"\`). \`TF_LOG\` is unset, as in most
  pipelines, so the provider turns the SDK's trace logging off (Terraform would discard it).
- The **floor** is the same configuration (${small_count}+1 resources, same names and paths) over one-line files: what
  Terraform, the provider's start and the plan protocol cost whatever the files hold. Plan ratios are
  (plan − floor) / md5sum, where md5sum reads all ${set_mb} MiB with a warm page cache, as the plans do.
- **Written as a pipeline writes them**: the first apply generates each list in the same run, as a pipeline
  does: an \`audience_id_list\` data source writes \`data/<name>.txt\` (a byte-identical copy of a one-column
  source) during the plan, moments before its \`audience_mintegral_file\` hashes it. The files' times are then too
  recent to vouch for their bytes (the 1 s racy window), which is what the state of a pipeline carries to its
  fresh clones. After that apply, ${recorded} of ${small_count}+1 resources keep the upload's record (MD5 and
  fingerprint) in private state. The timed plans run the plain configuration (the same \`source\` strings,
  without the data sources) over the files that apply wrote.
- **Same checkout**: that checkout, applied once, then planned again and again (the warm-up plan confirms the
  just-written files once, by fingerprint). **Fresh copy**: \`cp -r\` of the checkout, state file included, into a
  new directory before each run: the same relative paths and state, new inodes and times, as a CI job's fresh
  clone. Each copy has a new absolute path, and the provider's user cache directory (\`XDG_CACHE_HOME\`) lives in
  the work directory, so nothing the provider remembers from earlier copies or earlier benchmarks applies: only
  the private state in the copied state file does.
- **Apply of a new file**: each run rewrites the first line of the ${big_mb} MiB file (new content, page cache warm)
  and applies it with an empty state (plan + upload, as \`terraform apply\` does), against the manual path on
  another new content: \`md5sum\`, the presign GET with Mintegral's token headers, \`curl -X PUT -T\`. The two
  alternate which goes first from run to run, and each starts after a \`sync\`, so neither pays for the writeback
  of what the other stored. The plan of a new content is timed on its own too, to show the apply part by part.
- **Peak RSS**: the provider is started through a wrapper that runs it under \`/usr/bin/time -f %M\`; each provider
  process Terraform starts leaves its maximum resident set size. The wrapper costs one \`exec\` per provider start,
  alike in the floor and in the measured plans.
- A warm-up plan of each configuration and one md5sum precede the timed runs. The timed runs interleave all
  measurements, so a load change on the machine touches all of them alike.
EOF
} | cat -s >"$report"

echo
echo "==> results (medians of $runs runs)"
printf '  same checkout (plan - floor) / md5sum: %s (target <= %s) %s\n' "$ratio_same" "$target_same" "$v_same"
printf '  fresh copy    (plan - floor) / md5sum: %s (target <= %s) %s\n' "$ratio_fresh" "$target_fresh" "$v_fresh"
printf '  apply / manual path:                   %s (target <= %s) %s\n' "$ratio_apply" "$target_apply" "$v_apply"
printf '  provider peak RSS:                     %s MiB (target <= %s MiB) %s\n' "$rss_max" "$target_rss_mib" "$rss_verdict"
printf '  private records after the first apply: %s of %s\n' "$recorded" "$((small_count + 1))"
[[ -z $noise_note ]] || echo "  noisy: the floor's runs spread over ${floor_spread}x md5sum, more than the ${target_same}x target"
echo "wrote $report and $chart"
fi

if want scale; then
  scale_scenario
fi
