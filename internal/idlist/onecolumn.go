package idlist

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
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

// CheckOneColumn is CheckContent with the rule that takes any device ID;
// it returns the number of lines.
func CheckOneColumn(r io.Reader, file string) (lines int64, err error) {
	s, err := CheckContent(r, file, IDRule{})
	return s.Lines, err
}

// CheckContent checks that text is a list of one device ID per line, as
// ad platforms such as Mintegral take it, and reports what it holds:
//   - one column: no line holds a comma, tab or semicolon (a second
//     column) or a quote (platforms read each line as is and do not
//     unquote CSV, and no device ID holds one); no line is empty;
//   - no personal data: a line that looks like an e-mail address, a web
//     address or a phone number, or holds what no device ID holds (words
//     and spaces, non-ASCII text, letters beyond f), is an ErrPersonalData;
//   - every ID is of rule's kind, else ErrDeviceType;
//   - the first line may be a header: a line without digits, or with
//     what no device ID holds (but never personal data for certain), that
//     is not of the rule's kind. A file whose only line is a header is
//     rejected.
//
// A byte order mark, CRLF line ends, blanks around IDs, IDs in another
// case than the rule's, and repeated IDs are returned as Findings: the
// platform takes them as they are. It reads through a fixed buffer
// whatever the size; memory grows only with the distinct IDs tracked for
// repeats, up to MaxTrackedIDs.
func CheckContent(r io.Reader, file string, rule IDRule) (ContentSummary, error) {
	c := newChecker(file, rule)
	defer c.releaseIDs()
	buf := make([]byte, 64<<10)
	var scanned int64
	for {
		n, rerr := r.Read(buf)
		scanned += int64(n)
		if scanned > MaxScannedBytes {
			return c.summary(), &Error{File: file, Problem: fmt.Sprintf("the content is larger than %d bytes once decompressed", int64(MaxScannedBytes)), Fix: "Split the audience into several files"}
		}
		if err := c.feed(buf[:n]); err != nil {
			return c.summary(), err
		}
		if errors.Is(rerr, io.EOF) {
			break
		}
		var ie *Error
		if errors.As(rerr, &ie) {
			return c.summary(), rerr
		}
		if rerr != nil {
			return c.summary(), fmt.Errorf("reading %s: %w", file, rerr)
		}
	}
	return c.finish()
}

// OneColumnCheck is CheckContent for content that arrives in writes, so
// a pass that reads a file for another reason (hashing it) checks it too.
// Write never fails: after a finding it only discards, and Close returns
// the result. Gzip content is inflated on a goroutine of its own.
type OneColumnCheck struct {
	plain   *oneColumnChecker
	scanned int64
	err     error // the first finding of the plain checker

	pipe   *io.PipeWriter // gzip: the inflating goroutine reads the other end
	result chan contentResult

	closed *contentResult // set by the first Close
}

type contentResult struct {
	summary ContentSummary
	err     error
}

// NewOneColumnCheck starts a check of file's content, gunzipped when gz,
// with the rule that takes any device ID.
func NewOneColumnCheck(file string, gz bool) *OneColumnCheck {
	return NewContentCheck(file, gz, IDRule{})
}

// NewContentCheck starts a check of file's content against rule,
// gunzipped when gz.
func NewContentCheck(file string, gz bool, rule IDRule) *OneColumnCheck {
	if !gz {
		return &OneColumnCheck{plain: newChecker(file, rule)}
	}
	pr, pw := io.Pipe()
	c := &OneColumnCheck{pipe: pw, result: make(chan contentResult, 1)}
	go func() {
		s, err := checkGzipContent(pr, file, rule)
		// Unblock and fail later writes once the answer is known.
		pr.CloseWithError(errCheckDone)
		c.result <- contentResult{s, err}
	}()
	return c
}

var errCheckDone = errors.New("one-column check finished")

func checkGzipStream(r io.Reader, file string) (int64, error) {
	s, err := checkGzipContent(r, file, IDRule{})
	return s.Lines, err
}

func checkGzipContent(r io.Reader, file string, rule IDRule) (ContentSummary, error) {
	zr, err := newGunzip(r, file)
	if err != nil {
		return ContentSummary{}, err
	}
	return CheckContent(zr, file, rule)
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

// SizeHint tells the check the size of the plain content to come (see
// filestate.SizeHinter), so that it sizes its set of IDs at once.
func (c *OneColumnCheck) SizeHint(size int64) {
	if c.plain != nil && c.plain.ids != nil {
		c.plain.ids.expect(size)
	}
}

// Close ends the content and returns the number of lines or the first
// finding. Closing again returns the same.
func (c *OneColumnCheck) Close() (lines int64, err error) {
	if c.closed == nil {
		var r contentResult
		switch {
		case c.pipe != nil:
			_ = c.pipe.Close()
			r = <-c.result
		case c.err != nil:
			r = contentResult{c.plain.summary(), c.err}
		default:
			r.summary, r.err = c.plain.finish()
		}
		if c.plain != nil {
			c.plain.releaseIDs()
		}
		c.closed = &r
	}
	return c.closed.summary.Lines, c.closed.err
}

// Summary is what the check found; valid after Close. After an error it
// covers the lines before the one that failed.
func (c *OneColumnCheck) Summary() ContentSummary {
	if c.closed == nil {
		return ContentSummary{}
	}
	return c.closed.summary
}

// Entries is the number of IDs in the content, a header excluded; valid
// after Close.
func (c *OneColumnCheck) Entries() int64 { return c.Summary().Entries }

// Findings are the irregular lines of the content; valid after Close.
func (c *OneColumnCheck) Findings() []Finding { return c.Summary().Findings }

type oneColumnChecker struct {
	file    string
	rule    IDRule
	line    int64  // current line, 1-based
	part    []byte // the current line so far, when it spans writes
	lastLen int    // length of the last line found by its line break
	header  bool
	entries int64
	found   findings
	ids     *idSet // nil once full
	// pending IDs wait in a batch for the set: the batch's slots are
	// read together, so their cache misses overlap.
	pending [32]pendingID
	waiting int
	touched uint64 // keeps the touches from being optimised away
}

type pendingID struct {
	hash        uint64
	line, entry int64
}

func newChecker(file string, rule IDRule) *oneColumnChecker {
	return &oneColumnChecker{file: file, rule: rule, line: 1, ids: newIDSet()}
}

func (c *oneColumnChecker) feed(b []byte) error {
	for len(b) > 0 {
		// The IDs of a list mostly have one length: try the previous
		// line's before searching for the line break. A line without
		// cOther bytes holds no line break ('\n' is one), and without
		// blanks or non-ASCII bytes it has no byte order mark, carriage
		// return or blank to trim: it is the ID itself.
		if k := c.lastLen; k < len(b) && b[k] == '\n' && len(c.part) == 0 && k > 0 {
			if mask := classOf(b[:k]); mask&(cOther|cSpace|cNonASCII) == 0 {
				if err := c.checkLine(b[:k], mask, false); err != nil {
					return err
				}
				b = b[k+1:]
				continue
			}
		}
		end := bytes.IndexByte(b, '\n')
		if end < 0 {
			if len(c.part)+len(b) > MaxIDLineBytes {
				return c.tooLong()
			}
			c.part = append(c.part, b...)
			return nil
		}
		line := b[:end]
		b = b[end+1:]
		if len(c.part)+len(line) > MaxIDLineBytes {
			return c.tooLong()
		}
		if len(c.part) > 0 {
			c.part = append(c.part, line...)
			line = c.part
		}
		if err := c.endLine(line); err != nil {
			return err
		}
		c.lastLen = len(line)
		c.part = c.part[:0]
	}
	return nil
}

func (c *oneColumnChecker) tooLong() error {
	return c.fail(fmt.Sprintf("the line is longer than %d bytes", MaxIDLineBytes), OneColumnFix)
}

// endLine checks one line, its line break removed.
func (c *oneColumnChecker) endLine(raw []byte) error {
	n := c.line
	if n == 1 && bytes.HasPrefix(raw, utf8BOM) {
		raw = raw[len(utf8BOM):]
		c.found.note(&c.found.bom, IrregularBOM, n)
	}
	if k := len(raw); k > 0 && raw[k-1] == '\r' {
		raw = raw[:k-1]
		c.found.note(&c.found.crlf, IrregularCRLF, n)
	}
	v := trimBlanks(raw)
	return c.checkLine(v, classOf(v), len(v) != len(raw))
}

// checkLine checks a line's ID v, whose bytes are of the classes in mask;
// blanks tells whether blanks were trimmed around it.
func (c *oneColumnChecker) checkLine(v []byte, mask uint16, blanks bool) error {
	n := c.line
	switch {
	case mask&cSep != 0:
		return c.columns(v)
	case mask&cQuote != 0:
		return c.fail("the line holds a quote; the platform reads each line as one device ID and does not remove CSV quotes", "Remove the quotes; audience_id_list writes values without them")
	case len(v) == 0:
		return c.fail("the line is empty", "Remove empty lines: every line holds one device ID")
	}
	if blanks {
		c.found.note(&c.found.blanks, IrregularBlanks, n)
	}
	// Most IDs hold hex digits and dashes only, with a letter: no
	// personal data, and no reason to be no device ID.
	plain := mask&^(cHex|cDash) == 0
	if !plain || mask&(cHexLower|cHexUpper) == 0 {
		if p := personalData(v, mask); p != "" {
			return c.personal(v, p)
		}
	}
	if n == 1 && maybeHeader(mask) {
		if ok, _ := shapeOK(c.rule.Kind, v, mask); !ok || c.rule.Kind == KindAny {
			c.header = true
			c.line++
			return nil
		}
	}
	if !plain {
		if p := notDeviceID(v, mask); p != "" {
			return c.personal(v, p)
		}
	}
	if c.rule.Kind != KindAny {
		if err := c.checkKind(v, mask); err != nil {
			return err
		}
	}
	if c.ids != nil {
		c.pending[c.waiting] = pendingID{c.ids.hash(v), n, c.entries}
		if c.waiting++; c.waiting == len(c.pending) {
			c.flushIDs()
		}
	}
	c.entries++
	c.line++
	return nil
}

// releaseIDs stops tracking IDs and lets another check have the set's
// memory.
func (c *oneColumnChecker) releaseIDs() {
	if c.ids != nil {
		c.ids.release()
		c.ids = nil
	}
}

// flushIDs adds the pending IDs to the set, noting repeats.
func (c *oneColumnChecker) flushIDs() {
	batch := c.pending[:c.waiting]
	c.waiting = 0
	if c.ids == nil {
		return
	}
	for _, p := range batch {
		c.touched += c.ids.touch(p.hash)
	}
	for _, p := range batch {
		switch seen, full := c.ids.addHash(p.hash); {
		case seen:
			c.found.note(&c.found.dupes, IrregularDuplicate, p.line)
		case full:
			c.found.dupes.Among = p.entry
			c.releaseIDs()
			return
		}
	}
}

// checkKind checks an ID against the rule's kind and notes its case.
func (c *oneColumnChecker) checkKind(v []byte, mask uint16) error {
	r := c.rule
	switch ok, zero := shapeOK(r.Kind, v, mask); {
	case zero:
		return c.failCause(fmt.Sprintf("the line is the all-zero %s that a device reports when its user limits ad tracking; it matches nobody", r.Name),
			"Leave such lines out: audience_id_list with invalid = \"skip\" and a format drops them", ErrDeviceType)
	case !ok:
		return c.failCause(fmt.Sprintf("the line is not %s: %s is %s, and %s (%q)", article(r.Name), article(r.Name), r.kindText(), resembles(v, mask), shorten(v)),
			"A file holds one type of device ID: check the type, or extract the IDs of this type with the audience_id_list data source", ErrDeviceType)
	}
	if r.Case == CaseUpper || r.Case == CaseLower {
		wrong := cHexLower
		if r.Case == CaseLower {
			wrong = cHexUpper
		}
		switch {
		case mask&wrong != 0:
			c.found.note(&c.found.wrongCase, IrregularCase, c.line)
			c.found.wrongCase.Case, c.found.wrongCase.Name = r.Case, r.Name
		case mask&(cHexLower|cHexUpper) != 0:
			c.found.rightCase++
		}
	}
	return nil
}

func trimBlanks(v []byte) []byte {
	for len(v) > 0 && (v[0] == ' ' || v[0] == '\r') {
		v = v[1:]
	}
	for len(v) > 0 && (v[len(v)-1] == ' ' || v[len(v)-1] == '\r') {
		v = v[:len(v)-1]
	}
	return v
}

func shorten(v []byte) string {
	const most = 80
	if len(v) > most {
		return string(v[:most]) + "…"
	}
	return string(v)
}

// columns explains a line holding a separator.
func (c *oneColumnChecker) columns(v []byte) error {
	var sep byte
	seps := 0
	for _, ch := range v {
		if lineClass[ch] != cSep {
			continue
		}
		if sep == 0 {
			sep = ch
		}
		if ch == sep {
			seps++
		}
	}
	return c.fail(fmt.Sprintf("the line has %d %s-separated columns, and the file must have a single column", seps+1, separatorName(sep)), OneColumnFix)
}

func (c *oneColumnChecker) personal(v []byte, problem string) error {
	return c.failCause(fmt.Sprintf("the line %s (%s); no personal data may reach an ad platform", problem, strconv.Quote(Mask(shorten(v)))), PersonalDataFix, ErrPersonalData)
}

// finish handles the last line when it has no line break.
func (c *oneColumnChecker) finish() (ContentSummary, error) {
	if len(c.part) > 0 {
		if err := c.endLine(c.part); err != nil {
			return c.summary(), err
		}
		c.part = nil
	}
	s := c.summary()
	switch {
	case s.Lines == 0:
		return s, &Error{File: c.file, Problem: "the content is empty", Fix: "An audience file needs at least one device ID"}
	case s.Entries == 0:
		return s, &Error{File: c.file, Problem: "the file holds a header row and no device ID", Fix: "An export that matched nobody must not be uploaded; check its filter"}
	}
	// Apple writes IDFAs and IDFVs in uppercase, Android writes GAIDs in
	// lowercase: a file whose every ID has the other case holds another
	// type of ID, or IDs someone rewrote.
	if wrong := c.found.wrongCase; c.rule.Kind == KindUUID && wrong.Count > 0 && c.found.rightCase == 0 {
		other, want := "lowercase", "upper"
		if c.rule.Case == CaseLower {
			other, want = "uppercase", "lower"
		}
		return s, &Error{File: c.file, Cause: ErrDeviceType,
			Problem: fmt.Sprintf("every ID with letters (%d, from line %d) is in %s, and %ss are written in %s: the file seems to hold another type of device ID", wrong.Count, wrong.Lines[0], other, c.rule.Name, caseName(c.rule.Case)),
			Fix:     fmt.Sprintf("Check the device type; if these are %ss written in %s, rewrite them with the audience_id_list data source and case = %q", c.rule.Name, other, want)}
	}
	return s, nil
}

func (c *oneColumnChecker) summary() ContentSummary {
	c.flushIDs()
	lines := c.line - 1
	if lines < 0 {
		lines = 0
	}
	return ContentSummary{Lines: lines, Entries: c.entries, Header: c.header, Findings: c.found.list()}
}

func (c *oneColumnChecker) fail(problem, fix string) error {
	return &Error{File: c.file, Line: c.line, Problem: problem, Fix: fix}
}

func (c *oneColumnChecker) failCause(problem, fix string, cause error) error {
	return &Error{File: c.file, Line: c.line, Problem: problem, Fix: fix, Cause: cause}
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
