package futuredemand

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/audiencekit/terraform-provider-audience/internal/client/transfer"
	"github.com/audiencekit/terraform-provider-audience/internal/sandbox"
)

func TestMediaBase(t *testing.T) {
	for _, tc := range []struct{ endpoint, override, want string }{
		{"https://client-api.prd.future-demand.com/api/v3", "", "https://client-api.prd.future-demand.com/api"},
		{"https://client-api.prd.future-demand.com/api/v3/", "", "https://client-api.prd.future-demand.com/api"},
		{"https://client-api.stg.future-demand.com/api/v3//", "", "https://client-api.stg.future-demand.com/api"},
		{"http://127.0.0.1:8780/futuredemand/api/v4", "", "http://127.0.0.1:8780/futuredemand/api"},
		{"https://proxy.example.com/fd", "", "https://proxy.example.com/fd"},
		{"https://example.com/api/v3x", "", "https://example.com/api/v3x"},
		{"https://client-api.prd.future-demand.com/api/v3", "https://media-api.example.com/api/", "https://media-api.example.com/api"},
		{"https://client-api.prd.future-demand.com/api/v3", "https://media-api.example.com/api", "https://media-api.example.com/api"},
	} {
		if got := MediaBase(tc.endpoint, tc.override); got != tc.want {
			t.Errorf("MediaBase(%q, %q) = %q, want %q", tc.endpoint, tc.override, got, tc.want)
		}
	}
}

// xlsxBytes is a minimal workbook: the parts an .xlsx must hold.
func xlsxBytes(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, n := range []string{"[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/worksheets/sheet1.xml"} {
		w, _ := zw.Create(n)
		_, _ = w.Write([]byte("<x/>"))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// pngBytes is a PNG signature followed by n bytes of filler.
func pngBytes(n int) []byte {
	return append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), bytes.Repeat([]byte{7}, n)...)
}

const eventsCSV = "title,start_date_time,city,venue,capacity\nRock Night,2026-05-01T20:00:00Z,Berlin,Arena,5000\nJazz Brunch,2026-05-02T11:00:00Z,Köln,Club,\n"

func writeBytes(t *testing.T, name string, content []byte) (string, string) {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, content, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum(content)
	return p, hex.EncodeToString(sum[:])
}

func newDirectClient(srv *sandbox.Server, rc *recorder) *Client {
	c := newClient(srv, rc)
	c.CRAPIEndpoint = srv.Env()["FUTUREDEMAND_CR_API_ENDPOINT"]
	return New(c.Settings, transfer.Options{HTTP: &http.Client{Transport: rc}, Retry: transfer.Retry{Base: time.Millisecond, Max: 5 * time.Millisecond}})
}

// checkDirectRequests asserts every direct upload carried the token and
// the partner header, no upload type, and a fixed-length body.
func checkDirectRequests(t *testing.T, rc *recorder) {
	t.Helper()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.reqs) == 0 {
		t.Fatal("no request recorded")
	}
	for _, r := range rc.reqs {
		if r.Header.Get("Authorization") != "Bearer "+sandbox.DefaultCredentials().FutureDemandAccessToken || r.Header.Get("X-Preferred-Partner-Id") != sandbox.DefaultCredentials().FutureDemandPartnerID {
			t.Errorf("%s %s: Authorization or partner header missing", r.Method, r.Path)
		}
		if r.Header.Get("X-Upload-Type") != "" {
			t.Errorf("%s %s carried X-Upload-Type", r.Method, r.Path)
		}
		if r.Chunked || r.Length <= 0 {
			t.Errorf("%s %s sent without a fixed Content-Length", r.Method, r.Path)
		}
		if !strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data; boundary=") {
			t.Errorf("%s %s Content-Type %q", r.Method, r.Path, r.Header.Get("Content-Type"))
		}
	}
}

func TestIngestTransactionSummary(t *testing.T) {
	srv := startSandbox(t, nil)
	rc := &recorder{}
	c := newDirectClient(srv, rc)
	p, sum := writeBytes(t, "sales.xlsx", xlsxBytes(t))
	res, err := c.Ingest(context.Background(), IngestRequest{Kind: KindTransactionSummary, EID: "evt_abc 123", Path: p, FileName: "sales.xlsx", FileMD5: sum})
	if err != nil {
		t.Fatal(err)
	}
	ins := srv.FutureDemandIngests()
	if len(ins) != 1 || ins[0].EID != "evt_abc 123" || ins[0].MD5 != sum || ins[0].FileName != "sales.xlsx" || ins[0].Kind != KindTransactionSummary {
		t.Fatalf("sandbox ingests %+v", ins)
	}
	if res.FileMD5 != sum || !strings.Contains(res.Response, `"eid":"evt_abc 123"`) || res.RequestID == "" {
		t.Fatalf("result %+v", res)
	}
	if rc.count(http.MethodPost, "/api/v3/ingest/transaction_summary/from_excel") != 1 {
		t.Fatalf("requests %+v", rc.reqs)
	}
	checkDirectRequests(t, rc)
}

func TestIngestEvents(t *testing.T) {
	srv := startSandbox(t, nil)
	rc := &recorder{}
	c := newDirectClient(srv, rc)
	p, sum := writeBytes(t, "events.csv", []byte(eventsCSV))
	res, err := c.Ingest(context.Background(), IngestRequest{Kind: KindEvents, EventType: "prisma", Path: p, FileName: "events.csv", FileMD5: sum})
	if err != nil {
		t.Fatal(err)
	}
	ins := srv.FutureDemandIngests()
	if len(ins) != 1 || ins[0].EventType != "prisma" || ins[0].Rows != 2 || ins[0].MD5 != sum {
		t.Fatalf("sandbox ingests %+v", ins)
	}
	if res.Response != "[200,[]]" {
		t.Fatalf("response %q", res.Response)
	}
	if rc.count(http.MethodPost, "/cr/api/events/bulk_upload") != 1 {
		t.Fatalf("requests %+v", rc.reqs)
	}
	checkDirectRequests(t, rc)
}

// HTTP 200 is not success on the CR API: refused rows, a missing column
// and a bad event type are errors with the platform's codes, and nothing
// is taken.
func TestIngestEventsRefusals(t *testing.T) {
	for name, tc := range map[string]struct {
		content, eventType string
		want               []string
	}{
		"rows":           {"title,start_date_time,city,venue\nA,2026-05-01T20:00:00Z,Berlin,Arena\nB,tomorrow,Berlin,Arena\nA,2026-05-03T20:00:00Z,Berlin,\n", "fdlive", []string{"answered HTTP 200 but refused events.csv", "ROW_2_INVALID_DATE", "ROW_3_DUPLICATE_TITLE", "ROW_3_MISSING_VENUE"}},
		"missing column": {"title,start_date_time,city\nA,2026-05-01T20:00:00Z,Berlin\n", "prisma", []string{"refused events.csv: MISSING_COLUMN_VENUE"}},
		"event type":     {eventsCSV, "concerts", []string{"HTTP 422", "INVALID_EVENT_TYPE"}},
	} {
		t.Run(name, func(t *testing.T) {
			srv := startSandbox(t, nil)
			c := newDirectClient(srv, &recorder{})
			p, sum := writeBytes(t, "events.csv", []byte(tc.content))
			_, err := c.Ingest(context.Background(), IngestRequest{Kind: KindEvents, EventType: tc.eventType, Path: p, FileName: "events.csv", FileMD5: sum})
			for _, w := range tc.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v, want %q", err, w)
				}
			}
			if n := len(srv.FutureDemandIngests()); n != 0 {
				t.Errorf("%d ingests taken", n)
			}
		})
	}
}

func TestUploadMedia(t *testing.T) {
	srv := startSandbox(t, nil)
	rc := &recorder{}
	c := newDirectClient(srv, rc)
	content := pngBytes(300 << 10)
	p, sum := writeBytes(t, "banner.png", content)
	res, err := c.UploadMedia(context.Background(), MediaRequest{Path: p, FileName: "banner.png", ContentType: "image/png", FileMD5: sum})
	if err != nil {
		t.Fatal(err)
	}
	media := srv.FutureDemandMediaObjects()
	if len(media) != 1 || media[0].MD5 != sum || media[0].ContentType != "image/png" || media[0].URL != res.URL {
		t.Fatalf("sandbox media %+v, result %+v", media, res)
	}
	if res.Type != "image" || res.FileName != "banner.png" || res.MediaID != strings.TrimPrefix(mustPath(t, res.URL), "/") || !strings.HasSuffix(res.MediaID, "/banner.png") {
		t.Fatalf("result %+v", res)
	}
	if rc.count(http.MethodPost, sandbox.PrefixFutureDemand+"/api/media") != 1 {
		t.Fatalf("requests %+v", rc.reqs)
	}
	checkDirectRequests(t, rc)
	// The url serves the stored bytes.
	resp, err := http.Get(res.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if !bytes.Equal(got, content) {
		t.Fatalf("the media url serves %d bytes, want the %d uploaded", len(got), len(content))
	}
}

func mustPath(t *testing.T, raw string) string {
	t.Helper()
	i := strings.Index(raw, "/futuredemand-media/")
	if i < 0 {
		t.Fatalf("url %q", raw)
	}
	return raw[i:]
}

// The wrong bases of the document's "common mistakes" answer 404, and the
// error says which setting to check.
func TestDirectUploadWrongBaseNamesTheSetting(t *testing.T) {
	srv := startSandbox(t, nil)
	c := newDirectClient(srv, &recorder{})
	c.MediaEndpoint = c.Endpoint // …/api/v3
	p, sum := writeBytes(t, "banner.png", pngBytes(100))
	_, err := c.UploadMedia(context.Background(), MediaRequest{Path: p, FileName: "banner.png", ContentType: "image/png", FileMD5: sum})
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusNotFound || !strings.Contains(err.Error(), "without its /v3 segment") || !strings.Contains(err.Error(), "FUTUREDEMAND_MEDIA_ENDPOINT") {
		t.Fatalf("media: err = %v", err)
	}
	c.CRAPIEndpoint = c.Endpoint
	p, sum = writeBytes(t, "events.csv", []byte(eventsCSV))
	_, err = c.Ingest(context.Background(), IngestRequest{Kind: KindEvents, EventType: "prisma", Path: p, FileName: "events.csv", FileMD5: sum})
	if !errors.As(err, &ae) || ae.Status != http.StatusNotFound || !strings.Contains(err.Error(), "FUTUREDEMAND_CR_API_ENDPOINT") {
		t.Fatalf("events: err = %v", err)
	}
}

// Every direct upload survives 503 twice, 429 with Retry-After and a reset
// in the middle of its body; the platform holds the file once.
func TestDirectUploadsSurviveTransientFaults(t *testing.T) {
	calls := directCalls(t)
	for _, call := range calls {
		for fname, f := range map[string]sandbox.Fault{
			"503 twice":      {Method: http.MethodPost, PathPrefix: call.path, Count: 2, Status: http.StatusServiceUnavailable},
			"429":            {Method: http.MethodPost, PathPrefix: call.path, Status: http.StatusTooManyRequests, RetryAfter: "1"},
			"reset mid-body": {Method: http.MethodPost, PathPrefix: call.path, ResetAfterBytes: 64 << 10},
		} {
			t.Run(call.name+"/"+fname, func(t *testing.T) {
				srv := startSandbox(t, nil)
				srv.AddFault(f)
				c := newDirectClient(srv, &recorder{})
				if err := call.send(t, c); err != nil {
					t.Fatal(err)
				}
				if n := call.taken(srv); n != 1 {
					t.Fatalf("the platform took the file %d times", n)
				}
				if len(srv.PendingFaults()) != 0 {
					t.Fatal("the fault was never hit")
				}
			})
		}
	}
}

// What a duplicate costs decides what happens when the answer is lost
// after the platform acted: a workbook and media are sent again (a second
// copy replaces the same summary, or is an unused media object); events
// are not (they would be listed twice), and the error says why.
func TestDirectUploadsAfterALostAnswer(t *testing.T) {
	for _, call := range directCalls(t) {
		t.Run(call.name, func(t *testing.T) {
			srv := startSandbox(t, nil)
			srv.AddFault(sandbox.Fault{Method: http.MethodPost, PathPrefix: call.path, DropResponse: true})
			c := newDirectClient(srv, &recorder{})
			err := call.send(t, c)
			if call.name == "events" {
				if !transfer.Ambiguous(err) || !strings.Contains(err.Error(), "may have taken effect, so it was not sent again") || call.taken(srv) != 1 {
					t.Fatalf("err = %v, taken %d; want one ingest and an ambiguous failure", err, call.taken(srv))
				}
				return
			}
			if err != nil || call.taken(srv) != 2 {
				t.Fatalf("err = %v, taken %d; want the upload sent again", err, call.taken(srv))
			}
		})
	}
}

type directCall struct {
	name, path string
	send       func(*testing.T, *Client) error
	taken      func(*sandbox.Server) int
}

// directCalls are the three direct uploads, each with a body of a few
// MiB, so a reset after 64 KiB comes while the client is still writing
// (socket buffers cannot absorb the rest), as with a real mid-body reset.
func directCalls(t *testing.T) []directCall {
	t.Helper()
	ingests := func(s *sandbox.Server) int { return len(s.FutureDemandIngests()) }
	var events strings.Builder
	events.WriteString("title,start_date_time,city,venue\n")
	for i := range 60000 {
		events.WriteString("Show " + strings.Repeat("x", 20) + "-" + strconv.Itoa(i) + ",2026-05-01T20:00:00Z,Berlin,Arena\n")
	}
	return []directCall{
		{name: "transaction summary", path: sandbox.PrefixFutureDemand + "/api/v3/ingest/", taken: ingests, send: func(t *testing.T, c *Client) error {
			// A stored entry pads the workbook to a few hundred KiB.
			var b bytes.Buffer
			zw := zip.NewWriter(&b)
			for _, n := range []string{"[Content_Types].xml", "xl/workbook.xml"} {
				w, _ := zw.Create(n)
				_, _ = w.Write([]byte("<x/>"))
			}
			w, _ := zw.CreateHeader(&zip.FileHeader{Name: "xl/media/logo.bin", Method: zip.Store})
			_, _ = w.Write(bytes.Repeat([]byte{1, 2, 3}, 1<<20))
			_ = zw.Close()
			p, sum := writeBytes(t, "sales.xlsx", b.Bytes())
			_, err := c.Ingest(context.Background(), IngestRequest{Kind: KindTransactionSummary, EID: "evt_1", Path: p, FileName: "sales.xlsx", FileMD5: sum})
			return err
		}},
		{name: "events", path: sandbox.PrefixFutureDemand + "/cr/api/events/", taken: ingests, send: func(t *testing.T, c *Client) error {
			p, sum := writeBytes(t, "events.csv", []byte(events.String()))
			_, err := c.Ingest(context.Background(), IngestRequest{Kind: KindEvents, EventType: "prisma", Path: p, FileName: "events.csv", FileMD5: sum})
			return err
		}},
		{name: "media", path: sandbox.PrefixFutureDemand + "/api/media", taken: func(s *sandbox.Server) int { return len(s.FutureDemandMediaObjects()) }, send: func(t *testing.T, c *Client) error {
			p, sum := writeBytes(t, "banner.png", pngBytes(3<<20))
			_, err := c.UploadMedia(context.Background(), MediaRequest{Path: p, FileName: "banner.png", ContentType: "image/png", FileMD5: sum})
			return err
		}},
	}
}

// A file that changed since plan never completes its body: nothing is
// taken, and the error says the content changed.
func TestDirectUploadOfChangedFile(t *testing.T) {
	srv := startSandbox(t, nil)
	c := newDirectClient(srv, &recorder{})
	p, _ := writeBytes(t, "banner.png", pngBytes(1000))
	_, err := c.UploadMedia(context.Background(), MediaRequest{Path: p, FileName: "banner.png", ContentType: "image/png", FileMD5: strings.Repeat("0", 32)})
	if !errors.Is(err, transfer.ErrContentChanged) || len(srv.FutureDemandMediaObjects()) != 0 {
		t.Fatalf("err = %v, media %d", err, len(srv.FutureDemandMediaObjects()))
	}
}

// A login token the API rejects is replaced once, and the file sent again.
func TestDirectUploadLogsInAgainAfter401(t *testing.T) {
	srv := startSandbox(t, nil)
	c := newDirectClient(srv, &recorder{})
	creds := sandbox.DefaultCredentials()
	c.AccessToken, c.Username, c.Password = "", creds.FutureDemandUsername, creds.FutureDemandPassword
	c.token, c.expires = "fd-at-revoked", time.Now().Add(time.Hour) // looks valid, is not
	p, sum := writeBytes(t, "banner.png", pngBytes(1000))
	if _, err := c.UploadMedia(context.Background(), MediaRequest{Path: p, FileName: "banner.png", ContentType: "image/png", FileMD5: sum}); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.FutureDemandMediaObjects()); n != 1 {
		t.Fatalf("%d media", n)
	}
}

func TestMediaIDFromURL(t *testing.T) {
	for raw, want := range map[string]string{
		"https://cdn.example.com/partners/42/ab/banner.png":                        "partners/42/ab/banner.png",
		"https://cdn.example.com/partners/42/ab/my%20banner%3F%231.png":            "partners/42/ab/my banner?#1.png",
		"https://cdn.example.com/partners/42/ab/banner.png?X-Amz-Signature=s3cr3t": "partners/42/ab/banner.png",
		"https://cdn.example.com/partners/42/ab/banner.png#top":                    "partners/42/ab/banner.png",
		"https://cdn.example.com/?X-Amz-Signature=s3cr3t":                          "https://cdn.example.com/",
		"https://cdn.example.com/%zz/banner.png?X-Amz-Signature=s3cr3t":            "https://cdn.example.com/%zz/banner.png",
	} {
		if got := mediaIDFromURL(raw); got != want {
			t.Errorf("mediaIDFromURL(%q) = %q, want %q", raw, got, want)
		}
	}
}

// A file name that is not a plain URL path segment is escaped in the url,
// which serves the object, and the id is the stored path.
func TestUploadMediaOfANameToEscape(t *testing.T) {
	srv := startSandbox(t, nil)
	c := newDirectClient(srv, &recorder{})
	name := "summer sale?#100%.png"
	content := pngBytes(1 << 10)
	p, sum := writeBytes(t, "banner.png", content)
	res, err := c.UploadMedia(context.Background(), MediaRequest{Path: p, FileName: name, ContentType: "image/png", FileMD5: sum})
	if err != nil {
		t.Fatal(err)
	}
	media := srv.FutureDemandMediaObjects()
	if len(media) != 1 || res.MediaID != "futuredemand-media/"+media[0].Key || !strings.HasSuffix(res.MediaID, "/"+name) || strings.ContainsAny(res.URL, " ?#") {
		t.Fatalf("result %+v, sandbox media %+v", res, media)
	}
	resp, err := http.Get(res.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(got, content) {
		t.Fatalf("the media url answers HTTP %d with %d bytes, want the %d uploaded", resp.StatusCode, len(got), len(content))
	}
}

// An unreachable CR API or media host names the setting the caller gave
// for it, never the main endpoint's.
func TestUnreachableHostNamesItsOwnSetting(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + ln.Addr().String()
	_ = ln.Close() // nothing listens there now: connections are refused
	srv := startSandbox(t, nil)
	base := newClient(srv, &recorder{}).Settings
	events, sum := writeBytes(t, "events.csv", []byte(eventsCSV))
	png, pngSum := writeBytes(t, "banner.png", pngBytes(100))
	for _, tc := range []struct {
		name      string
		cr, media string // settings given
		wantCR    string // the CR error names this
		wantMedia string
		mainTold  string
	}{
		{"named", "the CR setting", "the media setting", "check the CR setting", "check the media setting", "the main setting"},
		{"unnamed", "", "", "", "", "the main setting"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := base
			s.CRAPIEndpoint, s.MediaEndpoint = down, down
			s.CRAPIEndpointSetting, s.MediaEndpointSetting = tc.cr, tc.media
			c := New(s, transfer.Options{EndpointSetting: tc.mainTold, Retry: transfer.Retry{Attempts: 1}})
			_, err := c.Ingest(context.Background(), IngestRequest{Kind: KindEvents, EventType: "prisma", Path: events, FileName: "events.csv", FileMD5: sum})
			if err == nil || !strings.Contains(err.Error(), tc.wantCR) || strings.Contains(err.Error(), tc.mainTold) {
				t.Errorf("CR API: err = %v, want %q and not %q", err, tc.wantCR, tc.mainTold)
			}
			_, err = c.UploadMedia(context.Background(), MediaRequest{Path: png, FileName: "banner.png", ContentType: "image/png", FileMD5: pngSum})
			if err == nil || !strings.Contains(err.Error(), tc.wantMedia) || strings.Contains(err.Error(), tc.mainTold) {
				t.Errorf("media: err = %v, want %q and not %q", err, tc.wantMedia, tc.mainTold)
			}
		})
	}
}

// A refusal listing thousands of rows, far more than 64 KiB, is read as
// a refusal with every code.
func TestIngestEventsRefusalOfManyRows(t *testing.T) {
	srv := startSandbox(t, nil)
	c := newDirectClient(srv, &recorder{})
	var b strings.Builder
	b.WriteString("title,start_date_time,city,venue\n")
	const rows = 4000
	for i := range rows {
		fmt.Fprintf(&b, "Event %d,someday,Berlin,Arena\n", i)
	}
	p, sum := writeBytes(t, "events.csv", []byte(b.String()))
	_, err := c.Ingest(context.Background(), IngestRequest{Kind: KindEvents, EventType: "prisma", Path: p, FileName: "events.csv", FileMD5: sum})
	var refused *RefusedError
	if !errors.As(err, &refused) || len(refused.Codes) != rows || refused.Codes[rows-1] != fmt.Sprintf("ROW_%d_INVALID_DATE", rows) || refused.Cut {
		t.Fatalf("err = %v", err)
	}
}

// An answer longer than the limit is a refusal with the codes read before
// the cut, and says more followed.
func TestIngestAnswerCutShort(t *testing.T) {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, `[400, [`)
		for i := 1; i <= 40000; i++ {
			fmt.Fprintf(w, `{"errCode": "ROW_%d_INVALID_DATE"},`, i)
		}
		_, _ = io.WriteString(w, `{"errCode": "ROW_40001_INVALID_DATE"}]]`)
	}))
	t.Cleanup(api.Close)
	c := New(Settings{Endpoint: api.URL, CRAPIEndpoint: api.URL, AccessToken: "token", PartnerID: "42"}, transfer.Options{HTTP: api.Client()})
	p, sum := writeBytes(t, "events.csv", []byte(eventsCSV))
	_, err := c.Ingest(context.Background(), IngestRequest{Kind: KindEvents, EventType: "prisma", Path: p, FileName: "events.csv", FileMD5: sum})
	var refused *RefusedError
	if !errors.As(err, &refused) || !refused.Cut || len(refused.Codes) < 1000 || refused.Codes[0] != "ROW_1_INVALID_DATE" || !strings.Contains(err.Error(), "more codes followed") {
		t.Fatalf("err = %v", err)
	}
}
