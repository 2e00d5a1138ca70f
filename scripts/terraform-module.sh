#!/usr/bin/env bash
# Builds Terraform from its Go module: scripts/terraform-module.sh VERSION OUTPUT
#
# `go install github.com/hashicorp/terraform@VERSION` is refused and a build
# in the module directory fails: go.mod replaces the remote-state backends
# that live in nested modules (azurerm, consul, cos, gcs, kubernetes, oss,
# pg, s3, oci) and internal/legacy with local directories, and the module
# zip does not carry nested modules. So the module is copied, those
# replace and require lines are dropped, and the backends are taken out of
# internal/backend/init/init.go, the one file that imports them. The result
# is Terraform without those state backends (local, http, inmem, remote and
# cloud remain), which is all the acceptance tests use.
#
# Every step checks that it found what it expects, so a new pin that moves
# these files fails here, loudly, instead of building something else.
# SRC_DIR=dir keeps the patched copy in dir (it must not exist yet).
set -euo pipefail

version=${1:?usage: $0 VERSION OUTPUT}
output=${2:?usage: $0 VERSION OUTPUT}
module=github.com/hashicorp/terraform

fail() {
  echo "terraform-module.sh: $*" >&2
  echo "terraform-module.sh: the patch for $module@$version no longer applies; update scripts/terraform-module.sh for this pin." >&2
  exit 1
}

dir=$(go mod download -json "$module@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[ -n "$dir" ] && [ -d "$dir" ] || { echo "terraform-module.sh: go mod download $module@$version gave no directory" >&2; exit 1; }

if [ -n "${SRC_DIR:-}" ]; then
  src=$SRC_DIR
  mkdir "$src"
else
  src=$(mktemp -d "${TMPDIR:-/tmp}/terraform-module.XXXXXX")
  trap 'chmod -R u+w "$src" && rm -rf "$src"' EXIT
fi
cp -R "$dir/." "$src/"
chmod -R u+w "$src"
cd "$src"

# The nested modules: every `replace` of a module under $module by a
# directory inside the module.
nested=$(go mod edit -json | awk -v mod="$module/" '
  /"Replace":/ { inrep = 1 }
  inrep && /"Old":/ { old = 1 }
  inrep && /"New":/ { old = 0 }
  inrep && /"Path":/ {
    p = $0; sub(/.*"Path": "/, "", p); sub(/".*/, "", p)
    if (old) { candidate = p } else if (index(candidate, mod) == 1 && p ~ /^\.\//) { print candidate }
  }')
[ -n "$nested" ] || fail "go.mod replaces no nested module with a local directory"
edits=()
for m in $nested; do
  edits+=("-dropreplace=$m" "-droprequire=$m")
done
go mod edit "${edits[@]}"
for m in $nested; do
  if grep -qF "$m " go.mod; then fail "go.mod still names $m after the edit"; fi
done

# Only internal/backend/init/init.go may import a nested module (tests
# aside, which are not built).
init=internal/backend/init/init.go
[ -f "$init" ] || fail "$init is missing"
importers=$(for m in $nested; do grep -rlF --include='*.go' -e "\"$m\"" -e "\"$m/" . ; done | grep -v '_test\.go$' | sort -u)
[ "$importers" = "./$init" ] || fail "expected only $init to import the nested modules, found: $(echo $importers)"

# In init.go each nested module is imported under an alias (backendS3
# "…/remote-state/s3") and registered in one map entry
# ("s3": func() backend.Backend { return backendS3.New() },). Drop both.
for m in $nested; do
  alias=$(sed -n "s|^[[:space:]]*\([A-Za-z0-9_]*\)[[:space:]]*\"$m\"\$|\1|p" "$init")
  if [ -z "$alias" ]; then
    continue # a nested module init.go does not import (internal/legacy)
  fi
  [ "$(grep -c "\"$m\"\$" "$init")" = 1 ] || fail "$init imports $m more than once"
  [ "$(grep -c "return $alias\.New(" "$init")" = 1 ] || fail "$init does not register $alias exactly once"
  sed -i -e "\|^[[:space:]]*$alias[[:space:]]*\"$m\"\$|d" -e "/return $alias\.New(/d" "$init"
  if grep -q "\b$alias\." "$init"; then fail "$init still uses $alias after the patch"; fi
done
for m in $nested; do
  if grep -qF "\"$m\"" "$init"; then fail "$init still imports $m"; fi
done

go build -trimpath -ldflags "-s -w -X $module/version.dev=no" -o "$output.tmp" .
got=$("$output.tmp" version -json 2>/dev/null | sed -n 's/^[[:space:]]*"terraform_version": "\(.*\)",$/\1/p')
[ "v$got" = "$version" ] || { rm -f "$output.tmp"; echo "terraform-module.sh: built Terraform says version '$got', want ${version#v} (a -dev build?)" >&2; exit 1; }
mv "$output.tmp" "$output"
