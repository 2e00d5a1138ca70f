package idlist

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// benchSize is the size of the generated export; IDLIST_BENCH_BYTES
// overrides the 1 GiB default.
func benchSize(b *testing.B) int64 {
	if s := os.Getenv("IDLIST_BENCH_BYTES"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			b.Fatal(err)
		}
		return n
	}
	return 1 << 30
}

// writeCRMExport writes a multi-column CSV shaped like a CRM export
// (quoted values included) of at least size bytes.
func writeCRMExport(b *testing.B, path string, size int64) int64 {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	n, _ := w.WriteString("_pid,email,first_name,last_name,city,occupation,age,vip,idfa,gaid\n")
	written := int64(n)
	for i := 0; written < size; i++ {
		idfa, gaid := "", ""
		id := fmt.Sprintf("%08X-%04X-4%03X-A%03X-%012X", i, i&0xffff, i&0xfff, (i>>3)&0xfff, i*7919)
		if i%3 == 0 {
			gaid = id
		} else {
			idfa = id
		}
		n, _ = fmt.Fprintf(w, "%d,user.%d@example.com,Anna,\"Ivanova, Jr\",Berlin,engineer,%d,%t,%s,%s\n", i+1, i, 18+i%60, i%5 == 0, idfa, gaid)
		written += int64(n)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return written
}

// BenchmarkExtractFile measures audience_id_list's work on a large
// multi-column export: read, pick idfa, check it is a UUID, write.
func BenchmarkExtractFile(b *testing.B) {
	dir := b.TempDir()
	src := filepath.Join(dir, "export.csv")
	size := writeCRMExport(b, src, benchSize(b))
	out := filepath.Join(dir, "idfa.txt")
	b.SetBytes(size)
	b.ReportAllocs()
	var res Result
	for b.Loop() {
		_ = os.Remove(out) // measure a full write every time
		var err error
		res, err = ExtractFile(context.Background(), src, out, Options{Column: "idfa", Case: CaseUpper, Format: FormatUUID})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(res.Entries), "entries")
}

// BenchmarkCheckOneColumn measures the Mintegral plan-time check.
func BenchmarkCheckOneColumn(b *testing.B) {
	dir := b.TempDir()
	src := filepath.Join(dir, "export.csv")
	size := writeCRMExport(b, src, benchSize(b)/4)
	out := filepath.Join(dir, "idfa.txt")
	if _, err := ExtractFile(context.Background(), src, out, Options{Column: "idfa"}); err != nil {
		b.Fatal(err)
	}
	st, err := os.Stat(out)
	if err != nil {
		b.Fatal(err)
	}
	_ = size
	b.SetBytes(st.Size())
	for b.Loop() {
		if _, err := CheckOneColumnFile(out, false); err != nil {
			b.Fatal(err)
		}
	}
}
