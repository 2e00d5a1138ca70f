package transfer

import (
	"context"
	"fmt"
	"io"
	"maps"
	"strconv"
	"sync"
	"time"
)

// Progress counts bytes moved and logs bytes, rate and ETA at INFO, at most
// once per interval and once at the end, so TF_LOG=INFO shows a progress bar.
// It is safe for concurrent use (parallel multipart parts share one).
type Progress struct {
	ctx      context.Context
	log      Logger
	label    string
	total    int64
	interval time.Duration
	now      func() time.Time

	mu      sync.Mutex
	done    int64
	started time.Time
	lastLog time.Time
}

// NewProgress starts tracking a transfer of total bytes.
func NewProgress(ctx context.Context, log Logger, label string, total int64) *Progress {
	now := time.Now()
	return &Progress{ctx: ctx, log: OrNop(log), label: label, total: total, interval: 2 * time.Second, now: time.Now, started: now, lastLog: now}
}

// Add records n more bytes.
func (p *Progress) Add(n int64) {
	p.mu.Lock()
	p.done += n
	now := p.now()
	due := now.Sub(p.lastLog) >= p.interval
	var fields map[string]any
	if due {
		// Built only when logged: Add runs on every read.
		p.lastLog = now
		fields = p.fieldsLocked(now)
	}
	p.mu.Unlock()
	if due {
		p.log.Info(p.ctx, p.label+" in progress", fields)
	}
}

// Rewind takes back n bytes (a retried part or attempt).
func (p *Progress) Rewind(n int64) {
	p.mu.Lock()
	p.done -= n
	p.mu.Unlock()
}

// Finish logs the final summary.
func (p *Progress) Finish() {
	p.mu.Lock()
	fields := p.fieldsLocked(p.now())
	p.mu.Unlock()
	p.log.Info(p.ctx, p.label+" finished", fields)
}

// fieldsLocked describes the transfer for people ("385.0 MiB of 407.0
// MiB", rate, ETA, percent) and for tools (exact byte counts). The counts
// are decimal strings: the log pipeline turns numbers into floats, which
// would print as 4.03439616e+08.
func (p *Progress) fieldsLocked(now time.Time) map[string]any {
	elapsed := now.Sub(p.started).Seconds()
	rate := 0.0
	if elapsed > 0 {
		rate = float64(p.done) / elapsed
	}
	f := map[string]any{
		"progress":   HumanBytes(p.done),
		"bytes_done": strconv.FormatInt(p.done, 10),
		"rate":       HumanBytes(int64(rate)) + "/s",
		"elapsed":    time.Duration(elapsed * float64(time.Second)).Round(time.Second).String(),
	}
	if p.total >= 0 {
		f["progress"] = HumanBytes(p.done) + " of " + HumanBytes(p.total)
		f["bytes_total"] = strconv.FormatInt(p.total, 10)
	}
	if p.total > 0 {
		f["percent"] = fmt.Sprintf("%.1f%%", 100*float64(p.done)/float64(p.total))
		if rate > 0 && p.done < p.total {
			f["eta"] = time.Duration(float64(p.total-p.done) / rate * float64(time.Second)).Round(time.Second).String()
		}
	}
	return f
}

// LogBytes renders a byte count for a log field, exact and, when large,
// readable too: "2220000 (2.1 MiB)". A count in a log field is a string,
// never a number: a log pipeline that carries fields as JSON (Terraform's
// does) turns numbers into floats and prints 2220000 as 2.22e+06.
func LogBytes(n int64) string {
	if n < 1024 {
		return strconv.FormatInt(n, 10)
	}
	return strconv.FormatInt(n, 10) + " (" + HumanBytes(n) + ")"
}

// LogFields returns fields with every integer value replaced by its exact
// decimal string, for the reason LogBytes gives; fields itself is not
// changed. Other values are kept.
func LogFields(fields map[string]any) map[string]any {
	out, copied := fields, false
	for k, v := range fields {
		var s string
		switch n := v.(type) {
		case int:
			s = strconv.Itoa(n)
		case int32:
			s = strconv.FormatInt(int64(n), 10)
		case int64:
			s = strconv.FormatInt(n, 10)
		case uint32:
			s = strconv.FormatUint(uint64(n), 10)
		case uint64:
			s = strconv.FormatUint(n, 10)
		default:
			continue
		}
		if !copied {
			out, copied = maps.Clone(fields), true
		}
		out[k] = s
	}
	return out
}

// HumanBytes renders a byte count with a binary unit.
func HumanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// countingReader reports every read to a Progress.
type countingReader struct {
	r io.Reader
	p *Progress
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	if n > 0 && c.p != nil {
		c.p.Add(int64(n))
	}
	return n, err
}
