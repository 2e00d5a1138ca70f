package sandbox

import (
	"strings"
	"testing"
)

// Each storage backend issues its own fields; the form target takes
// exactly those, unchanged, with the file last, and the upload confirms.
func TestOpenIMBackendForms(t *testing.T) {
	issued := map[OpenIMBackend][]string{
		OpenIMBackendCOS:  {"policy", "q-sign-algorithm", "q-ak", "q-key-time", "q-signature", "key", "success_action_status", "Content-Type"},
		OpenIMBackendOSS:  {"key", "policy", "OSSAccessKeyId", "signature", "success_action_status", "x-oss-content-type"},
		OpenIMBackendKodo: {"key", "token", "accept"},
	}
	content := []byte("id\n1\n2\n")
	for backend, names := range issued {
		t.Run(string(backend), func(t *testing.T) {
			s := startS3PostSandbox(t, Config{OpenIMBackend: backend})
			d := openIMInitiate(t, s, "list.csv", int64(len(content)))
			if d.Header != nil || !strings.Contains(d.URL, PrefixOpenIMStorage+"/"+string(backend)+"/") {
				t.Fatalf("header %+v url %s", d.Header, d.URL)
			}
			if len(d.FormData) != len(names) {
				t.Fatalf("formData %v; want exactly %v", d.FormData, names)
			}
			for _, n := range names {
				if d.FormData[n] == "" {
					t.Fatalf("formData lacks %s: %v", n, d.FormData)
				}
			}
			fields := openIMFormFields(d)
			refused := map[string][]formField{
				"extra field":   append(append([]formField(nil), fields...), formField{"x-meta-owner", "me"}),
				"changed field": withFormField(fields, "key", d.FormData["key"]+"x"),
				"missing field": fields[1:],
			}
			for name, f := range refused {
				if status, body := postS3Form(t, d.URL, f, content, false); status < 400 {
					t.Fatalf("%s: accepted (%d %s)", name, status, body)
				}
			}
			if status, body := postS3Form(t, d.URL, fields, content, true); status != 400 || !strings.Contains(body, "file") {
				t.Fatalf("file first: %d %s", status, body)
			}
			r := callOpenIM(t, s, "/object/complete_form_data", "", DefaultCredentials().OpenIMToken, map[string]string{"id": d.ID})
			if r.ErrCode != OpenIMCodeServerInternal {
				t.Fatalf("complete after refused forms: %+v", r)
			}
			if status, body := postS3Form(t, d.URL, fields, content, false); status != 200 {
				t.Fatalf("form POST: %d %s", status, body)
			}
			r = callOpenIM(t, s, "/object/complete_form_data", "", DefaultCredentials().OpenIMToken, map[string]string{"id": d.ID})
			if r.ErrCode != 0 || len(s.OpenIMObjects()) != 1 {
				t.Fatalf("complete: %+v", r)
			}
		})
	}
}

// A signature made with another secret is refused even with every field
// present.
func TestOpenIMBackendSignatures(t *testing.T) {
	sig := map[OpenIMBackend]string{OpenIMBackendCOS: "q-signature", OpenIMBackendOSS: "signature", OpenIMBackendKodo: "token"}
	for backend, field := range sig {
		t.Run(string(backend), func(t *testing.T) {
			s := startS3PostSandbox(t, Config{OpenIMBackend: backend})
			d := openIMInitiate(t, s, "list.csv", 3)
			s.storageSecret = "another-secret"
			if status, body := postS3Form(t, d.URL, openIMFormFields(d), []byte("a\nb"), false); status != 401 && status != 403 {
				t.Fatalf("%s signed with the old secret: %d %s", field, status, body)
			}
		})
	}
}

func TestOpenIMBackendAWSHasNoFormUpload(t *testing.T) {
	s := startS3PostSandbox(t, Config{OpenIMBackend: OpenIMBackendAWS})
	r := callOpenIM(t, s, "/object/initiate_form_data", "", DefaultCredentials().OpenIMToken, map[string]any{"name": "a.csv", "size": 3, "contentType": "text/csv"})
	if r.ErrCode != 500 || r.ErrMsg != "ServerInternalError" || r.ErrDlt != openIMAWSNoForm {
		t.Fatalf("%+v", r)
	}
	if _, err := New(Config{Dir: t.TempDir(), OpenIMBackend: "s3"}); err == nil || !strings.Contains(err.Error(), "minio, cos, oss, kodo, aws") {
		t.Fatalf("unknown backend: %v", err)
	}
}
