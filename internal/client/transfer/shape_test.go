package transfer

import (
	"strings"
	"testing"
)

func TestShapeNamesKeysAndTypesNotValues(t *testing.T) {
	body := `{"uploadRef":"secret-id-123","parts":[{"n":1,"u":"https://s3/sig=abc"},{"n":2,"u":"x"}],"ok":true,"none":null,"empty":[]}`
	got := Shape([]byte(body))
	want := `{"empty": [], "none": null, "ok": bool, "parts": [{"n": number, "u": string} ×2], "uploadRef": string}`
	if got != want {
		t.Fatalf("Shape = %s\nwant    %s", got, want)
	}
	for _, secret := range []string{"secret-id-123", "sig=abc", "https"} {
		if strings.Contains(got, secret) {
			t.Errorf("Shape leaks %q", secret)
		}
	}
	if got := Shape([]byte("<html>token=abc</html>")); got != "not JSON (22 bytes)" {
		t.Errorf("Shape of HTML = %q", got)
	}
	if got := Shape([]byte(`"just a string"`)); got != "string" {
		t.Errorf("Shape of a string = %q", got)
	}
	deep := strings.Repeat(`{"a":`, 10) + "1" + strings.Repeat("}", 10)
	if got := Shape([]byte(deep)); !strings.Contains(got, "{…}") {
		t.Errorf("deep document not cut: %s", got)
	}
}
