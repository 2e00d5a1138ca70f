package transfer

import "testing"

func TestTraceURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://u:p@h/x?X-Amz-Signature=abc&area_type=1&token=t#f": "https://h/x?X-Amz-Signature=***&area_type=1&token=***",
		"https://h/api?file_name=crm.txt&page=2":                    "https://h/api?file_name=***&page=2",
		"https://h/api":                                             "https://h/api",
	} {
		if got := TraceURL(in); got != want {
			t.Errorf("TraceURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDescribeAnswer(t *testing.T) {
	for in, want := range map[string]string{
		`{"code":200,"data":{"list":[{"id":"secret","n":1.5},{}],"ok":true,"x":null},"msg":"hi"}`: `{"code": number, "data": {"list": [{"id": string, "n": number} ×2], "ok": bool, "x": null}, "msg": string}`,
		`<?xml version="1.0"?><Error><Code>AccessDenied</Code></Error>`:                           "xml <Error>",
		"404 page not found\n": "not JSON (18 bytes)",
		"  ":                   "empty",
		`[]`:                   "[]",
	} {
		if got := DescribeAnswer([]byte(in)); got != want {
			t.Errorf("DescribeAnswer(%q) = %q, want %q", in, got, want)
		}
	}
}
