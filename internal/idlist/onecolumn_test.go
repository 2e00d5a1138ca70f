package idlist

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

var oneColumnAccepted = map[string]struct {
	in    string
	lines int64
}{
	"header and ids":     {"idfa\n6D92078A-8246-4BA4-AE5B-76104861E7DC\nAEBE52E7-03EE-455A-B3C4-E57283966239\n", 3},
	"crlf, no final eol": {"\xEF\xBB\xBFidfa\r\n6D92078A-8246-4BA4-AE5B-76104861E7DC", 2},
	"ids only":           {"358240051111110\n", 1},
	"hashes":             {"d41d8cd98f00b204e9800998ecf8427e\n", 1},
}

func TestCheckOneColumnAccepts(t *testing.T) {
	for name, tc := range oneColumnAccepted {
		t.Run(name, func(t *testing.T) {
			n, err := CheckOneColumn(strings.NewReader(tc.in), "devices.txt")
			if err != nil || n != tc.lines {
				t.Fatalf("got %d lines, %v; want %d", n, err, tc.lines)
			}
		})
	}
}

var oneColumnRejected = map[string]struct {
	in   string
	want string
}{
	"comma":             {"idfa\n6D92078A-8246-4BA4-AE5B-76104861E7DC\n1,anna@example.com,Anna\n", "devices.txt, line 3: the line has 3 comma-separated columns, and the file must have a single column. " + OneColumnFix},
	"multi-column head": {"_pid,email,first_name,last_name\n1,a@b.c,A,B\n", "devices.txt, line 1: the line has 4 comma-separated columns"},
	"tab":               {"a\tb\n", "line 1: the line has 2 tab-separated columns"},
	"semicolon":         {"idfa\nx;y;z\n", "line 2: the line has 3 semicolon-separated columns"},
	"quoted comma":      {"idfa\n\"a,b\"\n", "line 2: the line has 2 comma-separated columns"},
	"quote":             {"idfa\n\"6D92078A-8246-4BA4-AE5B-76104861E7DC\"\n", "line 2: the line holds a quote"},
	"empty line":        {"idfa\n6D92078A\n\n6D92078B\n", "devices.txt, line 3: the line is empty. Remove empty lines"},
	"blank line":        {"idfa\n6D92078A\n \r\n", "line 3: the line is empty"},
	"two final eols":    {"6D92078A\n\n", "line 2: the line is empty"},
	"header only":       {"idfa\n", "devices.txt: the file holds a header row and no device ID"},
	"empty":             {"", "the content is empty"},
	"long line":         {"idfa\n" + strings.Repeat("A", MaxIDLineBytes+1), "line 2: the line is longer than 1024 bytes"},
}

func TestCheckOneColumnRejects(t *testing.T) {
	for name, tc := range oneColumnRejected {
		t.Run(name, func(t *testing.T) {
			_, err := CheckOneColumn(strings.NewReader(tc.in), "devices.txt")
			var ie *Error
			if !errors.As(err, &ie) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// oneByteReader returns one byte per Read, so every line crosses a
// buffer boundary.
type oneByteReader struct{ r io.Reader }

func (o oneByteReader) Read(b []byte) (int, error) { return o.r.Read(b[:min(len(b), 1)]) }

func TestCheckOneColumnAcrossReads(t *testing.T) {
	_, err := CheckOneColumn(oneByteReader{strings.NewReader("idfa\nAB\nC,D\n")}, "f.txt")
	if err == nil || !strings.Contains(err.Error(), "line 3: the line has 2 comma-separated columns") {
		t.Fatalf("err = %v", err)
	}
	if n, err := CheckOneColumn(oneByteReader{strings.NewReader("idfa\r\nAB1\r\nCD2\r\n")}, "f.txt"); err != nil || n != 3 {
		t.Fatalf("n = %d, err = %v", n, err)
	}
}

// repeatReader yields a line over and over, up to n bytes, without
// holding them: a .gz of it is tiny and inflates without bound.
type repeatReader struct {
	line []byte
	off  int
	left int64
}

func (r *repeatReader) Read(b []byte) (int, error) {
	if r.left <= 0 {
		return 0, io.EOF
	}
	n := 0
	for n < len(b) && r.left > 0 {
		c := copy(b[n:], r.line[r.off:])
		r.off = (r.off + c) % len(r.line)
		n += c
		r.left -= int64(c)
	}
	return n, nil
}

func TestCheckOneColumnGzipStreamsAndFindsLateError(t *testing.T) {
	// 64 MiB of valid lines, then a two-column line, through gzip.
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestSpeed)
	body := &repeatReader{line: []byte("6D92078A-8246-4BA4-AE5B-76104861E7DC\n"), left: 37 * (64 << 20) / 37}
	if _, err := io.Copy(zw, body); err != nil {
		t.Fatal(err)
	}
	if _, err := zw.Write([]byte("6D92078A-8246-4BA4-AE5B-76104861E7DC,anna@example.com\n")); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(&gz)
	if err != nil {
		t.Fatal(err)
	}
	lines := int64(64<<20)/37 + 1
	_, err = CheckOneColumn(zr, "big.txt.gz")
	var ie *Error
	if !errors.As(err, &ie) || ie.Line != lines || !strings.Contains(ie.Problem, "2 comma-separated columns") {
		t.Fatalf("err = %v, want line %d", err, lines)
	}
}

// writeInPieces feeds content to a OneColumnCheck in writes of size bytes.
func writeInPieces(c *OneColumnCheck, content []byte, size int) (int64, error) {
	for len(content) > 0 {
		n := min(size, len(content))
		if k, err := c.Write(content[:n]); k != n || err != nil {
			return 0, fmt.Errorf("Write = %d, %v; want %d, nil", k, err, n)
		}
		content = content[n:]
	}
	return c.Close()
}

// The check fed by writes (plain or gzip, in any piece size) finds what
// CheckOneColumn finds.
func TestOneColumnCheckAgreesWithCheckOneColumn(t *testing.T) {
	run := func(t *testing.T, in string) []string {
		var got []string
		wantLines, wantErr := CheckOneColumn(strings.NewReader(in), "devices.txt")
		for _, size := range []int{1, 7, 64 << 10} {
			for _, gz := range []bool{false, true} {
				content := []byte(in)
				if gz {
					content = gzipBytes(t, in)
				}
				lines, err := writeInPieces(NewOneColumnCheck("devices.txt", gz), content, size)
				if fmt.Sprint(err) != fmt.Sprint(wantErr) || (err == nil && lines != wantLines) {
					t.Errorf("pieces of %d, gzip %v: got %d, %v; CheckOneColumn gives %d, %v", size, gz, lines, err, wantLines, wantErr)
				}
				got = append(got, fmt.Sprint(err))
			}
		}
		return got
	}
	for name, tc := range oneColumnAccepted {
		t.Run(name, func(t *testing.T) { run(t, tc.in) })
	}
	for name, tc := range oneColumnRejected {
		t.Run(name, func(t *testing.T) {
			for _, err := range run(t, tc.in) {
				if !strings.Contains(err, tc.want) {
					t.Errorf("err = %s, want it to contain %q", err, tc.want)
				}
			}
		})
	}
}

func TestOneColumnCheckGzipNotGzip(t *testing.T) {
	c := NewOneColumnCheck("devices.txt.gz", true)
	lines, err := writeInPieces(c, bytes.Repeat([]byte("6D92078A\n"), 100000), 4096)
	var ie *Error
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), "the content is not gzip") {
		t.Fatalf("got %d, %v; want the not-gzip finding, and every write accepted", lines, err)
	}
}

// Closing twice gives the first answer again, and never waits.
func TestOneColumnCheckCloseTwice(t *testing.T) {
	for _, gz := range []bool{false, true} {
		for _, in := range []string{"idfa\n6D92078A", "a,b\n"} {
			content := []byte(in)
			if gz {
				content = gzipBytes(t, in)
			}
			c := NewOneColumnCheck("devices.txt", gz)
			lines, err := writeInPieces(c, content, 3)
			again, errAgain := c.Close()
			if again != lines || fmt.Sprint(errAgain) != fmt.Sprint(err) {
				t.Fatalf("gzip %v, %q: first Close %d, %v; second %d, %v", gz, in, lines, err, again, errAgain)
			}
		}
	}
}
