package altcraft

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/audiencekit/terraform-provider-audience/internal/client/transfer"
	"github.com/audiencekit/terraform-provider-audience/internal/sandbox"
)

const token = "sandbox-altcraft-token"

// recorder keeps every log line and every request the sandbox saw, so
// tests can prove the token never leaks into either.
type recorder struct {
	mu    sync.Mutex
	lines []string
	infos []map[string]any
	urls  []string
	auth  []string
}

func (r *recorder) Info(_ context.Context, msg string, f map[string]any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines = append(r.lines, fmt.Sprint(msg, f))
	r.infos = append(r.infos, f)
}

func (r *recorder) Debug(_ context.Context, msg string, f map[string]any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines = append(r.lines, fmt.Sprint(msg, f))
}

func (r *recorder) leaks(t *testing.T, secret string, more ...string) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range append(append(r.lines, r.urls...), more...) {
		if strings.Contains(s, secret) {
			t.Errorf("token leaked into %q", s)
		}
	}
}

// start runs the sandbox behind a recording front, and a client for it.
func start(t *testing.T, tok string, panel ...sandbox.AltcraftPanel) (*sandbox.Server, *Client, *recorder, string) {
	t.Helper()
	cfg := sandbox.Config{Dir: t.TempDir()}
	if len(panel) > 0 {
		cfg.AltcraftPanel = panel[0]
	}
	sb, err := sandbox.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.mu.Lock()
		rec.urls = append(rec.urls, r.URL.String())
		rec.auth = append(rec.auth, r.Header.Get("Authorization"))
		rec.mu.Unlock()
		sb.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	c, err := New(srv.URL+sandbox.PrefixAltcraft+"/", tok, transfer.Options{HTTP: srv.Client(), Log: rec, Retry: transfer.Retry{Base: time.Millisecond, Max: 5 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	c.PollInitial, c.PollMax = 10*time.Millisecond, 50*time.Millisecond
	return sb, c, rec, srv.URL
}

func export(t *testing.T, sourceType string, id int64, filter map[string]any) []byte {
	t.Helper()
	var b bytes.Buffer
	if _, err := sandbox.AltcraftExport(&b, sourceType, id, filter); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestExportDownloadsEveryFile(t *testing.T) {
	_, c, rec, base := start(t, token)
	dir := filepath.Join(t.TempDir(), "out", "nested")
	res, err := c.Export(context.Background(), ExportRequest{SourceType: "segment", SourceID: 7}, dir)
	if err != nil {
		t.Fatal(err)
	}
	if res.Task.Status != "completed" || res.Task.Total != 240 || len(res.URLs) != 1 || len(res.Files) != 1 {
		t.Fatalf("result = %+v %+v", res.Task, res)
	}
	wantURL := base + "/altcraft/api/download/"
	if !strings.HasPrefix(res.URLs[0], wantURL) || !strings.HasSuffix(res.URLs[0], "/7_segment_export.csv") || res.Files[0].URL != res.URLs[0] {
		t.Fatalf("urls = %v, file url = %s", res.URLs, res.Files[0].URL)
	}
	want := export(t, "segment", 7, nil)
	sum := sha256.Sum256(want)
	f := res.Files[0]
	if f.Path != filepath.Join(dir, "7_segment_export.csv") || f.Size != int64(len(want)) || f.SHA256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("file = %+v, want %d bytes sha256 %x", f, len(want), sum)
	}
	// Compare the bytes on disk, not only what the client says it wrote.
	got, err := os.ReadFile(f.Path)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("file content differs from the export (%d vs %d bytes, %v)", len(got), len(want), err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("output dir holds %d entries, want only the export (no temporary files)", len(entries))
	}

	// Progress was logged at INFO over several polls.
	var progress []int
	for _, f := range rec.infos {
		if p, ok := f["progress"].(int); ok {
			progress = append(progress, p)
		}
	}
	if fmt.Sprint(progress) != "[0 40 80 100]" {
		t.Fatalf("logged progress %v, want [0 40 80 100]", progress)
	}
	// The download used the Bearer header, and the token never went into
	// a URL, a log line or the result.
	if rec.auth[len(rec.auth)-1] != "Bearer "+token {
		t.Fatalf("download Authorization = %q", rec.auth[len(rec.auth)-1])
	}
	rec.leaks(t, token, append(res.URLs, f.URL, f.Path)...)
}

func TestExportWithoutOutputDirOnlyReportsURLs(t *testing.T) {
	_, c, rec, _ := start(t, token)
	res, err := c.Export(context.Background(), ExportRequest{SourceType: "database", SourceID: 2}, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.URLs) != 1 || res.Files != nil || res.Task.Total != 25 {
		t.Fatalf("result = %+v", res)
	}
	for _, u := range rec.urls {
		if strings.Contains(u, "/api/download/") {
			t.Fatalf("downloaded %s without an output directory", u)
		}
	}
}

func TestCustomRequestKeepsTypes(t *testing.T) {
	_, c, _, _ := start(t, token)
	// The sandbox rejects a number or boolean sent as a string, so this
	// passes only if the client sends JSON types unchanged.
	for _, filter := range []map[string]any{
		{"occupation": "doctor", "age": 30},
		{"occupation": "doctor", "vip": true},
	} {
		want := export(t, "database", 1, filter)
		res, err := c.Export(context.Background(), ExportRequest{SourceType: "database", SourceID: 1, CustomRequest: filter}, t.TempDir())
		if err != nil {
			t.Fatalf("%v: %v", filter, err)
		}
		sum := sha256.Sum256(want)
		if res.Files[0].SHA256 != hex.EncodeToString(sum[:]) {
			t.Fatalf("%v: filtered export differs from the sandbox's (%d rows reported)", filter, res.Task.Total)
		}
		if rows := int64(bytes.Count(want, []byte("\n")) - 1); res.Task.Total != rows || rows == 0 {
			t.Fatalf("%v: total %d, file rows %d", filter, res.Task.Total, rows)
		}
	}
}

func TestBodyLevelErrorsUnderHTTP200(t *testing.T) {
	_, bad, rec, _ := start(t, "wrong-token-value")
	_, err := bad.Export(context.Background(), ExportRequest{SourceType: "database", SourceID: 1}, "")
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != 401 || ae.HTTPStatus != 200 || ae.Text != "Invalid token" || ae.Method != "profiles/get_all" {
		t.Fatalf("err = %#v", err)
	}
	if want := "Altcraft profiles/get_all failed: error 401: Invalid token (check altcraft.token or the ALTCRAFT_TOKEN environment variable)"; err.Error() != want {
		t.Fatalf("message %q, want %q", err.Error(), want)
	}
	rec.leaks(t, "wrong-token-value", err.Error())

	_, c, _, _ := start(t, token)
	_, err = c.Export(context.Background(), ExportRequest{SourceType: "segment", SourceID: 99}, "")
	if !errors.As(err, &ae) || ae.Code != 400 || !strings.Contains(ae.Text, "segment 99 not found") {
		t.Fatalf("err = %v", err)
	}
}

func TestFailedTaskReportsItsErrors(t *testing.T) {
	sb, c, _, _ := start(t, token)
	sb.FailAltcraftTasks("profile storage unavailable", "retry later")
	dir := t.TempDir()
	_, err := c.Export(context.Background(), ExportRequest{SourceType: "database", SourceID: 2}, dir)
	var fe *TaskFailedError
	if !errors.As(err, &fe) || fe.Status != "error" || len(fe.Errors) != 2 || !strings.HasPrefix(fe.TaskID, "task_") {
		t.Fatalf("err = %#v", err)
	}
	if !strings.Contains(err.Error(), "profile storage unavailable; retry later") {
		t.Fatalf("message %q does not carry the task's errors", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("a failed task wrote %d files", len(entries))
	}
}

func TestTimeoutNamesTaskAndProgress(t *testing.T) {
	sb, c, _, _ := start(t, token)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	sb.HoldAltcraftTasks(40)
	id, err := c.StartExport(ctx, ExportRequest{SourceType: "database", SourceID: 1})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Wait(ctx, id)
	var te *TimeoutError
	if !errors.As(err, &te) || te.TaskID != id || te.Progress != 40 || te.Status != "processing" || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %#v", err)
	}
	if !strings.Contains(err.Error(), id) || !strings.Contains(err.Error(), "progress 40%") {
		t.Fatalf("message %q does not say which task and how far it got", err)
	}
}

// fakePanel answers API calls with canned bodies.
func fakePanel(t *testing.T, h http.HandlerFunc) *Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := New(srv.URL, token, transfer.Options{HTTP: srv.Client(), Retry: transfer.Retry{Attempts: 3, Base: time.Millisecond, Max: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	c.PollInitial = time.Millisecond
	return c
}

func TestErrorCodeAsStringAndHTTPErrors(t *testing.T) {
	c := fakePanel(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"data":null,"error":"402","error_text":"Tariff limit exceeded"}`))
	})
	_, err := c.StartExport(context.Background(), ExportRequest{SourceType: "database", SourceID: 1})
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != 402 || ae.Text != "Tariff limit exceeded" {
		t.Fatalf("err = %v", err)
	}

	calls := 0
	c = fakePanel(t, func(w http.ResponseWriter, r *http.Request) {
		calls++
		http.Error(w, "upstream down", http.StatusBadGateway)
	})
	_, err = c.Status(context.Background(), "task_x")
	var he *transfer.HTTPError
	if !errors.As(err, &he) || he.Status != 502 || he.Attempts != 3 || calls != 3 || !strings.Contains(err.Error(), "Altcraft API answered HTTP 502 (retried 2 times)") || !strings.Contains(err.Error(), "upstream down") {
		t.Fatalf("err = %v after %d calls", err, calls)
	}
}

func TestUnknownStatusKeepsPollingAndSingleURL(t *testing.T) {
	polls := 0
	c := fakePanel(t, func(w http.ResponseWriter, r *http.Request) {
		polls++
		if polls < 3 {
			_, _ = w.Write([]byte(`{"data":{"status":"in_queue","progress":12.5},"error":0,"error_text":"ok"}`))
			return
		}
		_, _ = w.Write([]byte(`{"data":{"status":"success","progress":100,"result":{"errors":[{"row":3}],"total":"7","urls":"/api/download/data/x/1_database_export.csv"}},"error":0,"error_text":"ok"}`))
	})
	task, err := c.Wait(context.Background(), "task_x")
	if err != nil {
		t.Fatal(err)
	}
	if polls != 3 || task.Total != 7 || len(task.URLs) != 1 || fmt.Sprint(task.Errors) != `[{"row":3}]` {
		t.Fatalf("task = %+v after %d polls", task, polls)
	}
}

func TestTokenOnlyGoesToThePanel(t *testing.T) {
	var gotAuth, gotQuery string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth, gotQuery = r.Header.Get("Authorization"), r.URL.RawQuery
		_, _ = w.Write([]byte("a,b\n"))
	}))
	defer other.Close()
	c := fakePanel(t, func(http.ResponseWriter, *http.Request) {})
	f, err := c.DownloadFile(context.Background(), other.URL+"/files/export.csv?sig=abc", filepath.Join(t.TempDir(), "export.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if gotAuth != "" || gotQuery != "sig=abc" {
		t.Fatalf("another host got Authorization %q, query %q", gotAuth, gotQuery)
	}
	if f.URL != other.URL+"/files/export.csv" || f.Size != 4 {
		t.Fatalf("file = %+v", f)
	}
}

func TestFailedDownloadLeavesNoHalfFile(t *testing.T) {
	c := fakePanel(t, func(w http.ResponseWriter, r *http.Request) {
		// Announce more than is sent, then drop the connection.
		w.Header().Set("Content-Length", "1000")
		_, _ = w.Write([]byte("_pid,email\n1,a@example.com\n"))
		if hj, ok := w.(http.Hijacker); ok {
			conn, _, _ := hj.Hijack()
			_ = conn.Close()
		}
	})
	dir := t.TempDir()
	final := filepath.Join(dir, "1_database_export.csv")
	if err := os.WriteFile(final, []byte("previous export\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := c.DownloadAll(context.Background(), &Task{URLs: []string{"/api/download/x/1_database_export.csv"}}, dir)
	if err == nil {
		t.Fatal("a truncated download succeeded")
	}
	if strings.Contains(err.Error(), token) {
		t.Fatalf("error leaks the token: %v", err)
	}
	got, _ := os.ReadFile(final)
	entries, _ := os.ReadDir(dir)
	if string(got) != "previous export\n" || len(entries) != 1 {
		t.Fatalf("after a failed download the directory holds %d entries and the file %q", len(entries), got)
	}
}

func TestDuplicateFileNamesGetSuffixes(t *testing.T) {
	c := fakePanel(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(r.URL.Path))
	})
	files, err := c.DownloadAll(context.Background(), &Task{URLs: []string{"/api/download/a/1_database_export.csv", "/api/download/b/1_database_export.csv"}}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(files[0].Path) != "1_database_export.csv" || filepath.Base(files[1].Path) != "1_database_export_2.csv" {
		t.Fatalf("paths %s, %s", files[0].Path, files[1].Path)
	}
}

// The export survives 503s and 429 on both API calls, and a download
// whose answer is lost or cut in the middle of its body: the file on disk
// is the export.
func TestExportSurvivesTransientFaults(t *testing.T) {
	api := sandbox.PrefixAltcraft + "/api/v1.1/"
	download := sandbox.PrefixAltcraft + "/api/download/"
	for name, f := range map[string]sandbox.Fault{
		"get_all 503 twice": {PathPrefix: api + "profiles/get_all", Count: 2, Status: http.StatusServiceUnavailable},
		"get_all 429":       {PathPrefix: api + "profiles/get_all", Status: http.StatusTooManyRequests, RetryAfter: "1"},
		// A second export task is harmless: the first is left unpolled.
		"get_all dropped":    {PathPrefix: api + "profiles/get_all", DropResponse: true},
		"get_all 502":        {PathPrefix: api + "profiles/get_all", Status: http.StatusBadGateway},
		"status 503 twice":   {PathPrefix: api + "tasks/status", Count: 2, Status: http.StatusServiceUnavailable},
		"download 503 twice": {PathPrefix: download, Count: 2, Status: http.StatusServiceUnavailable},
		"download dropped":   {PathPrefix: download, DropResponse: true},
	} {
		t.Run(name, func(t *testing.T) {
			sb, c, _, _ := start(t, token)
			sb.AddFault(f)
			dir := t.TempDir()
			res, err := c.Export(context.Background(), ExportRequest{SourceType: "segment", SourceID: 7}, dir)
			if err != nil {
				t.Fatal(err)
			}
			assertExport(t, res.Files[0].Path, export(t, "segment", 7, nil))
			if len(sb.PendingFaults()) != 0 {
				t.Fatal("the fault was never hit")
			}
		})
	}
	t.Run("download cut mid-body twice", func(t *testing.T) {
		sb, c, _, _ := start(t, token)
		want := export(t, "segment", 7, nil)
		sb.AddFault(sandbox.Fault{PathPrefix: download, Count: 2, ResetAfterResponseBytes: int64(len(want) / 2)})
		dir := t.TempDir()
		res, err := c.Export(context.Background(), ExportRequest{SourceType: "segment", SourceID: 7}, dir)
		if err != nil {
			t.Fatal(err)
		}
		assertExport(t, res.Files[0].Path, want)
		if len(sb.PendingFaults()) != 0 {
			t.Fatal("the fault was never hit")
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 1 {
			t.Fatalf("%d files left behind, want only the export", len(entries))
		}
	})
}

func assertExport(t *testing.T, path string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("%s differs from the export (%d vs %d bytes, %v)", path, len(got), len(want), err)
	}
}

func TestNewRejectsBadEndpoint(t *testing.T) {
	for _, e := range []string{"", "example.com", "ftp://example.com", "https://user:pw@example.com", "https://example.com/?token=x"} {
		if _, err := New(e, token, transfer.Options{}); err == nil || strings.Contains(err.Error(), "pw") || strings.Contains(err.Error(), "token=x") {
			t.Errorf("New(%q) = %v", e, err)
		}
	}
}

// An old panel refuses the header on downloads: the client sends the token
// as ?token= instead, keeps doing so, and no log line or error holds it.
func TestOldPanelDownloadFallsBackToURLToken(t *testing.T) {
	_, c, rec, _ := start(t, token, sandbox.AltcraftPanelOld)
	dir := t.TempDir()
	res, err := c.Export(context.Background(), ExportRequest{SourceType: "segment", SourceID: 7}, dir)
	if err != nil {
		t.Fatal(err)
	}
	assertExport(t, res.Files[0].Path, export(t, "segment", 7, nil))
	n := len(rec.urls)
	if rec.auth[n-2] != "Bearer "+token || rec.auth[n-1] != "" || !strings.Contains(rec.urls[n-1], "token="+token) {
		t.Fatalf("downloads: auth %q, urls %q", rec.auth[n-2:], rec.urls[n-2:])
	}
	// The next download goes straight to ?token=.
	if _, err := c.DownloadFile(context.Background(), rec.urls[n-1][len("/altcraft"):strings.Index(rec.urls[n-1], "?")], filepath.Join(dir, "again.csv")); err != nil {
		t.Fatal(err)
	}
	if rec.auth[len(rec.auth)-1] != "" || len(rec.urls) != n+1 {
		t.Fatalf("second download: %d requests, auth %q", len(rec.urls)-n, rec.auth[len(rec.auth)-1])
	}
	found := false
	for _, l := range rec.lines {
		found = found || strings.Contains(l, "sending the token in the URL")
		if strings.Contains(l, token) {
			t.Errorf("token in log line %q", l)
		}
	}
	if !found {
		t.Fatalf("the fallback was not logged: %q", rec.lines)
	}
}

// A download on another host never gets the token, not even in the URL
// after a refusal; a panel that refuses both ways says so without the token.
func TestURLTokenOnlyOnThePanelHost(t *testing.T) {
	var queries []string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		queries = append(queries, r.URL.RawQuery+"|"+r.Header.Get("Authorization"))
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer other.Close()
	c := fakePanel(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusForbidden) })
	_, err := c.DownloadFile(context.Background(), other.URL+"/files/export.csv", filepath.Join(t.TempDir(), "a.csv"))
	if err == nil || len(queries) != 1 || queries[0] != "|" {
		t.Fatalf("err %v; the other host saw %q", err, queries)
	}
	_, err = c.DownloadFile(context.Background(), "/api/download/x/a.csv", filepath.Join(t.TempDir(), "a.csv"))
	if err == nil || !strings.Contains(err.Error(), "refused the token both in the Authorization header and in the URL") || strings.Contains(err.Error(), token) {
		t.Fatalf("err = %v", err)
	}
}
