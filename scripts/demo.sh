#!/usr/bin/env bash
# Builds the provider and the sandbox, starts the sandbox, and runs
# `terraform apply` on examples/quickstart through a generated CLI config
# with dev_overrides, so nothing is downloaded. Prints the data_path.
# TF names the CLI: terraform (default) or an OpenTofu binary (`make demo TF=tofu`).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
demo="$root/.demo"
tf=${TF:-terraform}
export CHECKPOINT_DISABLE=1

command -v "$tf" >/dev/null || { echo "$tf is not on PATH; install Terraform (>= 1.5), or run 'make demo TF=tofu' to build OpenTofu." >&2; exit 1; }

rm -rf "$demo"
mkdir -p "$demo/bin" "$demo/quickstart" "$demo/objects"
echo "==> building the provider and the sandbox"
go build -o "$demo/bin/terraform-provider-audience" .
go build -o "$demo/bin/audience-sandbox" ./cmd/audience-sandbox

echo "==> starting the sandbox"
"$demo/bin/audience-sandbox" -addr 127.0.0.1:0 -dir "$demo/objects" -env-file "$demo/sandbox.env" >"$demo/sandbox.log" 2>&1 &
sandbox_pid=$!
trap 'kill $sandbox_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  [ -s "$demo/sandbox.env" ] && break
  kill -0 $sandbox_pid 2>/dev/null || { cat "$demo/sandbox.log" >&2; exit 1; }
  sleep 0.1
done
[ -s "$demo/sandbox.env" ] || { echo "sandbox did not start" >&2; cat "$demo/sandbox.log" >&2; exit 1; }
cat "$demo/sandbox.log"
# shellcheck disable=SC1091
source "$demo/sandbox.env"

# Both CLIs read TF_CLI_CONFIG_FILE. The unqualified key matches the
# quickstart's unqualified source under either CLI: registry.terraform.io
# for Terraform, registry.opentofu.org for OpenTofu.
cat >"$demo/terraformrc" <<RC
provider_installation {
  dev_overrides {
    "audiencekit/audience" = "$demo/bin"
  }
  direct {}
}
RC
export TF_CLI_CONFIG_FILE="$demo/terraformrc"
export TF_IN_AUTOMATION=1

cp -R examples/quickstart/. "$demo/quickstart/"
echo "==> $("$tf" version | head -n1): apply (examples/quickstart)"
"$tf" -chdir="$demo/quickstart" apply -auto-approve -input=false
echo "==> a second plan is empty"
"$tf" -chdir="$demo/quickstart" plan -detailed-exitcode -input=false >/dev/null
echo
echo "data_path = $("$tf" -chdir="$demo/quickstart" output -raw data_path)"
