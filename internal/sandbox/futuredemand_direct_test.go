package sandbox

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"testing"
)

// part is one part of a test form.
type part struct {
	field, fileName, contentType string
	body                         []byte
}

// form builds a multipart body.
func form(t *testing.T, parts ...part) ([]byte, string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		cd := `form-data; name="` + p.field + `"`
		if p.fileName != "" {
			cd += `; filename="` + p.fileName + `"`
		}
		h.Set("Content-Disposition", cd)
		if p.contentType != "" {
			h.Set("Content-Type", p.contentType)
		}
		w, err := mw.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write(p.body)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), mw.FormDataContentType()
}

func workbook(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, n := range []string{"[Content_Types].xml", "xl/workbook.xml"} {
		w, _ := zw.Create(n)
		_, _ = w.Write([]byte("<x/>"))
	}
	_ = zw.Close()
	return b.Bytes()
}

const xlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

var pngHead = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR....")

// post sends a direct upload with the valid token and partner unless
// headers override them ("" removes one), and decodes the answer.
func (h *fdHarness) post(url string, body []byte, contentType string, headers map[string]string) (int, http.Header, any) {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	c := h.s.cfg.Credentials
	req.Header.Set("Authorization", "Bearer "+c.FutureDemandAccessToken)
	req.Header.Set("X-Preferred-Partner-Id", c.FutureDemandPartnerID)
	req.Header.Set("Content-Type", contentType)
	for k, v := range headers {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out any
	if err := json.Unmarshal(raw, &out); err != nil {
		h.t.Fatalf("answer is not JSON: %q", raw)
	}
	return resp.StatusCode, resp.Header, out
}

// codes lists the error_code and validation codes of an envelope.
func codes(v any) string {
	m, _ := v.(map[string]any)
	out := []string{}
	if c, ok := m["error_code"].(string); ok {
		out = append(out, c)
	}
	vs, _ := m["validation_errors"].([]any)
	for _, x := range vs {
		if e, ok := x.(map[string]any); ok {
			out = append(out, e["code"].(string))
		}
	}
	return strings.Join(out, ",")
}

func TestFDDirectRequestRules(t *testing.T) {
	h := newFDHarness(t)
	base := h.s.URL() + PrefixFutureDemand
	ingest := h.api + "/ingest/transaction_summary/from_excel?eid=evt_1"
	media := base + "/api/media"
	type body struct {
		raw         []byte
		contentType string
	}
	f := func(parts ...part) body {
		raw, ct := form(t, parts...)
		return body{raw, ct}
	}
	good := f(part{"file", "sales.xlsx", xlsxType, workbook(t)})
	for _, tc := range []struct {
		name, url string
		body      body
		headers   map[string]string
		status    int
		want      string
	}{
		{"no token", ingest, good, map[string]string{"Authorization": ""}, 401, "NOT_AUTHENTICATED"},
		{"bad token", ingest, good, map[string]string{"Authorization": "Bearer nope"}, 401, "INVALID_TOKEN"},
		{"no partner", ingest, good, map[string]string{"X-Preferred-Partner-Id": ""}, 400, "PARTNER_REQUIRED"},
		{"other partner", ingest, good, map[string]string{"X-Preferred-Partner-Id": "7"}, 403, "PARTNER_FORBIDDEN"},
		{"json body", ingest, body{[]byte(`{"file":"x"}`), "application/json"}, nil, 415, "UNSUPPORTED_MEDIA_TYPE"},
		{"no file field", ingest, f(part{"upload", "sales.xlsx", xlsxType, workbook(t)}), nil, 400, "VALIDATION_ERROR,FILE_REQUIRED"},
		{"file as text", ingest, f(part{"file", "", "", []byte("x")}), nil, 400, "VALIDATION_ERROR,FILE_REQUIRED"},
		{"two files", ingest, f(part{"file", "a.xlsx", xlsxType, workbook(t)}, part{"file", "b.xlsx", xlsxType, workbook(t)}), nil, 400, "VALIDATION_ERROR,FILE_MULTIPLE"},
		{"csv renamed", ingest, f(part{"file", "sales.xlsx", xlsxType, []byte("eid,n\n1,2\n")}), nil, 400, "VALIDATION_ERROR,INVALID_WORKBOOK"},
		{"csv part type", ingest, f(part{"file", "sales.xlsx", "text/csv", workbook(t)}), nil, 400, "VALIDATION_ERROR,INVALID_CONTENT_TYPE"},
		{"no eid", h.api + "/ingest/transaction_summary/from_excel", good, nil, 400, "VALIDATION_ERROR,EID_REQUIRED"},
		{"media under /v3", h.api + "/media", f(part{"file", "a.png", "image/png", pngHead}), nil, 404, "NOT_FOUND"},
		{"media not an image", media, f(part{"file", "a.png", "image/png", []byte("hello")}), nil, 400, "VALIDATION_ERROR,UNSUPPORTED_MEDIA_FORMAT"},
		{"media type of other kind", media, f(part{"file", "a.png", "video/mp4", pngHead}), nil, 400, "VALIDATION_ERROR,CONTENT_TYPE_MISMATCH"},
		{"events on the main API", h.api + "/events/bulk_upload?event_type=prisma", f(part{"file", "e.csv", "text/csv", []byte("title\nx\n")}), nil, 404, "NOT_FOUND"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, hdr, out := h.post(tc.url, tc.body.raw, tc.body.contentType, tc.headers)
			if status != tc.status || codes(out) != tc.want {
				t.Fatalf("HTTP %d %v; want %d %s", status, out, tc.status, tc.want)
			}
			if m, _ := out.(map[string]any); !strings.HasPrefix(m["message"].(string), "error.") {
				t.Errorf("message %v is not an error key", m["message"])
			}
			if hdr.Get("X-Request-Id") == "" && tc.status != 404 {
				t.Error("no X-Request-Id")
			}
		})
	}
	if n := len(h.s.FutureDemandIngests()) + len(h.s.FutureDemandMediaObjects()); n != 0 {
		t.Fatalf("%d uploads taken from refused requests", n)
	}
}

// A body sent without Content-Length (chunked) is refused before it is
// read.
func TestFDDirectRequiresContentLength(t *testing.T) {
	h := newFDHarness(t)
	body, ct := form(t, part{"file", "a.png", "image/png", pngHead})
	req, _ := http.NewRequest(http.MethodPost, h.s.URL()+PrefixFutureDemand+"/api/media", io.MultiReader(bytes.NewReader(body)))
	req.Header.Set("Authorization", "Bearer "+h.s.cfg.Credentials.FutureDemandAccessToken)
	req.Header.Set("X-Preferred-Partner-Id", h.s.cfg.Credentials.FutureDemandPartnerID)
	req.Header.Set("Content-Type", ct)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusLengthRequired || len(h.s.FutureDemandMediaObjects()) != 0 {
		t.Fatalf("HTTP %d", resp.StatusCode)
	}
}

func TestFDDirectTakesAndRecords(t *testing.T) {
	h := newFDHarness(t)
	body, ct := form(t, part{"note", "", "", []byte("ignored")}, part{"file", "sales.xlsx", xlsxType, workbook(t)})
	status, _, out := h.post(h.api+"/ingest/transaction_summary/from_excel?eid=evt_9", body, ct, nil)
	if status != 200 || out.(map[string]any)["eid"] != "evt_9" {
		t.Fatalf("HTTP %d %v", status, out)
	}
	body, ct = form(t, part{"file", "events.csv", "text/csv", []byte("title,start_date_time,city,venue\nA,2026-05-01T20:00:00Z,Berlin,Arena\n")})
	status, _, out = h.post(h.s.URL()+PrefixFutureDemand+"/cr/api/events/bulk_upload?event_type=fdlive", body, ct, nil)
	if arr, ok := out.([]any); status != 200 || !ok || len(arr) != 2 || arr[0] != float64(200) {
		t.Fatalf("HTTP %d %v", status, out)
	}
	body, ct = form(t, part{"file", "a.png", "image/png", pngHead})
	status, _, out = h.post(h.s.URL()+PrefixFutureDemand+"/api/media", body, ct, nil)
	m, _ := out.(map[string]any)
	if status != 200 || m["type"] != "image" || m["filename"] != "a.png" || !strings.HasPrefix(m["url"].(string), h.s.URL()+"/futuredemand-media/partners/42/") {
		t.Fatalf("HTTP %d %v", status, out)
	}
	ins, media := h.s.FutureDemandIngests(), h.s.FutureDemandMediaObjects()
	if len(ins) != 2 || ins[0].EID != "evt_9" || ins[1].EventType != "fdlive" || ins[1].Rows != 1 || len(media) != 1 || media[0].Size != int64(len(pngHead)) {
		t.Fatalf("ingests %+v media %+v", ins, media)
	}
	want := []FutureDemandEvent{{Title: "A", StartDateTime: "2026-05-01T20:00:00Z", City: "Berlin", Venue: "Arena"}}
	if got := h.s.FutureDemandEvents("fdlive"); len(got) != 1 || got[0] != want[0] || len(h.s.FutureDemandEvents("prisma")) != 0 {
		t.Fatalf("events %+v, want %+v under fdlive only", got, want)
	}
	// A second upload of the same row is a second event: the CR API does
	// not take rows back or merge them.
	body, ct = form(t, part{"file", "events.csv", "text/csv", []byte("title,start_date_time,city,venue\nA,2026-05-01T20:00:00Z,Berlin,Arena\n")})
	status, _, _ = h.post(h.s.URL()+PrefixFutureDemand+"/cr/api/events/bulk_upload?event_type=fdlive", body, ct, nil)
	if got := h.s.FutureDemandEvents("fdlive"); status != 200 || len(got) != 2 || got[1] != want[0] {
		t.Fatalf("HTTP %d, events %+v", status, got)
	}
}

// An events file may start with a byte order mark, also before a quoted
// header, as the client check allows; it is taken, not a 500.
func TestFDEventsTakeAByteOrderMark(t *testing.T) {
	h := newFDHarness(t)
	url := h.s.URL() + PrefixFutureDemand + "/cr/api/events/bulk_upload?event_type=prisma"
	for _, file := range []string{
		"\uFEFFtitle,start_date_time,city,venue\nA,2026-05-01T20:00:00Z,Berlin,Arena\n",
		"\uFEFF\"title\",\"start_date_time\",\"city\",\"venue\"\nA,2026-05-01T20:00:00Z,Berlin,Arena\n",
	} {
		body, ct := form(t, part{"file", "events.csv", "text/csv", []byte(file)})
		status, _, out := h.post(url, body, ct, nil)
		if arr, ok := out.([]any); status != 200 || !ok || len(arr) != 2 || arr[0] != float64(200) {
			t.Fatalf("%q: HTTP %d %v", file, status, out)
		}
	}
	if n := len(h.s.FutureDemandIngests()); n != 2 {
		t.Fatalf("%d ingests, want 2", n)
	}
}

// A file the row check cannot parse is the caller's invalid CSV.
func TestFDEventRowErrorsParseErrorIsTheFiles(t *testing.T) {
	_, _, err := eventRows(strings.NewReader("title,start_date_time,city,venue\nA\"b,2026-05-01T20:00:00Z,Berlin,Arena\n"))
	var parse *csv.ParseError
	if !errors.As(err, &parse) {
		t.Fatalf("error %v (%T), want a *csv.ParseError", err, err)
	}
}

// eventsWorkbook is an .xlsx whose first sheet has a header row and two
// events.
func eventsWorkbook(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for n, body := range map[string]string{
		"[Content_Types].xml":      "<Types/>",
		"xl/workbook.xml":          "<workbook/>",
		"xl/worksheets/sheet1.xml": `<worksheet><sheetData><row><c><v>title</v></c></row><row><c><v>A</v></c></row><row><c><v>B</v></c></row></sheetData></worksheet>`,
	} {
		w, _ := zw.Create(n)
		_, _ = w.Write([]byte(body))
	}
	_ = zw.Close()
	return b.Bytes()
}

// The CR API takes an events workbook sent with the spreadsheet content
// type, and refuses a name and a content type that disagree.
func TestFDEventsTakeAWorkbook(t *testing.T) {
	h := newFDHarness(t)
	url := h.s.URL() + PrefixFutureDemand + "/cr/api/events/bulk_upload?event_type=prisma"
	for _, tc := range []struct {
		name, fileName, contentType string
		body                        []byte
		want                        string
	}{
		{"workbook sent as CSV", "events.xlsx", "text/csv", eventsWorkbook(t), "INVALID_CONTENT_TYPE"},
		{"workbook as octet-stream", "events.xlsx", "application/octet-stream", eventsWorkbook(t), "INVALID_CONTENT_TYPE"},
		{"CSV sent as a workbook", "events.csv", xlsxType, []byte("title,start_date_time,city,venue\nA,2026-05-01T20:00:00Z,Berlin,Arena\n"), "INVALID_CONTENT_TYPE"},
		{"CSV renamed", "events.xlsx", xlsxType, []byte("title,start_date_time,city,venue\nA,2026-05-01T20:00:00Z,Berlin,Arena\n"), "FILE_INVALID_XLSX"},
		{"no sheet", "events.xlsx", xlsxType, workbook(t), "FILE_INVALID_XLSX"},
	} {
		body, ct := form(t, part{"file", tc.fileName, tc.contentType, tc.body})
		status, _, out := h.post(url, body, ct, nil)
		m, _ := out.(map[string]any)
		detail, _ := m["detail"].([]any)
		if status != 200 || len(detail) != 1 || detail[0].(map[string]any)["name"] != tc.want {
			t.Fatalf("%s: HTTP %d %v; want detail %s", tc.name, status, out, tc.want)
		}
	}
	if n := len(h.s.FutureDemandIngests()); n != 0 {
		t.Fatalf("%d ingests taken from refused uploads", n)
	}
	body, ct := form(t, part{"file", "events.xlsx", xlsxType, eventsWorkbook(t)})
	status, _, out := h.post(url, body, ct, nil)
	if arr, ok := out.([]any); status != 200 || !ok || len(arr) != 2 || arr[0] != float64(200) {
		t.Fatalf("HTTP %d %v", status, out)
	}
	if ins := h.s.FutureDemandIngests(); len(ins) != 1 || ins[0].Rows != 2 || ins[0].FileName != "events.xlsx" {
		t.Fatalf("ingests %+v, want one of 2 rows", ins)
	}
}
