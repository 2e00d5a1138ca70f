package sandbox

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// clock is a movable sandbox clock.
type clock struct{ offset atomic.Int64 }

func (c *clock) Now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

func startTest(t *testing.T) (*Server, *clock) {
	t.Helper()
	c := &clock{}
	s, err := New(Config{Dir: t.TempDir(), Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, c
}

type mintegralAnswer struct {
	Code    int    `json:"code"`
	Msg     string `json:"msg"`
	Message string `json:"message"`
	Data    struct {
		TTL int `json:"ttl"`
		S3  struct {
			Method, URL string
			DataPath    string `json:"data_path"`
		} `json:"s3"`
		OSS struct {
			AccessID  string `json:"accessid"`
			Host      string `json:"host"`
			Signature string `json:"signature"`
			Policy    string `json:"policy"`
			Dir       string `json:"dir"`
		} `json:"oss"`
	} `json:"data"`
}

func presign(t *testing.T, s *Server, now time.Time, headers map[string]string, q url.Values) mintegralAnswer {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.URL()+PrefixMintegral+"/api/open/v1/audience/presigned-upload-data?"+q.Encode(), nil)
	ts := strconv.FormatInt(now.Unix(), 10)
	req.Header.Set("access-key", s.cfg.Credentials.MintegralAccessKey)
	req.Header.Set("timestamp", ts)
	req.Header.Set("token", MintegralToken(s.cfg.Credentials.MintegralAPIKey, ts))
	for k, v := range headers {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("HTTP %d", resp.StatusCode)
	}
	var a mintegralAnswer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		t.Fatal(err)
	}
	return a
}

func query(area, name, sum string) url.Values {
	return url.Values{"area_type": {area}, "file_name": {name}, "file_md5": {sum}}
}

func md5Of(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

func TestMintegralAuth(t *testing.T) {
	s, _ := startTest(t)
	body := []byte("idfa\nabc\n")
	q := query("1", "a.txt", md5Of(body))
	now := time.Now()
	cases := []struct {
		name    string
		headers map[string]string
		at      time.Time
		code    int
	}{
		{"ok", nil, now, MintegralCodeOK},
		{"missing token", map[string]string{"token": ""}, now, MintegralCodeAuthMissing},
		{"wrong access key", map[string]string{"access-key": "nope"}, now, MintegralCodeBadAccessKey},
		{"token from the wrong key", map[string]string{"token": MintegralToken("other", strconv.FormatInt(now.Unix(), 10))}, now, MintegralCodeBadToken},
		{"stale timestamp", nil, now.Add(-10 * time.Minute), MintegralCodeStaleTimstamp},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := presign(t, s, tc.at, tc.headers, q)
			if a.Code != tc.code {
				t.Fatalf("code %d (%s), want %d", a.Code, a.Msg, tc.code)
			}
			if tc.code != MintegralCodeOK && a.Msg == "" {
				t.Fatal("errors carry msg")
			}
		})
	}
}

func TestMintegralParameters(t *testing.T) {
	s, _ := startTest(t)
	good := md5Of([]byte("x"))
	for _, q := range []url.Values{
		query("3", "a.txt", good),
		query("1", "a.xlsx", good),
		query("1", "dir/a.txt", good),
		query("1", "a.txt", "NOTMD5"),
	} {
		if a := presign(t, s, time.Now(), nil, q); a.Code != MintegralCodeBadParam {
			t.Errorf("%v: code %d, want %d", q, a.Code, MintegralCodeBadParam)
		}
	}
}

func put(t *testing.T, u string, body []byte, mutate func(*http.Request)) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, u, bytes.NewReader(body))
	if mutate != nil {
		mutate(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func errorCode(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, _ := io.ReadAll(resp.Body)
	s := string(b)
	i, j := strings.Index(s, "<Code>"), strings.Index(s, "</Code>")
	if i < 0 || j < i {
		return ""
	}
	return s[i+6 : j]
}

func TestS3PresignedPutRules(t *testing.T) {
	body := []byte("idfa\n6D92078A-8246-4BA4-AE5B-76104861E7DC\n")
	cases := []struct {
		name   string
		mutate func(*http.Request)
		body   []byte
		url    func(string) string
		clock  time.Duration
		status int
		code   string
	}{
		{name: "ok", status: 200},
		{name: "authorization header", mutate: func(r *http.Request) { r.Header.Set("Authorization", "Bearer x") }, status: 400, code: "InvalidArgument"},
		{name: "chunked, no content-length", mutate: func(r *http.Request) { r.ContentLength = -1; r.Body = io.NopCloser(bytes.NewReader(body)) }, status: 411, code: "MissingContentLength"},
		{name: "tampered signature", url: func(u string) string { return strings.Replace(u, "X-Amz-Signature=", "X-Amz-Signature=0", 1) }, status: 403, code: "SignatureDoesNotMatch"},
		{name: "another key", url: func(u string) string { return strings.Replace(u, "/a.txt?", "/b.txt?", 1) }, status: 403, code: "SignatureDoesNotMatch"},
		{name: "expired", clock: 6 * time.Minute, status: 403, code: "AccessDenied"},
		{name: "content differs from file_md5", body: []byte("something else\n"), status: 400, code: "BadDigest"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, c := startTest(t)
			a := presign(t, s, time.Now(), nil, query("1", "a.txt", md5Of(body)))
			u := a.Data.S3.URL
			if tc.url != nil {
				u = tc.url(u)
			}
			c.Advance(tc.clock)
			b := body
			if tc.body != nil {
				b = tc.body
			}
			resp := put(t, u, b, tc.mutate)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if tc.code != "" {
				if got := errorCode(t, resp); got != tc.code {
					t.Fatalf("code %q, want %q", got, tc.code)
				}
			}
			bucket, key, _ := strings.Cut(strings.TrimPrefix(a.Data.S3.DataPath, "s3://"), "/")
			_, err := s.Store().Get(bucket, key)
			if stored := err == nil; stored != (tc.status == 200) {
				t.Fatalf("stored=%v after status %d", stored, resp.StatusCode)
			}
		})
	}
}

type field struct{ name, value string }

func ossForm(t *testing.T, fields []field, fileAt int, file []byte) (*bytes.Buffer, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for i := 0; i <= len(fields); i++ {
		if i == fileAt {
			w, _ := mw.CreateFormFile("file", "a.txt")
			_, _ = w.Write(file)
		}
		if i < len(fields) {
			_ = mw.WriteField(fields[i].name, fields[i].value)
		}
	}
	_ = mw.Close()
	return &buf, mw.FormDataContentType()
}

func TestOSSPostObjectRules(t *testing.T) {
	body := []byte("oaid\n123\n")
	cases := []struct {
		name   string
		edit   func([]field) []field
		fileAt int // -1 = last
		clock  time.Duration
		status int
		code   string
	}{
		{name: "ok", fileAt: -1, status: 200},
		{name: "file not last", fileAt: 2, status: 400, code: "InvalidArgument"},
		{name: "bad signature", fileAt: -1, edit: func(f []field) []field { f[3].value = "AAAA" + f[3].value; return f }, status: 403, code: "SignatureDoesNotMatch"},
		{name: "key outside policy", fileAt: -1, edit: func(f []field) []field { f[0].value += ".other"; return f }, status: 403, code: "AccessDenied"},
		{name: "expired policy", fileAt: -1, clock: 10 * time.Minute, status: 403, code: "AccessDenied"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, c := startTest(t)
			a := presign(t, s, time.Now(), nil, query("2", "a.txt", md5Of(body)))
			o := a.Data.OSS
			fields := []field{{"key", o.Dir}, {"OSSAccessKeyId", o.AccessID}, {"policy", o.Policy}, {"signature", o.Signature}, {"success_action_status", "200"}}
			if tc.edit != nil {
				fields = tc.edit(fields)
			}
			at := tc.fileAt
			if at < 0 {
				at = len(fields)
			}
			form, ct := ossForm(t, fields, at, body)
			c.Advance(tc.clock)
			resp, err := http.Post(o.Host, ct, form)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if tc.code != "" {
				if got := errorCode(t, resp); got != tc.code {
					t.Fatalf("code %q, want %q", got, tc.code)
				}
			}
		})
	}
}
