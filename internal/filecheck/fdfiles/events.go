package fdfiles

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxEventsLineBytes bounds one physical line of an events file, so a
// crafted file cannot make the checker buffer without limit. No event row
// comes near it.
const MaxEventsLineBytes = 1 << 20

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// CheckEvents checks an events file for Future Demand's bulk upload as it
// streams by: UTF-8 (a leading byte order mark allowed), comma-separated
// values with a header row naming the columns, every row with as many
// fields as the header, and at least one event. It returns how many event
// rows the file holds. Errors name the line and column.
func CheckEvents(r io.Reader, file string) (int64, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if head, _ := br.Peek(len(utf8BOM)); string(head) == string(utf8BOM) {
		_, _ = br.Discard(len(utf8BOM))
	}
	text := &textCheck{file: file, line: 1}
	cr := csv.NewReader(newHoldReader(br, text.scan))
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return 0, &Error{File: file, Rule: RuleEventsHeader, Problem: "the file holds no rows", Fix: "Start the file with a header row such as title,start_date_time,city,venue and one event per row"}
	}
	if err != nil {
		return 0, csvError(file, err, nil, 0)
	}
	if err := checkHeader(file, header, cr); err != nil {
		return 0, err
	}
	width := len(header)
	var rows int64
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return rows, csvError(file, err, rec, width)
		}
		rows++
	}
	if rows == 0 {
		return 0, &Error{File: file, Line: 1, Rule: RuleEventsNoRows, Problem: "the file has a header row and no events after it", Fix: "Add one row per event below the header"}
	}
	return rows, nil
}

// checkHeader refuses a first row that cannot name columns: an empty or
// repeated name, a value that reads as data (a number or a date), or a
// single column that holds another separator.
func checkHeader(file string, header []string, cr *csv.Reader) error {
	seen := make(map[string]int, len(header))
	for i, raw := range header {
		name := strings.TrimSpace(raw)
		line, col := cr.FieldPos(i)
		at := func(problem, fix string) error {
			return &Error{File: file, Line: int64(line), Column: col, Rule: RuleEventsHeader, Problem: problem, Fix: fix}
		}
		switch {
		case name == "":
			return at(fmt.Sprintf("column %d of the header row has no name", i+1), "Name every column in the first row, e.g. title,start_date_time,city,venue")
		case looksLikeData(name):
			return at(fmt.Sprintf("the first row holds %q in column %d, a value rather than a column name: the header row is missing", name, i+1), "Add a header row naming the columns, e.g. title,start_date_time,city,venue")
		}
		key := strings.ToLower(name)
		if prev, ok := seen[key]; ok {
			return at(fmt.Sprintf("columns %d and %d of the header row are both named %q", prev+1, i+1, name), "Give every column a distinct name")
		}
		seen[key] = i
	}
	if len(header) == 1 {
		for _, sep := range []string{";", "\t", "|"} {
			if strings.Contains(header[0], sep) {
				return &Error{File: file, Line: 1, Rule: RuleEventsCSV, Problem: fmt.Sprintf("the header row is one column holding %q: the file looks separated by %s, not by commas", header[0], separatorName(sep)),
					Fix: "Export it as \"CSV UTF-8 (comma delimited)\""}
			}
		}
	}
	return nil
}

func separatorName(sep string) string {
	switch sep {
	case ";":
		return "semicolons"
	case "\t":
		return "tabs"
	}
	return "vertical bars"
}

// looksLikeData reports values no column is named: numbers and dates.
func looksLikeData(s string) bool {
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return true
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02 15:04:05", time.DateOnly, "02.01.2006", "01/02/2006"} {
		if _, err := time.Parse(layout, s); err == nil {
			return true
		}
	}
	return false
}

// csvError turns a reader error into a located rule error.
func csvError(file string, err error, rec []string, width int) error {
	var located *Error
	if errors.As(err, &located) {
		return located
	}
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return err
	}
	e := &Error{File: file, Line: int64(pe.Line), Column: pe.Column, Rule: RuleEventsCSV}
	switch {
	case errors.Is(pe.Err, csv.ErrFieldCount):
		e.Line, e.Column = int64(pe.StartLine), 0
		e.Problem = fmt.Sprintf("the row has %d fields; the header row has %d", len(rec), width)
		e.Fix = "Give every row a value (possibly empty) for each column; quote values that contain a comma"
	case errors.Is(pe.Err, csv.ErrBareQuote), errors.Is(pe.Err, csv.ErrQuote):
		e.Problem = pe.Err.Error()
		e.Fix = "Quote a value that contains a quote, a comma or a line break, and double the quotes inside it (\"say \"\"hi\"\"\")"
	default:
		e.Problem = pe.Err.Error()
	}
	return e
}

// textCheck checks the text of a file as a holdReader passes it on: that
// it is UTF-8 and that no line is longer than MaxEventsLineBytes, counting
// lines and columns so a problem is reported where it is. It accepts only
// whole, valid characters, and the bytes before a problem before the
// problem itself, so what the CSV reader sees, and which error comes
// first, does not depend on how the file's reads are cut.
type textCheck struct {
	file string
	line int64
	col  int // bytes of the current line accepted so far
}

// scan returns how many bytes of b are whole, valid characters on lines
// within the limit, and the problem found after them, if any. Bytes of a
// character cut by the end of b are left for the next read, unless the
// file ends there. Those bytes are not counted: the next call sees them
// again, completed.
func (t *textCheck) scan(b []byte, atEOF bool) (int, error) {
	i := 0
	for i < len(b) {
		c := b[i]
		if c == '\n' {
			t.line, t.col = t.line+1, 0
			i++
			continue
		}
		size := 1
		if c >= utf8.RuneSelf {
			if !utf8.FullRune(b[i:]) {
				if atEOF {
					return i, t.invalid()
				}
				return i, nil
			}
			r, n := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && n <= 1 {
				return i, t.invalid()
			}
			size = n
		}
		if t.col+size > MaxEventsLineBytes {
			return i, &Error{File: t.file, Line: t.line, Rule: RuleEventsLine, Problem: fmt.Sprintf("the line is longer than %d bytes", MaxEventsLineBytes), Fix: "Check that the file is an events CSV with one event per line"}
		}
		t.col += size
		i += size
	}
	return i, nil
}

// invalid reports a byte that does not start a UTF-8 character, at the
// current position.
func (t *textCheck) invalid() error {
	return &Error{File: t.file, Line: t.line, Column: t.col + 1, Rule: RuleEventsUTF8, Problem: "the bytes here are not UTF-8 (the file was saved in another encoding, such as Windows-1252 or Latin-1)",
		Fix: "Save it as \"CSV UTF-8 (comma delimited)\", or convert it, e.g. iconv -f WINDOWS-1252 -t UTF-8"}
}
