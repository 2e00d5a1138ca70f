package tpnspackage

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/audiencekit/terraform-provider-audience/internal/filecheck/readtest"
)

type zipItem struct {
	name    string
	content string
	method  uint16
}

func makeZip(t testing.TB, items ...zipItem) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, it := range items {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: it.name, Method: it.method})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, it.content); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// centralAt returns the offset of the first central directory record.
func centralAt(t testing.TB, z []byte) int {
	t.Helper()
	i := bytes.Index(z, []byte("PK\x01\x02"))
	if i < 0 {
		t.Fatal("no central directory record")
	}
	return i
}

func checkZipBytes(z []byte, typ Type) (Result, error) {
	return Check(bytes.NewReader(z), int64(len(z)), "pkg/accounts.zip", "accounts.zip", typ)
}

func TestCheckZip(t *testing.T) {
	many := make([]zipItem, 25)
	for i := range many {
		many[i] = zipItem{name: fmt.Sprintf("part%02d.txt", i), content: "ab\n"}
	}
	patch := func(items []zipItem, f func(z []byte, cd int)) []byte {
		z := makeZip(t, items...)
		f(z, centralAt(t, z))
		return z
	}
	one := []zipItem{{name: "list.txt", content: "alice\nbob\n", method: zip.Deflate}}
	tests := []struct {
		name    string
		zip     []byte
		typ     Type
		entries int64
		entry   string
		rule    string
		msg     string
	}{
		{name: "deflated txt", zip: makeZip(t, one...), entries: 2, entry: "list.txt"},
		{name: "stored csv", zip: makeZip(t, zipItem{name: "list.csv", content: "alice\n\"b,ob\"\n"}), entries: 2, entry: "list.csv"},
		{name: "token", typ: Token, zip: makeZip(t, zipItem{name: "t.txt", content: token(36) + "\n", method: zip.Deflate}), entries: 1, entry: "t.txt"},
		{name: "bad row inside", zip: makeZip(t, zipItem{name: "list.csv", content: "alice\nbob,2\n", method: zip.Deflate}), rule: RuleCSVColumns, entry: "list.csv", msg: "line 2"},
		{name: "empty entry", zip: makeZip(t, zipItem{name: "list.txt"}), rule: RuleNotEmpty, entry: "list.txt"},
		{name: "two files", zip: makeZip(t, zipItem{name: "a.txt", content: "ab\n"}, zipItem{name: "b.csv", content: "ab\n"}), rule: RuleZipLayout, msg: `2 entries ("a.txt", "b.csv")`},
		{name: "many files", zip: makeZip(t, many...), rule: RuleZipLayout, msg: `25 entries ("part00.txt"`},
		{name: "folder", zip: makeZip(t, zipItem{name: "dir/"}, zipItem{name: "dir/a.txt", content: "ab\n"}), rule: RuleZipLayout, entry: "dir/", msg: "folder"},
		{name: "file in folder", zip: makeZip(t, zipItem{name: "dir/a.txt", content: "ab\n"}), rule: RuleZipLayout, entry: "dir/a.txt", msg: "inside a folder"},
		{name: "not txt or csv", zip: makeZip(t, zipItem{name: "a.xlsx", content: "ab\n"}), rule: RuleZipLayout, entry: "a.xlsx"},
		{name: "nested zip", zip: makeZip(t, zipItem{name: "inner.zip", content: "PK"}), rule: RuleZipLayout, entry: "inner.zip"},
		{name: "no entries", zip: makeZip(t), rule: RuleZipLayout, msg: "no files"},
		{name: "not a zip", zip: []byte("alice\nbob\n"), rule: RuleZipFormat, msg: "not a zip"},
		{name: "truncated", zip: makeZip(t, one...)[:40], rule: RuleZipFormat},
		{name: "encrypted", zip: patch(one, func(z []byte, cd int) { z[cd+8] |= 1 }), rule: RuleZipFormat, entry: "list.txt", msg: "encrypted"},
		{name: "bzip2", zip: patch(one, func(z []byte, cd int) { binary.LittleEndian.PutUint16(z[cd+10:], 12) }), rule: RuleZipFormat, entry: "list.txt", msg: "method 12"},
		{name: "declared too big", zip: patch(one, func(z []byte, cd int) { binary.LittleEndian.PutUint32(z[cd+24:], MaxUncompressedSize+1) }), rule: RuleZipExpansion, entry: "list.txt"},
		{name: "expands past declared size", zip: patch(one, func(z []byte, cd int) { binary.LittleEndian.PutUint32(z[cd+24:], 4) }), rule: RuleZipFormat, entry: "list.txt", msg: "more than its declared 4 bytes"},
		{name: "shorter than declared", zip: patch(one, func(z []byte, cd int) { binary.LittleEndian.PutUint32(z[cd+24:], 100) }), rule: RuleZipFormat, entry: "list.txt", msg: "not its declared 100"},
		{name: "crc mismatch", zip: patch(one, func(z []byte, cd int) { z[cd+16] ^= 0xFF }), rule: RuleZipFormat, entry: "list.txt", msg: "CRC-32"},
		{name: "bad local offset", zip: patch(one, func(z []byte, cd int) { binary.LittleEndian.PutUint32(z[cd+42:], 1<<30) }), rule: RuleZipFormat, entry: "list.txt", msg: "out of bounds"},
		{name: "corrupt deflate", zip: patch(one, func(z []byte, cd int) {
			for i := 30 + len("list.txt"); i < cd; i++ {
				z[i] = 0xFF
			}
		}), rule: RuleZipFormat, entry: "list.txt"},
		{name: "zip64", zip: zip64(t, "list.txt", "alice\nbob\ncarol\n"), entries: 3, entry: "list.txt"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			typ := tc.typ
			if typ == "" {
				typ = Account
			}
			res, err := checkZipBytes(tc.zip, typ)
			if tc.rule == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if res.Entries != tc.entries || res.Entry != tc.entry || res.Format != "zip" {
					t.Fatalf("result = %+v, want %d entries in %q", res, tc.entries, tc.entry)
				}
				return
			}
			if RuleOf(err) != tc.rule {
				t.Fatalf("err = %v, want rule %q", err, tc.rule)
			}
			if e := err.(*Error); e.Entry != tc.entry {
				t.Fatalf("entry = %q, want %q (%v)", e.Entry, tc.entry, err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "pkg/accounts.zip") || !strings.Contains(msg, tc.msg) {
				t.Fatalf("error %q should name the file and contain %q", msg, tc.msg)
			}
			if tc.entry != "" && !strings.Contains(msg, fmt.Sprintf("zip entry %q", tc.entry)) {
				t.Fatalf("error %q should name the zip entry", msg)
			}
		})
	}
}

// zip64 builds a one-entry archive that uses every zip64 record (as tools
// do for big files or when streaming), so sizes and offsets come from the
// zip64 extra field and the zip64 end record.
func zip64(t testing.TB, name, content string) []byte {
	t.Helper()
	le := binary.LittleEndian
	var b bytes.Buffer
	w := func(v ...any) {
		for _, x := range v {
			if err := binary.Write(&b, le, x); err != nil {
				t.Fatal(err)
			}
		}
	}
	crc := crc32.ChecksumIEEE([]byte(content))
	size := uint64(len(content))
	// Local header with zip64 extra (uncompressed, compressed).
	w(uint32(sigLocal), uint16(45), uint16(0), uint16(methodStore), uint16(0), uint16(0), crc, uint32(0xFFFFFFFF), uint32(0xFFFFFFFF), uint16(len(name)), uint16(20))
	b.WriteString(name)
	w(uint16(1), uint16(16), size, size)
	b.WriteString(content)
	cdStart := b.Len()
	w(uint32(sigCentral), uint16(3<<8|45), uint16(45), uint16(0), uint16(methodStore), uint16(0), uint16(0), crc,
		uint32(0xFFFFFFFF), uint32(0xFFFFFFFF), uint16(len(name)), uint16(28), uint16(0), uint16(0), uint16(0), uint32(0o100644<<16), uint32(0xFFFFFFFF))
	b.WriteString(name)
	w(uint16(1), uint16(24), size, size, uint64(0))
	cdLen := b.Len() - cdStart
	rec := b.Len()
	w(uint32(sigZip64EOCD), uint64(44), uint16(45), uint16(45), uint32(0), uint32(0), uint64(1), uint64(1), uint64(cdLen), uint64(cdStart))
	w(uint32(sigZip64Locate), uint32(0), uint64(rec), uint32(1))
	w(uint32(sigEOCD), uint16(0), uint16(0), uint16(0xFFFF), uint16(0xFFFF), uint32(0xFFFFFFFF), uint32(0xFFFFFFFF), uint16(0))
	// The hand-made archive must be one that archive/zip agrees with.
	zr, err := zip.NewReader(bytes.NewReader(b.Bytes()), int64(b.Len()))
	if err != nil || len(zr.File) != 1 || zr.File[0].UncompressedSize64 != size {
		t.Fatalf("zip64 fixture is not a valid zip: %v", err)
	}
	return b.Bytes()
}

// TestZipBoundedMemory shows that neither a big entry nor a big directory
// is held in memory.
func TestZipBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 64 MiB entry")
	}
	row := strings.Repeat("a", 99) + "\n"
	const rows = 64 << 20 / 100
	var body bytes.Buffer
	zw := zip.NewWriter(&body)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "big.txt", Method: zip.Deflate})
	if err != nil {
		t.Fatal(err)
	}
	for range rows {
		io.WriteString(w, row)
	}
	zw.Close()
	big := body.Bytes()

	entries := make([]zipItem, 20000)
	for i := range entries {
		entries[i] = zipItem{name: fmt.Sprintf("f%05d.txt", i), content: "ab\n"}
	}
	wide := makeZip(t, entries...)

	measure := func(z []byte) (uint64, Result, error) {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		res, err := checkZipBytes(z, Account)
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc, res, err
	}
	alloc, res, err := measure(big)
	t.Logf("big entry: %d bytes allocated", alloc)
	if err != nil || res.Entries != rows {
		t.Fatalf("big entry: %+v, %v", res, err)
	}
	if alloc > 1<<20 {
		t.Errorf("checking a %d-byte entry allocated %d bytes; want under 1 MiB", rows*100, alloc)
	}
	alloc, _, err = measure(wide)
	t.Logf("wide zip: %d bytes allocated", alloc)
	if RuleOf(err) != RuleZipLayout || !strings.Contains(err.Error(), "20000 entries") {
		t.Fatalf("wide zip: %v", err)
	}
	if alloc > 1<<20 {
		t.Errorf("checking a %d-entry zip allocated %d bytes; want under 1 MiB", len(entries), alloc)
	}
}

// A classic bomb: a small file that inflates far beyond what it declares.
func TestZipBomb(t *testing.T) {
	var comp bytes.Buffer
	fw, _ := flate.NewWriter(&comp, flate.BestCompression)
	rows := bytes.Repeat([]byte("ab\n"), 1<<20)
	for range 64 {
		fw.Write(rows) // 192 MiB of valid rows
	}
	fw.Close()
	z := makeZip(t, zipItem{name: "bomb.txt", content: "placeholder\n"})
	// Swap in the bomb's data, declaring it as 1 KiB.
	cd := centralAt(t, z)
	local := z[:30+len("bomb.txt")]
	binary.LittleEndian.PutUint16(local[8:], methodDeflate)
	var out bytes.Buffer
	out.Write(local)
	out.Write(comp.Bytes())
	newCD := out.Len()
	rest := append([]byte(nil), z[cd:]...)
	binary.LittleEndian.PutUint16(rest[8:], 0) // no data descriptor follows
	binary.LittleEndian.PutUint16(rest[10:], methodDeflate)
	binary.LittleEndian.PutUint32(rest[20:], uint32(comp.Len()))
	binary.LittleEndian.PutUint32(rest[24:], 1024)
	eocd := bytes.LastIndex(rest, []byte("PK\x05\x06"))
	binary.LittleEndian.PutUint32(rest[eocd+16:], uint32(newCD))
	out.Write(rest)
	_, err := checkZipBytes(out.Bytes(), Account)
	// The read stops one byte past the declared size.
	if RuleOf(err) != RuleZipFormat || !strings.Contains(err.Error(), "more than its declared 1024 bytes") {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(err.Error(), `zip entry "bomb.txt"`) {
		t.Fatalf("error %q should name the entry", err)
	}
}

// An entry's bytes, and the error after them, are the same whatever the
// size of the reads of its data and of the reader's caller: before the
// fix, an entry longer than declared handed on the declared bytes through
// a small buffer and none through a large one.
func TestCheckedReaderSameWhateverTheCuts(t *testing.T) {
	content := []byte(strings.Repeat("alice\nbob\nKöln\n", 40))
	deflated := func(b []byte) []byte {
		var out bytes.Buffer
		fw, _ := flate.NewWriter(&out, flate.BestCompression)
		fw.Write(b)
		fw.Close()
		return out.Bytes()
	}(content)
	invalidBlock := []byte{0x07} // a final block of the reserved type 3
	crc := crc32.ChecksumIEEE(content)
	n := uint64(len(content))
	for name, c := range map[string]struct {
		data    []byte
		deflate bool
		want    uint64
		crc     uint32
		out     []byte
		err     string
	}{
		"stored":                         {data: content, want: n, crc: crc, out: content},
		"empty":                          {want: 0, crc: 0, out: nil},
		"stored, longer than declared":   {data: content, want: 100, crc: crc, out: content[:100], err: "the entry holds more than its declared 100 bytes"},
		"stored, shorter than declared":  {data: content, want: n + 5, crc: crc, out: content, err: fmt.Sprintf("the entry holds %d bytes, not its declared %d", n, n+5)},
		"stored, bad crc":                {data: content, want: n, crc: crc + 1, out: content, err: "the entry's CRC-32 does not match its content"},
		"deflated":                       {data: deflated, deflate: true, want: n, crc: crc, out: content},
		"deflated, longer than declared": {data: deflated, deflate: true, want: 333, crc: crc, out: content[:333], err: "the entry holds more than its declared 333 bytes"},
		"deflated, cut short":            {data: deflated[:len(deflated)/2], deflate: true, want: n, crc: crc, err: "the entry cannot be decompressed: unexpected EOF"},
		"deflated, invalid block":        {data: invalidBlock, deflate: true, want: n, crc: crc, err: "the entry cannot be decompressed: flate: corrupt input before offset"},
	} {
		t.Run(name, func(t *testing.T) {
			read := func(cut func(io.Reader) io.Reader, size int) ([]byte, error) {
				r := cut(bytes.NewReader(c.data))
				if c.deflate {
					r = flate.NewReader(r)
				}
				return readtest.ReadAll(&checkedReader{r: r, want: c.want, crc: c.crc, h: crc32.NewIEEE()}, size)
			}
			whole, wholeErr := read(func(r io.Reader) io.Reader { return r }, 64<<10)
			if c.out != nil && !bytes.Equal(whole, c.out) || !strings.HasPrefix(readtest.ErrText(wholeErr), c.err) || (c.err == "") != (wholeErr == nil) {
				t.Fatalf("one whole read: %d bytes, %v; want %d bytes, %q", len(whole), wholeErr, len(c.out), c.err)
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

// After its error, the reader keeps returning it and nothing else.
func TestCheckedReaderErrorSticks(t *testing.T) {
	cr := &checkedReader{r: strings.NewReader("alice\nbob\n"), want: 3, h: crc32.NewIEEE()}
	buf := make([]byte, 64)
	if n, err := cr.Read(buf); n != 3 || err == nil {
		t.Fatalf("first read: %d, %v", n, err)
	}
	if n, err := cr.Read(buf); n != 0 || !strings.Contains(readtest.ErrText(err), "more than its declared 3 bytes") {
		t.Fatalf("read after the error: %d, %v", n, err)
	}
}
