package fdfiles

import (
	"errors"
	"io"
)

// holdBackSize is the buffer of a holdReader: large enough that the few
// held-back bytes leave room for a useful read behind them.
const holdBackSize = 4 << 10

// holdReader hands on the bytes of r once check has accepted them. check
// is called with the bytes it has not accepted yet (first those it held
// back last time, then the bytes just read) and returns how many of them,
// from the start, it accepts, and the problem found right after them, if
// any. It may hold back a few bytes at the end that it cannot judge yet (a
// character cut by the end of a read), fewer than holdBackSize; at the end
// of the input (atEOF) it accepts all or reports a problem.
//
// The held-back bytes stay in holdReader's own buffer, so whatever the
// size of r's reads and of the caller's buffer, even a single byte, the
// caller gets the same bytes and then the same error as from one whole
// read, and every read that returns no error hands on at least one byte
// (unless r itself returned nothing).
type holdReader struct {
	r     io.Reader
	check func(b []byte, atEOF bool) (int, error)
	buf   []byte
	// buf[off:ok] is accepted and not yet handed on; buf[ok:end] is held back.
	off, ok, end int
	err          error // what comes after buf[off:ok]: a problem, a read error or io.EOF
}

func newHoldReader(r io.Reader, check func(b []byte, atEOF bool) (int, error)) *holdReader {
	return &holdReader{r: r, check: check, buf: make([]byte, holdBackSize)}
}

func (h *holdReader) Read(p []byte) (int, error) {
	for h.off == h.ok {
		if h.err != nil {
			return 0, h.err
		}
		if len(p) == 0 || !h.fill() {
			return 0, nil
		}
	}
	n := copy(p, h.buf[h.off:h.ok])
	h.off += n
	return n, nil
}

// errHeldTooMuch breaks holdReader's contract: check held back a whole
// buffer. The checks here hold back less than a character.
var errHeldTooMuch = errors.New("the check held back more bytes than its reader buffers")

// fill reads once behind the held-back bytes and lets check judge them all.
// It returns false when r returned nothing and no error.
func (h *holdReader) fill() bool {
	held := copy(h.buf, h.buf[h.ok:h.end])
	h.off, h.ok, h.end = 0, 0, held
	if held == len(h.buf) {
		h.err = errHeldTooMuch
		return true
	}
	n, err := h.r.Read(h.buf[held:])
	if n == 0 && err == nil {
		return false
	}
	h.end += n
	eof := errors.Is(err, io.EOF)
	good, problem := h.check(h.buf[:h.end], eof)
	h.ok = good
	switch {
	case problem != nil:
		h.err = problem
	case err != nil:
		// At the end check accepted everything; after a failed read, the
		// bytes held back are lost with the rest of the file.
		h.err = err
	}
	return true
}
