package idlist

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

// FuzzReader checks the column reader never panics, reports lines within
// the input, and agrees with itself: writing a record back as CSV and
// reading it again gives the same fields.
func FuzzReader(f *testing.F) {
	for _, s := range []string{
		crmExport, "a\n\n", "\"a\"\"b\",c\r\n", "\"\n", "a;b\n\"x;y\";z\n", "\xEF\xBB\xBF\"a\tb\"\tc\n", "x\"y", "\"a\"b",
		";\n\"\n\";", // the first record's separator comes after a quoted line break
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		lines := int64(bytes.Count(in, []byte{'\n'}) + 1)
		r := NewReader(bytes.NewReader(in))
		var prev int64
		for {
			fields, line, err := r.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			var se *SyntaxError
			if errors.As(err, &se) {
				if se.Line < 1 || se.Line > lines {
					t.Fatalf("syntax error on line %d of a %d-line input", se.Line, lines)
				}
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if line <= prev || line > lines {
				t.Fatalf("record on line %d after line %d, input has %d lines", line, prev, lines)
			}
			prev = line
			// Round trip through a quoted rendering.
			var b bytes.Buffer
			for i, fld := range fields {
				if i > 0 {
					b.WriteByte(r.Separator())
				}
				b.WriteString(`"` + strings.ReplaceAll(string(fld), `"`, `""`) + `"`)
			}
			again, _, err := NewReader(&b).Read()
			if err != nil {
				t.Fatalf("re-reading %q: %v", b.String(), err)
			}
			if len(again) != len(fields) {
				t.Fatalf("%d fields became %d", len(fields), len(again))
			}
		}
		// Extraction must not panic either, and never writes a line holding a
		// separator (what a line holds, personal data, is another check).
		var out bytes.Buffer
		if _, err := Extract(context.Background(), bytes.NewReader(in), "fuzz.csv", &out, Options{SkipInvalid: true, AllowEmpty: true}); err == nil {
			if _, err := CheckOneColumn(bytes.NewReader(out.Bytes()), "out"); err != nil && out.Len() > 0 && !strings.Contains(err.Error(), "header row") && !strings.Contains(err.Error(), "longer than") && !errors.Is(err, ErrPersonalData) {
				t.Fatalf("extracted list %q fails the one-column check: %v", out.String(), err)
			}
		}
	})
}

// FuzzCheckOneColumn checks the one-column check never panics and names a
// line within the input.
func FuzzCheckOneColumn(f *testing.F) {
	for _, s := range []string{"idfa\nA\n", "a,b\n", "\n", "x\r\n\r\n", "\"q\"\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		lines := int64(bytes.Count(in, []byte{'\n'}) + 1)
		_, err := CheckOneColumn(bytes.NewReader(in), "f")
		var ie *Error
		if errors.As(err, &ie) && ie.Line > lines {
			t.Fatalf("error on line %d of a %d-line input", ie.Line, lines)
		}
	})
}

// FuzzGzipContent checks that any bytes named .gz get an answer, the same
// whether the one-column check reads them or is fed them in writes, and
// that every failure is an *Error naming the file, never a bare
// "unexpected EOF".
func FuzzGzipContent(f *testing.F) {
	for _, s := range []string{"idfa\n6D92078A\n", "a,b\n", "", "x"} {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		_, _ = zw.Write([]byte(s))
		_ = zw.Close()
		f.Add(b.Bytes())
		f.Add(b.Bytes()[:b.Len()/2])
	}
	f.Add([]byte("idfa\nX\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		lines, err := checkGzipStream(bytes.NewReader(in), "f.txt.gz")
		var ie *Error
		if err != nil && (!errors.As(err, &ie) || ie.File != "f.txt.gz") {
			t.Fatalf("%q: %v is not an *Error naming the file", in, err)
		}
		c := NewOneColumnCheck("f.txt.gz", true)
		for rest := in; len(rest) > 0; {
			n := min(len(rest), 7)
			_, _ = c.Write(rest[:n])
			rest = rest[n:]
		}
		fedLines, fedErr := c.Close()
		if fmt.Sprint(fedErr) != fmt.Sprint(err) || (err == nil && fedLines != lines) {
			t.Fatalf("%q: read gives %d, %v; writes give %d, %v", in, lines, err, fedLines, fedErr)
		}
	})
}

// FuzzContentCheckWriteSizes checks that the check's answer does not
// depend on how the content is cut into writes: one byte at a time never
// takes the shortcut for lines of the previous line's length, a whole
// buffer mostly does.
func FuzzContentCheckWriteSizes(f *testing.F) {
	for _, s := range []string{
		"idfa\n6D92078A-8246-4BA4-AE5B-76104861E7DC\n6D92078A-8246-4BA4-AE5B-76104861E7DC\n",
		"0a1b\n0a1b\n0a1b\r\n0a1b \n0a,b\n", "12345678\n1234567\n+1234567\n", "ab\nab\nab\na\"\nab\n",
		"\xEF\xBB\xBFabc\nabc\nab\n\nabc\n", "aaaa\naaaa\nbbbb\nAAAA\n", "x@y\nx@yz\n1234\n",
	} {
		f.Add([]byte(s), uint8(0))
	}
	rules := []IDRule{{}, ruleIDFA, ruleGAID, ruleIMEI, ruleIDFAMD5, {Name: "OAID", Kind: KindOAID}}
	f.Fuzz(func(t *testing.T, in []byte, r uint8) {
		rule := rules[int(r)%len(rules)]
		want, wantErr := CheckContent(bytes.NewReader(in), "f", rule)
		c := NewContentCheck("f", false, rule)
		for _, b := range in {
			_, _ = c.Write([]byte{b})
		}
		_, err := c.Close()
		if fmt.Sprint(err) != fmt.Sprint(wantErr) || fmt.Sprint(c.Summary()) != fmt.Sprint(want) {
			t.Fatalf("%q: whole gives %+v, %v; bytes give %+v, %v", in, want, wantErr, c.Summary(), err)
		}
	})
}
