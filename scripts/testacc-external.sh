#!/usr/bin/env bash
# Proves the real-account switch without an account: starts the sandbox as
# a separate process, points the suite at it through the same environment
# variables a real account uses (AUDIENCE_ACC_REAL=all), runs the smoke
# tests, leaves a tf-acc-* Mintegral audience behind as a failed run would,
# sweeps (`-sweep=all`, as `make sweep` does) and checks it is gone.
# TESTARGS is passed to the smoke run.
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
export AUDIENCE_ACC_REAL=all TF_ACC=1
go test -count=1 -run '^$' ./internal/provider >/dev/null

echo "==> smoke tests against it (those that need the sandbox's powers skip)"
# shellcheck disable=SC2086
go test ./internal/provider -count=1 -v -timeout "${TEST_TIMEOUT:-40m}" -run '^TestAccSmoke' ${TESTARGS:-} 2>&1 |
  tee "$work/smoke.log" | grep -E '^(=== RUN|--- |\s+provider_test.go:.*running against|\s+provider_test.go:.*runs only against|PASS|FAIL|ok)' || true
grep -q -- '--- FAIL' "$work/smoke.log" && { cat "$work/smoke.log"; exit 1; }
grep -Eq '^(ok|PASS)' "$work/smoke.log" || { cat "$work/smoke.log"; exit 1; }
grep -q 'running against the account at http://127.0.0.1' "$work/smoke.log" || { echo "no smoke test ran against the external sandbox" >&2; exit 1; }

echo "==> leaving a tf-acc-* audience behind"
AUDIENCE_ACC_SWEEP_PROOF=leave go test ./internal/provider -count=1 -v -run '^TestAccSweepProof$' | grep -E 'left Mintegral audience|^(ok|FAIL)'
echo "==> sweeping"
go test ./internal/provider -count=1 -v -sweep=all | tee "$work/sweep.log"
grep -q '^swept Mintegral audience tf-acc-' "$work/sweep.log" || { echo "the sweep deleted no tf-acc-* audience" >&2; exit 1; }
echo "==> checking nothing under tf-acc- is left"
AUDIENCE_ACC_SWEEP_PROOF=gone go test ./internal/provider -count=1 -v -run '^TestAccSweepProof$' | grep -E '^(--- |ok|FAIL)'
