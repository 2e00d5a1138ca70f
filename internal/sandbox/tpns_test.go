package sandbox

import (
	"archive/zip"
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
)

func startSandbox(t *testing.T) *Server {
	t.Helper()
	return restartOn(t, t.TempDir())
}

type tpnsAnswer struct {
	RetCode  int    `json:"retCode"`
	ErrMsg   string `json:"errMsg"`
	UploadID *int64 `json:"uploadId"`
}

type tpnsReq struct {
	field, fileName, content string
	noFile                   bool
	user, pass               string
	noAuth, chunked          bool
	contentType              string
}

func postTPNS(t *testing.T, s *Server, q tpnsReq) (int, tpnsAnswer) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("note", "ignored")
	if !q.noFile {
		field := q.field
		if field == "" {
			field = "file"
		}
		fw, err := mw.CreateFormFile(field, q.fileName)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.WriteString(fw, q.content)
	}
	_ = mw.Close()
	var rd io.Reader = bytes.NewReader(body.Bytes())
	if q.chunked {
		rd = io.MultiReader(rd) // hides the length: sent chunked
	}
	req, err := http.NewRequest(http.MethodPost, s.URL()+PrefixTPNS+"/v3/push/package/upload", rd)
	if err != nil {
		t.Fatal(err)
	}
	ct := mw.FormDataContentType()
	if q.contentType != "" {
		ct = q.contentType
	}
	req.Header.Set("Content-Type", ct)
	if !q.noAuth {
		c := s.cfg.Credentials
		user, pass := c.TPNSAccessID, c.TPNSSecretKey
		if q.user != "" {
			user = q.user
		}
		if q.pass != "" {
			pass = q.pass
		}
		req.SetBasicAuth(user, pass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a tpnsAnswer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		t.Fatalf("answer is not JSON: %v", err)
	}
	return resp.StatusCode, a
}

func zipOf(t *testing.T, files ...[2]string) string {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, f := range files {
		w, _ := zw.Create(f[0])
		_, _ = io.WriteString(w, f[1])
	}
	_ = zw.Close()
	return b.String()
}

func TestTPNSUploadAccepted(t *testing.T) {
	s := startSandbox(t)
	_, a1 := postTPNS(t, s, tpnsReq{fileName: "accounts.txt", content: "alice\nbob\n"})
	_, a2 := postTPNS(t, s, tpnsReq{fileName: "accounts.zip", content: zipOf(t, [2]string{"list.csv", "carol\ndave\neve\n"})})
	if a1.RetCode != 0 || a2.RetCode != 0 || a1.UploadID == nil || a2.UploadID == nil {
		t.Fatalf("answers: %+v %+v", a1, a2)
	}
	if *a1.UploadID <= 0 || *a2.UploadID <= *a1.UploadID {
		t.Fatalf("upload ids %d, %d must be positive and increasing", *a1.UploadID, *a2.UploadID)
	}
	ups := s.TPNSUploads()
	if len(ups) != 2 || ups[0].Entries != 2 || ups[1].Entries != 3 || ups[1].Format != "zip" || ups[0].FileName != "accounts.txt" {
		t.Fatalf("uploads = %+v", ups)
	}
	sum := md5.Sum([]byte("alice\nbob\n"))
	obj, err := s.Store().Get(BucketTPNS, "10001")
	if err != nil || obj.MD5 != hex.EncodeToString(sum[:]) || ups[0].MD5 != obj.MD5 {
		t.Fatalf("stored object %+v, %v", obj, err)
	}
	if n := s.Requests(PrefixTPNS); n != 2 {
		t.Fatalf("Requests = %d, want 2", n)
	}
}

func TestTPNSUploadRejected(t *testing.T) {
	s := startSandbox(t)
	tests := []struct {
		name   string
		req    tpnsReq
		status int
		code   int
		msg    string
	}{
		{"no auth", tpnsReq{noAuth: true, fileName: "a.txt", content: "ab\n"}, 200, TPNSCodeAuthFailed, "authentication failed"},
		{"unknown access id", tpnsReq{user: "999", fileName: "a.txt", content: "ab\n"}, 200, TPNSCodeAuthFailed, "authentication failed"},
		{"wrong secret", tpnsReq{pass: "nope", fileName: "a.txt", content: "ab\n"}, 200, TPNSCodeKeyMismatch, "do not match"},
		{"chunked", tpnsReq{chunked: true, fileName: "a.txt", content: "ab\n"}, 411, TPNSCodeMissingParam, "Content-Length"},
		{"not multipart", tpnsReq{contentType: "application/json", fileName: "a.txt", content: "ab\n"}, 200, TPNSCodeParseError, "multipart"},
		{"no file", tpnsReq{noFile: true}, 200, TPNSCodeMissingParam, "file"},
		{"wrong field", tpnsReq{field: "package", fileName: "a.txt", content: "ab\n"}, 200, TPNSCodeMissingParam, "file"},
		{"bad extension", tpnsReq{fileName: "a.xlsx", content: "ab\n"}, 200, TPNSCodeInvalidParam, ".zip, .txt or .csv"},
		{"long name", tpnsReq{fileName: strings.Repeat("n", 101) + ".txt", content: "ab\n"}, 200, TPNSCodeInvalidParam, "characters"},
		{"two columns", tpnsReq{fileName: "a.csv", content: "ab\ncd,1\n"}, 200, TPNSCodeInvalidParam, "a.csv, line 2: the row has 2 columns"},
		{"short account", tpnsReq{fileName: "a.txt", content: "ab\nc\n"}, 200, TPNSCodeInvalidParam, "line 2"},
		{"not utf-8", tpnsReq{fileName: "a.txt", content: "caf\xe9\n"}, 200, TPNSCodeInvalidParam, "UTF-8"},
		{"empty", tpnsReq{fileName: "a.txt", content: ""}, 200, TPNSCodeEmptyFile, "empty"},
		{"zip two files", tpnsReq{fileName: "a.zip", content: zipOf(t, [2]string{"a.txt", "ab\n"}, [2]string{"b.txt", "cd\n"})}, 200, TPNSCodeInvalidParam, "2 entries"},
		{"zip folder", tpnsReq{fileName: "a.zip", content: zipOf(t, [2]string{"d/a.txt", "ab\n"})}, 200, TPNSCodeInvalidParam, "folder"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, a := postTPNS(t, s, tc.req)
			if status != tc.status || a.RetCode != tc.code || !strings.Contains(a.ErrMsg, tc.msg) || a.UploadID != nil {
				t.Fatalf("got HTTP %d %+v, want HTTP %d retCode %d with %q", status, a, tc.status, tc.code, tc.msg)
			}
		})
	}
	if ups := s.TPNSUploads(); len(ups) != 0 {
		t.Fatalf("rejected uploads were recorded: %+v", ups)
	}
}
