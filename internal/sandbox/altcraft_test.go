package sandbox

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

func startAltcraftSandbox(t *testing.T) *Server {
	t.Helper()
	return startSandbox(t)
}

type altcraftAnswer struct {
	Data struct {
		TaskID   string `json:"task_id"`
		Status   string `json:"status"`
		Progress int    `json:"progress"`
		Result   *struct {
			Errors   []string `json:"errors"`
			SourceID int64    `json:"source_id"`
			Total    int      `json:"total"`
			Type     string   `json:"type"`
			URLs     []string `json:"urls"`
		} `json:"result"`
	} `json:"data"`
	Error     int    `json:"error"`
	ErrorText string `json:"error_text"`
}

// altcraftCall posts a JSON body and insists on HTTP 200: the platform
// reports failures in the body.
func altcraftCall(t *testing.T, s *Server, method string, body string) altcraftAnswer {
	t.Helper()
	resp, err := http.Post(s.URL()+PrefixAltcraft+"/api/v1.1/"+method, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: HTTP %d, want 200", method, resp.StatusCode)
	}
	var a altcraftAnswer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		t.Fatal(err)
	}
	return a
}

const altcraftTok = `"token":"sandbox-altcraft-token"`

func TestAltcraftBodyLevelErrors(t *testing.T) {
	s := startAltcraftSandbox(t)
	cases := []struct {
		name, method, body string
		code               int
		text               string
	}{
		{"no token", "profiles/get_all", `{"source_type":"database","source_id":1}`, 401, "Token required"},
		{"bad token", "profiles/get_all", `{"token":"nope","source_type":"database","source_id":1}`, 401, "Invalid token"},
		{"bad source type", "profiles/get_all", `{` + altcraftTok + `,"source_type":"table","source_id":1}`, 400, "source_type"},
		{"unknown database", "profiles/get_all", `{` + altcraftTok + `,"source_type":"database","source_id":99}`, 400, "database 99 not found"},
		{"source_id as string", "profiles/get_all", `{` + altcraftTok + `,"source_type":"database","source_id":"1"}`, 400, "source_id must be an integer"},
		{"unknown format", "profiles/get_all", `{` + altcraftTok + `,"source_type":"database","source_id":1,"file_format":"xlsx"}`, 400, "file_format"},
		{"unknown field", "profiles/get_all", `{` + altcraftTok + `,"source_type":"database","source_id":1,"custom_request":{"shoe_size":42}}`, 400, `unknown profile field "shoe_size"`},
		{"number sent as string", "profiles/get_all", `{` + altcraftTok + `,"source_type":"database","source_id":1,"custom_request":{"age":"30"}}`, 400, `field "age" must be a number, got a string`},
		{"bool sent as string", "profiles/get_all", `{` + altcraftTok + `,"source_type":"database","source_id":1,"custom_request":{"vip":"true"}}`, 400, `field "vip" must be a boolean`},
		{"unknown task", "tasks/status", `{` + altcraftTok + `,"task_id":"task_nope"}`, 400, "not found"},
		{"status without token", "tasks/status", `{"task_id":"task_nope"}`, 401, "Token required"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := altcraftCall(t, s, c.method, c.body)
			if a.Error != c.code || !strings.Contains(a.ErrorText, c.text) {
				t.Fatalf("got error %d %q, want %d containing %q", a.Error, a.ErrorText, c.code, c.text)
			}
		})
	}
}

func TestAltcraftTokenInQueryIsNotAccepted(t *testing.T) {
	s := startAltcraftSandbox(t)
	resp, err := http.Post(s.URL()+PrefixAltcraft+"/api/v1.1/profiles/get_all?token=sandbox-altcraft-token", "application/json", strings.NewReader(`{"source_type":"database","source_id":1}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a altcraftAnswer
	_ = json.NewDecoder(resp.Body).Decode(&a)
	if a.Error != AltcraftCodeTokenRequired {
		t.Fatalf("error = %d, want 401: API calls carry the token in the body", a.Error)
	}
}

func TestAltcraftRequiresJSON(t *testing.T) {
	s := startAltcraftSandbox(t)
	resp, err := http.Post(s.URL()+PrefixAltcraft+"/api/v1.1/profiles/get_all", "text/plain", strings.NewReader(`{`+altcraftTok+`,"source_type":"database","source_id":1}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a altcraftAnswer
	_ = json.NewDecoder(resp.Body).Decode(&a)
	if a.Error != AltcraftCodeBadRequest {
		t.Fatalf("error = %d, want 400", a.Error)
	}
}

// altcraftPollToEnd polls a task until it leaves the running states and returns
// the progress values seen along the way.
func altcraftPollToEnd(t *testing.T, s *Server, taskID string) (altcraftAnswer, []int) {
	t.Helper()
	var seen []int
	for range 10 {
		a := altcraftCall(t, s, "tasks/status", `{`+altcraftTok+`,"task_id":"`+taskID+`"}`)
		if a.Error != 0 {
			t.Fatalf("status: %d %s", a.Error, a.ErrorText)
		}
		seen = append(seen, a.Data.Progress)
		if a.Data.Status == "completed" || a.Data.Status == "error" {
			return a, seen
		}
		if a.Data.Result != nil {
			t.Fatalf("a running task (%s) has a result", a.Data.Status)
		}
	}
	t.Fatalf("task never finished; progress %v", seen)
	return altcraftAnswer{}, nil
}

func altcraftDownload(t *testing.T, s *Server, path string, header http.Header) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.URL()+PrefixAltcraft+path, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func TestAltcraftExportFlow(t *testing.T) {
	s := startAltcraftSandbox(t)
	start := altcraftCall(t, s, "profiles/get_all", `{`+altcraftTok+`,"source_type":"segment","source_id":7,"file_format":"csv"}`)
	if start.Error != 0 || !strings.HasPrefix(start.Data.TaskID, "task_") {
		t.Fatalf("get_all: %+v", start)
	}
	end, seen := altcraftPollToEnd(t, s, start.Data.TaskID)
	if got := fmt.Sprint(seen); got != "[0 40 80 100]" {
		t.Fatalf("progress over polls = %s, want [0 40 80 100]", got)
	}
	r := end.Data.Result
	if r == nil || r.Total != 240 || r.Type != "segment" || r.SourceID != 7 || len(r.URLs) != 1 || len(r.Errors) != 0 {
		t.Fatalf("result = %+v", r)
	}
	if !strings.HasPrefix(r.URLs[0], "/api/download/") || !strings.HasSuffix(r.URLs[0], "/7_segment_export.csv") {
		t.Fatalf("url = %s", r.URLs[0])
	}

	var want bytes.Buffer
	if _, err := AltcraftExport(&want, "segment", 7, nil); err != nil {
		t.Fatal(err)
	}
	for name, h := range map[string]http.Header{
		"no token":     nil,
		"bad bearer":   {"Authorization": {"Bearer nope"}},
		"basic scheme": {"Authorization": {"Basic c2FuZGJveC1hbHRjcmFmdC10b2tlbg=="}},
	} {
		if code, _ := altcraftDownload(t, s, r.URLs[0], h); code != http.StatusUnauthorized {
			t.Errorf("%s: download HTTP %d, want 401", name, code)
		}
	}
	if code, _ := altcraftDownload(t, s, r.URLs[0]+"?token=nope", nil); code != http.StatusUnauthorized {
		t.Errorf("bad ?token: HTTP %d, want 401", code)
	}
	for name, c := range map[string]struct {
		suffix string
		h      http.Header
	}{
		"query token":  {"?token=sandbox-altcraft-token", nil},
		"bearer token": {"", http.Header{"Authorization": {"Bearer sandbox-altcraft-token"}}},
	} {
		code, got := altcraftDownload(t, s, r.URLs[0]+c.suffix, c.h)
		if code != http.StatusOK || !bytes.Equal(got, want.Bytes()) {
			t.Errorf("%s: HTTP %d, %d bytes; want 200 and the %d-byte export", name, code, len(got), want.Len())
		}
	}
	rows, _ := csv.NewReader(bytes.NewReader(want.Bytes())).ReadAll()
	if len(rows) != 241 || strings.Join(rows[0], ",") != "_pid,email,first_name,last_name,city,occupation,age,vip,idfa,gaid" {
		t.Fatalf("export has %d rows, header %v", len(rows), rows[0])
	}
	if code, _ := altcraftDownload(t, s, "/api/download/00000000-0000-4000-8000-000000000000/7_segment_export.csv?token=sandbox-altcraft-token", nil); code != http.StatusNotFound {
		t.Errorf("unknown file: HTTP %d, want 404", code)
	}
}

func TestAltcraftCustomRequestFilters(t *testing.T) {
	s := startAltcraftSandbox(t)
	var all bytes.Buffer
	if _, err := AltcraftExport(&all, "database", 1, nil); err != nil {
		t.Fatal(err)
	}
	rows, _ := csv.NewReader(&all).ReadAll()
	wantRows := 0
	for _, r := range rows[1:] {
		if r[5] == "doctor" && r[7] == "true" {
			wantRows++
		}
	}
	if wantRows == 0 {
		t.Fatal("database 1 has no vip doctors; the filter test needs some")
	}

	start := altcraftCall(t, s, "profiles/get_all", `{`+altcraftTok+`,"source_type":"database","source_id":1,"custom_request":{"occupation":"doctor","vip":true}}`)
	if start.Error != 0 {
		t.Fatalf("get_all: %d %s", start.Error, start.ErrorText)
	}
	end, _ := altcraftPollToEnd(t, s, start.Data.TaskID)
	if end.Data.Result.Total != wantRows {
		t.Fatalf("total = %d, want %d", end.Data.Result.Total, wantRows)
	}
	code, body := altcraftDownload(t, s, end.Data.Result.URLs[0]+"?token=sandbox-altcraft-token", nil)
	if code != http.StatusOK {
		t.Fatalf("download HTTP %d", code)
	}
	got, _ := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if len(got) != wantRows+1 {
		t.Fatalf("file has %d data rows, want %d", len(got)-1, wantRows)
	}
	for _, r := range got[1:] {
		if r[5] != "doctor" || r[7] != "true" {
			t.Fatalf("row %v does not match the filter", r)
		}
	}

	// A number filter matches the number column.
	var byAge bytes.Buffer
	n, err := AltcraftExport(&byAge, "database", 1, map[string]any{"age": json.Number("30")})
	if err != nil || n == 0 {
		t.Fatalf("age filter: %d rows, %v", n, err)
	}
	ageRows, _ := csv.NewReader(&byAge).ReadAll()
	for _, r := range ageRows[1:] {
		if r[6] != "30" {
			t.Fatalf("row %v does not have age 30", r)
		}
	}
}

func TestAltcraftHoldAndFail(t *testing.T) {
	s := startAltcraftSandbox(t)
	s.HoldAltcraftTasks(40)
	start := altcraftCall(t, s, "profiles/get_all", `{`+altcraftTok+`,"source_type":"database","source_id":2}`)
	var seen []int
	for range 5 {
		a := altcraftCall(t, s, "tasks/status", `{`+altcraftTok+`,"task_id":"`+start.Data.TaskID+`"}`)
		seen = append(seen, a.Data.Progress)
		if a.Data.Status == "completed" {
			t.Fatalf("held task completed: %+v", a.Data)
		}
	}
	if fmt.Sprint(seen) != "[0 40 40 40 40]" {
		t.Fatalf("held at 40, progress went %v", seen)
	}
	s.ReleaseAltcraftTasks()
	if end, seen := altcraftPollToEnd(t, s, start.Data.TaskID); end.Data.Status != "completed" || end.Data.Result.Total != 25 || fmt.Sprint(seen) != "[80 100]" {
		t.Fatalf("released task: %+v after %v", end.Data, seen)
	}

	s.FailAltcraftTasks("profile storage unavailable")
	failed := altcraftCall(t, s, "profiles/get_all", `{`+altcraftTok+`,"source_type":"database","source_id":2}`)
	end, _ := altcraftPollToEnd(t, s, failed.Data.TaskID)
	if end.Data.Status != "error" || end.Data.Result == nil || len(end.Data.Result.Errors) != 1 || end.Data.Result.Errors[0] != "profile storage unavailable" || len(end.Data.Result.URLs) != 0 {
		t.Fatalf("failed task: %+v %+v", end.Data, end.Data.Result)
	}
}

func TestAltcraftExportCarriesOneDeviceIDPerProfile(t *testing.T) {
	var b bytes.Buffer
	if _, err := AltcraftExport(&b, "database", 1, nil); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	const zero = "00000000-0000-0000-0000-000000000000"
	var ios, android, limited int
	for _, r := range rows[1:] {
		idfa, gaid := r[8], r[9]
		switch {
		case idfa == zero && gaid == "":
			limited++
		case idfa != "" && gaid == "" && idfa == strings.ToUpper(idfa) && uuid.MatchString(strings.ToLower(idfa)):
			ios++
		case idfa == "" && uuid.MatchString(gaid):
			android++
		default:
			t.Fatalf("profile %s has idfa %q, gaid %q", r[0], idfa, gaid)
		}
	}
	if ios == 0 || android == 0 || limited == 0 || limited > ios {
		t.Fatalf("%d iOS, %d Android, %d limited-tracking profiles", ios, android, limited)
	}
}

// An old panel takes a download's token only in the URL: the header alone
// is refused with 401.
func TestAltcraftOldPanelTakesOnlyURLToken(t *testing.T) {
	s := startS3PostSandbox(t, Config{AltcraftPanel: AltcraftPanelOld})
	start := altcraftCall(t, s, "profiles/get_all", `{`+altcraftTok+`,"source_type":"segment","source_id":7}`)
	end, _ := altcraftPollToEnd(t, s, start.Data.TaskID)
	u := end.Data.Result.URLs[0]
	if code, _ := altcraftDownload(t, s, u, http.Header{"Authorization": {"Bearer sandbox-altcraft-token"}}); code != http.StatusUnauthorized {
		t.Fatalf("bearer on an old panel: HTTP %d, want 401", code)
	}
	if code, _ := altcraftDownload(t, s, u+"?token=sandbox-altcraft-token", nil); code != http.StatusOK {
		t.Fatalf("?token= on an old panel: HTTP %d, want 200", code)
	}
	if _, err := New(Config{Dir: t.TempDir(), AltcraftPanel: "v2"}); err == nil || !strings.Contains(err.Error(), "old or new") {
		t.Fatalf("unknown generation: %v", err)
	}
}

// A finished export is downloadable, with its time as Last-Modified, until
// AltcraftResultLifetime has passed on the sandbox clock; then its URL
// answers 404. Every get_all counts as a started export.
func TestAltcraftResultExpires(t *testing.T) {
	s := startAltcraftSandbox(t)
	before := s.AltcraftExportsStarted()
	id := altcraftCall(t, s, "profiles/get_all", `{`+altcraftTok+`,"source_type":"database","source_id":2}`).Data.TaskID
	var a altcraftAnswer
	for range 4 {
		a = altcraftCall(t, s, "tasks/status", `{`+altcraftTok+`,"task_id":"`+id+`"}`)
	}
	if a.Data.Status != "completed" {
		t.Fatalf("status %q after four polls", a.Data.Status)
	}
	if n := s.AltcraftExportsStarted() - before; n != 1 {
		t.Fatalf("%d exports counted, want 1", n)
	}
	get := func() *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, s.URL()+PrefixAltcraft+a.Data.Result.URLs[0], nil)
		req.Header.Set("Authorization", "Bearer sandbox-altcraft-token")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	resp := get()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("fresh result: HTTP %d", resp.StatusCode)
	}
	fresh, err := http.ParseTime(resp.Header.Get("Last-Modified"))
	if err != nil {
		t.Fatalf("Last-Modified: %v", err)
	}
	s.Advance(AltcraftResultLifetime - time.Hour)
	resp = get()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("result within its lifetime: HTTP %d", resp.StatusCode)
	}
	if older, _ := http.ParseTime(resp.Header.Get("Last-Modified")); fresh.Sub(older) < AltcraftResultLifetime-2*time.Hour {
		t.Fatalf("Last-Modified %v did not move back with the clock from %v", older, fresh)
	}
	s.Advance(time.Hour)
	if resp = get(); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("expired result: HTTP %d, want 404", resp.StatusCode)
	}
}
