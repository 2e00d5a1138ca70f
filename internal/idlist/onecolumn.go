package idlist

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
)

// Limits of CheckOneColumn. No device ID or digest comes near
// MaxIDLineBytes; MaxScannedBytes bounds the time a crafted .gz (a few MB
// that inflate to terabytes) can cost a plan.
const (
	MaxIDLineBytes  = 1024
	MaxScannedBytes = 50 << 30
)

// OneColumnFix points at the data source that makes a one-column file.
const OneColumnFix = "Upload one device ID per line: extract a single column with the audience_id_list data source"

// CheckOneColumnFile checks a file with CheckOneColumn, gunzipping it when
// gz is true.
func CheckOneColumnFile(path string, gz bool) (lines int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	c := NewOneColumnCheck(path, gz)
	buf := make([]byte, 64<<10)
	if _, err := io.CopyBuffer(c, struct{ io.Reader }{f}, buf); err != nil {
		_, _ = c.Close()
		return 0, fmt.Errorf("reading %s: %w", path, err)
	}
	return c.Close()
}

// CheckOneColumn checks that text is a list of one value per line, as ad
// platforms such as Mintegral take it: no line holds a comma, tab or
// semicolon (a second column) or a quote (platforms read each line as is
// and do not unquote CSV, and no device ID holds one), no line is empty,
// and the first line may be a header. A file whose only line holds no
// digit is a header without IDs, and is rejected too. It reads through a
// fixed buffer whatever the size and returns the number of lines.
func CheckOneColumn(r io.Reader, file string) (lines int64, err error) {
	c := oneColumnChecker{file: file, line: 1}
	buf := make([]byte, 64<<10)
	var scanned int64
	for {
		n, rerr := r.Read(buf)
		scanned += int64(n)
		if scanned > MaxScannedBytes {
			return c.line, &Error{File: file, Problem: fmt.Sprintf("the content is larger than %d bytes once decompressed", int64(MaxScannedBytes)), Fix: "Split the audience into several files"}
		}
		if err := c.feed(buf[:n]); err != nil {
			return c.line, err
		}
		if errors.Is(rerr, io.EOF) {
			break
		}
		var ie *Error
		if errors.As(rerr, &ie) {
			return c.line, rerr
		}
		if rerr != nil {
			return c.line, fmt.Errorf("reading %s: %w", file, rerr)
		}
	}
	return c.finish()
}

// OneColumnCheck is CheckOneColumn for content that arrives in writes, so
// a pass that reads a file for another reason (hashing it) checks it too.
// Write never fails: after a finding it only discards, and Close returns
// the result. Gzip content is inflated on a goroutine of its own.
type OneColumnCheck struct {
	plain   *oneColumnChecker
	scanned int64
	err     error // the first finding of the plain checker

	pipe   *io.PipeWriter // gzip: the inflating goroutine reads the other end
	result chan oneColumnResult

	closed *oneColumnResult // set by the first Close
}

type oneColumnResult struct {
	lines int64
	err   error
}

// NewOneColumnCheck starts a check of file's content, gunzipped when gz.
func NewOneColumnCheck(file string, gz bool) *OneColumnCheck {
	if !gz {
		return &OneColumnCheck{plain: &oneColumnChecker{file: file, line: 1}}
	}
	pr, pw := io.Pipe()
	c := &OneColumnCheck{pipe: pw, result: make(chan oneColumnResult, 1)}
	go func() {
		lines, err := checkGzipStream(pr, file)
		// Unblock and fail later writes once the answer is known.
		pr.CloseWithError(errCheckDone)
		c.result <- oneColumnResult{lines, err}
	}()
	return c
}

var errCheckDone = errors.New("one-column check finished")

func checkGzipStream(r io.Reader, file string) (int64, error) {
	zr, err := newGunzip(r, file)
	if err != nil {
		return 0, err
	}
	return CheckOneColumn(zr, file)
}

// Write implements io.Writer.
func (c *OneColumnCheck) Write(p []byte) (int, error) {
	if c.pipe != nil {
		// An error means the check already has its answer.
		_, _ = c.pipe.Write(p)
		return len(p), nil
	}
	if c.err == nil {
		c.feed(p)
	}
	return len(p), nil
}

// feed checks a piece of plain content, keeping the first finding.
func (c *OneColumnCheck) feed(p []byte) {
	c.scanned += int64(len(p))
	if c.scanned > MaxScannedBytes {
		c.err = &Error{File: c.plain.file, Problem: fmt.Sprintf("the content is larger than %d bytes", int64(MaxScannedBytes)), Fix: "Split the audience into several files"}
	} else {
		c.err = c.plain.feed(p)
	}
}

// Close ends the content and returns the number of lines or the first
// finding. Closing again returns the same.
func (c *OneColumnCheck) Close() (lines int64, err error) {
	if c.closed != nil {
		return c.closed.lines, c.closed.err
	}
	var r oneColumnResult
	switch {
	case c.pipe != nil:
		_ = c.pipe.Close()
		r = <-c.result
	case c.err != nil:
		r = oneColumnResult{c.plain.line, c.err}
	default:
		r.lines, r.err = c.plain.finish()
	}
	c.closed = &r
	return r.lines, r.err
}

type oneColumnChecker struct {
	file    string
	line    int64 // current line, 1-based
	length  int   // bytes of the current line so far
	content bool  // the current line has a non-blank byte
	digits  bool  // the current line has a digit
	sep     byte  // first separator seen on the current line, 0 if none
	seps    int   // how many of sep the current line holds
	quote   bool
	first   bool // the first line had no digit
}

func (c *oneColumnChecker) feed(b []byte) error {
	for len(b) > 0 {
		seg := b
		end := bytes.IndexByte(b, '\n')
		if end >= 0 {
			seg = b[:end]
			b = b[end+1:]
		} else {
			b = nil
		}
		c.scan(seg)
		if c.length > MaxIDLineBytes {
			return c.fail(fmt.Sprintf("the line is longer than %d bytes", MaxIDLineBytes), OneColumnFix)
		}
		if end >= 0 {
			if err := c.endLine(); err != nil {
				return err
			}
		}
	}
	return nil
}

// Byte classes for the fast path of scan: most lines are a plain device ID,
// and only a line holding a separator or a quote needs a closer look.
const (
	classNonBlank = 1 << iota
	classDigit
	classSpecial // a column separator or a quote
)

var byteClass = func() (t [256]uint8) {
	for i := range t {
		t[i] = classNonBlank
	}
	t[' '], t['\r'] = 0, 0
	for ch := '0'; ch <= '9'; ch++ {
		t[ch] |= classDigit
	}
	for _, ch := range []byte{',', '\t', ';', '"'} {
		t[ch] |= classSpecial
	}
	return t
}()

// scan records what a piece of the current line holds.
func (c *oneColumnChecker) scan(seg []byte) {
	c.length += len(seg)
	if c.line == 1 && c.length == len(seg) {
		seg = bytes.TrimPrefix(seg, utf8BOM)
	}
	var seen uint8
	for _, ch := range seg {
		seen |= byteClass[ch]
	}
	if seen&classSpecial == 0 {
		c.content = c.content || seen&classNonBlank != 0
		c.digits = c.digits || seen&classDigit != 0
		return
	}
	for _, ch := range seg {
		switch ch {
		case ' ', '\r':
		case ',', '\t', ';':
			if c.sep == 0 {
				c.sep = ch
			}
			if ch == c.sep {
				c.seps++
			}
			c.content = true
		case '"':
			c.quote = true
			c.content = true
		default:
			c.content = true
			if '0' <= ch && ch <= '9' {
				c.digits = true
			}
		}
	}
}

func (c *oneColumnChecker) endLine() error {
	switch {
	case c.sep != 0:
		return c.fail(fmt.Sprintf("the line has %d %s-separated columns, and the file must have a single column", c.seps+1, separatorName(c.sep)), OneColumnFix)
	case c.quote:
		return c.fail("the line holds a quote; the platform reads each line as one device ID and does not remove CSV quotes", "Remove the quotes; audience_id_list writes values without them")
	case !c.content:
		return c.fail("the line is empty", "Remove empty lines: every line holds one device ID")
	}
	if c.line == 1 {
		c.first = !c.digits
	}
	c.line++
	c.length, c.content, c.digits, c.sep, c.seps, c.quote = 0, false, false, 0, 0, false
	return nil
}

// finish handles the last line when it has no line break.
func (c *oneColumnChecker) finish() (int64, error) {
	if c.length > 0 {
		if err := c.endLine(); err != nil {
			return c.line, err
		}
	}
	lines := c.line - 1
	switch {
	case lines == 0:
		return 0, &Error{File: c.file, Problem: "the content is empty", Fix: "An audience file needs at least one device ID"}
	case lines == 1 && c.first:
		return 1, &Error{File: c.file, Problem: "the file holds a header row and no device ID", Fix: "An export that matched nobody must not be uploaded; check its filter"}
	}
	return lines, nil
}

func (c *oneColumnChecker) fail(problem, fix string) error {
	return &Error{File: c.file, Line: c.line, Problem: problem, Fix: fix}
}

func separatorName(sep byte) string {
	switch sep {
	case '\t':
		return "tab"
	case ';':
		return "semicolon"
	}
	return "comma"
}
