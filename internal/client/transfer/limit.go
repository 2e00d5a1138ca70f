package transfer

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Rate is N requests per Per. The zero Rate is no limit.
type Rate struct {
	N   int
	Per time.Duration
}

// IsZero reports whether r sets no limit.
func (r Rate) IsZero() bool { return r.N <= 0 || r.Per <= 0 }

func (r Rate) String() string {
	if r.IsZero() {
		return "off"
	}
	switch r.Per {
	case time.Second:
		return fmt.Sprintf("%d/s", r.N)
	case time.Minute:
		return fmt.Sprintf("%d/m", r.N)
	case time.Hour:
		return fmt.Sprintf("%d/h", r.N)
	}
	return fmt.Sprintf("%d/%s", r.N, r.Per)
}

// Limits is a platform's API request budget, by class of request. Storage
// transfers (presigned URLs) are not counted: they go to another service.
type Limits struct {
	Read  Rate // GET and HEAD
	Write Rate // every other method
	// Segments give requests whose URL path has a segment of that name
	// (e.g. "auth" for /auth and /auth/refresh_token) a budget of their
	// own, counted instead of Read or Write.
	Segments map[string]Rate
}

// Classes names what a rate specification can set: read, write and the
// segments.
func (l Limits) Classes() []string {
	out := []string{"read", "write"}
	for s := range l.Segments {
		out = append(out, s)
	}
	slices.Sort(out[2:])
	return out
}

// String renders l in the form ParseRateSpec reads, for logs.
func (l Limits) String() string {
	parts := []string{"read=" + l.Read.String(), "write=" + l.Write.String()}
	for _, c := range l.Classes()[2:] {
		parts = append(parts, c+"="+l.Segments[c].String())
	}
	return strings.Join(parts, ",")
}

// RateSpec is a parsed rate specification: "platform" (read and write) or
// "platform.class" mapped to a rate; a zero Rate turns the limit off.
type RateSpec map[string]Rate

// ParseRateSpec reads a specification such as
// "mintegral=20/s,futuredemand.write=120/m,tpns=off": comma-separated
// name=N/unit entries, unit s, m or h.
func ParseRateSpec(s string) (RateSpec, error) {
	out := RateSpec{}
	for _, entry := range strings.Split(s, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		name, value, ok := strings.Cut(entry, "=")
		name, value = strings.ToLower(strings.TrimSpace(name)), strings.TrimSpace(value)
		if !ok || name == "" {
			return nil, fmt.Errorf("entry %q: want name=N/unit, e.g. mintegral=20/s", entry)
		}
		if value == "off" {
			out[name] = Rate{}
			continue
		}
		n, unit, ok := strings.Cut(value, "/")
		count, err := strconv.Atoi(n)
		per, known := map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour}[unit]
		if !ok || err != nil || count <= 0 || !known {
			return nil, fmt.Errorf("entry %q: the rate must be a positive number of requests per s, m or h (e.g. 20/s, 600/m), or off", entry)
		}
		out[name] = Rate{N: count, Per: per}
	}
	return out, nil
}

// Check reports entries that name no platform in known (platform name to
// its default limits) or a class it does not have.
func (s RateSpec) Check(known map[string]Limits) error {
	for key := range s {
		platform, class, _ := strings.Cut(key, ".")
		l, ok := known[platform]
		switch {
		case !ok:
			names := make([]string, 0, len(known))
			for n := range known {
				names = append(names, n)
			}
			slices.Sort(names)
			return fmt.Errorf("%q names no platform (use one of %s)", key, strings.Join(names, ", "))
		case class != "" && !slices.Contains(l.Classes(), class):
			return fmt.Errorf("%q: %s has no class %q (use one of %s)", key, platform, class, strings.Join(l.Classes(), ", "))
		}
	}
	return nil
}

// For returns l with the entries of s for platform applied: "platform"
// sets read and write, "platform.class" one class.
func (l Limits) For(platform string, s RateSpec) Limits {
	out := Limits{Read: l.Read, Write: l.Write, Segments: map[string]Rate{}}
	for k, v := range l.Segments {
		out.Segments[k] = v
	}
	if r, ok := s[platform]; ok {
		out.Read, out.Write = r, r
	}
	for key, r := range s {
		p, class, ok := strings.Cut(key, ".")
		if !ok || p != platform {
			continue
		}
		switch class {
		case "read":
			out.Read = r
		case "write":
			out.Write = r
		default:
			if _, known := out.Segments[class]; known {
				out.Segments[class] = r
			}
		}
	}
	return out
}

// Limiter spends one platform account's request budget: every client of
// that account in the process waits on it before each API attempt, and a
// 429 pauses all of them.
type Limiter struct {
	mu       sync.Mutex
	now      func() time.Time
	read     *bucket
	write    *bucket
	segments map[string]*bucket
	paused   time.Time // no request starts before this
}

// bucket is a token bucket kept as the theoretical arrival time of the
// next request (GCRA): one request per interval, up to burst at once.
type bucket struct {
	interval time.Duration
	slack    time.Duration // (burst-1) intervals
	next     time.Time
}

func newBucket(r Rate) *bucket {
	if r.IsZero() {
		return nil
	}
	interval := r.Per / time.Duration(r.N)
	// A burst of one second's worth (at least 1, at most N): a per-minute
	// budget is not spent in its first second.
	burst := max(1, min(r.N, int(time.Second/interval)))
	return &bucket{interval: interval, slack: time.Duration(burst-1) * interval}
}

// reserve takes the next slot at or after t and returns when it starts.
func (b *bucket) reserve(t time.Time) time.Time {
	if b.next.Before(t) {
		b.next = t
	}
	at := b.next.Add(-b.slack)
	if at.Before(t) {
		at = t
	}
	b.next = b.next.Add(b.interval)
	return at
}

// NewLimiter returns a limiter spending l; now is its clock (nil: time.Now).
func NewLimiter(l Limits, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	lim := &Limiter{now: now, read: newBucket(l.Read), write: newBucket(l.Write), segments: map[string]*bucket{}}
	for s, r := range l.Segments {
		if b := newBucket(r); b != nil {
			lim.segments[s] = b
		}
	}
	return lim
}

var (
	sharedMu       sync.Mutex
	sharedLimiters = map[string]*Limiter{}
)

// SharedLimiter returns the process's limiter for account (a platform and
// whose budget it is, e.g. its endpoint and partner), so all resources of
// a run share it. Other limits for the same account get a new limiter.
func SharedLimiter(account string, l Limits) *Limiter {
	key := account + "\x00" + l.String()
	sharedMu.Lock()
	defer sharedMu.Unlock()
	lim, ok := sharedLimiters[key]
	if !ok {
		lim = NewLimiter(l, nil)
		sharedLimiters[key] = lim
	}
	return lim
}

func (l *Limiter) bucket(method, path string) *bucket {
	for _, seg := range strings.Split(path, "/") {
		if b, ok := l.segments[seg]; ok {
			return b
		}
	}
	if method == http.MethodGet || method == http.MethodHead {
		return l.read
	}
	return l.write
}

// Wait blocks until a request of method to path may start, or ctx ends.
func (l *Limiter) Wait(ctx context.Context, method, path string) error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	start := l.now()
	if start.Before(l.paused) {
		start = l.paused
	}
	if b := l.bucket(method, path); b != nil {
		start = b.reserve(start)
	}
	l.mu.Unlock()
	for {
		if d := start.Sub(l.now()); d > 0 {
			if err := Sleep(ctx, d); err != nil {
				return err
			}
		}
		// A 429 seen while this request waited pauses it too.
		l.mu.Lock()
		paused := l.paused
		l.mu.Unlock()
		if !l.now().Before(paused) {
			return nil
		}
		start = paused
	}
}

// Pause holds back every request of the platform for d (a 429's
// Retry-After, or the retry backoff when it has none).
func (l *Limiter) Pause(d time.Duration) {
	if l == nil || d <= 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if until := l.now().Add(d); until.After(l.paused) {
		l.paused = until
	}
}
