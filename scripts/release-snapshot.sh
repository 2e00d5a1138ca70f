#!/usr/bin/env bash
# Builds the release as the Release workflow does (goreleaser, .goreleaser.yml)
# from a clean clone of the committed HEAD, without publishing it: the zip
# archives, <project>_<version>_SHA256SUMS, its detached GPG signature
# (_SHA256SUMS.sig) and the registry manifest (_manifest.json), in $DIST.
#
# The clone is tagged v$VERSION when HEAD carries no tag, so the version the
# binary reports comes from the tag through goreleaser's ldflags, as in a
# real release. The signature is made with a throwaway key generated for
# the run (its public half is left in $DIST/signing-key.asc); the real key
# lives only in the workflow's secrets.
#
# TARGETS (goreleaser targets, space separated) builds only those
# platforms; by default every platform of .goreleaser.yml.
#
# Environment: VERSION (required), GORELEASER (default bin/goreleaser),
# DIST (default dist), TARGETS.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
version=${VERSION:?VERSION is required, e.g. VERSION=0.1.0}
goreleaser=${GORELEASER:-$root/bin/goreleaser}
dist=${DIST:-$root/dist}
case "$dist" in /*) ;; *) dist="$root/$dist" ;; esac

command -v gpg >/dev/null || { echo "gpg is not on PATH: run 'make gpg' (or install gnupg)" >&2; exit 1; }
[ -x "$goreleaser" ] || { echo "$goreleaser is missing: run 'make bin/goreleaser'" >&2; exit 1; }

if [ -n "$(git status --porcelain --untracked-files=no)" ]; then
  echo "note: uncommitted changes are not in the build (it is made from a clean clone of HEAD)" >&2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/release-snapshot.XXXXXX")
export GNUPGHOME="$work/gnupg"
cleanup() {
  gpgconf --homedir "$GNUPGHOME" --kill all >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "==> cloning $(git rev-parse --short HEAD) into a clean tree"
git clone --quiet --no-checkout "$root" "$work/src"
git -C "$work/src" checkout --quiet --detach "$(git rev-parse HEAD)"
tag=$(git -C "$work/src" tag --points-at HEAD --list 'v*' | head -n1)
if [ -z "$tag" ]; then
  tag="v$version"
  git -C "$work/src" tag "$tag"
fi
echo "==> building $tag"

# A throwaway signing key: RSA, as the Terraform Registry requires.
mkdir -m 700 "$GNUPGHOME"
gpg --batch --quiet --passphrase '' --quick-gen-key "terraform-provider-audience snapshot <snapshot@release.invalid>" rsa4096 sign 1d 2>/dev/null
gpg --batch --quiet --check-trustdb 2>/dev/null
GPG_FINGERPRINT=$(gpg --batch --with-colons --list-secret-keys | awk -F: '$1 == "fpr" { print $10; exit }')
export GPG_FINGERPRINT

config=.goreleaser.yml
if [ -n "${TARGETS:-}" ]; then
  list=$(printf '%s, ' $TARGETS)
  sed "s/^\(    targets:\) .*/\1 [${list%, }]/" "$work/src/.goreleaser.yml" >"$work/goreleaser-targets.yml"
  grep -q "^    targets: \[${list%, }\]" "$work/goreleaser-targets.yml" || { echo "could not set targets in .goreleaser.yml" >&2; exit 1; }
  config="$work/goreleaser-targets.yml"
fi

# --skip=publish,announce: everything the workflow does but the upload to
# GitHub. validate stays on: the tree is clean and HEAD carries the tag.
(cd "$work/src" && "$goreleaser" release --clean --config "$config" --skip=publish,announce)

rm -rf "$dist"
mkdir -p "$dist"
cp "$work/src/dist/"*.zip "$work/src/dist/"*_SHA256SUMS "$work/src/dist/"*_SHA256SUMS.sig "$dist/"
# goreleaser sums the manifest (checksum.extra_files) and uploads it
# (release.extra_files) under the registry's name, but leaves no copy in
# its dist: it is the repository's file, renamed.
cp "$work/src/terraform-registry-manifest.json" "$dist/terraform-provider-audience_${version#v}_manifest.json"
gpg --batch --armor --export "$GPG_FINGERPRINT" >"$dist/signing-key.asc"

# The checks the registries make before they accept a release.
prefix="terraform-provider-audience_${version#v}"
sums="$dist/${prefix}_SHA256SUMS"
[ -f "$sums" ] || { echo "no $(basename "$sums"): the tag ($tag) and VERSION ($version) disagree" >&2; exit 1; }
gpg --batch --quiet --verify "$sums.sig" "$sums" 2>/dev/null || { echo "the signature of $(basename "$sums") does not verify" >&2; exit 1; }
(cd "$dist" && sha256sum --quiet --check "$(basename "$sums")")
echo "==> $dist:"
ls -1 "$dist"
