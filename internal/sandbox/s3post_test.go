package sandbox

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

func startS3PostSandbox(t *testing.T, cfg Config) *Server {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// postForm sends fields in order, then the file (unless fileFirst), and
// returns the status and body.
func postS3Form(t *testing.T, url string, fields []formField, file []byte, fileFirst bool) (int, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	writeFile := func() {
		fw, err := mw.CreateFormFile("file", "data.csv")
		if err != nil {
			t.Fatal(err)
		}
		_, _ = fw.Write(file)
	}
	if fileFirst {
		writeFile()
	}
	for _, f := range fields {
		_ = mw.WriteField(f.Name, f.Value)
	}
	if !fileFirst {
		writeFile()
	}
	_ = mw.Close()
	resp, err := http.Post(url, mw.FormDataContentType(), &buf)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func withFormField(fields []formField, name, value string) []formField {
	out := append([]formField(nil), fields...)
	for i := range out {
		if out[i].Name == name {
			out[i].Value = value
			return out
		}
	}
	return append(out, formField{name, value})
}

func withoutFormField(fields []formField, name string) []formField {
	var out []formField
	for _, f := range fields {
		if f.Name != name {
			out = append(out, f)
		}
	}
	return out
}

func TestS3PostPolicy(t *testing.T) {
	clock := time.Now()
	s := startS3PostSandbox(t, Config{Now: func() time.Time { return clock }})
	content := []byte("id\nabc\ndef\n")
	sign := func(t *testing.T) postPolicy {
		t.Helper()
		p, err := s.presignPostPolicy(postPolicyRequest{Bucket: BucketOpenIM, Key: "k/data.csv", ContentType: "text/csv", MaxSize: int64(len(content)), SuccessStatus: 200, TTL: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}

	t.Run("accepts a correct form", func(t *testing.T) {
		p := sign(t)
		if p.URL != s.URL()+PrefixS3+"/"+BucketOpenIM {
			t.Fatalf("URL = %s", p.URL)
		}
		status, body := postS3Form(t, p.URL, p.Fields, content, false)
		if status != http.StatusOK {
			t.Fatalf("status %d: %s", status, body)
		}
		obj, err := s.Store().Get(BucketOpenIM, "k/data.csv")
		if err != nil {
			t.Fatal(err)
		}
		got, _ := os.ReadFile(obj.Path)
		if !bytes.Equal(got, content) || obj.ContentType != "text/csv" {
			t.Fatalf("stored %q (%s)", got, obj.ContentType)
		}
	})

	cases := []struct {
		name     string
		fields   func(p postPolicy) []formField
		file     []byte
		first    bool
		status   int
		contains string
	}{
		{"extra field not in the policy", func(p postPolicy) []formField { return withFormField(p.Fields, "x-amz-meta-owner", "me") }, content, false, 403, "Extra input fields: x-amz-meta-owner"},
		{"extra acl field", func(p postPolicy) []formField { return withFormField(p.Fields, "acl", "public-read") }, content, false, 403, "Extra input fields: acl"},
		{"changed key", func(p postPolicy) []formField { return withFormField(p.Fields, "key", "other.csv") }, content, false, 403, "Policy Condition failed"},
		{"changed content type", func(p postPolicy) []formField { return withFormField(p.Fields, "Content-Type", "text/plain") }, content, false, 403, "Policy Condition failed"},
		{"tampered policy", func(p postPolicy) []formField {
			pol := p.FieldMap()["policy"]
			raw, _ := base64.StdEncoding.DecodeString(pol)
			raw = bytes.Replace(raw, []byte("k/data.csv"), []byte("k/evil.csv"), 1)
			f := withFormField(p.Fields, "policy", base64.StdEncoding.EncodeToString(raw))
			return withFormField(f, "key", "k/evil.csv")
		}, content, false, 403, "SignatureDoesNotMatch"},
		{"bad signature", func(p postPolicy) []formField {
			return withFormField(p.Fields, "x-amz-signature", strings.Repeat("0", 64))
		}, content, false, 403, "SignatureDoesNotMatch"},
		{"missing x-amz-date", func(p postPolicy) []formField { return withoutFormField(p.Fields, "x-amz-date") }, content, false, 400, "x-amz-date"},
		{"unknown access key", func(p postPolicy) []formField {
			return withFormField(p.Fields, "x-amz-credential", strings.Replace(p.FieldMap()["x-amz-credential"], s.storageKeyID, "NOPE", 1))
		}, content, false, 403, "InvalidAccessKeyId"},
		{"file too large for content-length-range", func(p postPolicy) []formField { return p.Fields }, append(content, 'x'), false, 400, "content-length-range"},
		{"file not last", func(p postPolicy) []formField { return p.Fields }, content, true, 400, "must be the last field"},
		{"wrong bucket field", func(p postPolicy) []formField { return withFormField(p.Fields, "bucket", "other") }, content, false, 400, "does not match the bucket"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_ = s.Store().Delete(BucketOpenIM, "k/data.csv")
			p := sign(t)
			status, body := postS3Form(t, p.URL, tc.fields(p), tc.file, tc.first)
			if status != tc.status || !strings.Contains(body, tc.contains) {
				t.Fatalf("status %d body %s; want %d containing %q", status, body, tc.status, tc.contains)
			}
			if _, err := s.Store().Get(BucketOpenIM, "k/data.csv"); err != ErrNoSuchObject {
				t.Fatalf("a rejected upload was stored (err %v)", err)
			}
		})
	}

	t.Run("expired policy", func(t *testing.T) {
		p := sign(t)
		clock = clock.Add(2 * time.Minute)
		defer func() { clock = clock.Add(-2 * time.Minute) }()
		status, body := postS3Form(t, p.URL, p.Fields, content, false)
		if status != 403 || !strings.Contains(body, "Policy expired") {
			t.Fatalf("status %d: %s", status, body)
		}
	})

	t.Run("policy covering an extra field accepts it", func(t *testing.T) {
		// Proves the extra-field rule is about coverage, not a fixed list.
		p := sign(t)
		m := p.FieldMap()
		raw, _ := base64.StdEncoding.DecodeString(m["policy"])
		var doc map[string]any
		_ = json.Unmarshal(raw, &doc)
		doc["conditions"] = append(doc["conditions"].([]any), []any{"starts-with", "$x-amz-meta-owner", ""})
		raw, _ = json.Marshal(doc)
		pol := base64.StdEncoding.EncodeToString(raw)
		sig := s.signPolicyForTest(m["x-amz-credential"], pol)
		f := withFormField(withFormField(withFormField(p.Fields, "policy", pol), "x-amz-signature", sig), "x-amz-meta-owner", "me")
		status, body := postS3Form(t, p.URL, f, content, false)
		if status != 200 {
			t.Fatalf("status %d: %s", status, body)
		}
	})

	t.Run("chunked body", func(t *testing.T) {
		p := sign(t)
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		for _, f := range p.Fields {
			_ = mw.WriteField(f.Name, f.Value)
		}
		fw, _ := mw.CreateFormFile("file", "data.csv")
		_, _ = fw.Write(content)
		_ = mw.Close()
		req, _ := http.NewRequest(http.MethodPost, p.URL, io.NopCloser(&buf))
		req.Header.Set("Content-Type", mw.FormDataContentType())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusLengthRequired {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})
}

// signPolicyForTest signs a policy with the built-in store's secret for the
// credential's day and region.
func (s *Server) signPolicyForTest(credential, policy string) string {
	c := strings.Split(credential, "/")
	return hex.EncodeToString(hmacSHA256(sigV4Key(s.storageSecret, c[1], c[2]), policy))
}
