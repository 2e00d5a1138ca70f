#!/usr/bin/env bash
# Proves the real-account switch without an account: starts the sandbox as
# a separate process, points the suite at it through the same environment
# variables a real account uses (AUDIENCE_ACC_REAL=all), runs the tests
# that take the switch (ACC_REAL_RUN, as make testacc-real does), leaves a
# tf-acc-* Mintegral audience behind as a failed run would, sweeps
# (`-sweep=all`, as `make sweep` does) and checks it is gone.
# TESTARGS is passed to the test run; ACC_LOG, if set, keeps its log.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'kill "$sandbox_pid" 2>/dev/null || true; rm -rf "$work"' EXIT

echo "==> starting the sandbox as its own process"
go build -o "$work/audience-sandbox" ./cmd/audience-sandbox
"$work/audience-sandbox" -addr 127.0.0.1:0 -dir "$work/objects" -env-file "$work/sandbox.env" >"$work/sandbox.log" 2>&1 &
sandbox_pid=$!
for _ in $(seq 1 100); do
  [ -s "$work/sandbox.env" ] && break
  kill -0 "$sandbox_pid" 2>/dev/null || { cat "$work/sandbox.log" >&2; exit 1; }
  sleep 0.1
done
[ -s "$work/sandbox.env" ] || { echo "the sandbox did not start" >&2; cat "$work/sandbox.log" >&2; exit 1; }
# shellcheck disable=SC1091
source "$work/sandbox.env"
# The sandbox takes any event id; a real account names one of its own.
export AUDIENCE_ACC_REAL=all TF_ACC=1 AUDIENCE_ACC_FUTUREDEMAND_EID=${AUDIENCE_ACC_FUTUREDEMAND_EID:-evt_external}
go test -count=1 -run '^$' ./internal/provider >/dev/null

run=${ACC_REAL_RUN:-'^TestAcc(Smoke|FutureDemand|TPNSAccountPackage|OpenIMObject|OpenimObject|AltcraftProfileExport|Mintegral|ListGuard|IDList_(freshClone|dedupe|pipeline))'}
echo "==> the tests that take the switch ($run) against it; those that need the sandbox's powers skip"
# shellcheck disable=SC2086
go test ./internal/provider -count=1 -v -timeout "${TEST_TIMEOUT:-40m}" -run "$run" ${TESTARGS:-} >"$work/acc.log" 2>&1 || true
[ -z "${ACC_LOG:-}" ] || cp "$work/acc.log" "$ACC_LOG"
grep -q -- '--- FAIL' "$work/acc.log" && { cat "$work/acc.log"; exit 1; }
grep -Eq '^(ok|PASS)' "$work/acc.log" || { cat "$work/acc.log"; exit 1; }

# Which tests ran where: against the external sandbox (the switch took
# them there), or skipped (and why), or in a sandbox of their own (tests
# the switch does not cover).
echo "==> summary"
awk '
  /^=== (RUN|CONT)/ { cur = $3 }
  /running against the account at http:\/\/127\.0\.0\.1/ { ext[cur] = 1 }
  /^ +[a-z_]+_test\.go:[0-9]+: / { said[cur] = $0; sub(/^ +[a-z_]+_test\.go:[0-9]+: /, "", said[cur]) }
  /^ *--- SKIP/ { skipped[$3] = 1; reason[$3] = said[$3] }
  /^ *--- PASS/ { passed[$3] = 1 }
  END {
    for (s in skipped) { split(s, p, "/"); if (p[2] != "") parent[p[1]] = 1 }
    for (t in passed) if (t in ext) { print "external  " t; n_ext++ } else if (!(t ~ /\//) && !(t in parent)) { print "own       " t; n_own++ }
    for (t in skipped) { print "skipped   " t ": " reason[t]; n_skip++ }
    printf "%d passed against the external sandbox, %d skipped, %d passed in a sandbox of their own\n", n_ext, n_skip, n_own
  }' "$work/acc.log" | sort | tee "$work/summary.txt"
grep -q '^external ' "$work/summary.txt" || { echo "no test ran against the external sandbox" >&2; exit 1; }

echo "==> leaving a tf-acc-* audience behind"
AUDIENCE_ACC_SWEEP_PROOF=leave go test ./internal/provider -count=1 -v -run '^TestAccSweepProof$' | grep -E 'left Mintegral audience|^(ok|FAIL)'
echo "==> sweeping"
go test ./internal/provider -count=1 -v -sweep=all | tee "$work/sweep.log"
grep -q '^swept Mintegral audience tf-acc-' "$work/sweep.log" || { echo "the sweep deleted no tf-acc-* audience" >&2; exit 1; }
echo "==> checking nothing under tf-acc- is left"
AUDIENCE_ACC_SWEEP_PROOF=gone go test ./internal/provider -count=1 -v -run '^TestAccSweepProof$' | grep -E '^(--- |ok|FAIL)'
