package fdfiles

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/audiencekit/terraform-provider-audience/internal/filecheck/readtest"
)

func newTextReader(r io.Reader) io.Reader {
	return newHoldReader(r, (&textCheck{file: "f.csv", line: 1}).scan)
}

// The text check hands on the same bytes, then the same error, whatever
// the size of the file's reads and of the caller's buffer, down to a
// single byte while a cut character is held back (issue #27).
func TestTextReaderSameWhateverTheCuts(t *testing.T) {
	issue27 := "title,city\n" + strings.Repeat("a", 3900) + strings.Repeat("€", 300) + ",Köln\n"
	for name, c := range map[string]struct {
		in, out, err string
	}{
		"empty":                   {"", "", ""},
		"ascii":                   {"title\nConcert\n", "title\nConcert\n", ""},
		"two-byte characters":     {"Köln,Zürich\n", "Köln,Zürich\n", ""},
		"three-byte characters":   {strings.Repeat("€", 50), strings.Repeat("€", 50), ""},
		"four-byte characters":    {"a😀b😀\n😀", "a😀b😀\n😀", ""},
		"issue 27":                {issue27, issue27, ""},
		"characters across 4 KiB": {strings.Repeat("€", 5000) + "\n" + strings.Repeat("😀", 3000), strings.Repeat("€", 5000) + "\n" + strings.Repeat("😀", 3000), ""},
		"latin-1":                 {"title\nK\xf6ln\n", "title\nK", "f.csv, line 2, column 2: the bytes here are not UTF-8"},
		"cut at the end":          {"title\nCaf\xe2\x82", "title\nCaf", "f.csv, line 2, column 4: the bytes here are not UTF-8"},
		"broken in the middle":    {"€\n€\xe2\x41€", "€\n€", "f.csv, line 2, column 4: the bytes here are not UTF-8"},
		"bad after 4 KiB":         {strings.Repeat("€", 2000) + "\xff€", strings.Repeat("€", 2000), "f.csv, line 1, column 6001: the bytes here are not UTF-8"},
	} {
		t.Run(name, func(t *testing.T) {
			whole, wholeErr := readtest.ReadAll(newTextReader(strings.NewReader(c.in)), 64<<10)
			if string(whole) != c.out || !strings.HasPrefix(readtest.ErrText(wholeErr), c.err) || (c.err == "") != (wholeErr == nil) {
				t.Fatalf("one whole read: %q, %v; want %q, %q", whole, wholeErr, c.out, c.err)
			}
			for _, cut := range readtest.Cuts() {
				for _, size := range readtest.CallerSizes {
					got, err := readtest.ReadAll(newTextReader(cut.Wrap(strings.NewReader(c.in))), size)
					if !bytes.Equal(got, whole) || readtest.ErrText(err) != readtest.ErrText(wholeErr) {
						t.Fatalf("%s, caller buffer of %d bytes: %d bytes, %v; one whole read: %d bytes, %v", cut.Name, size, len(got), err, len(whole), wholeErr)
					}
				}
			}
		})
	}
}

// A line over the limit is refused at the same byte whatever the cuts.
func TestTextReaderLongLineWhateverTheCuts(t *testing.T) {
	in := "title\n" + strings.Repeat("é", MaxEventsLineBytes/2+1) + "\n"
	for _, size := range []int{1, 3, 64 << 10} {
		for _, wrap := range []func(io.Reader) io.Reader{iotest.OneByteReader, iotest.DataErrReader, iotest.HalfReader} {
			got, err := readtest.ReadAll(newTextReader(wrap(strings.NewReader(in))), size)
			if len(got) != 6+MaxEventsLineBytes || RuleOf(err) != RuleEventsLine {
				t.Fatalf("caller buffer of %d bytes: %d bytes, %v", size, len(got), err)
			}
		}
	}
}

// A failed read is passed on after the bytes before it; a character it cut
// is not handed on.
func TestTextReaderReadErrorPassesThrough(t *testing.T) {
	boom := errors.New("input/output error")
	for _, size := range readtest.CallerSizes {
		r := newTextReader(io.MultiReader(strings.NewReader("Köln\nZ\xc3"), iotest.ErrReader(boom)))
		got, err := readtest.ReadAll(r, size)
		if string(got) != "Köln\nZ" || !errors.Is(err, boom) {
			t.Fatalf("caller buffer of %d bytes: %q, %v", size, got, err)
		}
	}
}

// A read that returns nothing is passed on as such: the caller decides
// how long to wait for progress.
func TestHoldReaderEmptyReads(t *testing.T) {
	r := newTextReader(&emptyReads{n: 3, r: strings.NewReader("K\xc3\xb6ln")})
	got, err := readtest.ReadAll(r, 1)
	if string(got) != "Köln" || err != nil {
		t.Fatalf("%q, %v", got, err)
	}
	got, err = readtest.ReadAll(newTextReader(&emptyReads{n: 1000, r: strings.NewReader("x")}), 1)
	if len(got) != 0 || !errors.Is(err, io.ErrNoProgress) {
		t.Fatalf("a reader that never returns: %q, %v", got, err)
	}
	if n, err := newTextReader(strings.NewReader("x")).Read(nil); n != 0 || err != nil {
		t.Fatalf("an empty buffer: %d, %v", n, err)
	}
}

// A check that holds back a whole buffer breaks the contract: the reader
// says so rather than loop.
func TestHoldReaderHeldTooMuch(t *testing.T) {
	never := func([]byte, bool) (int, error) { return 0, nil }
	_, err := readtest.ReadAll(newHoldReader(strings.NewReader(strings.Repeat("x", holdBackSize+1)), never), 8)
	if !errors.Is(err, errHeldTooMuch) {
		t.Fatalf("err = %v", err)
	}
}

// emptyReads returns nothing n times before each read of r.
type emptyReads struct {
	n, left int
	r       io.Reader
}

func (e *emptyReads) Read(p []byte) (int, error) {
	if e.left < e.n {
		e.left++
		return 0, nil
	}
	e.left = 0
	return e.r.Read(p)
}
