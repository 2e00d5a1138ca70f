package idlist

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// Limits of the reader: they bound memory whatever the input. A CRM row is
// far below MaxRecordBytes; a file without line breaks is not a CSV.
const (
	MaxRecordBytes = 1 << 20
	readBufferSize = 256 << 10
)

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// separators a row may use, in order of preference when a header holds
// several of them.
var separators = []byte{',', '\t', ';'}

// SyntaxError is a row that is not valid RFC 4180 CSV.
type SyntaxError struct {
	Line    int64 // 1-based line where the problem is
	Problem string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Problem) }

// Reader reads CSV records (RFC 4180: quoted fields may hold separators,
// doubled quotes and line breaks) one at a time, through buffers of
// bounded size. The separator is detected on the first record (all its
// lines when a quoted value holds line breaks): a comma, else a tab, else a
// semicolon; a first record with none of them is a single column. A UTF-8
// byte order mark before the first row is dropped.
type Reader struct {
	br       *bufio.Reader
	sep      byte
	detected bool
	ahead    []byte // lines of the first record, read to find its separator and served before br
	line     int64  // lines consumed so far
	long     []byte // a line longer than the bufio buffer, assembled
	rec      []byte // field contents of the current record, unquoted
	ends     []int  // end offset in rec of each field
	fields   [][]byte
}

// NewReader returns a Reader over r.
func NewReader(r io.Reader) *Reader {
	return &Reader{br: bufio.NewReaderSize(r, readBufferSize)}
}

// Separator is the separator in use (valid after the first Read).
func (r *Reader) Separator() byte { return r.sep }

// Read returns the fields of the next record and the line it starts on.
// The slices are valid until the next call. It returns io.EOF after the
// last record. An empty line is a record with one empty field.
func (r *Reader) Read() (fields [][]byte, line int64, err error) {
	if !r.detected {
		if err := r.readAhead(); err != nil {
			return nil, 0, err
		}
	}
	text, term, err := r.readLine()
	if err != nil {
		return nil, 0, err
	}
	start := r.line
	r.rec, r.ends = r.rec[:0], r.ends[:0]
	pos := 0
	for {
		if pos < len(text) && text[pos] == '"' {
			// Quoted field: runs to the closing quote, over line breaks.
			fieldLine := r.line
			pos++
			for {
				i := bytes.IndexByte(text[pos:], '"')
				if i < 0 {
					r.rec = append(r.rec, text[pos:]...)
					r.rec = append(r.rec, term...)
					if len(r.rec) > MaxRecordBytes {
						return nil, start, &SyntaxError{Line: start, Problem: fmt.Sprintf("the row is longer than %d bytes (a quoted value opened on line %d may not be closed)", MaxRecordBytes, fieldLine)}
					}
					text, term, err = r.readLine()
					if errors.Is(err, io.EOF) {
						return nil, start, &SyntaxError{Line: fieldLine, Problem: "a quoted value is not closed before the end of the file"}
					}
					if err != nil {
						return nil, start, err
					}
					pos = 0
					continue
				}
				r.rec = append(r.rec, text[pos:pos+i]...)
				pos += i + 1
				if pos < len(text) && text[pos] == '"' {
					r.rec = append(r.rec, '"')
					pos++
					continue
				}
				break
			}
			r.ends = append(r.ends, len(r.rec))
			if pos == len(text) {
				break
			}
			if text[pos] != r.sep {
				return nil, start, &SyntaxError{Line: r.line, Problem: fmt.Sprintf("column %d has text after its closing quote (a quote inside a quoted value must be doubled: \"\")", len(r.ends))}
			}
			pos++
			continue
		}
		field := text[pos:]
		next := bytes.IndexByte(field, r.sep)
		if next >= 0 {
			field = field[:next]
		}
		if bytes.IndexByte(field, '"') >= 0 {
			return nil, start, &SyntaxError{Line: r.line, Problem: fmt.Sprintf("column %d has a quote inside an unquoted value (quote the whole value and double the quote: \"a\"\"b\")", len(r.ends)+1)}
		}
		r.rec = append(r.rec, field...)
		r.ends = append(r.ends, len(r.rec))
		if next < 0 {
			break
		}
		pos += next + 1
	}
	if len(r.rec) > MaxRecordBytes {
		return nil, start, &SyntaxError{Line: start, Problem: fmt.Sprintf("the row is longer than %d bytes", MaxRecordBytes)}
	}
	r.fields = r.fields[:0]
	prev := 0
	for _, end := range r.ends {
		r.fields = append(r.fields, r.rec[prev:end])
		prev = end
	}
	return r.fields, start, nil
}

// readAhead reads the lines of the first record, up to the row limit, and
// detects the separator on them: a quoted value of the first record may
// hold line breaks, and the separators after it are on a later line.
func (r *Reader) readAhead() error {
	r.detected = true
	quoted := false
	for n := int64(1); len(r.ahead) <= MaxRecordBytes; n++ {
		b, err := r.nextLine(n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		r.ahead = append(r.ahead, b...)
		if bytes.Count(b, []byte{'"'})%2 == 1 {
			quoted = !quoted
		}
		if !quoted {
			break
		}
	}
	r.sep = detectSeparator(r.ahead)
	return nil
}

// readLine returns the next line without its terminator, and the
// terminator ("\n", "\r\n" or "" at the end of the file).
func (r *Reader) readLine() (text, term []byte, err error) {
	var b []byte
	if len(r.ahead) > 0 {
		n := bytes.IndexByte(r.ahead, '\n') + 1
		if n == 0 {
			n = len(r.ahead)
		}
		b, r.ahead = r.ahead[:n], r.ahead[n:]
	} else if b, err = r.nextLine(r.line + 1); err != nil {
		return nil, nil, err
	}
	r.line++
	if r.line == 1 {
		b = bytes.TrimPrefix(b, utf8BOM)
	}
	switch {
	case bytes.HasSuffix(b, []byte("\r\n")):
		return b[:len(b)-2], b[len(b)-2:], nil
	case bytes.HasSuffix(b, []byte("\n")):
		return b[:len(b)-1], b[len(b)-1:], nil
	}
	return b, nil, nil
}

// nextLine reads line number n of the input with its terminator, or
// returns io.EOF at the end. The slice is valid until the next call.
func (r *Reader) nextLine(n int64) ([]byte, error) {
	b, err := r.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		r.long = append(r.long[:0], b...)
		for errors.Is(err, bufio.ErrBufferFull) {
			if len(r.long) > MaxRecordBytes {
				return nil, &SyntaxError{Line: n, Problem: fmt.Sprintf("the line is longer than %d bytes; is this a text file with one row per line?", MaxRecordBytes)}
			}
			b, err = r.br.ReadSlice('\n')
			r.long = append(r.long, b...)
		}
		b = r.long
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if len(b) == 0 {
		return nil, io.EOF
	}
	return b, nil
}

// detectSeparator picks the first of separators that occurs outside
// quotes in a record; a record without any is one column (comma).
func detectSeparator(record []byte) byte {
	var seen [256]bool
	quoted := false
	for _, c := range record {
		if c == '"' {
			quoted = !quoted
		} else if !quoted {
			seen[c] = true
		}
	}
	for _, s := range separators {
		if seen[s] {
			return s
		}
	}
	return ','
}
