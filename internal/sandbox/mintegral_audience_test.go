package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
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
