package attrvalidators

import (
	"strings"
	"testing"
)

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

func TestCheckMediaTypeOfKinds(t *testing.T) {
	for v, want := range map[string]string{
		"image/png":              "",
		"VIDEO/MP4":              "",
		"video/mp4; codecs=avc1": "",
		"text/csv":               `"text/csv" is not of type image or video.`,
		"png":                    "is not a MIME type",
	} {
		got := CheckMediaType(v, "image", "video")
		if (want == "") != (got == "") || (want != "" && !strings.Contains(got, want)) {
			t.Errorf("CheckMediaType(%q) = %q, want %q", v, got, want)
		}
	}
}
