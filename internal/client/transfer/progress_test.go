package transfer

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// asTerraformPrints renders a field as Terraform prints a provider's log
// line: the line travels as JSON and its numbers come back as float64.
func asTerraformPrints(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(map[string]any{"v": v})
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(back["v"])
}

func TestLogBytesIsExactAfterTheLogPipeline(t *testing.T) {
	if got := asTerraformPrints(t, int64(209715233)); got != "2.09715233e+08" {
		t.Fatalf("the pipeline prints a number as %q; this test no longer shows the problem", got)
	}
	for n, want := range map[int64]string{
		0:          "0",
		1023:       "1023",
		2220000:    "2220000 (2.1 MiB)",
		209715233:  "209715233 (200.0 MiB)",
		5368709120: "5368709120 (5.0 GiB)",
	} {
		if got := asTerraformPrints(t, LogBytes(n)); got != want {
			t.Errorf("LogBytes(%d) prints %q, want %q", n, got, want)
		}
	}
}

func TestLogFieldsTurnsIntegersIntoExactStrings(t *testing.T) {
	in := map[string]any{"upload_id": int64(1234567890123), "parts": 64, "part_size": int64(16 << 20), "ttl": uint32(3600000), "name": "idfa.txt", "rate": 1.5, "ok": true}
	out := LogFields(in)
	want := map[string]string{"upload_id": "1234567890123", "parts": "64", "part_size": "16777216", "ttl": "3600000", "name": "idfa.txt", "rate": "1.5", "ok": "true"}
	for k, w := range want {
		if got := asTerraformPrints(t, out[k]); got != w {
			t.Errorf("%s prints %q, want %q", k, got, w)
		}
	}
	if _, ok := in["upload_id"].(int64); !ok {
		t.Error("LogFields changed the caller's map")
	}
	same := map[string]any{"name": "x"}
	if got := LogFields(same); fmt.Sprint(got) != fmt.Sprint(same) {
		t.Errorf("fields without integers changed: %v", got)
	}
	for k, v := range out {
		if s := asTerraformPrints(t, v); strings.Contains(s, "e+") {
			t.Errorf("%s prints %q", k, s)
		}
	}
}
