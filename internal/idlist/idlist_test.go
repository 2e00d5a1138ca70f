package idlist

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

const crmExport = "_pid,email,first_name,idfa\n" +
	"1,anna.ivanova@example.com,Anna,6d92078a-8246-4ba4-ae5b-76104861e7dc\n" +
	"2,\"boris, jr@example.com\",\"Boris \"\"B\"\"\",\n" +
	"3, Clara.Novak@Example.com ,\"Clara\nMarie\",AEBE52E7-03EE-455A-B3C4-E57283966239\n"

func extract(t *testing.T, in string, opt Options) (string, Result, error) {
	t.Helper()
	var out bytes.Buffer
	res, err := Extract(context.Background(), strings.NewReader(in), "export.csv", &out, opt)
	return out.String(), res, err
}

func hexOf(sum []byte) string { return hex.EncodeToString(sum) }

func TestExtractOptions(t *testing.T) {
	md5Of := func(s string) string { s2 := md5.Sum([]byte(s)); return hexOf(s2[:]) }
	shaOf := func(s string) string { s2 := sha256.Sum256([]byte(s)); return hexOf(s2[:]) }
	cases := []struct {
		name    string
		opt     Options
		want    string
		entries int64
		skipped int64
	}{
		{"column kept as is, blank skipped", Options{Column: "idfa"}, "6d92078a-8246-4ba4-ae5b-76104861e7dc\nAEBE52E7-03EE-455A-B3C4-E57283966239\n", 2, 1},
		{"upper", Options{Column: "idfa", Case: CaseUpper}, "6D92078A-8246-4BA4-AE5B-76104861E7DC\nAEBE52E7-03EE-455A-B3C4-E57283966239\n", 2, 1},
		{"lower uuid", Options{Column: "idfa", Case: CaseLower, Format: FormatUUID}, "6d92078a-8246-4ba4-ae5b-76104861e7dc\naebe52e7-03ee-455a-b3c4-e57283966239\n", 2, 1},
		{"md5 of upper", Options{Column: "idfa", Case: CaseUpper, Hash: HashMD5}, md5Of("6D92078A-8246-4BA4-AE5B-76104861E7DC") + "\n" + md5Of("AEBE52E7-03EE-455A-B3C4-E57283966239") + "\n", 2, 1},
		{"sha256 of trimmed lower email", Options{Column: "email", Case: CaseLower, Hash: HashSHA256},
			shaOf("anna.ivanova@example.com") + "\n" + shaOf("boris, jr@example.com") + "\n" + shaOf("clara.novak@example.com") + "\n", 3, 0},
		{"unhashed comma is skipped", Options{Column: "email", Case: CaseLower, SkipInvalid: true}, "anna.ivanova@example.com\nclara.novak@example.com\n", 2, 1},
		{"multi-line value is skipped", Options{Column: "first_name", SkipInvalid: true}, "Anna\n", 1, 2},
		{"numbers", Options{Column: "_pid"}, "1\n2\n3\n", 3, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, res, err := extract(t, crmExport, tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want || res.Entries != tc.entries || res.Skipped != tc.skipped || res.Rows != 3 {
				t.Fatalf("got %q (entries %d, skipped %d, rows %d), want %q (%d, %d)", got, res.Entries, res.Skipped, res.Rows, tc.want, tc.entries, tc.skipped)
			}
		})
	}
}

func TestExtractSingleColumnWithoutHeader(t *testing.T) {
	got, res, err := extract(t, "\xEF\xBB\xBF 358240051111110 \r\n\r\n35824005111111\r\n", Options{Format: FormatIMEI})
	if err != nil {
		t.Fatal(err)
	}
	if got != "358240051111110\n35824005111111\n" || res.Entries != 2 || res.Skipped != 1 {
		t.Fatalf("got %q %+v", got, res)
	}
}

func TestExtractErrors(t *testing.T) {
	cases := []struct {
		name string
		in   string
		opt  Options
		want []string
	}{
		{"several columns need column", crmExport, Options{}, []string{"export.csv, line 1: the file has 4 columns", `"_pid", "email", "first_name", "idfa"`}},
		{"unknown column lists the others", crmExport, Options{Column: "gaid"}, []string{`line 1: the header has no column "gaid"`, `one of: "_pid", "email", "first_name", "idfa"`}},
		{"invalid uuid names line and value", "idfa\n6D92078A-8246-4BA4-AE5B-76104861E7DC\nnot-an-id\n", Options{Column: "idfa", Format: FormatUUID}, []string{`line 3: invalid value "n*******d" in column "idfa"`, "not a UUID", `invalid = "skip"`}},
		{"zero idfa", "idfa\n00000000-0000-0000-0000-000000000000\n", Options{Column: "idfa", Format: FormatUUID}, []string{"line 2", "all-zero"}},
		{"email is masked", crmExport, Options{Column: "email", Format: FormatUUID}, []string{`line 2: invalid value "a********a@example.com"`}},
		{"phone is masked", "phone\n+49 151 2345678\n", Options{Column: "phone", Format: FormatIMEI}, []string{`line 2: invalid value "+********8"`}},
		{"imei check digit", "imei\n358240051111111\n", Options{Column: "imei", Format: FormatIMEI}, []string{`line 2: invalid value "358240051111111"`, "check digit"}},
		{"header without rows is empty", "_pid,idfa\n", Options{Column: "idfa"}, []string{`no value to write from column "idfa" (0 rows read, 0 skipped`, "allow_empty"}},
		{"only blanks is empty", "_pid,idfa\n1,\n2, \n", Options{Column: "idfa"}, []string{"(2 rows read, 2 skipped"}},
		{"empty file", "", Options{}, []string{"the file is empty"}},
		{"ragged row", "a,b\n1,2\n3\n", Options{Column: "a"}, []string{"line 3: the row has 1 columns, the first row has 2"}},
		{"malformed csv", "a,b\n1,\"2\n", Options{Column: "a"}, []string{"line 2: a quoted value is not closed", "RFC 4180"}},
		{"header hint on line 1", "idfa\n6D92078A-8246-4BA4-AE5B-76104861E7DC\n", Options{Format: FormatUUID}, []string{"line 1", "If line 1 is a header, set column to its name"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := extract(t, tc.in, tc.opt)
			var ie *Error
			if !errors.As(err, &ie) {
				t.Fatalf("err = %v, want *Error", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestExtractAllowEmpty(t *testing.T) {
	for _, in := range []string{"", "_pid,idfa\n", "_pid,idfa\n1,\n"} {
		got, res, err := extract(t, in, Options{Column: "idfa", AllowEmpty: true})
		if err != nil || got != "" || res.Entries != 0 {
			t.Fatalf("%q: got %q %+v %v", in, got, res, err)
		}
	}
}

func TestExtractStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Extract(ctx, strings.NewReader(crmExport), "x.csv", io.Discard, Options{Column: "idfa"})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

func TestMask(t *testing.T) {
	cases := map[string]string{
		"anna@example.com":                     "a**a@example.com",
		"+49 151 2345678":                      "+********8",
		"John Smith":                           "J********h",
		"0151234567":                           "0********7",
		"6D92078A-8246-4BA4-AE5B-76104861E7DC": "6D92078A-8246-4BA4-AE5B-76104861E7DC",
		"358240051111110":                      "358240051111110",
		"d41d8cd98f00b204e9800998ecf8427e":     "d41d8cd98f00b204e9800998ecf8427e",
		"zz":                                   "**",
	}
	for in, want := range cases {
		if got := Mask(in); got != want {
			t.Errorf("Mask(%q) = %q, want %q", in, got, want)
		}
	}
}

func writeTemp(t *testing.T, dir, name string, content []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, content, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func gzipBytes(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestExtractFileGzipInAndOutIsDeterministic(t *testing.T) {
	dir := t.TempDir()
	src := writeTemp(t, dir, "export.csv.gz", gzipBytes(t, crmExport))
	out := filepath.Join(dir, "idfa.txt.gz")
	opt := Options{Column: "idfa", Case: CaseUpper, Format: FormatUUID}
	first, err := ExtractFile(context.Background(), src, out, opt)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var plain bytes.Buffer
	if _, err := io.Copy(&plain, zr); err != nil {
		t.Fatal(err)
	}
	if plain.String() != "6D92078A-8246-4BA4-AE5B-76104861E7DC\nAEBE52E7-03EE-455A-B3C4-E57283966239\n" {
		t.Fatalf("output %q", plain.String())
	}
	st, _ := os.Stat(out)
	if st.Size() != first.Size {
		t.Fatalf("size %d, result says %d", st.Size(), first.Size)
	}
	// A second run writes nothing: same bytes, same file, same mtime.
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	if err := os.Chtimes(out, old, old); err != nil {
		t.Fatal(err)
	}
	second, err := ExtractFile(context.Background(), src, out, opt)
	if err != nil {
		t.Fatal(err)
	}
	st, _ = os.Stat(out)
	if second != first || !st.ModTime().Equal(old) {
		t.Fatalf("second run %+v (mtime %v), first %+v (mtime %v)", second, st.ModTime(), first, old)
	}
	assertNoTempFiles(t, dir, 2)
}

func TestExtractFileFailureLeavesOutputAlone(t *testing.T) {
	dir := t.TempDir()
	out := writeTemp(t, dir, "idfa.txt", []byte("previous\n"))
	src := writeTemp(t, dir, "export.csv", []byte("idfa\nX\n\"broken\n"))
	if _, err := ExtractFile(context.Background(), src, out, Options{Column: "idfa"}); err == nil {
		t.Fatal("want an error")
	}
	if b, _ := os.ReadFile(out); string(b) != "previous\n" {
		t.Fatalf("output changed to %q", b)
	}
	assertNoTempFiles(t, dir, 2)

	if _, err := ExtractFile(context.Background(), src, src, Options{Column: "idfa"}); err == nil || !strings.Contains(err.Error(), "is the source") {
		t.Fatalf("same file: %v", err)
	}
	notGzip := writeTemp(t, dir, "export.csv.gz", []byte("idfa\nX\n"))
	if _, err := ExtractFile(context.Background(), notGzip, out, Options{}); err == nil || !strings.Contains(err.Error(), "not gzip") {
		t.Fatalf("not gzip: %v", err)
	}
}

func assertNoTempFiles(t *testing.T, dir string, want int) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != want {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Fatalf("directory holds %v, want %d files", names, want)
	}
}

// Missing parent directories of the output are created, as a fresh clone
// lacks generated folders.
func TestExtractFileCreatesOutputDirectories(t *testing.T) {
	dir := t.TempDir()
	src := writeTemp(t, dir, "export.csv", []byte(crmExport))
	out := filepath.Join(dir, "build", "lists", "idfa.txt")
	res, err := ExtractFile(context.Background(), src, out, Options{Column: "idfa"})
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(out)
	if err != nil || st.Size() != res.Size || res.Entries == 0 {
		t.Fatalf("output %v, %v; result %+v", st, err, res)
	}
	assertNoTempFiles(t, filepath.Dir(out), 1)
}

// An output that cannot take the list fails before the source is read
// (the source here is malformed, so a read would fail differently), names
// the output, and creates nothing.
func TestExtractFileRefusesABadOutputBeforeReading(t *testing.T) {
	dir := t.TempDir()
	src := writeTemp(t, dir, "export.csv", []byte("idfa\n\"unclosed\n"))
	if err := os.Mkdir(filepath.Join(dir, "out"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(src, filepath.Join(dir, "link.csv")); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(src, filepath.Join(dir, "hard.csv")); err != nil {
		t.Fatal(err)
	}
	plainFile := writeTemp(t, dir, "plain", []byte("x"))
	cases := map[string]struct{ out, want string }{
		"directory":               {filepath.Join(dir, "out"), "it is a directory. Name the file to write, such as " + filepath.Join(dir, "out", "ids.txt")},
		"trailing separator":      {filepath.Join(dir, "new", "dir") + "/", "the path ends in a separator"},
		"source":                  {src, "it is the source file"},
		"source spelled again":    {filepath.Join(dir, "sub", "..", ".", "export.csv"), "it is the source file"},
		"symlink to the source":   {filepath.Join(dir, "link.csv"), "it is the source file"},
		"hard link to the source": {filepath.Join(dir, "hard.csv"), "it is the source file"},
		"parent is a file":        {filepath.Join(plainFile, "ids.txt"), "cannot create its directory"},
		"dev null":                {os.DevNull, "it is a device, not a regular file"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := ExtractFile(context.Background(), src, tc.out, Options{Column: "idfa"})
			var ie *Error
			if !errors.As(err, &ie) || !errors.Is(err, ErrOutput) || ie.File != tc.out || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v; want an ErrOutput on %s saying %q", err, tc.out, tc.want)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "new")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a refused output created a directory: %v", err)
	}
	if b, _ := os.ReadFile(src); string(b) != "idfa\n\"unclosed\n" {
		t.Fatalf("source changed to %q", b)
	}
}

// A directory the list cannot be written in is an output problem, found
// before the export is read.
func TestExtractFileUnwritableDirectory(t *testing.T) {
	dir := t.TempDir()
	src := writeTemp(t, dir, "export.csv", []byte("idfa\n\"unclosed\n"))
	locked := filepath.Join(dir, "locked")
	if err := os.Mkdir(locked, 0o555); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		// Root writes in any directory, but not in this one.
		if runtime.GOOS != "linux" {
			t.Skip("needs a directory root cannot write in")
		}
		locked = "/proc/self"
	}
	_, err := ExtractFile(context.Background(), src, filepath.Join(locked, "ids.txt"), Options{Column: "idfa"})
	if !errors.Is(err, ErrOutput) || !strings.Contains(err.Error(), "cannot write in its directory") {
		t.Fatalf("err = %v", err)
	}
}
