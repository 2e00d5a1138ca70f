package idlist

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/audiencekit/terraform-provider-audience/internal/filecheck/readtest"
)

// damagedGzip is a valid gzip list cut or altered in every way a copy or a
// download goes wrong, and what each must say.
func damagedGzip(t *testing.T) map[string]struct {
	content []byte
	want    string
} {
	good := gzipBytes(t, "idfa\n"+strings.Repeat("6D92078A-8246-4BA4-AE5B-76104861E7DC\n", 2000))
	flipped := func(i int) []byte {
		b := bytes.Clone(good)
		b[i] ^= 0xff
		return b
	}
	badBlock := bytes.Clone(good)
	badBlock[10] = 0x07 // a final block of the reserved type 3
	return map[string]struct {
		content []byte
		want    string
	}{
		"cut in the data":        {good[:len(good)/2], "the gzip file is truncated or corrupt (it ends before its compressed data does)"},
		"cut in the trailer":     {good[:len(good)-3], "the gzip file is truncated or corrupt (it ends before its compressed data does)"},
		"cut in the header":      {good[:5], "the gzip file is truncated or corrupt (it ends before its compressed data does)"},
		"empty":                  {nil, "the gzip file is truncated or corrupt (it is empty)"},
		"checksum":               {flipped(len(good) - 6), "the gzip file is truncated or corrupt (the checksum in its trailer does not match the content)"},
		"invalid header":         {flipped(2), "the gzip file is truncated or corrupt (its header is invalid)"},
		"garbage after the data": {append(bytes.Clone(good), "trailing text"...), "the gzip file is truncated or corrupt (bytes after its compressed data are not gzip)"},
		"invalid block":          {badBlock, "the gzip file is truncated or corrupt (invalid compressed data at byte "},
		"short text":             {[]byte("idfa\nX\n"), "the content is not gzip, although the name ends in .gz"},
	}
}

// Every reader of gzip content (the ID list, the one-column check fed by
// writes or by reads) names the file and says what is wrong, never a bare
// "unexpected EOF".
func TestDamagedGzipIsNamed(t *testing.T) {
	for name, tc := range damagedGzip(t) {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			src := writeTemp(t, dir, "export.csv.gz", tc.content)
			check := func(how string, err error) {
				t.Helper()
				var ie *Error
				if !errors.As(err, &ie) || ie.File != src || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("%s: %v; want an *Error on %s saying %q", how, err, src, tc.want)
				}
				if strings.Contains(tc.want, "truncated") != errors.Is(err, ErrCorruptGzip) {
					t.Errorf("%s: errors.Is(err, ErrCorruptGzip) = %v", how, errors.Is(err, ErrCorruptGzip))
				}
			}
			_, err := ExtractFile(context.Background(), src, filepath.Join(dir, "out.txt"), Options{Column: "idfa"})
			check("ExtractFile", err)
			_, err = CheckOneColumnFile(src, true)
			check("CheckOneColumnFile", err)
			for _, size := range []int{1, 4096} {
				_, err = writeInPieces(NewOneColumnCheck(src, true), tc.content, size)
				check("OneColumnCheck", err)
			}
			if _, err := os.Stat(filepath.Join(dir, "out.txt")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("out.txt written from a damaged export: %v", err)
			}
		})
	}
}

// A failure of the file under the gzip reader is not taken for damage.
func TestGzipReadFailurePassesThrough(t *testing.T) {
	boom := errors.New("input/output error")
	good := gzipBytes(t, "idfa\nX1\n")
	_, err := CheckOneColumn(mustGunzip(t, io.MultiReader(bytes.NewReader(good[:12]), errReader{boom})), "f.gz")
	if !errors.Is(err, boom) || errors.Is(err, ErrCorruptGzip) {
		t.Fatalf("err = %v, want the read failure", err)
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

func mustGunzip(t *testing.T, r io.Reader) io.Reader {
	t.Helper()
	g, err := newGunzip(r, "f.gz")
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// The gzip reader hands on the same bytes, then the same error, whatever
// the size of the reads of the file and of the caller's buffer.
func TestGunzipSameWhateverTheCuts(t *testing.T) {
	text := "idfa\n" + strings.Repeat("Köln,6D92078A-8246-4BA4-AE5B-76104861E7DC\n", 500)
	cases := damagedGzip(t)
	cases["good"] = struct {
		content []byte
		want    string
	}{gzipBytes(t, text), ""}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			read := func(cut func(io.Reader) io.Reader, size int) ([]byte, error) {
				g, err := newGunzip(cut(bytes.NewReader(tc.content)), "f.gz")
				if err != nil {
					return nil, err
				}
				return readtest.ReadAll(g, size)
			}
			whole, wholeErr := read(func(r io.Reader) io.Reader { return r }, 64<<10)
			if !strings.Contains(readtest.ErrText(wholeErr), tc.want) || (tc.want == "") != (wholeErr == nil) || (tc.want == "" && string(whole) != text) {
				t.Fatalf("one whole read: %v; want %q", wholeErr, tc.want)
			}
			for _, cut := range readtest.Cuts() {
				for _, size := range readtest.CallerSizes {
					got, err := read(cut.Wrap, size)
					if !bytes.Equal(got, whole) || readtest.ErrText(err) != readtest.ErrText(wholeErr) {
						t.Fatalf("%s, caller buffer of %d bytes: %d bytes, %v; one whole read: %d bytes, %v", cut.Name, size, len(got), err, len(whole), wholeErr)
					}
				}
			}
		})
	}
}
