package validators

import "testing"

func TestCheckMediaType(t *testing.T) {
	for _, ok := range []string{"text/csv", "application/octet-stream", "text/plain; charset=utf-8"} {
		if msg := CheckMediaType(ok); msg != "" {
			t.Errorf("%q: %s", ok, msg)
		}
	}
	for _, bad := range []string{"", "csv", "text/", "/csv", "text/csv; =x", "a b/c"} {
		if CheckMediaType(bad) == "" {
			t.Errorf("%q accepted", bad)
		}
	}
}
