package tpnspackage

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// CheckRows validates the text of a package (a .txt, a .csv, or the entry
// of a zip) and returns the number of entries. It reads one row at a time
// through a fixed buffer: a row longer than MaxLineBytes is an error, never
// a reason to grow memory. file and entry locate errors.
func CheckRows(r io.Reader, file, entry string, csv bool, t Type) (int64, error) {
	br := bufio.NewReaderSize(r, MaxLineBytes)
	var line, entries int64
	fail := func(rule, problem, fix string) error {
		return &Error{File: file, Entry: entry, Line: line, Rule: rule, Problem: problem, Fix: fix}
	}
	for {
		row, err := br.ReadSlice('\n')
		if len(row) == 0 && errors.Is(err, io.EOF) {
			break
		}
		line++
		if errors.Is(err, bufio.ErrBufferFull) {
			return entries, fail(RuleLineLength, fmt.Sprintf("the row is longer than %d bytes", MaxLineBytes),
				"Put one entry per row; rows must end with a line feed (\\n or \\r\\n)")
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return entries, err
		}
		row = bytes.TrimSuffix(row, []byte{'\n'})
		row = bytes.TrimSuffix(row, []byte{'\r'})
		if line == 1 {
			row = bytes.TrimPrefix(row, utf8BOM)
		}
		if !utf8.Valid(row) {
			fix := "Save the file as UTF-8"
			if line == 1 && (bytes.HasPrefix(row, []byte{0xFF, 0xFE}) || bytes.HasPrefix(row, []byte{0xFE, 0xFF})) {
				fix = "The file looks like UTF-16: save it as UTF-8"
			}
			return entries, fail(RuleUTF8, fmt.Sprintf("the row is not valid UTF-8 (bad byte at offset %d)", invalidAt(row)), fix)
		}
		value := row
		if csv {
			v, problem, rule := csvField(row)
			if problem != "" {
				return entries, fail(rule, problem, "Keep a single column of values, quoting a value only if it contains a comma or a quote")
			}
			value = v
		}
		if len(bytes.TrimSpace(value)) == 0 {
			return entries, fail(RuleOneEntry, "the row is blank", "Remove blank rows: every row holds one entry")
		}
		n := utf8.RuneCount(value)
		switch t {
		case Token:
			if n != TokenChars {
				return entries, fail(RuleTokenChars, fmt.Sprintf("the token is %s long", chars(n)), "Check that this is a TPNS device token, or set package_type = \"account\" for accounts")
			}
		default:
			if n < MinAccountChars || n > MaxAccountChars {
				return entries, fail(RuleAccountChars, fmt.Sprintf("the account is %s long", chars(n)), "")
			}
		}
		entries++
		if errors.Is(err, io.EOF) {
			break
		}
	}
	if entries == 0 {
		return 0, &Error{File: file, Entry: entry, Rule: RuleNotEmpty, Problem: "the package holds no entries"}
	}
	return entries, nil
}

// invalidAt returns the offset of the first byte that is not valid UTF-8.
func invalidAt(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return len(b)
}

// csvField reads a csv row (RFC 4180, comma-separated) that must hold a
// single field. It returns the unquoted value, or the problem and rule
// broken. A quoted field cannot span rows: a row is one entry.
func csvField(row []byte) (value []byte, problem, rule string) {
	if len(row) == 0 || row[0] != '"' {
		if i := bytes.IndexByte(row, ','); i >= 0 {
			return nil, fmt.Sprintf("the row has %d columns", columns(row)), RuleCSVColumns
		}
		if bytes.IndexByte(row, '"') >= 0 {
			return nil, "the row has a quote inside an unquoted value", RuleCSVColumns
		}
		return row, "", ""
	}
	var out []byte
	for i := 1; i < len(row); i++ {
		if row[i] != '"' {
			out = append(out, row[i])
			continue
		}
		if i+1 < len(row) && row[i+1] == '"' {
			out = append(out, '"')
			i++
			continue
		}
		// Closing quote: it must end the row.
		if i+1 == len(row) {
			return out, "", ""
		}
		if row[i+1] == ',' {
			return nil, fmt.Sprintf("the row has %d columns", columns(row)), RuleCSVColumns
		}
		return nil, "the row has text after a closing quote", RuleCSVColumns
	}
	return nil, "the row has a quoted value that is not closed on the same row", RuleOneEntry
}

// columns counts the fields of a csv row, honouring quotes; an unclosed
// quote ends the count.
func columns(row []byte) int {
	n, quoted := 1, false
	for _, c := range row {
		switch {
		case c == '"':
			quoted = !quoted
		case c == ',' && !quoted:
			n++
		}
	}
	return n
}

func chars(n int) string {
	if n == 1 {
		return "1 character"
	}
	return fmt.Sprintf("%d characters", n)
}
