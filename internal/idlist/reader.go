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
// bounded size. The separator is detected on the first row: a comma, else a
// tab, else a semicolon; a first row with none of them is a single column.
// A UTF-8 byte order mark before the first row is dropped.
type Reader struct {
	br       *bufio.Reader
	sep      byte
	detected bool
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
	text, term, err := r.readLine()
	if err != nil {
		return nil, 0, err
	}
	start := r.line
	if !r.detected {
		r.sep = detectSeparator(text)
		r.detected = true
	}
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

// readLine returns the next line without its terminator, and the
// terminator ("\n", "\r\n" or "" at the end of the file).
func (r *Reader) readLine() (text, term []byte, err error) {
	b, err := r.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		r.long = append(r.long[:0], b...)
		for errors.Is(err, bufio.ErrBufferFull) {
			if len(r.long) > MaxRecordBytes {
				return nil, nil, &SyntaxError{Line: r.line + 1, Problem: fmt.Sprintf("the line is longer than %d bytes; is this a text file with one row per line?", MaxRecordBytes)}
			}
			b, err = r.br.ReadSlice('\n')
			r.long = append(r.long, b...)
		}
		b = r.long
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, nil, err
	}
	if len(b) == 0 {
		return nil, nil, io.EOF
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

// detectSeparator picks the first of separators that occurs outside
// quotes in the first line; a line without any is one column (comma).
func detectSeparator(line []byte) byte {
	var seen [256]bool
	quoted := false
	for _, c := range line {
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
