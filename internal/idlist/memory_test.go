package idlist

import (
	"context"
	"io"
	"runtime"
	"strings"
	"testing"
)

// allocatedBy returns the bytes f allocates on the heap in total.
func allocatedBy(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// 64 MiB of input cost the same few buffers as a small file: memory does
// not grow with the input.
func TestMemoryIsFlat(t *testing.T) {
	const input = 64 << 20
	const budget = 4 << 20
	row := []byte("700005,greta.smirnova.700005@example.com,\"Smirnova, Greta\",FA8D2870-04CF-427E-A1BB-5BCA8425E674\n")
	extract := func() {
		rows := int64(input / len(row))
		src := io.MultiReader(strings.NewReader("_pid,email,name,idfa\n"), &repeatReader{line: row, left: rows * int64(len(row))})
		res, err := Extract(context.Background(), src, "big.csv", io.Discard, Options{Column: "idfa", Case: CaseLower, Format: FormatUUID, Hash: HashMD5})
		if err != nil || res.Entries != rows {
			t.Fatalf("entries %d, err %v", res.Entries, err)
		}
	}
	if n := allocatedBy(extract); n > budget {
		t.Errorf("Extract allocated %d bytes over %d MiB of input, want at most %d", n, input>>20, budget)
	}
	check := func() {
		if _, err := CheckOneColumn(&repeatReader{line: []byte("FA8D2870-04CF-427E-A1BB-5BCA8425E674\n"), left: 37 * (input / 37)}, "big.txt"); err != nil {
			t.Fatal(err)
		}
	}
	if n := allocatedBy(check); n > budget {
		t.Errorf("CheckOneColumn allocated %d bytes over %d MiB of input, want at most %d", n, input>>20, budget)
	}
}
