package fdfiles

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/audiencekit/terraform-provider-audience/internal/filecheck/readtest"
)

func zipOf(t *testing.T, names ...string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, n := range names {
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write([]byte("<x/>"))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// wantRule asserts err breaks rule and its text holds every fragment.
func wantRule(t *testing.T, err error, rule string, fragments ...string) {
	t.Helper()
	if RuleOf(err) != rule {
		t.Fatalf("err = %v; want rule %q", err, rule)
	}
	for _, f := range fragments {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("%q lacks %q", err, f)
		}
	}
}

func TestCheckWorkbook(t *testing.T) {
	xlsx := zipOf(t, "[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/worksheets/sheet1.xml")
	if err := CheckWorkbook(bytes.NewReader(xlsx), int64(len(xlsx)), "sales.xlsx"); err != nil {
		t.Fatal(err)
	}
	truncated := xlsx[:len(xlsx)-10]
	for name, c := range map[string]struct {
		content   []byte
		fragments []string
	}{
		"csv renamed":     {[]byte("eid,tickets\nevt_1,20\n"), []string{"sales.xlsx: the file is text", "a CSV renamed to .xlsx?"}},
		"xls":             {append([]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, make([]byte, 600)...), []string{"Excel 97-2003 .xls"}},
		"docx":            {zipOf(t, "[Content_Types].xml", "word/document.xml"), []string{`zip entry "xl/workbook.xml"`, "not an Excel workbook"}},
		"plain zip":       {zipOf(t, "sales.csv"), []string{`zip entry "[Content_Types].xml"`, "not an Office document"}},
		"xlsb":            {zipOf(t, "[Content_Types].xml", "xl/workbook.bin"), []string{"binary workbook (.xlsb)"}},
		"truncated":       {truncated, []string{"cannot be read"}},
		"empty zip":       {zipOf(t), []string{"empty zip archive"}},
		"binary not zip":  {[]byte{0x00, 0x01, 0x02, 0xFF}, []string{"not a zip archive"}},
		"utf-8 cut at 4k": {append(bytes.Repeat([]byte("é"), 255), 0xC3), []string{"the file is text"}},
	} {
		t.Run(name, func(t *testing.T) {
			err := CheckWorkbook(bytes.NewReader(c.content), int64(len(c.content)), "sales.xlsx")
			wantRule(t, err, RuleWorkbook, c.fragments...)
		})
	}
}

func TestCheckEventsAccepts(t *testing.T) {
	for name, content := range map[string]string{
		"plain":            "title,start_date_time,city,venue\nConcert,2026-05-01T20:00:00Z,Berlin,Arena\nPlay,2026-05-02T19:00:00Z,Köln,Theater\n",
		"bom and crlf":     "\xEF\xBB\xBFtitle,city\r\nConcert,Berlin\r\nPlay,Köln\r\n",
		"quoted":           "title,venue\n\"Rock, live\",\"The \"\"Hall\"\"\nEast\"\nJazz,Club\n",
		"no final newline": "title\nConcert\nPlay",
	} {
		t.Run(name, func(t *testing.T) {
			// One byte at a time, so characters are cut between reads.
			n, err := CheckEvents(iotest.OneByteReader(strings.NewReader(content)), "events.csv")
			if err != nil || n != 2 {
				t.Fatalf("rows %d, err %v", n, err)
			}
		})
	}
}

func TestCheckEventsRefuses(t *testing.T) {
	for name, c := range map[string]struct {
		content   string
		rule      string
		fragments []string
	}{
		"latin-1":          {"title,city\nConcert,Berlin\nPlay,K\xf6ln\n", RuleEventsUTF8, []string{"events.csv, line 3, column 7", "not UTF-8", "iconv"}},
		"cut at the end":   {"title\nCaf\xc3", RuleEventsUTF8, []string{"line 2, column 4"}},
		"no header":        {"Concert,2026-05-01T20:00:00Z,Berlin\n", RuleEventsHeader, []string{"line 1", "header row is missing"}},
		"numeric header":   {"title,42\nx,y\n", RuleEventsHeader, []string{"line 1, column 7", `"42"`}},
		"empty name":       {"title,,city\nx,y,z\n", RuleEventsHeader, []string{"column 2 of the header row has no name"}},
		"repeated name":    {"title,City,city\nx,y,z\n", RuleEventsHeader, []string{"columns 2 and 3", `"city"`}},
		"semicolons":       {"title;city\nConcert;Berlin\n", RuleEventsCSV, []string{"separated by semicolons", "comma delimited"}},
		"short row":        {"title,city,venue\nConcert,Berlin,Arena\nPlay,Köln\n", RuleEventsCSV, []string{"line 3", "the row has 2 fields; the header row has 3"}},
		"bare quote":       {"title,city\nCon\"cert,Berlin\n", RuleEventsCSV, []string{"line 2, column 4", "bare \""}},
		"header only":      {"title,city\n", RuleEventsNoRows, []string{"no events"}},
		"empty":            {"", RuleEventsHeader, []string{"no rows"}},
		"blank lines only": {"\n\n", RuleEventsHeader, []string{"no rows"}},
		"endless line":     {"title\n" + strings.Repeat("x", MaxEventsLineBytes+1), RuleEventsLine, []string{"line 2"}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := CheckEvents(strings.NewReader(c.content), "events.csv")
			wantRule(t, err, c.rule, c.fragments...)
		})
	}
}

// sized is a ReaderAt of size bytes that holds head at its start.
type sized struct {
	head []byte
	size int64
}

func (s sized) ReadAt(p []byte, off int64) (int, error) {
	return bytes.NewReader(s.head).ReadAt(p, off)
}

func TestSniffMedia(t *testing.T) {
	ftyp := func(major string, compatible ...string) []byte {
		b := []byte{0, 0, 0, byte(16 + 4*len(compatible))}
		b = append(b, "ftyp"+major+"\x00\x00\x02\x00"...)
		for _, c := range compatible {
			b = append(b, c...)
		}
		return append(b, make([]byte, 32)...)
	}
	for want, head := range map[string][]byte{
		"image/jpeg":       {0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, 'J', 'F', 'I', 'F'},
		"image/png":        []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"),
		"image/gif":        []byte("GIF89a\x01\x00\x01\x00"),
		"image/webp":       []byte("RIFF\x24\x00\x00\x00WEBPVP8 "),
		"image/avif":       ftyp("avif", "mif1", "miaf"),
		"image/heic":       ftyp("mif1", "heic"),
		"video/mp4":        ftyp("isom", "iso2", "avc1", "mp41"),
		"video/quicktime":  ftyp("qt  ", "qt  "),
		"video/3gpp":       ftyp("3gp5", "3gp5", "isom"),
		"video/webm":       []byte("\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\x82\x84webm"),
		"video/x-matroska": []byte("\x1a\x45\xdf\xa3\xa3\x42\x86\x81\x01\x42\x82\x88matroska"),
		"video/x-msvideo":  []byte("RIFF\x24\x00\x00\x00AVI LIST"),
	} {
		m, ok := SniffMedia(head)
		if !ok || m.ContentType != want || !strings.HasPrefix(want, m.Kind+"/") {
			t.Errorf("%s: got %+v, %v", want, m, ok)
		}
	}
	for name, head := range map[string][]byte{
		"audio m4a": ftyp("M4A ", "M4A ", "mp42", "isom")[:16],
		"text":      []byte("title,city\n"),
		"pdf":       []byte("%PDF-1.7\n"),
		"empty":     nil,
	} {
		if m, ok := SniffMedia(head); ok {
			t.Errorf("%s sniffed as %+v", name, m)
		}
	}
}

func TestCheckMedia(t *testing.T) {
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
	m, err := CheckMedia(sized{png, 1000}, 1000, "banner.png", "")
	if err != nil || m.ContentType != "image/png" || m.Kind != KindImage {
		t.Fatalf("%+v %v", m, err)
	}
	m, err = CheckMedia(sized{png, 1000}, 1000, "banner.png", "image/x-png")
	if err != nil || m.ContentType != "image/x-png" {
		t.Fatalf("declared image type: %+v %v", m, err)
	}
	_, err = CheckMedia(sized{png, 1000}, 1000, "banner.png", "video/mp4")
	wantRule(t, err, RuleMediaDeclared, `the declared content type is "video/mp4", but the content is an image (image/png)`)
	noTerraformNames(t, err)
	_, err = CheckMedia(sized{png, MaxMediaSize + 1}, MaxMediaSize+1, "banner.png", "")
	wantRule(t, err, RuleMediaSize, "banner.png: the file is 52428801 bytes")
	noTerraformNames(t, err)
	_, err = CheckMedia(sized{[]byte("not an image\n"), 13}, 13, "banner.png", "")
	wantRule(t, err, RuleMediaType, "banner.png: its content is not an image or a video", "it looks like text", "JPEG, PNG")
	_, err = CheckMedia(sized{[]byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj"), 20}, 20, "brief.pdf", "")
	wantRule(t, err, RuleMediaType, "application/pdf")
}

// The checker knows nothing of Terraform: its errors name no resource or
// argument (the provider adds those).
func noTerraformNames(t *testing.T, err error) {
	t.Helper()
	for _, name := range []string{"audience_", "content_type", "terraform", "apply"} {
		if err != nil && strings.Contains(strings.ToLower(err.Error()), name) {
			t.Errorf("%q names %q", err, name)
		}
	}
}

// Issue #27: a long field of non-ASCII text, read from a file, made the
// reader return nothing until the CSV reader gave up ("multiple Read calls
// return no data or error").
func TestCheckEventsLongNonASCIIField(t *testing.T) {
	line := strings.Repeat("a", 3900) + strings.Repeat("€", 300)
	path := filepath.Join(t.TempDir(), "e.csv")
	if err := os.WriteFile(path, []byte("title,city\n"+line+",Köln\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if n, err := CheckEvents(f, "e.csv"); n != 1 || err != nil {
		t.Fatalf("rows %d, err %v", n, err)
	}
}

// The events check answers the same whatever the cuts of the file's reads.
func TestCheckEventsSameWhateverTheCuts(t *testing.T) {
	long := strings.Repeat("a", 3900) + strings.Repeat("€", 300)
	for name, c := range map[string]struct {
		in   string
		rows int64
		rule string
	}{
		"issue 27":                  {"title,city\n" + long + ",Köln\n", 1, ""},
		"issue 27 with a bom":       {"\xEF\xBB\xBFtitle,city\r\n" + long + ",Köln\r\n" + long + ",\"" + long + "\"\r\n", 2, ""},
		"four-byte characters":      {"title\na" + strings.Repeat("😀", 1100) + "\n", 1, ""},
		"latin-1 after a long row":  {"title,city\n" + long + ",Köln\nPlay,K\xf6ln\n", 1, RuleEventsUTF8},
		"cut at the end":            {"title\n" + long + "\xe2\x82", 0, RuleEventsUTF8},
		"short row after non-ascii": {"title,city\n" + long + ",Köln\n" + long + "\n", 1, RuleEventsCSV},
		"bare quote after €":        {"title\n" + long + "\"x\n", 0, RuleEventsCSV},
	} {
		t.Run(name, func(t *testing.T) {
			rows, err := CheckEvents(strings.NewReader(c.in), "e.csv")
			if rows != c.rows || RuleOf(err) != c.rule || (err == nil) != (c.rule == "") {
				t.Fatalf("one whole read: rows %d, err %v; want %d, rule %q", rows, err, c.rows, c.rule)
			}
			for _, cut := range readtest.Cuts() {
				n, cerr := CheckEvents(cut.Wrap(strings.NewReader(c.in)), "e.csv")
				if n != rows || readtest.ErrText(cerr) != readtest.ErrText(err) {
					t.Fatalf("%s: rows %d, err %v; one whole read: %d, %v", cut.Name, n, cerr, rows, err)
				}
			}
		})
	}
}
