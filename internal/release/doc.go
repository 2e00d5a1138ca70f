// Package release holds the test of a built release: the archives
// scripts/release-snapshot.sh leaves in a dist directory, installed the way
// teams install providers (a filesystem mirror, a network mirror, a lock
// file for several platforms) under Terraform and OpenTofu. Run it with
// `make release-test`, which builds the archives first.
package release
