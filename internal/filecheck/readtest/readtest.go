// Package readtest cuts the reads of an input in the ways real readers cut
// them (a byte at a time, in halves, with the end of the file reported
// together with the last bytes, in small and irregular pieces), for tests
// that check a streaming checker answers the same whatever the cuts. It is
// used by tests only.
package readtest

import (
	"errors"
	"fmt"
	"io"
	"testing/iotest"
)

// Cut is one way of cutting the reads of an input.
type Cut struct {
	Name string
	Wrap func(io.Reader) io.Reader
}

// Cuts lists the ways of cutting reads: unchanged, the testing/iotest
// readers, and reads of at most 1 to 8 bytes or of irregular sizes.
func Cuts() []Cut {
	cuts := []Cut{
		{"whole", func(r io.Reader) io.Reader { return r }},
		{"half", iotest.HalfReader},
		{"data with EOF", iotest.DataErrReader},
		{"one byte, data with EOF", func(r io.Reader) io.Reader { return iotest.DataErrReader(iotest.OneByteReader(r)) }},
	}
	cuts = append(cuts, FewCuts()...)
	for n := 1; n <= 8; n++ {
		cuts = append(cuts, Cut{fmt.Sprintf("pieces of %d", n), func(r io.Reader) io.Reader { return &Pieces{R: r, Sizes: []int{n}} }})
	}
	return cuts
}

// FewCuts lists the cuts of Cuts that differ most (single bytes, halves
// with the end reported with the last bytes, irregular sizes), for fuzz
// targets: they run on many inputs and must stay fast.
func FewCuts() []Cut {
	return []Cut{
		{"one byte", iotest.OneByteReader},
		{"half, data with EOF", func(r io.Reader) io.Reader { return iotest.DataErrReader(iotest.HalfReader(r)) }},
		{"irregular", func(r io.Reader) io.Reader {
			return &Pieces{R: r, Sizes: []int{3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7}}
		}},
	}
}

// Pieces reads R in pieces of at most Sizes[0], Sizes[1], ... bytes,
// starting over at the end of Sizes.
type Pieces struct {
	R     io.Reader
	Sizes []int
	i     int
}

func (p *Pieces) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return p.R.Read(b)
	}
	n := min(len(b), p.Sizes[p.i%len(p.Sizes)])
	p.i++
	return p.R.Read(b[:n])
}

// CallerSizes are the sizes of the buffers ReadAll is called with by the
// tests: every size up to 8 bytes, where a cut character does not fit,
// and a large one.
var CallerSizes = []int{1, 2, 3, 4, 5, 6, 7, 8, 64 << 10}

// ReadAll reads r to its end through a buffer of size bytes, as a caller
// with a small buffer does, and returns what it read and the error that
// ended the reads (nil for io.EOF). Like bufio, it gives up with
// io.ErrNoProgress after 100 reads in a row that return nothing.
func ReadAll(r io.Reader, size int) ([]byte, error) {
	var out []byte
	buf := make([]byte, size)
	empty := 0
	for {
		n, err := r.Read(buf)
		out = append(out, buf[:n]...)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		if n > 0 {
			empty = 0
			continue
		}
		if empty++; empty == 100 {
			return out, io.ErrNoProgress
		}
	}
}

// ErrText is err's message, "" for nil, to compare two answers.
func ErrText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
