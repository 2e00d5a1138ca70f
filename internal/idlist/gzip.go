package idlist

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
)

// ErrCorruptGzip is the cause of an *Error about gzip content that ends
// early or does not inflate: a copy or download cut short, most often.
var ErrCorruptGzip = errors.New("the gzip file is truncated or corrupt")

const (
	gzipFix       = "Compress the file again with gzip, or fetch it again if a copy or download was cut short (gzip -t tests a file)"
	notGzipFix    = "Compress it with gzip or drop the .gz suffix"
	notGzipReason = "the content is not gzip, although the name ends in .gz"
)

// gunzip reads the gzip content of file from r. Its failures, opening
// included, are *Error naming file, so a truncated file is not reported
// as a bare "unexpected EOF".
type gunzip struct {
	zr   *gzip.Reader
	file string
}

func newGunzip(r io.Reader, file string) (*gunzip, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	// The magic number first: a short text file is not gzip, not a
	// truncated gzip header.
	magic, err := br.Peek(len(gzipMagic))
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	switch {
	case len(magic) == 0:
		return nil, corruptGzip(file, "it is empty")
	case !bytes.HasPrefix(gzipMagic, magic):
		return nil, &Error{File: file, Problem: notGzipReason, Fix: notGzipFix}
	}
	zr, err := gzip.NewReader(br)
	if errors.Is(err, gzip.ErrHeader) {
		return nil, corruptGzip(file, "its header is invalid")
	}
	if err != nil {
		return nil, gzipError(file, err)
	}
	return &gunzip{zr: zr, file: file}, nil
}

var gzipMagic = []byte{0x1f, 0x8b}

func (g *gunzip) Read(p []byte) (int, error) {
	n, err := g.zr.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		err = gzipError(g.file, err)
	}
	return n, err
}

// gzipError explains a failure of the gzip reader; other failures (of the
// file underneath) pass unchanged.
func gzipError(file string, err error) error {
	var corrupt flate.CorruptInputError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return corruptGzip(file, "it ends before its compressed data does")
	case errors.Is(err, gzip.ErrChecksum):
		return corruptGzip(file, "the checksum in its trailer does not match the content")
	case errors.Is(err, gzip.ErrHeader):
		return corruptGzip(file, "bytes after its compressed data are not gzip")
	case errors.As(err, &corrupt):
		return corruptGzip(file, fmt.Sprintf("invalid compressed data at byte %d", int64(corrupt)))
	}
	return err
}

func corruptGzip(file, detail string) *Error {
	return &Error{File: file, Problem: ErrCorruptGzip.Error() + " (" + detail + ")", Fix: gzipFix, Cause: ErrCorruptGzip}
}
