# shellcheck shell=bash
# The scale scenario of scripts/bench.sh (issue #25), sourced by it: a
# workspace of BENCH_SCALE_FILES (300) Mintegral files, each feeding its own
# audience (600 resources), against as many terraform_data resources. Each
# run starts its own sandbox (an empty account) and reports:
#   - the first apply's time and the provider's peak RSS;
#   - a no-change plan's time against two floors, and the Mintegral
#     requests it makes (the sandbox's request log). The floors: as many
#     terraform_data resources (what Terraform itself costs), and as many
#     resources of the smallest terraform-plugin-framework provider
#     (scripts/floorprovider: what any framework provider costs, its peak
#     RSS measured as the provider's);
#   - the day on which 10% of the lists change: a day passes (Mintegral's
#     12-hour update window), every tenth file gets new content, and the
#     apply must upload exactly those files and update exactly their
#     audiences (the plan's counts and the request log say so).
# It uses bench.sh's helpers (tf, gen_ids, new_content, record, median…)
# and writes its section of the report between the scale markers.

scale_files=${BENCH_SCALE_FILES:-300}
scale_lines=${BENCH_SCALE_LINES:-1000} # IDFA_MD5 lines a list
for var in scale_files scale_lines; do
  [[ ${!var} =~ ^[1-9][0-9]*$ ]] || die "$var must be a positive whole number, got '${!var}'"
done
((scale_files >= 10)) || die "BENCH_SCALE_FILES must be at least 10: a tenth of the lists changes each day"

# Targets of issue #25.
scale_target_requests=2 scale_target_plan=1.5 scale_target_rss_mib=64

# scale_config DIR writes the workspace: list-NNN.txt feeds audience scale-NNN.
scale_config() {
  local dir=$1 i n
  {
    printf 'terraform {\n  required_providers {\n    audience = {\n      source = "audiencekit/audience"\n    }\n  }\n}\n\nprovider "audience" {}\n'
    for i in $(seq 1 "$scale_files"); do
      n=$(printf '%03d' "$i")
      # shellcheck disable=SC2016 # ${path.module} is HCL, for Terraform
      printf '\nresource "audience_mintegral_file" "f%s" {\n  source = "${path.module}/data/list-%s.txt"\n}\n' "$n" "$n"
      printf '\nresource "audience_mintegral_audience" "a%s" {\n  name     = "scale-%s"\n  platform = "ios"\n  files = [{\n    device_type = "IDFA_MD5"\n    data_path   = audience_mintegral_file.f%s.data_path\n  }]\n}\n' "$n" "$n" "$n"
    done
  } >"$dir/main.tf"
}

# scale_floor_config DIR writes as many terraform_data resources, wired the
# same way (each second one takes the first's output).
scale_floor_config() {
  local dir=$1 i n
  {
    for i in $(seq 1 "$scale_files"); do
      n=$(printf '%03d' "$i")
      printf '\nresource "terraform_data" "f%s" {\n  input = "data/list-%s.txt"\n}\n' "$n" "$n"
      printf '\nresource "terraform_data" "a%s" {\n  input = terraform_data.f%s.output\n}\n' "$n" "$n"
    done
  } >"$dir/main.tf"
}

# scale_fwfloor_config DIR writes as many floor_data resources of the
# minimal framework provider (scripts/floorprovider), wired the same way.
scale_fwfloor_config() {
  local dir=$1 i n
  {
    printf 'terraform {\n  required_providers {\n    floor = {\n      source = "audiencekit/floor"\n    }\n  }\n}\n'
    for i in $(seq 1 "$scale_files"); do
      n=$(printf '%03d' "$i")
      printf '\nresource "floor_data" "f%s" {\n  input = "data/list-%s.txt"\n}\n' "$n" "$n"
      printf '\nresource "floor_data" "a%s" {\n  input = floor_data.f%s.output\n}\n' "$n" "$n"
    done
  } >"$dir/main.tf"
}

# scale_fwfloor_setup builds the minimal framework provider as the
# provider is built and installs it the same way: under /usr/bin/time,
# through its own CLI configuration ($work/terraformrc-floor).
scale_fwfloor_setup() {
  CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$work/bin/terraform-provider-floor" ./scripts/floorprovider
  mkdir -p "$work/plugins-floor"
  cat >"$work/plugins-floor/terraform-provider-floor" <<WRAPPER
#!/bin/sh
exec /usr/bin/time -f %M -o "$work/rss/\${BENCH_RSS_LABEL:-other}.\$\$" "$work/bin/terraform-provider-floor" "\$@"
WRAPPER
  chmod +x "$work/plugins-floor/terraform-provider-floor"
  cat >"$work/terraformrc-floor" <<RC
provider_installation {
  dev_overrides {
    "audiencekit/floor" = "$work/plugins-floor"
  }
  direct {}
}
RC
}

# scale_requests LOG FROM PATTERN counts the sandbox's logged requests after
# line FROM whose "METHOD PATH STATUS" matches the extended regex PATTERN.
scale_requests() {
  tail -n +"$(($2 + 1))" "$1" | grep -cE " $3 " || true
}

# scale_plan_counts LABEL prints "add change destroy" from a plan's summary.
scale_plan_counts() {
  sed -n 's/^Plan: \([0-9]*\) to add, \([0-9]*\) to change, \([0-9]*\) to destroy\..*/\1 \2 \3/p' "$work/logs/$1.log"
}

scale_scenario() {
  local run dir floor fwfloor sbx log from code i n changed counts uploads updates other api_path
  api_path="/mintegral/api/open/v1/audience"
  changed=$((scale_files / 10))
  echo "==> scale: ${scale_files} files x ${scale_lines} lines, each feeding its own audience ($((2 * scale_files)) resources), ${runs} runs"
  floor="$work/scale-floor"
  mkdir -p "$floor"
  scale_floor_config "$floor"
  tf scale-floor-init "$floor" apply -auto-approve -input=false -no-color || fail_with_log "the terraform_data floor failed to apply" scale-floor-init
  fwfloor="$work/scale-fwfloor"
  mkdir -p "$fwfloor"
  scale_fwfloor_setup
  scale_fwfloor_config "$fwfloor"
  TF_CLI_CONFIG_FILE="$work/terraformrc-floor" tf scale-fwfloor-init "$fwfloor" apply -auto-approve -input=false -no-color ||
    fail_with_log "the minimal framework provider's floor failed to apply" scale-fwfloor-init
  for run in $(seq 1 "$runs"); do
    echo "==> scale run $run of $runs"
    dir="$work/scale-$run"
    sbx="$dir/sandbox"
    log="$work/logs/scale-sandbox-$run.log"
    mkdir -p "$dir/data" "$sbx"
    for i in $(seq 1 "$scale_files"); do
      gen_ids "$dir/data/list-$(printf '%03d' "$i").txt" $((scale_lines * 33))
    done
    scale_config "$dir"
    # An empty account each run, its requests logged (-v).
    "$work/bin/audience-sandbox" -v -addr 127.0.0.1:0 -dir "$sbx" -env-file "$dir/sandbox.env" >"$log" 2>&1 &
    scale_sandbox_pid=$!
    for _ in $(seq 1 100); do
      [[ -s $dir/sandbox.env ]] && break
      kill -0 "$scale_sandbox_pid" 2>/dev/null || die "the scale sandbox exited: $(cat "$log")"
      sleep 0.1
    done
    [[ -s $dir/sandbox.env ]] || die "the scale sandbox did not start within 10 s"
    # shellcheck disable=SC1091
    source "$dir/sandbox.env"
    sync

    start_clock
    apply scale-apply "$dir"
    record scale_apply
    scale_peak scale-apply >>"$work/results/scale_rss_apply"

    # Untimed: page cache, and the plan that follows an apply.
    plan_no_change scale-warm "$dir"
    plan_no_change scale-floor "$floor"
    TF_CLI_CONFIG_FILE="$work/terraformrc-floor" plan_no_change scale-fwfloor "$fwfloor"

    from=$(wc -l <"$log")
    plan_no_change scale-plan "$dir" scale_plan
    scale_requests "$log" "$from" "GET $api_path [0-9]+" >>"$work/results/scale_plan_audience_requests"
    scale_requests "$log" "$from" "[A-Z]+ /mintegral/[^ ]* [0-9]+" >>"$work/results/scale_plan_requests"
    scale_peak scale-plan >>"$work/results/scale_rss_plan"
    plan_no_change scale-floor "$floor" scale_floor
    rm -f "$work/rss/scale-fwfloor".*
    TF_CLI_CONFIG_FILE="$work/terraformrc-floor" plan_no_change scale-fwfloor "$fwfloor" scale_fwfloor
    scale_peak scale-fwfloor >>"$work/results/scale_rss_fwfloor"

    # The day: past the 12-hour window, a tenth of the lists change.
    curl -sS -f --max-time 30 -X POST -d '{"advance":"24h"}' "${MINTEGRAL_ENDPOINT%/mintegral}/_sandbox/clock" >/dev/null ||
      die "could not move the scale sandbox's clock"
    for i in $(seq 10 10 "$scale_files"); do
      new_content "$dir/data/list-$(printf '%03d' "$i").txt"
    done
    code=0
    tf scale-day-plan "$dir" plan -input=false -detailed-exitcode -no-color || code=$?
    ((code == 2)) || fail_with_log "the plan of the day of change exited $code, want 2 (changes)" scale-day-plan
    counts=$(scale_plan_counts scale-day-plan)
    [[ $counts == "0 $((2 * changed)) 0" ]] ||
      fail_with_log "the day's plan says '$counts' (add change destroy), want '0 $((2 * changed)) 0': the $changed changed files and their audiences" scale-day-plan
    from=$(wc -l <"$log")
    start_clock
    apply scale-day "$dir"
    record scale_day
    uploads=$(scale_requests "$log" "$from" "PUT /s3/[^ ]* 200")
    updates=$(scale_requests "$log" "$from" "PUT $api_path 200")
    other=$(scale_requests "$log" "$from" "(POST|DELETE) $api_path [0-9]+")
    [[ $uploads == "$changed" && $updates == "$changed" && $other == 0 ]] ||
      die "the day's apply uploaded $uploads files and updated $updates audiences (and made $other creates or deletes); want exactly $changed and $changed (and 0). Sandbox log: $log (BENCH_KEEP=1 keeps it)"
    echo "$uploads" >>"$work/results/scale_day_uploads"
    plan_no_change scale-after "$dir"

    kill "$scale_sandbox_pid" 2>/dev/null || true
    wait "$scale_sandbox_pid" 2>/dev/null || true
    scale_sandbox_pid=
    [[ ${BENCH_KEEP:-0} == 1 ]] || rm -rf "$dir"
  done
  scale_report
}

# scale_peak LABEL prints LABEL's largest provider peak RSS in MiB and
# clears its records, so each run has its own.
scale_peak() {
  peak_mib "$1"
  echo
  rm -f "$work/rss/$1".*
}

# spread METRIC prints "min–max" of METRIC's runs in seconds.
spread_s() { sort -n "$work/results/$1" | awk 'NR == 1 {lo = $1} {hi = $1} END {printf "%.3f–%.3f", lo / 1000, hi / 1000}'; }
# plain_median FILE and plain_runs FILE: numbers as they are (counts, MiB).
plain_median() { sort -n "$work/results/$1" | awk '{v[NR] = $1} END {if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
plain_runs() { paste -sd, "$work/results/$1" | sed 's/,/, /g'; }
plain_spread() { sort -n "$work/results/$1" | awk 'NR == 1 {lo = $1} {hi = $1} END {print lo "–" hi}'; }
# ratio A B prints A / B to two places.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }

scale_report() {
  local m_plan m_floor m_fwfloor ratio ratio_fw req areq rss_apply rss_plan rss rss_fw v_req v_plan v_rss section
  m_plan=$(median scale_plan)
  m_floor=$(median scale_floor)
  m_fwfloor=$(median scale_fwfloor)
  ratio=$(ratio "$m_plan" "$m_floor")
  ratio_fw=$(ratio "$m_plan" "$m_fwfloor")
  req=$(plain_median scale_plan_requests)
  areq=$(plain_median scale_plan_audience_requests)
  rss_apply=$(plain_median scale_rss_apply)
  rss_plan=$(plain_median scale_rss_plan)
  rss=$(cat "$work/results/scale_rss_apply" "$work/results/scale_rss_plan" | sort -n | tail -n 1)
  rss_fw=$(plain_median scale_rss_fwfloor)
  v_req=$(awk -v v="$(sort -n "$work/results/scale_plan_audience_requests" | tail -n 1)" -v t="$scale_target_requests" 'BEGIN {print v <= t ? "pass" : "FAIL"}')
  v_plan=$(awk -v v="$ratio" -v t="$scale_target_plan" 'BEGIN {print v <= t ? "pass" : "FAIL"}')
  v_rss=$(awk -v v="$rss" -v t="$scale_target_rss_mib" 'BEGIN {print v <= t ? "pass" : "FAIL"}')
  section="$work/scale-section.md"
  cat >"$section" <<EOF
<!-- scale:begin (scripts/bench-scale.sh; BENCH_SCENARIOS=scale rewrites only this section) -->
## Scale: ${scale_files} files, each feeding its own audience (issue #25)

Written on $(date -u '+%Y-%m-%d %H:%M UTC'), provider at \`$commit\`; ${runs} runs, each on an empty sandbox account.
$((2 * scale_files)) resources: ${scale_files} \`audience_mintegral_file\` of ${scale_lines} IDFA_MD5 lines and ${scale_files}
\`audience_mintegral_audience\`, one per file. Two floors, each of $((2 * scale_files)) resources wired the same way:
\`terraform_data\` (what Terraform itself costs), and \`floor_data\` of the smallest terraform-plugin-framework provider
(scripts/floorprovider, built like the provider against the same framework: what any framework provider costs).
Terraform's default parallelism (10), the provider's default Mintegral budget (10 reads and 10 writes a second).

| measure | result | target | verdict |
| --- | --- | --- | --- |
| Mintegral audience requests in a no-change plan (largest of the runs) | $(sort -n "$work/results/scale_plan_audience_requests" | tail -n 1) | ≤ ${scale_target_requests} | ${v_req} |
| no-change plan / the same number of \`terraform_data\` (medians) | ${ratio}× | ≤ ${scale_target_plan}× | ${v_plan} |
| provider peak RSS, first apply and no-change plan (largest of the runs) | ${rss} MiB | ≤ ${scale_target_rss_mib} MiB | ${v_rss} |
| no-change plan / the same number of \`floor_data\` of the minimal framework provider (medians) | ${ratio_fw}× | | |
| provider peak RSS in the no-change plan / the minimal framework provider's (medians) | $(ratio "$rss_plan" "$rss_fw")× | | |

| measurement | median | spread | runs |
| --- | --- | --- | --- |
| first apply (${scale_files} uploads, ${scale_files} audiences created), s | $(secs "$(median scale_apply)") | $(spread_s scale_apply) | $(runs_s scale_apply) |
| no-change plan, s | $(secs "$m_plan") | $(spread_s scale_plan) | $(runs_s scale_plan) |
| no-change plan of $((2 * scale_files)) \`terraform_data\`, s | $(secs "$m_floor") | $(spread_s scale_floor) | $(runs_s scale_floor) |
| no-change plan of $((2 * scale_files)) \`floor_data\` (minimal framework provider), s | $(secs "$m_fwfloor") | $(spread_s scale_fwfloor) | $(runs_s scale_fwfloor) |
| the day 10% of the lists change: apply of ${changed} new uploads and ${changed} audience updates, s | $(secs "$(median scale_day)") | $(spread_s scale_day) | $(runs_s scale_day) |
| Mintegral requests in a no-change plan (all) | ${req} | | $(plain_runs scale_plan_requests) |
| of which audience reads | ${areq} | | $(plain_runs scale_plan_audience_requests) |
| provider peak RSS, first apply, MiB | ${rss_apply} | $(plain_spread scale_rss_apply) | $(plain_runs scale_rss_apply) |
| provider peak RSS, no-change plan, MiB | ${rss_plan} | $(plain_spread scale_rss_plan) | $(plain_runs scale_rss_plan) |
| minimal framework provider's peak RSS, no-change plan of $((2 * scale_files)) \`floor_data\`, MiB | ${rss_fw} | $(plain_spread scale_rss_fwfloor) | $(plain_runs scale_rss_fwfloor) |

The day: the sandbox's clock moves 24 hours (past Mintegral's 12-hour update window), every tenth list gets a new
first line, the plan must say \`0 to add, $((2 * changed)) to change, 0 to destroy\`, and the sandbox's request log must
show exactly ${changed} uploads and ${changed} audience updates (no create, no delete); a no-change plan follows.
Requests are counted from the sandbox's request log (\`audience-sandbox -v\`); peak RSS as above.
<!-- scale:end -->
EOF
  if want files || [[ ! -f $report ]] || ! grep -q '^<!-- scale:begin' "$report"; then
    # A report just written (or without the section) gets it appended.
    { [[ -f $report ]] && cat "$report" && echo; cat "$section"; } >"$report.new"
  else
    awk -v f="$section" '
      /^<!-- scale:begin/ {while ((getline l < f) > 0) print l; skip = 1; next}
      /^<!-- scale:end/ {skip = 0; next}
      !skip {print}' "$report" >"$report.new"
  fi
  mv "$report.new" "$report"
  echo
  echo "==> scale results (medians of $runs runs)"
  printf '  audience requests in a no-change plan: %s (target <= %s) %s\n' "$areq" "$scale_target_requests" "$v_req"
  printf '  no-change plan / terraform_data:       %s (target <= %s) %s\n' "$ratio" "$scale_target_plan" "$v_plan"
  printf '  no-change plan / framework floor:      %s\n' "$ratio_fw"
  printf '  provider peak RSS:                     %s MiB (target <= %s MiB) %s; framework floor %s MiB\n' "$rss" "$scale_target_rss_mib" "$v_rss" "$rss_fw"
  printf '  first apply: %s s; the day of change: %s s\n' "$(secs "$(median scale_apply)")" "$(secs "$(median scale_day)")"
  echo "wrote the scale section of $report"
}
