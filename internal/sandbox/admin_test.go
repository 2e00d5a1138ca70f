package sandbox

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// adminCall sends body to an admin path; a nil body sends none, and
// chunked hides its length as `curl -T -` does.
func adminCall(t *testing.T, s *Server, method, path, body string, chunked bool) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
		if chunked {
			rd = io.MultiReader(rd)
		}
	}
	req, err := http.NewRequest(method, s.URL()+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestAdminClock(t *testing.T) {
	s := startSandbox(t)
	ids, err := s.SeedMintegralAudiences(1, MintegralSeed{})
	if err != nil {
		t.Fatal(err)
	}
	updated := func() time.Time {
		for _, a := range s.MintegralAudiences() {
			if a.ID == ids[0] {
				return a.Updated
			}
		}
		t.Fatal("the audience is gone")
		return time.Time{}
	}
	before := updated()
	if code, body := adminCall(t, s, http.MethodPost, AdminClockPath, `{"advance":"13h"}`, false); code != http.StatusOK || !strings.Contains(body, `"advanced":"13h0m0s"`) {
		t.Fatalf("POST advance 13h: HTTP %d %s", code, body)
	}
	if got := before.Sub(updated()); got != 13*time.Hour {
		t.Fatalf("the audience's update time moved %s, want 13h", got)
	}
	if code, body := adminCall(t, s, http.MethodPost, AdminClockPath, "30m", false); code != http.StatusOK || !strings.Contains(body, `"advanced":"13h30m0s"`) {
		t.Fatalf("POST 30m: HTTP %d %s", code, body)
	}
	for _, bad := range []string{`{"advance":"-1h"}`, "0s", "tomorrow", `{"advance":"1h","extra":1}`, ""} {
		if code, body := adminCall(t, s, http.MethodPost, AdminClockPath, bad, false); code != http.StatusBadRequest || !strings.Contains(body, "error") {
			t.Errorf("POST %q: HTTP %d %s, want 400", bad, code, body)
		}
	}
	if code, body := adminCall(t, s, http.MethodGet, AdminClockPath, "", false); code != http.StatusOK || !strings.Contains(body, `"advanced":"13h30m0s"`) {
		t.Fatalf("GET: HTTP %d %s", code, body)
	}
	if code, _ := adminCall(t, s, http.MethodPut, AdminClockPath, "1h", false); code != http.StatusMethodNotAllowed {
		t.Fatalf("PUT: HTTP %d, want 405", code)
	}
}

// The rehearsal: collapse a segment to a few profiles, export it through
// the API, then put it back.
func TestAdminAltcraftProfiles(t *testing.T) {
	s := startSandbox(t)
	path := AdminAltcraftProfilesPath + "/segment/7"
	code, all := adminCall(t, s, http.MethodGet, path, "", false)
	var want bytes.Buffer
	if _, err := AltcraftExport(&want, "segment", 7, nil); err != nil {
		t.Fatal(err)
	}
	if code != http.StatusOK || all != want.String() {
		t.Fatalf("GET %s: HTTP %d, %d bytes; want the %d-byte export", path, code, len(all), want.Len())
	}
	lines := strings.SplitAfter(all, "\n")
	collapsed := strings.Join(lines[:4], "") // the header and three profiles
	if code, body := adminCall(t, s, http.MethodPut, path, collapsed, true); code != http.StatusOK || !strings.Contains(body, `"profiles":3`) {
		t.Fatalf("PUT: HTTP %d %s", code, body)
	}
	start := altcraftCall(t, s, "profiles/get_all", `{`+altcraftTok+`,"source_type":"segment","source_id":7}`)
	end, _ := altcraftPollToEnd(t, s, start.Data.TaskID)
	if _, got := altcraftDownload(t, s, end.Data.Result.URLs[0]+"?token=sandbox-altcraft-token", nil); end.Data.Result.Total != 3 || string(got) != collapsed {
		t.Fatalf("export of the collapsed segment: total %d, %q", end.Data.Result.Total, got)
	}

	// A source the panel lacks, with the team's own fields: filters work
	// on them (as strings), and the known ones keep their type.
	custom := "\xEF\xBB\xBF_pid,email,tier\n1,a@example.com,gold\n2,b@example.com,silver\n3,\"c,d\"\"@example.com\",gold\n"
	if code, body := adminCall(t, s, http.MethodPut, AdminAltcraftProfilesPath+"/segment/4711", custom, false); code != http.StatusOK || !strings.Contains(body, `"profiles":3`) {
		t.Fatalf("PUT a new segment: HTTP %d %s", code, body)
	}
	gold := altcraftCall(t, s, "profiles/get_all", `{`+altcraftTok+`,"source_type":"segment","source_id":4711,"custom_request":{"tier":"gold","_pid":3}}`)
	end, _ = altcraftPollToEnd(t, s, gold.Data.TaskID)
	if _, got := altcraftDownload(t, s, end.Data.Result.URLs[0]+"?token=sandbox-altcraft-token", nil); string(got) != "_pid,email,tier\n3,\"c,d\"\"@example.com\",gold\n" {
		t.Fatalf("filtered export of the new segment: %q", got)
	}
	if a := altcraftCall(t, s, "profiles/get_all", `{`+altcraftTok+`,"source_type":"segment","source_id":4711,"custom_request":{"_pid":"3"}}`); a.Error != AltcraftCodeBadRequest || !strings.Contains(a.ErrorText, `"_pid" must be a number`) {
		t.Fatalf("a number field filtered with a string: %+v", a)
	}
	if a := altcraftCall(t, s, "profiles/get_all", `{`+altcraftTok+`,"source_type":"segment","source_id":4711,"custom_request":{"idfa":"x"}}`); a.Error != AltcraftCodeBadRequest || !strings.Contains(a.ErrorText, `unknown profile field "idfa"`) {
		t.Fatalf("a field the loaded CSV lacks: %+v", a)
	}
	code, list := adminCall(t, s, http.MethodGet, AdminAltcraftProfilesPath, "", false)
	var sources []AltcraftSourceInfo
	if err := json.Unmarshal([]byte(list), &sources); code != http.StatusOK || err != nil {
		t.Fatalf("GET the list: HTTP %d %v", code, err)
	}
	if len(sources) != 5 || sources[4].SourceID != 4711 || sources[4].Profiles != 3 || !sources[4].Loaded || sources[2].SourceID != 7 || sources[2].Profiles != 3 || sources[0].Profiles != 1343 || sources[0].Loaded {
		t.Fatalf("sources: %+v", sources)
	}

	// Refused CSVs name the line and the field, and change nothing.
	for body, wantErr := range map[string]string{
		"":                             "the CSV is empty",
		"_pid,age\n1,30\n2,old\n":      "line 3, column age: \"old\" is not a number",
		"_pid,vip\n1,yes\n":            "line 2, column vip: \"yes\" is not true or false",
		"_pid,email\n1,a@x\n2\n":       "line 3",
		"_pid,_pid\n1,2\n":             "names \"_pid\" twice",
		"_pid,\"unclosed\n1,2\n":       "line 2: extraneous or missing \" in quoted-field",
		"_pid,,email\n1,,a@x\n":        "a field without a name",
		"idfa\n\"AEBE52E7\"x\n":        "line 2",
		"_pid,age\n1,30\n2,NaN\n":      "\"NaN\" is not a number",
		"_pid,age\n1,30\n2,\n3,31.5\n": "",
	} {
		code, got := adminCall(t, s, http.MethodPut, AdminAltcraftProfilesPath+"/segment/4711", body, false)
		if wantErr == "" {
			if code != http.StatusOK {
				t.Errorf("PUT %q: HTTP %d %s, want 200 (empty fields are missing values)", body, code, got)
			}
			continue
		}
		var answer struct{ Error string }
		_ = json.Unmarshal([]byte(got), &answer)
		if code != http.StatusBadRequest || !strings.HasPrefix(answer.Error, "profiles CSV: ") || !strings.Contains(answer.Error, wantErr) {
			t.Errorf("PUT %q: HTTP %d %s, want 400 with %q", body, code, got, wantErr)
		}
	}

	// DELETE puts a set-up segment back and removes an added one.
	if code, _ := adminCall(t, s, http.MethodDelete, path, "", false); code != http.StatusNoContent {
		t.Fatalf("DELETE %s: HTTP %d", path, code)
	}
	if _, got := adminCall(t, s, http.MethodGet, path, "", false); got != want.String() {
		t.Fatal("segment 7 did not get its generated profiles back")
	}
	if code, _ := adminCall(t, s, http.MethodDelete, AdminAltcraftProfilesPath+"/segment/4711", "", false); code != http.StatusNoContent {
		t.Fatalf("DELETE segment 4711: HTTP %d", code)
	}
	if code, _ := adminCall(t, s, http.MethodGet, AdminAltcraftProfilesPath+"/segment/4711", "", false); code != http.StatusNotFound {
		t.Fatalf("GET a removed segment: HTTP %d, want 404", code)
	}
	if objs, _ := s.store.List(BucketAltcraftProfiles); len(objs) != 0 {
		t.Fatalf("%d loaded CSVs left in the store after both were reset", len(objs))
	}
	for _, bad := range []string{"/table/1", "/segment/0", "/segment/x"} {
		if code, _ := adminCall(t, s, http.MethodGet, AdminAltcraftProfilesPath+bad, "", false); code != http.StatusNotFound {
			t.Errorf("GET %s: HTTP %d, want 404", bad, code)
		}
	}
	if code, _ := adminCall(t, s, http.MethodPost, path, "x", false); code != http.StatusMethodNotAllowed {
		t.Errorf("POST %s: HTTP %d, want 405", path, code)
	}
}

// A segment edited through the Go API refuses a resize once a CSV holds it.
func TestAltcraftLoadedSourceRefusesGeneratedEdits(t *testing.T) {
	s := startSandbox(t)
	if _, err := s.LoadAltcraftProfiles("segment", 7, strings.NewReader("_pid\n1\n")); err != nil {
		t.Fatal(err)
	}
	if err := s.SetAltcraftProfiles("segment", 7, 3); err == nil || !strings.Contains(err.Error(), "CSV") {
		t.Fatalf("resize of a loaded segment: %v", err)
	}
}

// Admin endpoints are the sandbox's own: not under any platform's mount,
// not counted as platform requests, never hit by faults; an unknown one
// lists those that exist.
func TestAdminEndpointsStayApart(t *testing.T) {
	s := startSandbox(t)
	s.AddFault(Fault{PathPrefix: "/", Status: 503, Count: 10})
	if code, _ := adminCall(t, s, http.MethodGet, AdminClockPath, "", false); code != http.StatusOK {
		t.Fatalf("a fault on / hit the admin clock: HTTP %d", code)
	}
	s.ClearFaults()
	if code, _ := adminCall(t, s, http.MethodGet, AdminAltcraftProfilesPath+"/segment/7", "", false); code != http.StatusOK || s.Requests(PrefixAltcraft) != 0 {
		t.Fatalf("HTTP %d, %d Altcraft requests counted", code, s.Requests(PrefixAltcraft))
	}
	if code, _ := adminCall(t, s, http.MethodGet, PrefixAltcraft+"/_sandbox/clock", "", false); code != http.StatusNotFound {
		t.Fatalf("the clock under Altcraft's mount: HTTP %d, want 404", code)
	}
	if code, body := adminCall(t, s, http.MethodGet, AdminPrefix+"nope", "", false); code != http.StatusNotFound || !strings.Contains(body, AdminClockPath) {
		t.Fatalf("unknown admin path: HTTP %d %s", code, body)
	}
}
