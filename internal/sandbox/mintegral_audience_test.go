package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

type audienceAnswer struct {
	Code int             `json:"code"`
	Msg  string          `json:"msg"`
	Data json.RawMessage `json:"data"`
}

// audienceCall sends a signed audience API request; body, when not nil,
// is sent as JSON (a string is sent as is).
func audienceCall(t *testing.T, s *Server, method string, q url.Values, body any) audienceAnswer {
	t.Helper()
	var rd *bytes.Reader
	switch b := body.(type) {
	case nil:
		rd = bytes.NewReader(nil)
	case string:
		rd = bytes.NewReader([]byte(b))
	default:
		raw, _ := json.Marshal(b)
		rd = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, s.URL()+PrefixMintegral+"/api/open/v1/audience?"+q.Encode(), rd)
	ts := strconv.FormatInt(s.now().Unix(), 10)
	req.Header.Set("access-key", s.cfg.Credentials.MintegralAccessKey)
	req.Header.Set("timestamp", ts)
	req.Header.Set("token", MintegralToken(s.cfg.Credentials.MintegralAPIKey, ts))
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a audienceAnswer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		t.Fatal(err)
	}
	return a
}

// uploadedDataPath presigns and uploads a file in area, returning its
// data_path; with upload false it only presigns.
func uploadedDataPath(t *testing.T, s *Server, area string, upload bool) string {
	t.Helper()
	body := []byte("id\n1\n")
	a := presign(t, s, s.now(), nil, query(area, "ids.txt", md5Of(body)))
	if area == "2" {
		if upload {
			t.Fatal("area 2 uploads are not needed by these tests")
		}
		return "oss://" + BucketMintegralOSS + "/" + a.Data.OSS.Dir
	}
	if upload {
		if resp := put(t, a.Data.S3.URL, body, nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("upload: HTTP %d", resp.StatusCode)
		}
	}
	return a.Data.S3.DataPath
}

func createBody(name string, area, platform int, files ...MintegralAudienceFile) map[string]any {
	return map[string]any{"ta_name": name, "area_type": area, "platform": platform, "data_path": files}
}

func TestMintegralAudienceCreateRules(t *testing.T) {
	s, _ := startTest(t)
	stored := uploadedDataPath(t, s, "1", true)
	notUploaded := uploadedDataPath(t, s, "1", false)
	otherArea := uploadedDataPath(t, s, "2", false)
	cases := []struct {
		name string
		body any
		want string
	}{
		{"made-up data_path", createBody("a", 1, 2, MintegralAudienceFile{2, "s3://mintegral-audience/audience/x.txt"}), "was not returned by Upload Audience File"},
		{"presigned but never uploaded", createBody("a", 1, 2, MintegralAudienceFile{2, notUploaded}), "the file was never uploaded"},
		{"other area", createBody("a", 1, 2, MintegralAudienceFile{2, otherArea}), "was uploaded for area_type 2, not 1"},
		{"unknown device type", createBody("a", 1, 2, MintegralAudienceFile{5, stored}), "device_type 5 is not a valid device type"},
		{"no files", createBody("a", 1, 2), "at least one file"},
		{"no name", createBody(" ", 1, 2, MintegralAudienceFile{2, stored}), "ta_name is required"},
		{"bad platform", createBody("a", 1, 4, MintegralAudienceFile{2, stored}), "platform must be"},
		{"bad area", createBody("a", 3, 2, MintegralAudienceFile{2, stored}), "area_type must be 1 or 2"},
		{"misspelt field", `{"name":"a","area_type":1,"platform":2,"data_path":[]}`, `unknown field "name"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := audienceCall(t, s, http.MethodPost, nil, c.body)
			if a.Code != MintegralCodeBadParam || !strings.Contains(a.Msg, c.want) {
				t.Fatalf("got %d %q, want %d containing %q", a.Code, a.Msg, MintegralCodeBadParam, c.want)
			}
		})
	}
	if n := len(s.MintegralAudiences()); n != 0 {
		t.Fatalf("%d audiences created by refused requests", n)
	}
	a := audienceCall(t, s, http.MethodPost, nil, createBody("ok", 1, 2, MintegralAudienceFile{2, stored}, MintegralAudienceFile{7, stored}))
	if a.Code != MintegralCodeOK || !strings.Contains(string(a.Data), `"ta_id":`) {
		t.Fatalf("create: %+v", a)
	}
}

func TestMintegralAudienceAuthAndContentType(t *testing.T) {
	s, _ := startTest(t)
	req, _ := http.NewRequest(http.MethodGet, s.URL()+PrefixMintegral+"/api/open/v1/audience", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var a audienceAnswer
	_ = json.NewDecoder(resp.Body).Decode(&a)
	resp.Body.Close()
	if a.Code != MintegralCodeAuthMissing {
		t.Fatalf("unsigned list: %+v", a)
	}
	req, _ = http.NewRequest(http.MethodPost, s.URL()+PrefixMintegral+"/api/open/v1/audience", strings.NewReader("ta_name=a"))
	ts := strconv.FormatInt(s.now().Unix(), 10)
	req.Header.Set("access-key", s.cfg.Credentials.MintegralAccessKey)
	req.Header.Set("timestamp", ts)
	req.Header.Set("token", MintegralToken(s.cfg.Credentials.MintegralAPIKey, ts))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = json.NewDecoder(resp.Body).Decode(&a)
	resp.Body.Close()
	if a.Code != MintegralCodeBadParam || !strings.Contains(a.Msg, "application/json") {
		t.Fatalf("form body: %+v", a)
	}
}

func TestMintegralAudienceUpdateWindowAndDelete(t *testing.T) {
	s, clk := startTest(t)
	dp := uploadedDataPath(t, s, "1", true)
	a := audienceCall(t, s, http.MethodPost, nil, createBody("w", 1, 3, MintegralAudienceFile{3, dp}))
	var created struct {
		ID int64 `json:"ta_id"`
	}
	_ = json.Unmarshal(a.Data, &created)
	update := map[string]any{"ta_id": created.ID, "data_path": []MintegralAudienceFile{{8, dp}}}

	// Creating publishes, which starts the window at once.
	clk.Advance(MintegralUpdateWindow - time.Minute)
	if a := audienceCall(t, s, http.MethodPut, nil, update); a.Code != MintegralCodeBadParam || !strings.Contains(a.Msg, "cannot be updated again within 12h0m0s") {
		t.Fatalf("update inside the window: %+v", a)
	}
	clk.Advance(time.Minute)
	if a := audienceCall(t, s, http.MethodPut, nil, update); a.Code != MintegralCodeOK {
		t.Fatalf("update after the window: %+v", a)
	}
	got := s.MintegralAudiences()[0]
	if got.deviceTypeList() != "8" || clk.Now().Sub(got.Updated) > time.Second {
		t.Fatalf("after update: %+v", got)
	}
	// The update restarted the window.
	if a := audienceCall(t, s, http.MethodPut, nil, update); a.Code != MintegralCodeBadParam {
		t.Fatalf("second update right after the first: %+v", a)
	}
	if a := audienceCall(t, s, http.MethodPut, nil, map[string]any{"ta_id": 999999, "data_path": []MintegralAudienceFile{{8, dp}}}); !strings.Contains(a.Msg, "does not exist") {
		t.Fatalf("update of a missing audience: %+v", a)
	}

	if a := audienceCall(t, s, http.MethodDelete, nil, map[string]any{"ta_id": []int64{created.ID, 999999}}); a.Code != MintegralCodeBadParam {
		t.Fatalf("delete with a missing ID: %+v", a)
	}
	if len(s.MintegralAudiences()) != 1 {
		t.Fatal("a refused delete removed an audience")
	}
	if a := audienceCall(t, s, http.MethodDelete, nil, map[string]any{"ta_id": []int64{created.ID}}); a.Code != MintegralCodeOK {
		t.Fatalf("delete: %+v", a)
	}
	if len(s.MintegralAudiences()) != 0 {
		t.Fatal("delete left the audience")
	}
}

func TestMintegralAudienceListPaging(t *testing.T) {
	s, _ := startTest(t)
	dp := uploadedDataPath(t, s, "1", true)
	for i := range 12 {
		platform := 1
		if i%4 == 0 {
			platform = 2
		}
		if a := audienceCall(t, s, http.MethodPost, nil, createBody(fmt.Sprintf("Seg-%02d", i), 1, platform, MintegralAudienceFile{3, dp}, MintegralAudienceFile{1, dp})); a.Code != MintegralCodeOK {
			t.Fatal(a)
		}
	}
	type page struct {
		Page, Limit, Total int
		CurrentTotal       int `json:"current_total"`
		List               []struct {
			ID         int64  `json:"ta_id"`
			Name       string `json:"ta_name"`
			Type       int    `json:"ta_type"`
			DeviceType string `json:"device_type"`
			CTime      int64  `json:"ctime"`
		}
	}
	list := func(q url.Values) page {
		t.Helper()
		a := audienceCall(t, s, http.MethodGet, q, nil)
		if a.Code != MintegralCodeOK {
			t.Fatalf("list %v: %+v", q, a)
		}
		var p page
		_ = json.Unmarshal(a.Data, &p)
		return p
	}
	// The documented default limit is 10.
	if p := list(nil); p.Limit != 10 || p.Total != 12 || p.CurrentTotal != 10 || len(p.List) != 10 || p.List[0].DeviceType != "1,3" || p.List[0].Type != 1 || p.List[0].CTime == 0 {
		t.Fatalf("page 1: %+v", p)
	}
	if p := list(url.Values{"page": {"2"}}); p.Page != 2 || p.CurrentTotal != 2 || len(p.List) != 2 || p.List[1].Name != "Seg-11" {
		t.Fatalf("page 2: %+v", p)
	}
	if p := list(url.Values{"page": {"3"}}); p.CurrentTotal != 0 || len(p.List) != 0 || p.Total != 12 {
		t.Fatalf("page 3: %+v", p)
	}
	if p := list(url.Values{"limit": {"1000"}}); p.Limit != 500 || p.CurrentTotal != 12 {
		t.Fatalf("limit above 500: %+v", p)
	}
	if p := list(url.Values{"ta_name": {"seg-1"}, "limit": {"500"}}); p.Total != 2 {
		t.Fatalf("fuzzy name: %+v", p)
	}
	if p := list(url.Values{"platform": {"2"}, "limit": {"500"}}); p.Total != 3 {
		t.Fatalf("platform: %+v", p)
	}
	all := list(url.Values{"limit": {"500"}})
	q := url.Values{"ta_ids": {fmt.Sprintf("%d,%d", all.List[3].ID, all.List[7].ID)}}
	if p := list(q); p.Total != 2 || p.List[0].ID != all.List[3].ID {
		t.Fatalf("ta_ids: %+v", p)
	}
	if a := audienceCall(t, s, http.MethodGet, url.Values{"limit": {"0"}}, nil); a.Code != MintegralCodeBadParam {
		t.Fatalf("limit 0: %+v", a)
	}
}

func createdID(t *testing.T, a audienceAnswer) int64 {
	t.Helper()
	var created struct {
		ID int64 `json:"ta_id"`
	}
	if a.Code != MintegralCodeOK || json.Unmarshal(a.Data, &created) != nil || created.ID == 0 {
		t.Fatalf("create: %+v", a)
	}
	return created.ID
}

// A sandbox restarted on the same directory knows the audiences and the
// data_paths it issued before, as Mintegral would.
func TestMintegralAudiencesSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	clk := &clock{}
	first := startS3PostSandbox(t, Config{Dir: dir, Now: clk.Now})
	dp := uploadedDataPath(t, first, "1", true)
	unused := uploadedDataPath(t, first, "1", true) // issued and stored, used by no audience yet
	id := createdID(t, audienceCall(t, first, http.MethodPost, nil, createBody("kept", 1, 2, MintegralAudienceFile{2, dp})))
	gone := createdID(t, audienceCall(t, first, http.MethodPost, nil, createBody("deleted", 1, 2, MintegralAudienceFile{2, dp})))
	if a := audienceCall(t, first, http.MethodDelete, nil, map[string]any{"ta_id": []int64{gone}}); a.Code != MintegralCodeOK {
		t.Fatal(a)
	}
	before := first.MintegralAudiences()
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}

	second := startS3PostSandbox(t, Config{Dir: dir, Now: clk.Now})
	after := second.MintegralAudiences()
	if len(after) != 1 || after[0].ID != id || after[0].Name != "kept" || !after[0].Updated.Equal(before[0].Updated) || after[0].Files[0] != before[0].Files[0] {
		t.Fatalf("after restart: %+v, before: %+v", after, before)
	}
	// The issued data_paths are still accepted, and IDs are not reused.
	clk.Advance(MintegralUpdateWindow)
	if a := audienceCall(t, second, http.MethodPut, nil, map[string]any{"ta_id": id, "data_path": []MintegralAudienceFile{{7, unused}}}); a.Code != MintegralCodeOK {
		t.Fatalf("update with a data_path issued before the restart: %+v", a)
	}
	if next := createdID(t, audienceCall(t, second, http.MethodPost, nil, createBody("new", 1, 2, MintegralAudienceFile{2, dp}))); next <= gone {
		t.Fatalf("new audience got ta_id %d, not above %d issued before the restart", next, gone)
	}
	// Nothing but the state file is left behind by the atomic writes.
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Fatalf("temporary file left: %s", e.Name())
		}
	}

	// A damaged state file stops the sandbox with a message naming it.
	if err := os.WriteFile(filepath.Join(dir, mintegralStateFile), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Config{Dir: dir}); err == nil || !strings.Contains(err.Error(), mintegralStateFile) {
		t.Fatalf("damaged state file: %v", err)
	}
}

// A window shorter than 12 hours is for trying updates: times are
// reported so that utime + 12 hours is when the update is accepted.
func TestMintegralShortUpdateWindow(t *testing.T) {
	clk := &clock{}
	s := startS3PostSandbox(t, Config{Dir: t.TempDir(), Now: clk.Now, MintegralUpdateWindow: 2 * time.Minute})
	dp := uploadedDataPath(t, s, "1", true)
	id := createdID(t, audienceCall(t, s, http.MethodPost, nil, createBody("short", 1, 3, MintegralAudienceFile{3, dp})))
	a := audienceCall(t, s, http.MethodGet, url.Values{"ta_ids": {strconv.FormatInt(id, 10)}}, nil)
	var page struct {
		List []struct {
			UTime int64 `json:"utime"`
		}
	}
	if err := json.Unmarshal(a.Data, &page); err != nil || len(page.List) != 1 {
		t.Fatalf("list: %+v", a)
	}
	acceptedFrom := time.Unix(page.List[0].UTime, 0).Add(MintegralUpdateWindow)
	if d := acceptedFrom.Sub(clk.Now().Add(2 * time.Minute)); d < -2*time.Second || d > 2*time.Second {
		t.Fatalf("utime + 12h is %s, want about 2 minutes from now (%s)", acceptedFrom, clk.Now())
	}
	update := map[string]any{"ta_id": id, "data_path": []MintegralAudienceFile{{8, dp}}}
	clk.Advance(time.Minute)
	if a := audienceCall(t, s, http.MethodPut, nil, update); !strings.Contains(a.Msg, "within 2m0s") {
		t.Fatalf("update after 1 minute: %+v", a)
	}
	clk.Advance(time.Minute + time.Second)
	if a := audienceCall(t, s, http.MethodPut, nil, update); a.Code != MintegralCodeOK {
		t.Fatalf("update after 2 minutes: %+v", a)
	}
}

// Seeded audiences look like console-made ones: listed with the others,
// past their window, and built from a stored file.
func TestSeedMintegralAudiences(t *testing.T) {
	s, _ := startTest(t)
	ids, err := s.SeedMintegralAudiences(4, MintegralSeed{})
	if err != nil {
		t.Fatal(err)
	}
	cn, err := s.SeedMintegralAudiences(1, MintegralSeed{NamePrefix: "cn-", Platform: 1, AreaType: 2, DeviceType: 4})
	if err != nil {
		t.Fatal(err)
	}
	all := s.MintegralAudiences()
	if len(all) != 5 || all[0].ID != ids[0] || all[4].ID != cn[0] {
		t.Fatalf("seeded: %+v", all)
	}
	if a := all[0]; a.Name != "console-audience-0001" || a.Platform != 1 || a.AreaType != 1 || a.deviceTypeList() != "3" || s.now().Sub(a.Updated) < MintegralUpdateWindow {
		t.Fatalf("first seeded audience: %+v", a)
	}
	if all[1].Platform != 2 || all[1].deviceTypeList() != "2" || all[2].Platform != 3 || all[3].Platform != 1 {
		t.Fatalf("platforms in turn: %+v", all)
	}
	if c := all[4]; c.Name != "cn-0001" || c.AreaType != 2 || !strings.HasPrefix(c.Files[0].DataPath, "oss://") || c.deviceTypeList() != "4" {
		t.Fatalf("area 2 seed: %+v", c)
	}
	// Their files are stored, so an update naming them is accepted.
	if msg := s.checkFiles(context.Background(), 1, all[0].Files); msg != "" {
		t.Fatal(msg)
	}
	if _, err := s.SeedMintegralAudiences(1, MintegralSeed{DeviceType: 5}); err == nil {
		t.Fatal("device type 5 was accepted")
	}
}

// An audience call whose change cannot be saved answers an error and
// changes nothing: no audience is created, updated or deleted in memory.
func TestAudienceCallsThatCannotSaveChangeNothing(t *testing.T) {
	s := startSandbox(t)
	dp := uploadedDataPath(t, s, "1", true)
	a := audienceCall(t, s, http.MethodPost, nil, createBody("kept", 1, 2, MintegralAudienceFile{DeviceType: 2, DataPath: dp}))
	if a.Code != MintegralCodeOK {
		t.Fatalf("create: %+v", a)
	}
	s.Advance(13 * time.Hour)
	before := s.MintegralAudiences()
	next := uploadedDataPath(t, s, "1", true)
	st := &s.mintegralAudience
	st.mu.Lock()
	saved := st.file
	st.file = filepath.Join(t.TempDir(), "missing", mintegralStateFile) // no such directory: every save fails
	st.mu.Unlock()

	if a := audienceCall(t, s, http.MethodPost, nil, createBody("lost", 1, 2, MintegralAudienceFile{DeviceType: 2, DataPath: dp})); a.Code != MintegralCodeInternal {
		t.Fatalf("create: %+v", a)
	}
	update := map[string]any{"ta_id": before[0].ID, "data_path": []MintegralAudienceFile{{DeviceType: 2, DataPath: next}}}
	if a := audienceCall(t, s, http.MethodPut, nil, update); a.Code != MintegralCodeInternal {
		t.Fatalf("update: %+v", a)
	}
	if a := audienceCall(t, s, http.MethodDelete, nil, map[string]any{"ta_id": []int64{before[0].ID}}); a.Code != MintegralCodeInternal {
		t.Fatalf("delete: %+v", a)
	}
	if after := s.MintegralAudiences(); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("audiences changed by failed calls:\n%+v\nwant\n%+v", after, before)
	}

	// Saving again, the next create takes the next id, as if the failed
	// one never happened.
	st.mu.Lock()
	st.file = saved
	st.mu.Unlock()
	a = audienceCall(t, s, http.MethodPost, nil, createBody("second", 1, 2, MintegralAudienceFile{DeviceType: 2, DataPath: dp}))
	var created struct {
		ID int64 `json:"ta_id"`
	}
	if a.Code != MintegralCodeOK || json.Unmarshal(a.Data, &created) != nil || created.ID != before[0].ID+1 {
		t.Fatalf("create after saving works again: %+v (want ta_id %d)", a, before[0].ID+1)
	}
}

// startWith starts a sandbox with cfg (Dir set here).
func startWith(t *testing.T, cfg Config) *Server {
	t.Helper()
	cfg.Dir = t.TempDir()
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

// In the 12/13 mode IDFV and IDFV_MD5 are 12 and 13, and 10 and 11 are
// refused as unknown device types, the way any unknown number is.
func TestMintegralIDFVCodes(t *testing.T) {
	if _, err := New(Config{Dir: t.TempDir(), MintegralIDFVCodes: 11}); err == nil {
		t.Fatal("MintegralIDFVCodes 11 accepted")
	}
	for _, tc := range []struct {
		codes          int
		valid, refused []int
	}{
		{0, []int{10, 11}, []int{12, 13}},
		{10, []int{10, 11}, []int{12, 13}},
		{12, []int{12, 13}, []int{10, 11}},
	} {
		s := startWith(t, Config{MintegralIDFVCodes: tc.codes})
		stored := uploadedDataPath(t, s, "1", true)
		for _, code := range tc.refused {
			a := audienceCall(t, s, http.MethodPost, nil, createBody("a", 1, 2, MintegralAudienceFile{code, stored}))
			if want := fmt.Sprintf("data_path[0].device_type %d is not a valid device type", code); a.Code != MintegralCodeBadParam || a.Msg != want {
				t.Errorf("mode %d, device_type %d: got %d %q, want %d %q", tc.codes, code, a.Code, a.Msg, MintegralCodeBadParam, want)
			}
		}
		for _, code := range tc.valid {
			a := audienceCall(t, s, http.MethodPost, nil, createBody(fmt.Sprint("ok", code), 1, 2, MintegralAudienceFile{code, stored}))
			if a.Code != MintegralCodeOK {
				t.Errorf("mode %d, device_type %d: refused: %+v", tc.codes, code, a)
			}
		}
		if n := len(s.MintegralAudiences()); n != len(tc.valid) {
			t.Errorf("mode %d: %d audiences, want %d", tc.codes, n, len(tc.valid))
		}
	}
}

// An account limited to area 1 refuses area_type 2 for uploads and
// audiences alike, as an invalid parameter.
func TestMintegralAreaOneOnly(t *testing.T) {
	s := startWith(t, Config{MintegralAreaOneOnly: true})
	if a := presign(t, s, time.Now(), nil, query("2", "a.txt", md5Of([]byte("x")))); a.Code != MintegralCodeBadParam || a.Msg != "area_type must be 1" {
		t.Errorf("presign area 2: got %d %q", a.Code, a.Msg)
	}
	stored := uploadedDataPath(t, s, "1", true)
	if a := audienceCall(t, s, http.MethodPost, nil, createBody("a", 2, 2, MintegralAudienceFile{2, stored})); a.Code != MintegralCodeBadParam || a.Msg != "area_type must be 1" {
		t.Errorf("create area 2: got %d %q", a.Code, a.Msg)
	}
	if a := audienceCall(t, s, http.MethodPost, nil, createBody("a", 1, 2, MintegralAudienceFile{2, stored})); a.Code != MintegralCodeOK {
		t.Errorf("create area 1: %+v", a)
	}
}
