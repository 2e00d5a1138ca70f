package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
)

var openIMOpSeq atomic.Int64

type openIMResp struct {
	ErrCode int             `json:"errCode"`
	ErrMsg  string          `json:"errMsg"`
	ErrDlt  string          `json:"errDlt"`
	Data    json.RawMessage `json:"data"`
}

type openIMFormData struct {
	ID     string `json:"id"`
	URL    string `json:"url"`
	File   string `json:"file"`
	Header []struct {
		Key    string   `json:"key"`
		Values []string `json:"values"`
	} `json:"header"`
	FormData     map[string]string `json:"formData"`
	Expires      int64             `json:"expires"`
	SuccessCodes []int             `json:"successCodes"`
}

// callOpenIM posts a JSON body; opID "" means a fresh one, "-" none.
func callOpenIM(t *testing.T, s *Server, path, opID, token string, body any) openIMResp {
	t.Helper()
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, s.URL()+PrefixOpenIM+path, bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	switch opID {
	case "":
		req.Header.Set("operationID", fmt.Sprintf("test-%d", openIMOpSeq.Add(1)))
	case "-":
	default:
		req.Header.Set("operationID", opID)
	}
	if token != "" {
		req.Header.Set("token", token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: HTTP %d; OpenIM answers errors with 200 and errCode", path, resp.StatusCode)
	}
	var out openIMResp
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

func openIMInitiate(t *testing.T, s *Server, name string, size int64) openIMFormData {
	t.Helper()
	r := callOpenIM(t, s, "/object/initiate_form_data", "", DefaultCredentials().OpenIMToken, map[string]any{"name": name, "size": size, "contentType": "text/csv", "group": "audience"})
	if r.ErrCode != 0 {
		t.Fatalf("initiate: %d %s %s", r.ErrCode, r.ErrMsg, r.ErrDlt)
	}
	var d openIMFormData
	if err := json.Unmarshal(r.Data, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

func openIMFormFields(d openIMFormData) []formField {
	keys := make([]string, 0, len(d.FormData))
	for k := range d.FormData {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var f []formField
	for _, k := range keys {
		f = append(f, formField{k, d.FormData[k]})
	}
	return f
}

func TestOpenIMFormDataUpload(t *testing.T) {
	s := startS3PostSandbox(t, Config{})
	token := DefaultCredentials().OpenIMToken
	content := []byte("id\n1\n2\n3\n")

	d := openIMInitiate(t, s, "audiences/list.csv", int64(len(content)))
	if d.File != "file" || len(d.SuccessCodes) != 1 || d.SuccessCodes[0] != 200 || d.ID == "" {
		t.Fatalf("unexpected data %+v", d)
	}
	if d.Header != nil {
		t.Fatalf("header = %+v; the MinIO backend answers null", d.Header)
	}
	for _, k := range []string{"policy", "x-amz-signature", "x-amz-credential", "x-amz-date", "x-amz-algorithm", "key"} {
		if d.FormData[k] == "" {
			t.Fatalf("formData lacks %s: %v", k, d.FormData)
		}
	}

	// complete before the upload
	r := callOpenIM(t, s, "/object/complete_form_data", "", token, map[string]string{"id": d.ID})
	if r.ErrCode != OpenIMCodeServerInternal || r.ErrDlt != openIMNoSuchKey {
		t.Fatalf("complete before upload: %+v", r)
	}

	status, body := postS3Form(t, d.URL, openIMFormFields(d), content, false)
	if status != 200 {
		t.Fatalf("form POST: %d %s", status, body)
	}
	r = callOpenIM(t, s, "/object/complete_form_data", "", token, map[string]string{"id": d.ID})
	if r.ErrCode != 0 {
		t.Fatalf("complete: %+v", r)
	}
	var done struct{ URL string }
	_ = json.Unmarshal(r.Data, &done)
	if done.URL != s.URL()+PrefixOpenIM+"/object/audiences/list.csv" {
		t.Fatalf("url = %q", done.URL)
	}
	objs := s.OpenIMObjects()
	if len(objs) != 1 || objs[0].Size != int64(len(content)) || objs[0].Group != "audience" {
		t.Fatalf("objects %+v", objs)
	}
}

func TestOpenIMSizeMismatch(t *testing.T) {
	s := startS3PostSandbox(t, Config{})
	d := openIMInitiate(t, s, "short.csv", 100)
	// The policy's content-length-range is [0, size], as OpenIM's MinIO
	// backend signs it, so a short file reaches the store...
	status, body := postS3Form(t, d.URL, openIMFormFields(d), []byte("only a few bytes"), false)
	if status != 200 {
		t.Fatalf("form POST: %d %s", status, body)
	}
	// ...and complete_form_data catches it.
	r := callOpenIM(t, s, "/object/complete_form_data", "", DefaultCredentials().OpenIMToken, map[string]string{"id": d.ID})
	if r.ErrCode != OpenIMCodeData || !strings.Contains(r.ErrDlt, "size mismatch") {
		t.Fatalf("complete: %+v", r)
	}
}

func TestOpenIMBodyLevelErrors(t *testing.T) {
	s := startS3PostSandbox(t, Config{})
	token := DefaultCredentials().OpenIMToken
	good := map[string]any{"name": "a.csv", "size": 10, "contentType": "text/csv"}
	cases := []struct {
		name         string
		opID, token  string
		body         any
		code         int
		dltSubstring string
	}{
		{"no operationID", "-", token, good, OpenIMCodeArgs, "operationID"},
		{"no token", "", "", good, OpenIMCodeArgs, "token"},
		{"wrong token", "", "not-the-token", good, OpenIMCodeTokenNotExist, "token"},
		{"zero size", "", token, map[string]any{"name": "a.csv", "size": 0, "contentType": "text/csv"}, OpenIMCodeArgs, "size"},
		{"no name", "", token, map[string]any{"size": 10, "contentType": "text/csv"}, OpenIMCodeArgs, "name"},
		{"name with ..", "", token, map[string]any{"name": "a/../b.csv", "size": 10, "contentType": "text/csv"}, OpenIMCodeArgs, "segment"},
		{"no contentType", "", token, map[string]any{"name": "a.csv", "size": 10}, OpenIMCodeArgs, "contentType"},
		{"not JSON", "", token, "nope", OpenIMCodeArgs, "JSON"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := callOpenIM(t, s, "/object/initiate_form_data", tc.opID, tc.token, tc.body)
			if r.ErrCode != tc.code || !strings.Contains(r.ErrDlt, tc.dltSubstring) || len(r.Data) != 0 && string(r.Data) != "null" {
				t.Fatalf("got %+v; want errCode %d mentioning %q", r, tc.code, tc.dltSubstring)
			}
		})
	}

	t.Run("reused operationID", func(t *testing.T) {
		if r := callOpenIM(t, s, "/object/initiate_form_data", "same-op", token, good); r.ErrCode != 0 {
			t.Fatalf("first use: %+v", r)
		}
		r := callOpenIM(t, s, "/object/initiate_form_data", "same-op", token, good)
		if r.ErrCode != OpenIMCodeArgs || !strings.Contains(r.ErrDlt, "already used") {
			t.Fatalf("reuse: %+v", r)
		}
	})

	t.Run("unknown id", func(t *testing.T) {
		r := callOpenIM(t, s, "/object/complete_form_data", "", token, map[string]string{"id": "bm9wZQ"})
		if r.ErrCode != OpenIMCodeArgs {
			t.Fatalf("%+v", r)
		}
	})
}
