package openim

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/audiencekit/terraform-provider-audience/internal/client/transfer"
)

// answering is an OpenIM API that answers every call with body and the
// given headers, and records the operationIDs it was sent.
type answering struct {
	*httptest.Server
	mu    sync.Mutex
	opIDs []string
}

func newAnswering(t *testing.T, body string, header map[string]string) *answering {
	a := &answering{}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		a.mu.Lock()
		a.opIDs = append(a.opIDs, r.Header.Get("operationID"))
		a.mu.Unlock()
		for k, v := range header {
			w.Header().Set(k, v)
		}
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(a.Close)
	return a
}

func (a *answering) client() *Client {
	return New(a.URL, "secret-admin-token", transfer.Options{Retry: transfer.Retry{Attempts: 1}})
}

// The server's own spelling and the spellings a proxy, gateway or fork of
// the same family plausibly sends all read as the same form; the form's
// field names are data and pass through exactly as sent.
func TestInitiateAnswerSpellings(t *testing.T) {
	expires := time.Now().Add(time.Hour).UnixMilli()
	exp := jsonInt(expires)
	want := FormUpload{
		ID: "up-1", URL: "https://storage.example/bucket", File: "file",
		Header:       http.Header{"X-Hint": {"one"}},
		FormData:     []transfer.FormField{{Name: "x-amz-signature", Value: "sig"}, {Name: "Content-Type", Value: "text/csv"}, {Name: "key", Value: "k"}},
		Expires:      time.UnixMilli(expires),
		SuccessCodes: []int{200},
	}
	bodies := map[string]string{
		"published (open-im-server)": `{"errCode":0,"errMsg":"","errDlt":"","data":{"id":"up-1","url":"https://storage.example/bucket","file":"file",
			"header":[{"key":"X-Hint","values":["one"]}],"formData":{"x-amz-signature":"sig","Content-Type":"text/csv","key":"k"},"expires":` + exp + `,"successCodes":[200]}}`,
		"snake_case": `{"err_code":0,"err_msg":"","err_dlt":"","data":{"id":"up-1","url":"https://storage.example/bucket","file":"file",
			"header":[{"key":"X-Hint","value":"one"}],"form_data":{"x-amz-signature":"sig","Content-Type":"text/csv","key":"k"},"expires":"` + exp + `","success_codes":["200"]}}`,
		"PascalCase": `{"ErrCode":0,"ErrMsg":"","Data":{"Id":"up-1","Url":"https://storage.example/bucket","File":"file",
			"Header":[{"Key":"X-Hint","Values":["one"]}],"FormData":{"x-amz-signature":"sig","Content-Type":"text/csv","key":"k"},"Expires":` + exp + `,"SuccessCodes":[200]}}`,
		"code/message, result wrapper, header object": `{"code":0,"message":"ok","result":{"upload_id":"up-1","url":"https://storage.example/bucket","file_field":"file",
			"headers":{"X-Hint":["one"]},"fields":{"x-amz-signature":"sig","Content-Type":"text/csv","key":"k"},"expire_time":` + exp + `,"successCodes":[200]}}`,
		"no envelope": `{"id":"up-1","url":"https://storage.example/bucket","file":"file","header":[{"key":"X-Hint","values":["one"]}],
			"formData":{"x-amz-signature":"sig","Content-Type":"text/csv","key":"k"},"expires":` + exp + `,"successCodes":[200]}`,
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			srv := newAnswering(t, body, nil)
			got, err := srv.client().InitiateFormData(context.Background(), InitiateRequest{Name: "a.csv", Size: 1, ContentType: "text/csv"})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, want) {
				t.Fatalf("read\n%+v\nwant\n%+v", *got, want)
			}
		})
	}
}

// MinIO's answer: header null and formData left out read as no header
// and no fields, not as a shape the client cannot read.
func TestInitiateAnswerNullHeader(t *testing.T) {
	srv := newAnswering(t, `{"errCode":0,"errMsg":"","errDlt":"","data":{"id":"i","url":"http://s","file":"file","header":null,"expires":0,"successCodes":null}}`, nil)
	got, err := srv.client().InitiateFormData(context.Background(), InitiateRequest{Name: "a", Size: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Header) != 0 || got.FormData != nil || !got.Expires.IsZero() || got.SuccessCodes != nil {
		t.Fatalf("read %+v", got)
	}
}

func TestCompleteAnswerSpellings(t *testing.T) {
	for _, body := range []string{
		`{"errCode":0,"errMsg":"","errDlt":"","data":{"url":"https://im.example/object/a.csv"}}`,
		`{"err_code":"0","err_msg":"","data":{"url":"https://im.example/object/a.csv"}}`,
		`{"Code":0,"Message":"","Result":{"Url":"https://im.example/object/a.csv"}}`,
		`{"url":"https://im.example/object/a.csv"}`,
	} {
		srv := newAnswering(t, body, nil)
		got, err := srv.client().CompleteFormData(context.Background(), "up-1")
		if err != nil || got != "https://im.example/object/a.csv" {
			t.Errorf("%s: read %q, %v", body, got, err)
		}
	}
}

// A failure is read in every spelling too: errCode under another name is
// still an APIError with its hint.
func TestEnvelopeErrorSpellings(t *testing.T) {
	for _, body := range []string{
		`{"err_code":1501,"err_msg":"TokenExpiredError","err_dlt":"token expired"}`,
		`{"code":1501,"message":"TokenExpiredError","detail":"token expired"}`,
	} {
		srv := newAnswering(t, body, nil)
		_, err := srv.client().CompleteFormData(context.Background(), "up-1")
		var ae *APIError
		if !errors.As(err, &ae) || ae.Code != 1501 || ae.Msg != "TokenExpiredError" || ae.Dlt != "token expired" || !strings.Contains(err.Error(), "openim.token") {
			t.Errorf("%s: %v", body, err)
		}
	}
}

// An answer in no spelling the client knows is a ShapeError that names the
// call, the status, the operationID sent and any request id header, and
// the answer's keys and types, never its values (the form's signature,
// the storage URL), nor the token.
func TestUnknownAnswerIsShapeError(t *testing.T) {
	cases := []struct {
		name, body, missing, shape string
		call                       func(*Client) error
		op                         string
	}{
		{
			name: "initiate, keys renamed",
			body: `{"zzerrCodeRenamed":0,"zzdataRenamed":{"zzidRenamed":"secret-upload-id","zzurlRenamed":"https://storage.example/b?X-Amz-Signature=feedface","zzformDataRenamed":{"zzx-amz-signatureRenamed":"feedface"}}}`,
			call: func(c *Client) error {
				_, err := c.InitiateFormData(context.Background(), InitiateRequest{Name: "a", Size: 1})
				return err
			},
			op: opInitiate, missing: "errCode or file or id or url",
			shape: `{"zzdataRenamed": {"zzformDataRenamed": {"zzx-amz-signatureRenamed": string}, "zzidRenamed": string, "zzurlRenamed": string}, "zzerrCodeRenamed": number}`,
		},
		{
			name: "complete, no url",
			body: `{"errCode":0,"errMsg":"","errDlt":"","data":{"location":"https://im.example/object/secret-name.csv"}}`,
			call: func(c *Client) error {
				_, err := c.CompleteFormData(context.Background(), "up-1")
				return err
			},
			op: opComplete, missing: "url",
			shape: `{"data": {"location": string}, "errCode": number, "errDlt": string, "errMsg": string}`,
		},
		{
			name: "initiate, formData not strings",
			body: `{"errCode":0,"data":{"id":"i","url":"http://s","file":"file","formData":{"policy":{"v":"secret-policy"}}}}`,
			call: func(c *Client) error {
				_, err := c.InitiateFormData(context.Background(), InitiateRequest{Name: "a", Size: 1})
				return err
			},
			op: opInitiate, missing: "formData as an object of strings",
			shape: `{"data": {"file": string, "formData": {"policy": {"v": string}}, "id": string, "url": string}, "errCode": number}`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := newAnswering(t, tc.body, map[string]string{"X-Request-Id": "req-7"})
			err := tc.call(srv.client())
			var se *transfer.ShapeError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v; want a ShapeError", err)
			}
			wantID := "operationID " + srv.opIDs[len(srv.opIDs)-1] + ", X-Request-Id: req-7"
			if se.Platform != "OpenIM" || se.Op != tc.op || se.Status != http.StatusOK || se.RequestID != wantID || se.Missing != tc.missing || se.Shape != tc.shape {
				t.Fatalf("got %+v\nwant op %s, request id %q, missing %q, shape %s", *se, tc.op, wantID, tc.missing, tc.shape)
			}
			msg := err.Error()
			for _, want := range []string{"OpenIM " + tc.op, "HTTP 200", wantID, "Please report", transfer.ReportURL} {
				if !strings.Contains(msg, want) {
					t.Errorf("%q lacks %q", msg, want)
				}
			}
			for _, secret := range []string{"secret", "feedface", "storage.example", "im.example"} {
				if strings.Contains(msg, secret) {
					t.Errorf("%q holds %q", msg, secret)
				}
			}
		})
	}
}
