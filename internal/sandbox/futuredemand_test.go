package sandbox

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

type fdHarness struct {
	t   *testing.T
	s   *Server
	api string
	now time.Time
	mu  sync.Mutex
}

func newFDHarness(t *testing.T) *fdHarness {
	t.Helper()
	h := &fdHarness{t: t, now: time.Now()}
	s, err := New(Config{Dir: t.TempDir(), Now: h.clock})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	h.s, h.api = s, s.URL()+PrefixFutureDemand+"/api/v3"
	return h
}

func (h *fdHarness) clock() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.now
}

func (h *fdHarness) advance(d time.Duration) {
	h.mu.Lock()
	h.now = h.now.Add(d)
	h.mu.Unlock()
}

// call sends a JSON API request with the given headers (nil = the valid
// static token, partner and upload type) and decodes the answer.
func (h *fdHarness) call(method, path string, hdr map[string]string, body any) (int, map[string]any) {
	h.t.Helper()
	raw, _ := json.Marshal(body)
	req, err := http.NewRequest(method, h.api+path, bytes.NewReader(raw))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if hdr == nil {
		c := DefaultCredentials()
		hdr = map[string]string{"Authorization": "Bearer " + c.FutureDemandAccessToken, "X-Preferred-Partner-Id": c.FutureDemandPartnerID, "X-Upload-Type": "audience_csv"}
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(b, &out)
	return resp.StatusCode, out
}

func fdPut(t *testing.T, url string, body []byte, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestFutureDemandStorageAuth(t *testing.T) {
	h := newFDHarness(t)
	c := DefaultCredentials()
	body := map[string]string{"file_name": "a.csv", "content_type": "application/octet-stream"}
	for _, tc := range []struct {
		name   string
		hdr    map[string]string
		status int
		detail string
	}{
		{"no token", map[string]string{"X-Preferred-Partner-Id": c.FutureDemandPartnerID, "X-Upload-Type": "audience_csv"}, 401, "Not authenticated"},
		{"bad token", map[string]string{"Authorization": "Bearer nope", "X-Preferred-Partner-Id": c.FutureDemandPartnerID, "X-Upload-Type": "audience_csv"}, 401, "invalid or has expired"},
		{"no partner", map[string]string{"Authorization": "Bearer " + c.FutureDemandAccessToken, "X-Upload-Type": "audience_csv"}, 400, "X-Preferred-Partner-Id"},
		{"other partner", map[string]string{"Authorization": "Bearer " + c.FutureDemandAccessToken, "X-Preferred-Partner-Id": "7", "X-Upload-Type": "audience_csv"}, 403, "not a member"},
		{"no upload type", map[string]string{"Authorization": "Bearer " + c.FutureDemandAccessToken, "X-Preferred-Partner-Id": c.FutureDemandPartnerID}, 400, "X-Upload-Type"},
		{"bad upload type", map[string]string{"Authorization": "Bearer " + c.FutureDemandAccessToken, "X-Preferred-Partner-Id": c.FutureDemandPartnerID, "X-Upload-Type": "media"}, 400, "Unsupported X-Upload-Type"},
	} {
		status, out := h.call(http.MethodPost, "/storage/presigned-url", tc.hdr, body)
		if status != tc.status || !strings.Contains(fmt.Sprint(out["detail"]), tc.detail) {
			t.Errorf("%s: got %d %v, want %d with %q", tc.name, status, out, tc.status, tc.detail)
		}
	}
}

func TestFutureDemandLoginRefreshAndExpiry(t *testing.T) {
	h := newFDHarness(t)
	c := DefaultCredentials()
	if status, _ := h.call(http.MethodPost, "/auth", map[string]string{}, map[string]string{"username": c.FutureDemandUsername, "password": "wrong"}); status != 401 {
		t.Fatalf("wrong password: %d, want 401", status)
	}
	status, tok := h.call(http.MethodPost, "/auth", map[string]string{}, map[string]string{"username": c.FutureDemandUsername, "password": c.FutureDemandPassword})
	if status != 200 || tok["TokenType"] != "Bearer" || tok["ExpiresIn"] != float64(3600) || tok["RefreshToken"] == "" || tok["IdToken"] == "" {
		t.Fatalf("login: %d %v", status, tok)
	}
	hdr := func(at any) map[string]string {
		return map[string]string{"Authorization": fmt.Sprint("Bearer ", at), "X-Preferred-Partner-Id": c.FutureDemandPartnerID, "X-Upload-Type": "audience_csv"}
	}
	body := map[string]string{"file_name": "a.csv", "content_type": "application/octet-stream"}
	if status, out := h.call(http.MethodPost, "/storage/presigned-url", hdr(tok["AccessToken"]), body); status != 200 {
		t.Fatalf("fresh token: %d %v", status, out)
	}
	h.advance(FutureDemandTokenTTL + time.Second)
	if status, _ := h.call(http.MethodPost, "/storage/presigned-url", hdr(tok["AccessToken"]), body); status != 401 {
		t.Fatalf("expired token: %d, want 401", status)
	}
	status, fresh := h.call(http.MethodPost, "/auth/refresh_token", map[string]string{}, map[string]any{"refresh_token": tok["RefreshToken"]})
	if status != 200 || fresh["AccessToken"] == tok["AccessToken"] {
		t.Fatalf("refresh: %d %v", status, fresh)
	}
	if status, out := h.call(http.MethodPost, "/storage/presigned-url", hdr(fresh["AccessToken"]), body); status != 200 {
		t.Fatalf("refreshed token: %d %v", status, out)
	}
	if status, _ := h.call(http.MethodPost, "/auth/refresh_token", map[string]string{}, map[string]any{"refresh_token": "made-up"}); status != 401 {
		t.Fatalf("bad refresh token: %d, want 401", status)
	}
}

func TestFutureDemandPresignedPutSignsContentType(t *testing.T) {
	h := newFDHarness(t)
	status, out := h.call(http.MethodPost, "/storage/presigned-url", nil, map[string]string{"file_name": "list.csv", "content_type": "application/octet-stream"})
	if status != 200 {
		t.Fatalf("presigned-url: %d %v", status, out)
	}
	u, key := out["url"].(string), out["object_key"].(string)
	data := []byte("id\n1\n")
	for name, hdr := range map[string]map[string]string{
		"no content type":    {},
		"wrong content type": {"Content-Type": "text/csv"},
		"bearer token":       {"Content-Type": "application/octet-stream", "Authorization": "Bearer sandbox-fd-token"},
		"partner header":     {"Content-Type": "application/octet-stream", "X-Preferred-Partner-Id": "42"},
	} {
		if resp, body := fdPut(t, u, data, hdr); resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: got %s %s, want a signature failure", name, resp.Status, body)
		}
	}
	if _, err := h.s.Store().Get(BucketFutureDemand, key); err == nil {
		t.Fatal("a rejected PUT stored the object")
	}
	if resp, body := fdPut(t, u, data, map[string]string{"Content-Type": "application/octet-stream"}); resp.StatusCode != 200 {
		t.Fatalf("correct PUT: %s %s", resp.Status, body)
	}
	obj, err := h.s.Store().Get(BucketFutureDemand, key)
	if err != nil || obj.Size != int64(len(data)) {
		t.Fatalf("stored object: %+v %v", obj, err)
	}
}

type fdMultipart struct {
	ID, Key string
	Parts   map[int]string
}

func (h *fdHarness) create(fileSize, partSize int64, count int) fdMultipart {
	h.t.Helper()
	status, out := h.call(http.MethodPost, "/storage/multipart-upload", nil, map[string]any{"file_name": "big.csv", "file_size": fileSize, "part_size": partSize, "part_count": count})
	if status != 200 {
		h.t.Fatalf("create: %d %v", status, out)
	}
	m := fdMultipart{ID: out["upload_id"].(string), Key: out["object_key"].(string), Parts: map[int]string{}}
	for _, p := range out["parts"].([]any) {
		pm := p.(map[string]any)
		m.Parts[int(pm["part_number"].(float64))] = pm["url"].(string)
	}
	if len(m.Parts) != count {
		h.t.Fatalf("create returned %d part URLs, want %d", len(m.Parts), count)
	}
	return m
}

func md5hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

func TestFutureDemandMultipartCreateValidation(t *testing.T) {
	h := newFDHarness(t)
	for name, body := range map[string]map[string]any{
		"part too small":   {"file_name": "a.csv", "file_size": 10 << 20, "part_size": 1 << 20, "part_count": 10},
		"wrong part count": {"file_name": "a.csv", "file_size": 11 << 20, "part_size": 5 << 20, "part_count": 2},
		"empty file":       {"file_name": "a.csv", "file_size": 0, "part_size": 5 << 20, "part_count": 1},
		"path in name":     {"file_name": "../a.csv", "file_size": 6 << 20, "part_size": 5 << 20, "part_count": 2},
		"unknown field":    {"file_name": "a.csv", "file_size": 6 << 20, "part_size": 5 << 20, "part_count": 2, "md5": "x"},
	} {
		if status, out := h.call(http.MethodPost, "/storage/multipart-upload", nil, body); status != 422 {
			t.Errorf("%s: got %d %v, want 422", name, status, out)
		}
	}
	if n := h.s.PendingMultipartUploads(); n != 0 {
		t.Errorf("%d uploads created by rejected requests", n)
	}
}

func TestFutureDemandMultipartCompleteChecks(t *testing.T) {
	h := newFDHarness(t)
	const ps = S3MinPartSize
	p1 := bytes.Repeat([]byte("a"), ps)
	p2 := bytes.Repeat([]byte("b"), ps)
	p3 := []byte("tail")
	m := h.create(2*ps+4, ps, 3)

	// A part URL is signed for its part number and upload id.
	tampered := strings.Replace(m.Parts[1], "partNumber=1", "partNumber=2", 1)
	if resp, _ := fdPut(t, tampered, p1, nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("part URL with a changed part number: %s, want 403", resp.Status)
	}
	etags := map[int]string{}
	for n, b := range map[int][]byte{1: p1, 2: p2, 3: p3} {
		resp, body := fdPut(t, m.Parts[n], b, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("part %d: %s %s", n, resp.Status, body)
		}
		etags[n] = resp.Header.Get("ETag")
		if etags[n] != `"`+md5hex(b)+`"` {
			t.Fatalf("part %d ETag %s, want quoted md5", n, etags[n])
		}
	}
	bare := func(n int) string { return strings.Trim(etags[n], `"`) }
	complete := func(parts ...map[string]any) (int, map[string]any) {
		return h.call(http.MethodPut, "/storage/multipart-upload", nil, map[string]any{"upload_id": m.ID, "object_key": m.Key, "parts": parts})
	}
	part := func(n int, etag string) map[string]any { return map[string]any{"part_number": n, "etag": etag} }

	for name, tc := range map[string]struct {
		parts  []map[string]any
		status int
		detail string
	}{
		"quoted etag":  {[]map[string]any{part(1, etags[1]), part(2, bare(2)), part(3, bare(3))}, 422, "without its quotes"},
		"wrong etag":   {[]map[string]any{part(1, bare(2)), part(2, bare(2)), part(3, bare(3))}, 400, "InvalidPart"},
		"out of order": {[]map[string]any{part(2, bare(2)), part(1, bare(1)), part(3, bare(3))}, 400, "InvalidPartOrder"},
		"missing part": {[]map[string]any{part(1, bare(1)), part(3, bare(3))}, 422, "part_count 3"},
	} {
		status, out := complete(tc.parts...)
		if status != tc.status || !strings.Contains(fmt.Sprint(out["detail"]), tc.detail) {
			t.Errorf("%s: got %d %v, want %d with %q", name, status, out, tc.status, tc.detail)
		}
	}
	status, out := complete(part(1, bare(1)), part(2, bare(2)), part(3, bare(3)))
	if status != 200 || out["object_key"] != m.Key {
		t.Fatalf("complete: %d %v", status, out)
	}
	obj, err := h.s.Store().Get(BucketFutureDemand, m.Key)
	if err != nil {
		t.Fatal(err)
	}
	if want := md5hex(bytes.Join([][]byte{p1, p2, p3}, nil)); obj.MD5 != want || obj.Size != 2*ps+4 {
		t.Fatalf("object %s/%d, want %s/%d", obj.MD5, obj.Size, want, 2*ps+4)
	}
	if n := h.s.PendingMultipartUploads(); n != 0 {
		t.Errorf("%d uploads still pending after complete", n)
	}
	if status, _ := complete(part(1, bare(1)), part(2, bare(2)), part(3, bare(3))); status != 404 {
		t.Errorf("second complete: %d, want 404", status)
	}
}

func TestFutureDemandMultipartSmallPartIsTooSmall(t *testing.T) {
	h := newFDHarness(t)
	// The API hands out 5 MiB parts; a client that sends a shorter part
	// (but not the last) makes complete fail as S3 does.
	m := h.create(2*S3MinPartSize, S3MinPartSize, 2)
	small := bytes.Repeat([]byte("x"), 1024)
	full := bytes.Repeat([]byte("y"), S3MinPartSize)
	r1, _ := fdPut(t, m.Parts[1], small, nil)
	r2, _ := fdPut(t, m.Parts[2], full, nil)
	status, out := h.call(http.MethodPut, "/storage/multipart-upload", nil, map[string]any{"upload_id": m.ID, "object_key": m.Key, "parts": []map[string]any{
		{"part_number": 1, "etag": strings.Trim(r1.Header.Get("ETag"), `"`)},
		{"part_number": 2, "etag": strings.Trim(r2.Header.Get("ETag"), `"`)},
	}})
	if status != 400 || !strings.Contains(fmt.Sprint(out["detail"]), "EntityTooSmall") {
		t.Fatalf("complete with a small first part: %d %v, want EntityTooSmall", status, out)
	}
}

func TestFutureDemandMultipartAbortFreesParts(t *testing.T) {
	h := newFDHarness(t)
	m := h.create(S3MinPartSize+1, S3MinPartSize, 2)
	if resp, body := fdPut(t, m.Parts[2], []byte("z"), nil); resp.StatusCode != 200 {
		t.Fatalf("part 2: %s %s", resp.Status, body)
	}
	if h.s.PendingMultipartUploads() != 1 {
		t.Fatal("upload not pending")
	}
	if status, out := h.call(http.MethodDelete, "/storage/multipart-upload", nil, map[string]any{"upload_id": m.ID, "object_key": "other/key"}); status != 404 {
		t.Fatalf("abort with the wrong key: %d %v", status, out)
	}
	if status, out := h.call(http.MethodDelete, "/storage/multipart-upload", nil, map[string]any{"upload_id": m.ID, "object_key": m.Key}); status != 204 {
		t.Fatalf("abort: %d %v", status, out)
	}
	if h.s.PendingMultipartUploads() != 0 || h.s.AbortedMultipartUploads() != 1 {
		t.Fatalf("pending %d aborted %d after abort", h.s.PendingMultipartUploads(), h.s.AbortedMultipartUploads())
	}
	if left, _ := os.ReadDir(filepath.Join(h.s.cfg.Dir, "tmp")); len(left) != 0 {
		t.Fatalf("abort left %d part files on disk", len(left))
	}
	if resp, body := fdPut(t, m.Parts[1], []byte("late"), nil); resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "NoSuchUpload") {
		t.Fatalf("part after abort: %s %s, want 404 NoSuchUpload", resp.Status, body)
	}
}

// The camelCase variant answers the storage calls in camelCase, and the
// challenge variant answers a right login with a challenge, no tokens.
func TestFutureDemandVariants(t *testing.T) {
	h := newFDHarness(t)
	h.s.cfg.FutureDemandCamelCase = true
	status, out := h.call(http.MethodPost, "/storage/presigned-url", nil, map[string]any{"file_name": "a.csv", "content_type": "application/octet-stream"})
	if status != 200 || out["presignedUrl"] == nil || out["objectKey"] == nil || out["url"] != nil || out["object_key"] != nil {
		t.Fatalf("presigned-url: %d %v", status, out)
	}
	status, out = h.call(http.MethodPost, "/storage/multipart-upload", nil, map[string]any{"file_name": "big.csv", "file_size": 6 << 20, "part_size": 5 << 20, "part_count": 2})
	parts, _ := out["presignedUrls"].([]any)
	if status != 200 || out["uploadId"] == nil || out["objectKey"] == nil || len(parts) != 2 || parts[1].(map[string]any)["partNumber"] != float64(2) {
		t.Fatalf("multipart create: %d %v", status, out)
	}

	h.s.cfg.FutureDemandAuthChallenge = "NEW_PASSWORD_REQUIRED"
	c := DefaultCredentials()
	status, out = h.call(http.MethodPost, "/auth", map[string]string{}, map[string]string{"username": c.FutureDemandUsername, "password": c.FutureDemandPassword})
	if status != 200 || out["ChallengeName"] != "NEW_PASSWORD_REQUIRED" || out["Session"] == "" || out["AccessToken"] != nil {
		t.Fatalf("auth: %d %v", status, out)
	}
	status, _ = h.call(http.MethodPost, "/auth", map[string]string{}, map[string]string{"username": c.FutureDemandUsername, "password": "wrong"})
	if status != http.StatusUnauthorized {
		t.Fatalf("a wrong password got %d, want 401 before any challenge", status)
	}
}
