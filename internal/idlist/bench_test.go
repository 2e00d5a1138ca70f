package idlist

import (
	"bufio"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/audiencekit/terraform-provider-audience/internal/filestate"
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

// writeHexIDs writes size bytes of random 32-hex-digit IDs, one a line,
// as scripts/bench.sh does.
func writeHexIDs(b *testing.B, path string, size int64) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	rng := rand.New(rand.NewPCG(1, 2))
	const digits = "0123456789abcdef"
	line := make([]byte, 33)
	line[32] = '\n'
	for written := int64(0); written < size; written += 33 {
		for i := range 32 {
			line[i] = digits[rng.IntN(16)]
		}
		if _, err := w.Write(line[:min(33, size-written)]); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkFirstPass compares the plan's first pass over a new Mintegral
// list (MD5, fingerprint and content check) with its parts and with a
// plain MD5 of the same bytes, a list of 32-hex-digit IDs of a quarter of
// IDLIST_BENCH_BYTES (256 MiB by default; 1 GiB with
// IDLIST_BENCH_BYTES=$((4<<30))): go test ./internal/idlist -run '^$'
// -bench FirstPass -benchtime 3x. The pass should take about md5's time
// per byte; cpu-ns/byte shows the work of all its goroutines.
func BenchmarkFirstPass(b *testing.B) {
	size := benchSize(b) / 4
	p := filepath.Join(b.TempDir(), "ids.txt")
	writeHexIDs(b, p, size)
	read := func(w io.Writer) {
		f, err := os.Open(p)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		if _, err := io.CopyBuffer(w, struct{ io.Reader }{f}, make([]byte, 256<<10)); err != nil {
			b.Fatal(err)
		}
	}
	for _, bc := range []struct {
		name string
		run  func()
	}{
		{"md5", func() { read(md5.New()) }},
		{"sha256", func() { read(sha256.New()) }},
		{"check", func() {
			c := NewContentCheck(p, false, IDRule{})
			read(c)
			if _, err := c.Close(); err != nil {
				b.Fatal(err)
			}
		}},
		{"first-pass", func() {
			c := NewContentCheck(p, false, IDRule{})
			if _, err := filestate.Hash(p, true, c); err != nil {
				b.Fatal(err)
			}
			if _, err := c.Close(); err != nil {
				b.Fatal(err)
			}
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(size)
			cpu := cpuTime()
			for b.Loop() {
				bc.run()
			}
			perByte := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(b.N) / float64(size) }
			b.ReportMetric(perByte(b.Elapsed()), "ns/byte")
			// CPU time over all threads: on a busy machine the wall time
			// hides whether the sides ran in parallel.
			b.ReportMetric(perByte(cpuTime()-cpu), "cpu-ns/byte")
		})
	}
}

// cpuTime is the CPU time the process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
