package mintegral

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/audiencekit/terraform-provider-audience/internal/client/transfer"
	"github.com/audiencekit/terraform-provider-audience/internal/sandbox"
)

func TestDeviceTypeTable(t *testing.T) {
	for name, code := range map[string]int{"IMEI": 1, "IDFA": 2, "GAID": 3, "OAID": 4, "IMEI_MD5": 6, "IDFA_MD5": 7, "GAID_MD5": 8, "OAID_MD5": 9, "IDFV": 10, "IDFV_MD5": 11} {
		if got, ok := DeviceTypeCode(name); !ok || got != code {
			t.Errorf("DeviceTypeCode(%s) = %d, %v; want %d", name, got, ok, code)
		}
		if got := DeviceTypeName(code); got != name {
			t.Errorf("DeviceTypeName(%d) = %s, want %s", code, got, name)
		}
	}
	// The other documented IDFV numbers read back as IDFV.
	if DeviceTypeName(12) != "IDFV" || DeviceTypeName(13) != "IDFV_MD5" || DeviceTypeName(5) != "5" {
		t.Errorf("aliases: 12=%s 13=%s 5=%s", DeviceTypeName(12), DeviceTypeName(13), DeviceTypeName(5))
	}
	for _, c := range []struct {
		platform, deviceType string
		ok                   bool
	}{
		{"ios", "IDFA", true}, {"ios", "IDFV_MD5", true}, {"ios", "GAID", false}, {"ios", "IMEI_MD5", false},
		{"android", "GAID", true}, {"android", "OAID_MD5", true}, {"android", "IDFA", false}, {"android", "IDFV", false},
		{"mix", "IDFA", true}, {"mix", "GAID", true}, {"mix", "NOPE", false},
	} {
		if ok, _ := DeviceTypeAllowed(c.platform, c.deviceType); ok != c.ok {
			t.Errorf("DeviceTypeAllowed(%s, %s) = %v, want %v", c.platform, c.deviceType, ok, c.ok)
		}
	}
	if got := strings.Join(SortDeviceTypes([]string{"GAID_MD5", "IDFA", "GAID_MD5", "IMEI"}), ","); got != "IMEI,IDFA,GAID_MD5" {
		t.Errorf("SortDeviceTypes = %s", got)
	}
}

// uploaded uploads a one-line file and returns its data_path.
func uploaded(t *testing.T, c *Client, area int) string {
	t.Helper()
	p, sum := writeTemp(t, "ids.txt", "id\n1\n")
	res, err := c.Upload(context.Background(), UploadRequest{Path: p, FileName: "ids.txt", AreaType: area, FileMD5: sum})
	if err != nil {
		t.Fatal(err)
	}
	return res.DataPath
}

func TestAudienceLifecycle(t *testing.T) {
	c, srv, _ := setup(t, nil)
	ctx := context.Background()
	dp := uploaded(t, c, AreaOutsideMainlandChina)
	id, err := c.CreateAudience(ctx, AudienceSpec{Name: "buyers", AreaType: 1, Platform: "ios", Files: []AudienceFile{{"IDFA", dp}, {"IDFA_MD5", dp}}})
	if err != nil {
		t.Fatal(err)
	}
	a, err := c.GetAudience(ctx, id)
	if err != nil || a == nil {
		t.Fatalf("GetAudience: %v, %v", a, err)
	}
	if a.Name != "buyers" || a.Platform != "ios" || a.AreaType != 1 || strings.Join(a.DeviceTypes, ",") != "IDFA,IDFA_MD5" || a.Type != 1 {
		t.Fatalf("read back %+v", a)
	}
	if !a.UpdatableAfter().Equal(a.Updated.Add(12 * time.Hour)) {
		t.Fatalf("UpdatableAfter %s, updated %s", a.UpdatableAfter(), a.Updated)
	}

	// Within 12 hours the platform refuses the update.
	err = c.UpdateAudience(ctx, id, []AudienceFile{{"IDFV", dp}}, a.Updated)
	var apiErr *APIError
	if !errors.As(err, &apiErr) || !strings.Contains(apiErr.Message, "cannot be updated again within 12h") {
		t.Fatalf("update within the window: %v", err)
	}
	srv.BackdateMintegralAudience(id, 12*time.Hour+time.Second)
	if err := c.UpdateAudience(ctx, id, []AudienceFile{{"IDFV", dp}}, a.Updated); err != nil {
		t.Fatal(err)
	}
	if a, _ = c.GetAudience(ctx, id); strings.Join(a.DeviceTypes, ",") != "IDFV" {
		t.Fatalf("after update: %+v", a)
	}

	if err := c.DeleteAudience(ctx, id); err != nil {
		t.Fatal(err)
	}
	if a, err := c.GetAudience(ctx, id); err != nil || a != nil {
		t.Fatalf("after delete: %+v, %v", a, err)
	}
	// Deleting what is already gone succeeds: the goal is reached.
	if err := c.DeleteAudience(ctx, id); err != nil {
		t.Fatalf("second delete: %v", err)
	}
}

func TestListFollowsEveryPage(t *testing.T) {
	c, srv, _ := setup(t, nil)
	ctx := context.Background()
	dp := uploaded(t, c, AreaOutsideMainlandChina)
	var want []int64
	for i := range 5 {
		id, err := c.CreateAudience(ctx, AudienceSpec{Name: fmt.Sprintf("page-%d", i), AreaType: 1, Platform: "android", Files: []AudienceFile{{"GAID", dp}}})
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, id)
	}
	if _, err := c.CreateAudience(ctx, AudienceSpec{Name: "other", AreaType: 1, Platform: "mix", Files: []AudienceFile{{"GAID", dp}}}); err != nil {
		t.Fatal(err)
	}
	before := srv.MintegralAudienceCalls("GET")
	got, err := c.ListAudiences(ctx, AudienceFilter{Name: "page-", Platform: "android", PageSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	if n := srv.MintegralAudienceCalls("GET") - before; n != 3 {
		t.Fatalf("%d list calls for 5 audiences 2 a page, want 3", n)
	}
	if len(got) != len(want) {
		t.Fatalf("got %d audiences, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].ID != want[i] {
			t.Fatalf("audience %d is %d, want %d", i, got[i].ID, want[i])
		}
	}
	some, err := c.ListAudiences(ctx, AudienceFilter{IDs: []int64{want[1], want[3]}})
	if err != nil || len(some) != 2 || some[0].ID != want[1] || some[1].ID != want[3] {
		t.Fatalf("by ids: %+v, %v", some, err)
	}
}

func TestCreateWhoseAnswerIsLostIsAdopted(t *testing.T) {
	c, srv, _ := setup(t, nil)
	ctx := context.Background()
	dp := uploaded(t, c, AreaOutsideMainlandChina)
	spec := AudienceSpec{Name: "lost", AreaType: 1, Platform: "android", Files: []AudienceFile{{"GAID", dp}}}
	// An older audience of the same name must not be taken for ours.
	older, err := c.CreateAudience(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	srv.AddFault(sandbox.Fault{Method: "POST", PathPrefix: sandbox.PrefixMintegral + audiencePath, DropResponse: true})
	id, err := c.CreateAudience(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if f := srv.PendingFaults(); len(f) != 0 {
		t.Fatalf("fault never fired: %v", f)
	}
	all := srv.MintegralAudiences()
	if len(all) != 2 || id == older || all[1].ID != id {
		t.Fatalf("adopted %d (older %d); sandbox holds %+v", id, older, all)
	}
	if n := srv.MintegralAudienceCalls("POST"); n != 2 {
		t.Fatalf("%d creates sent, want 2 (one per audience)", n)
	}
}

func TestCreateThatNeverArrivedIsSentAgain(t *testing.T) {
	c, srv, _ := setup(t, nil)
	ctx := context.Background()
	dp := uploaded(t, c, AreaOutsideMainlandChina)
	// The connection breaks while the body is sent: nothing is created.
	srv.AddFault(sandbox.Fault{Method: "POST", PathPrefix: sandbox.PrefixMintegral + audiencePath, ResetAfterBytes: 10})
	id, err := c.CreateAudience(ctx, AudienceSpec{Name: "retry", AreaType: 1, Platform: "ios", Files: []AudienceFile{{"IDFA", dp}}})
	if err != nil {
		t.Fatal(err)
	}
	if f := srv.PendingFaults(); len(f) != 0 {
		t.Fatalf("fault never fired: %v", f)
	}
	if all := srv.MintegralAudiences(); len(all) != 1 || all[0].ID != id {
		t.Fatalf("sandbox holds %+v, want only %d", all, id)
	}
}

func TestUpdateWhoseAnswerIsLostCountsWhenApplied(t *testing.T) {
	c, srv, _ := setup(t, nil)
	ctx := context.Background()
	dp := uploaded(t, c, AreaOutsideMainlandChina)
	id, err := c.CreateAudience(ctx, AudienceSpec{Name: "upd", AreaType: 1, Platform: "ios", Files: []AudienceFile{{"IDFA", dp}}})
	if err != nil {
		t.Fatal(err)
	}
	srv.BackdateMintegralAudience(id, 13*time.Hour)
	a, _ := c.GetAudience(ctx, id)
	srv.AddFault(sandbox.Fault{Method: "PUT", PathPrefix: sandbox.PrefixMintegral + audiencePath, DropResponse: true})
	if err := c.UpdateAudience(ctx, id, []AudienceFile{{"IDFA_MD5", dp}}, a.Updated); err != nil {
		t.Fatalf("an update applied but unanswered is a success: %v", err)
	}
	if f := srv.PendingFaults(); len(f) != 0 {
		t.Fatalf("fault never fired: %v", f)
	}
	// A repeat of the PUT (safe: the platform refuses a second update
	// within the window) must not turn the applied update into an error.
	if got, _ := c.GetAudience(ctx, id); got == nil || strings.Join(got.DeviceTypes, ",") != "IDFA_MD5" {
		t.Fatalf("after update: %+v", got)
	}
}

func TestAudienceCallsCarryTokenAuth(t *testing.T) {
	c, _, _ := setup(t, nil)
	c.APIKey = "wrong"
	_, err := c.ListAudiences(context.Background(), AudienceFilter{})
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Code != sandbox.MintegralCodeBadToken {
		t.Fatalf("want the token to be refused, got %v", err)
	}
	if strings.Contains(err.Error(), "wrong") {
		t.Fatalf("error leaks the key: %v", err)
	}
}

// A server that pages by a smaller limit than asked for is still read to
// the end: paging follows the total and the limit the server reports.
func TestListFollowsTheServersLimit(t *testing.T) {
	var asked []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked = append(asked, r.URL.Query().Get("page")+"/"+r.URL.Query().Get("limit"))
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		var items []string
		for id := (page-1)*2 + 1; id <= min(page*2, 5); id++ {
			items = append(items, fmt.Sprintf(`{"ta_id":%d,"platform":1,"ta_name":"a%d","device_type":"3","area_type":1,"ctime":1704871621,"utime":1704871621}`, id, id))
		}
		fmt.Fprintf(w, `{"code":200,"message":"success","data":{"page":%d,"limit":2,"current_total":%d,"total":5,"list":[%s]}}`, page, len(items), strings.Join(items, ","))
	}))
	defer srv.Close()
	c := New(srv.URL, "ak", "key", transfer.Options{})
	got, err := c.ListAudiences(context.Background(), AudienceFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 || got[4].ID != 5 || got[4].DeviceTypes[0] != "GAID" || got[4].Platform != "android" {
		t.Fatalf("got %+v", got)
	}
	if strings.Join(asked, " ") != "1/500 2/500 3/500" {
		t.Fatalf("pages asked: %v", asked)
	}
}

// EachAudiencePage hands over one page at a time and asks for no page
// after the caller stops.
func TestEachAudiencePageStopsWhenAsked(t *testing.T) {
	c, srv, _ := setup(t, nil)
	if _, err := srv.SeedMintegralAudiences(5, sandbox.MintegralSeed{}); err != nil {
		t.Fatal(err)
	}
	var sizes []int
	err := c.EachAudiencePage(context.Background(), AudienceFilter{PageSize: 2}, func(page []Audience) bool {
		sizes = append(sizes, len(page))
		return true
	})
	if err != nil || fmt.Sprint(sizes) != "[2 2 1]" {
		t.Fatalf("pages %v, err %v", sizes, err)
	}
	before := srv.MintegralAudienceCalls(http.MethodGet)
	pages := 0
	err = c.EachAudiencePage(context.Background(), AudienceFilter{PageSize: 2}, func([]Audience) bool {
		pages++
		return false
	})
	if n := srv.MintegralAudienceCalls(http.MethodGet) - before; err != nil || pages != 1 || n != 1 {
		t.Fatalf("stopped after page 1: %d pages handed over, %d list calls, err %v", pages, n, err)
	}
}
