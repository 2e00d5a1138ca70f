package mintegral

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/audiencekit/terraform-provider-audience/internal/client/transfer"
	"github.com/audiencekit/terraform-provider-audience/internal/sandbox"
)

// The envelope and every answer are read in the spellings a server of
// the family plausibly sends.
func TestWireReadsTheSpellingsOfAFamily(t *testing.T) {
	for body, want := range map[string]envelope{
		`{"code":200,"msg":"success"}`:                        {Code: 200, Msg: "success"},
		`{"code":"200","message":"success","data":{}}`:        {Code: 200, Msg: "success"},
		`{"Code":10003,"ErrMsg":"token verification failed"}`: {Code: 10003, Msg: "token verification failed"},
		`{"ret_code":0,"error_msg":"Rate limit exceeded"}`:    {Code: 0, Msg: "Rate limit exceeded"},
	} {
		env, _, ok := readEnvelope([]byte(body))
		if !ok || env.Code != want.Code || env.Msg != want.Msg {
			t.Errorf("%s: %+v, %v; want %+v", body, env, ok, want)
		}
	}
	for _, body := range []string{`[]`, `"ok"`, `{"status":"ok"}`} {
		if _, _, ok := readEnvelope([]byte(body)); ok {
			t.Errorf("%s read as an envelope", body)
		}
	}

	for _, data := range []string{
		`{"area_type":1,"ttl":300,"s3":{"method":"PUT","url":"U","data_path":"P"}}`,
		`{"areaType":1,"ttl":"300","s3":{"method":"PUT","url":"U","dataPath":"P"}}`,
		`{"AreaType":1,"TTL":300,"S3":{"Method":"PUT","UploadUrl":"U","Path":"P"}}`,
	} {
		p := presignAnswer{area: 1}
		if m := p.ReadAnswer(transfer.ParseAnswer([]byte(data))); m != "" || p.info.S3 == nil || p.info.S3.URL != "U" || p.info.DataPath() != "P" || p.info.TTL != 300 {
			t.Errorf("%s: %+v, missing %q", data, p.info, m)
		}
	}
	for _, data := range []string{
		`{"ttl":300,"oss":{"method":"POST","accessid":"A","host":"H","expire":1704892428,"signature":"S","policy":"Y","dir":"D","data_path":"P"}}`,
		`{"ttl":300,"oss":{"method":"POST","accessId":"A","host":"H","expire":"1704892428","signature":"S","policy":"Y","key":"D","dataPath":"P"}}`,
		`{"Ttl":300,"Oss":{"Method":"POST","AccessKeyId":"A","Host":"H","Expire":1704892428,"Signature":"S","Policy":"Y","Dir":"D","DataPath":"P"}}`,
	} {
		p := presignAnswer{area: 2}
		if m := p.ReadAnswer(transfer.ParseAnswer([]byte(data))); m != "" {
			t.Errorf("%s: missing %q", data, m)
			continue
		}
		if o := p.info.OSS; o.AccessID != "A" || o.Host != "H" || o.Expire != 1704892428 || o.Dir != "D" || p.info.DataPath() != "P" {
			t.Errorf("%s: %+v", data, o)
		}
	}

	for _, data := range []string{`{"ta_id":1148}`, `{"taId":"1148"}`, `{"TaId":1148}`, `{"id":1148}`} {
		var c createAnswer
		if m := c.ReadAnswer(transfer.ParseAnswer([]byte(data))); m != "" || c.ID != 1148 {
			t.Errorf("%s: %+v, missing %q", data, c, m)
		}
	}

	for data, wantTypes := range map[string]string{
		`{"page":1,"limit":2,"current_total":1,"total":1,"list":[{"ta_id":7,"platform":2,"ta_name":"a","ta_type":1,"device_type":"2,7","area_type":1,"ctime":1704871621,"utime":1704871622}]}`: "IDFA,IDFA_MD5",
		`{"Page":1,"Limit":2,"CurrentTotal":1,"Total":1,"List":[{"TaId":7,"Platform":2,"TaName":"a","TaType":1,"DeviceType":"7,2","AreaType":1,"Ctime":1704871621,"Utime":1704871622}]}`:       "IDFA,IDFA_MD5",
		`{"total":1,"items":[{"id":"7","platform":"2","name":"a","device_types":[2,7],"area_type":"1","create_time":1704871621,"update_time":"1704871622"}]}`:                                  "IDFA,IDFA_MD5",
		`{"total":1,"list":[{"ta_id":7,"platform":2,"ta_name":"a","device_type":12,"area_type":1,"ctime":1704871621,"utime":1704871622}]}`:                                                     "IDFV",
	} {
		var l listAnswer
		if m := l.ReadAnswer(transfer.ParseAnswer([]byte(data))); m != "" || len(l.List) != 1 {
			t.Errorf("%s: %+v, missing %q", data, l, m)
			continue
		}
		a := l.List[0]
		if a.ID != 7 || a.Name != "a" || a.Platform != "ios" || a.AreaType != 1 || strings.Join(a.DeviceTypes, ",") != wantTypes ||
			a.Created.Unix() != 1704871621 || a.Updated.Unix() != 1704871622 {
			t.Errorf("%s: %+v", data, a)
		}
	}
	// An empty page: [], null, or no list with a total of 0.
	for _, data := range []string{`{"total":0,"list":[]}`, `{"total":0,"list":null}`, `{"page":3,"list":null}`, `{"total":0}`} {
		var l listAnswer
		if m := l.ReadAnswer(transfer.ParseAnswer([]byte(data))); m != "" || len(l.List) != 0 {
			t.Errorf("%s: %+v, missing %q", data, l, m)
		}
	}
	for data, want := range map[string]string{
		`{"total":3}`:                      "data.list",
		`{"total":1,"list":"7"}`:           "data.list",
		`{"total":1,"list":[{"ta_id":7}]}`: "data.list[0].area_type or data.list[0].ctime or data.list[0].device_type or data.list[0].platform or data.list[0].ta_name or data.list[0].utime",
	} {
		var l listAnswer
		if m := l.ReadAnswer(transfer.ParseAnswer([]byte(data))); m != want {
			t.Errorf("%s: missing %q, want %q", data, m, want)
		}
	}
}

// respelled runs a sandbox whose every Mintegral answer comes respelled.
func respelled(t *testing.T, mode string) (*Client, *sandbox.Server) {
	t.Helper()
	c, srv, _ := setup(t, nil)
	srv.AddFault(sandbox.Fault{PathPrefix: sandbox.PrefixMintegral + "/", Respell: mode, Count: 1000})
	return c, srv
}

// The whole audience lifecycle works against a server whose answers are
// spelled another way.
func TestWireLifecycleInEverySpelling(t *testing.T) {
	for _, mode := range []string{"camel", "pascal", "snake"} {
		t.Run(mode, func(t *testing.T) {
			c, srv := respelled(t, mode)
			ctx := context.Background()
			dp := uploaded(t, c, AreaOutsideMainlandChina)
			dp2 := uploaded(t, c, AreaMainlandChina)
			if !strings.HasPrefix(dp2, "oss://") {
				t.Fatalf("area 2 data_path %q", dp2)
			}
			id, err := c.CreateAudience(ctx, AudienceSpec{Name: "buyers", AreaType: 1, Platform: "ios", Files: []AudienceFile{{"IDFA", dp}}})
			if err != nil {
				t.Fatal(err)
			}
			a, err := c.GetAudience(ctx, id)
			if err != nil || a == nil || a.Name != "buyers" || a.Platform != "ios" || strings.Join(a.DeviceTypes, ",") != "IDFA" || a.Updated.IsZero() {
				t.Fatalf("GetAudience: %+v, %v", a, err)
			}
			srv.BackdateMintegralAudience(id, 12*time.Hour+time.Second)
			if err := c.UpdateAudience(ctx, id, []AudienceFile{{"IDFA_MD5", dp}}, a.Updated); err != nil {
				t.Fatal(err)
			}
			if err := c.DeleteAudience(ctx, id); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// An answer that fits no known spelling fails naming the platform, the
// call (no query), the status, the request id and the answer's keys and
// types, never its values, and asks for a report.
func TestWireUnknownShapeNamesCallStatusAndShape(t *testing.T) {
	c, srv := respelled(t, "unknown")
	p, sum := writeTemp(t, "ids.txt", "id\n1\n")
	_, err := c.Upload(context.Background(), UploadRequest{Path: p, FileName: "secret-name.txt", AreaType: 1, FileMD5: sum})
	var se *transfer.ShapeError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v (%T), want a *transfer.ShapeError", err, err)
	}
	msg := err.Error()
	for _, want := range []string{"Mintegral GET /api/open/v1/audience/presigned-upload-data:", "HTTP 200", "request id none sent", "no code",
		`"zzcodeRenamed": number`, `"zzdataRenamed": {`, "report"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	creds := sandbox.DefaultCredentials()
	for _, secret := range []string{"secret-name", sum, creds.MintegralAccessKey, srv.URL(), "s3://"} {
		if strings.Contains(msg, secret) {
			t.Errorf("error leaks %q:\n%s", secret, msg)
		}
	}

	// Inside a known envelope, the missing field is named by its path, and
	// a request id header is named when the server sends one.
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-Id", "req-42")
		if r.Method == http.MethodGet { // the create's look-up before
			_, _ = w.Write([]byte(`{"code":200,"data":{"total":0,"list":[]}}`))
			return
		}
		_, _ = w.Write([]byte(`{"code":200,"message":"success","data":{"audience":{"ref":99}}}`))
	}))
	defer api.Close()
	c = New(api.URL, "ak", "key", transfer.Options{})
	_, err = c.CreateAudience(context.Background(), AudienceSpec{Name: "n", AreaType: 1, Platform: "ios", Files: []AudienceFile{{"IDFA", "s3://b/k"}}})
	if !errors.As(err, &se) || se.Op != "POST /api/open/v1/audience" || se.RequestID != "X-Request-Id: req-42" || se.Missing != "data.ta_id" ||
		se.Shape != `{"code": number, "data": {"audience": {"ref": number}}, "message": string}` {
		t.Fatalf("create: %v", err)
	}
}

// A rate limit in the body is tried again, a create too (Mintegral did not
// act on it), and fails as the platform's error once attempts run out.
func TestWireBodyRateLimitIsRetried(t *testing.T) {
	var calls atomic.Int32
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet { // the create's look-up before
			_, _ = w.Write([]byte(`{"code":200,"data":{"total":0,"list":[]}}`))
			return
		}
		if calls.Add(1) == 1 {
			_, _ = w.Write([]byte(`{"code":0,"msg":"Rate limit exceeded"}`))
			return
		}
		_, _ = w.Write([]byte(`{"code":200,"message":"success","data":{"ta_id":1148}}`))
	}))
	defer api.Close()
	c := New(api.URL, "ak", "key", transfer.Options{Retry: transfer.Retry{Attempts: 3, Base: time.Millisecond, Max: time.Millisecond}})
	id, err := c.CreateAudience(context.Background(), AudienceSpec{Name: "n", AreaType: 1, Platform: "ios", Files: []AudienceFile{{"IDFA", "s3://b/k"}}})
	if err != nil || id != 1148 || calls.Load() != 2 {
		t.Fatalf("create: %d, %v after %d calls", id, err, calls.Load())
	}
	if !rateLimited(200, []byte(`{"code":429,"msg":"slow down"}`)) || rateLimited(200, []byte(`{"code":200,"msg":"rate limit"}`)) ||
		rateLimited(200, []byte(`{"code":10003,"msg":"token verification failed"}`)) {
		t.Error("rateLimited misreads an envelope")
	}
}

// A create whose answer cannot be read landed all the same: the audience
// it made is found by name and handed back with the ShapeError, so it is
// not left behind.
func TestWireUnreadCreateFindsTheAudience(t *testing.T) {
	c, srv, _ := setup(t, nil)
	dp := uploaded(t, c, AreaOutsideMainlandChina)
	srv.AddFault(sandbox.Fault{Method: http.MethodPost, PathPrefix: sandbox.PrefixMintegral + audiencePath, Respell: "unknown"})
	id, err := c.CreateAudience(context.Background(), AudienceSpec{Name: "buyers", AreaType: 1, Platform: "ios", Files: []AudienceFile{{"IDFA", dp}}})
	var unread *UnreadCreateError
	var se *transfer.ShapeError
	if !errors.As(err, &unread) || !errors.As(err, &se) || unread.ID != id || id == 0 || len(srv.MintegralAudiences()) != 1 || srv.MintegralAudiences()[0].ID != id {
		t.Fatalf("create: %d, %v; audiences %+v", id, err, srv.MintegralAudiences())
	}
	if !strings.Contains(err.Error(), "POST /api/open/v1/audience") || !strings.Contains(err.Error(), fmt.Sprintf("ta_id %d", id)) {
		t.Errorf("error: %v", err)
	}
}
