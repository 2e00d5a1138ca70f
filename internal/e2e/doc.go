// Package e2e runs the clients against the sandbox while the sandbox
// presigns for a real S3 implementation (Versity S3 Gateway) instead of its
// built-in store, so signatures, POST policies and multipart semantics are
// checked by an independent server. The tests live in _test.go files; the
// harness starts versitygw from ./bin (installed by `make e2e-tools`).
package e2e
