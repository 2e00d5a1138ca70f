package transfer

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestParseRateSpec(t *testing.T) {
	s, err := ParseRateSpec(" mintegral=20/s, futuredemand=600/m,futuredemand.auth=5/m,tpns=off ")
	if err != nil {
		t.Fatal(err)
	}
	fd := Limits{Read: Rate{600, time.Minute}, Write: Rate{120, time.Minute}, Segments: map[string]Rate{"auth": {10, time.Minute}}}
	got := fd.For("futuredemand", s)
	if got.Read != (Rate{600, time.Minute}) || got.Write != (Rate{600, time.Minute}) || got.Segments["auth"] != (Rate{5, time.Minute}) {
		t.Errorf("futuredemand limits %s", got)
	}
	if fd.Segments["auth"] != (Rate{10, time.Minute}) {
		t.Error("For changed the defaults it was given")
	}
	if got := (Limits{Read: Rate{10, time.Second}}).For("tpns", s); !got.Read.IsZero() || !got.Write.IsZero() {
		t.Errorf("tpns=off left %s", got)
	}
	known := map[string]Limits{"mintegral": {}, "futuredemand": fd, "tpns": {}}
	if err := s.Check(known); err != nil {
		t.Errorf("Check: %v", err)
	}
	for spec, want := range map[string]string{
		"mintegral=20":        "positive number",
		"mintegral=0/s":       "positive number",
		"mintegral=20/d":      "s, m or h",
		"=20/s":               "want name=N/unit",
		"mintegral.auth=20/s": `mintegral has no class "auth"`,
		"tiktok=20/s":         "names no platform",
	} {
		s, err := ParseRateSpec(spec)
		if err == nil {
			err = s.Check(known)
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want it to say %q", spec, err, want)
		}
	}
}

// A burst of one second's worth goes at once; the rest follow at the rate.
func TestLimiterSpacesRequestsAtTheRate(t *testing.T) {
	lim := NewLimiter(Limits{Read: Rate{50, time.Second}, Write: Rate{2, time.Minute}, Segments: map[string]Rate{"auth": {1, time.Hour}}}, nil)
	start := time.Now()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var at []time.Duration
	for range 60 {
		wg.Go(func() {
			if err := lim.Wait(context.Background(), http.MethodGet, "/api/list"); err != nil {
				t.Error(err)
			}
			mu.Lock()
			at = append(at, time.Since(start))
			mu.Unlock()
		})
	}
	wg.Wait()
	slices.Sort(at)
	// 50 at once, then 10 more at 20ms each: the last at ~200ms.
	if at[49] > 100*time.Millisecond || at[59] < 180*time.Millisecond || at[59] > 600*time.Millisecond {
		t.Errorf("50th request at %s, 60th at %s; want the burst at once and the rest at 50/s", at[49], at[59])
	}
	// Writes and the auth segment have their own buckets, untouched by reads.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := lim.Wait(ctx, http.MethodPost, "/api/v3/storage"); err != nil {
		t.Errorf("first write waited: %v", err)
	}
	if err := lim.Wait(ctx, http.MethodPost, "/api/v3/auth/refresh_token"); err != nil {
		t.Errorf("first auth request waited: %v", err)
	}
	if err := lim.Wait(ctx, http.MethodPost, "/api/v3/auth"); err == nil {
		t.Error("a second auth request within the hour did not wait")
	}
}

// One call's 429 pauses every caller of the platform for its Retry-After.
func TestLimiter429PausesEveryCaller(t *testing.T) {
	var calls atomic.Int32
	var mu sync.Mutex
	var after []time.Time
	var first time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			mu.Lock()
			first = time.Now()
			mu.Unlock()
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		mu.Lock()
		after = append(after, time.Now())
		mu.Unlock()
		_, _ = w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	lim := NewLimiter(Limits{Read: Rate{1000, time.Second}}, nil)
	p := NewPlatform("Test", Options{HTTP: srv.Client(), Limiter: lim, Retry: Retry{Base: time.Millisecond, Max: time.Millisecond}})
	call := func() {
		if _, err := p.Call(context.Background(), APIRequest{Method: http.MethodGet, URL: srv.URL + "/x", Duplicate: DuplicateHarmless}); err != nil {
			t.Error(err)
		}
	}
	var wg sync.WaitGroup
	wg.Go(call)
	for calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // the 429 has been read
	// Other callers of the same platform, started while the first waits
	// out its 429, wait too.
	other := NewPlatform("Test", Options{HTTP: srv.Client(), Limiter: lim})
	for range 5 {
		wg.Go(func() {
			if _, err := other.Call(context.Background(), APIRequest{Method: http.MethodGet, URL: srv.URL + "/y", Duplicate: DuplicateHarmless}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if len(after) != 6 {
		t.Fatalf("%d answered requests after the 429, want 6", len(after))
	}
	for _, a := range after {
		if d := a.Sub(first); d < 900*time.Millisecond {
			t.Errorf("a request went %s after the 429 with Retry-After: 1", d)
		}
	}
}

func TestSharedLimiterIsOnePerAccountAndLimits(t *testing.T) {
	l := Limits{Read: Rate{10, time.Second}}
	first, again := SharedLimiter("a", l), SharedLimiter("a", l)
	if first != again {
		t.Error("two limiters for one account")
	}
	if SharedLimiter("a", l) == SharedLimiter("b", l) || SharedLimiter("a", l) == SharedLimiter("a", Limits{Read: Rate{20, time.Second}}) {
		t.Error("accounts or limits that differ share a limiter")
	}
}

// A rate limit said in the body of an HTTP 200 (RateLimited) is retried
// and pauses every caller of the platform, as a 429 does; when every
// attempt meets it, the last answer comes back whole for the platform to
// read.
func TestLimiterBodyRateLimitPausesEveryCaller(t *testing.T) {
	var calls atomic.Int32
	var mu sync.Mutex
	var after []time.Time
	var first time.Time
	limitedAnswer := `{"retCode":1008028,"errMsg":"request too fast"}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/always" {
			_, _ = w.Write([]byte(limitedAnswer))
			return
		}
		if calls.Add(1) == 1 {
			mu.Lock()
			first = time.Now()
			mu.Unlock()
			_, _ = w.Write([]byte(limitedAnswer))
			return
		}
		mu.Lock()
		after = append(after, time.Now())
		mu.Unlock()
		_, _ = w.Write([]byte(`{"retCode":0}`))
	}))
	defer srv.Close()
	limited := func(_ int, body []byte) bool { return strings.Contains(string(body), "1008028") }
	lim := NewLimiter(Limits{Write: Rate{1000, time.Second}}, nil)
	// The backoff is 200-400ms with its jitter.
	p := NewPlatform("Test", Options{HTTP: srv.Client(), Limiter: lim, Retry: Retry{Base: 400 * time.Millisecond, Max: 400 * time.Millisecond}})
	var wg sync.WaitGroup
	wg.Go(func() {
		// A create: the platform did not act on it, so it goes again.
		if _, err := p.Call(context.Background(), APIRequest{Method: http.MethodPost, URL: srv.URL + "/x", Duplicate: DuplicateVisible, RateLimited: limited}); err != nil {
			t.Error(err)
		}
	})
	for calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // the answer has been read
	other := NewPlatform("Test", Options{HTTP: srv.Client(), Limiter: lim})
	for range 3 {
		wg.Go(func() {
			if _, err := other.Call(context.Background(), APIRequest{Method: http.MethodPost, URL: srv.URL + "/y", Duplicate: DuplicateHarmless}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if len(after) != 4 {
		t.Fatalf("%d answered requests after the rate limit, want 4", len(after))
	}
	for _, a := range after {
		if d := a.Sub(first); d < 180*time.Millisecond {
			t.Errorf("a request went %s after the body-level rate limit", d)
		}
	}

	fast := NewPlatform("Test", Options{HTTP: srv.Client(), Retry: Retry{Attempts: 2, Base: time.Millisecond, Max: time.Millisecond}})
	res, err := fast.Call(context.Background(), APIRequest{Method: http.MethodPost, URL: srv.URL + "/always", Duplicate: DuplicateHarmless, RateLimited: limited})
	if err != nil || string(res.Body) != limitedAnswer || res.Attempts != 2 {
		t.Fatalf("every attempt rate limited: %+v, %v; want the last answer after 2 attempts", res, err)
	}
}
