package transfer

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
)

// ErrContentChanged means the file's bytes differ from those hashed at
// plan time: it changed between plan and apply.
var ErrContentChanged = errors.New("file content changed since plan")

// File is a local file opened for upload. Its size is fixed when opened,
// and its md5 is computed while it is sent, so the upload itself proves the
// bytes match the plan without a second read.
type File struct {
	Path    string
	Size    int64 // bytes an upload sends: the whole file, or its ranges' total
	wantMD5 string
	f       *os.File
	h       hash.Hash
	read    int64
	// ranges, when set, are the only bytes sent, one after another (see
	// OpenFileRanges); pass reads the current pass.
	ranges []Range
	pass   io.Reader
}

// Range is a section of a file: Length bytes from Offset.
type Range struct{ Offset, Length int64 }

// OpenFile opens path for upload. wantMD5 (lowercase hex, may be empty) is
// the hash recorded at plan time.
func OpenFile(path, wantMD5 string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	if !st.Mode().IsRegular() {
		_ = f.Close()
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	file := &File{Path: path, Size: st.Size(), wantMD5: wantMD5, f: f, h: md5.New()}
	if file.Size == 0 && wantMD5 != "" && file.SentMD5() != wantMD5 {
		_ = f.Close()
		return nil, fmt.Errorf("%s: %w: it is empty now; run the plan again to see the new content", path, ErrContentChanged)
	}
	return file, nil
}

// OpenFileRanges opens path for an upload of some of its bytes: the
// ranges, one after another, as one body of their total length (a CSV's
// header row followed by the rows a platform does not hold yet). fileSize
// is the size the whole file had when the ranges were chosen: another
// size means it changed. wantMD5 (lowercase hex, may be empty) is the md5
// of the body, which is checked as it is sent, like a whole file's. Such a
// File is for single-request bodies (FormPost), not multipart parts.
func OpenFileRanges(path string, fileSize int64, wantMD5 string, ranges ...Range) (*File, error) {
	file, err := OpenFile(path, "")
	if err != nil {
		return nil, err
	}
	if file.Size != fileSize {
		_ = file.Close()
		return nil, fmt.Errorf("%s: %w: it holds %d bytes, %d were planned; run the plan again to see the new content", path, ErrContentChanged, file.Size, fileSize)
	}
	var total int64
	for _, r := range ranges {
		if r.Offset < 0 || r.Length < 0 || r.Offset+r.Length > fileSize {
			_ = file.Close()
			return nil, fmt.Errorf("%s: bytes %d to %d are not within its %d bytes", path, r.Offset, r.Offset+r.Length, fileSize)
		}
		total += r.Length
	}
	file.Size, file.wantMD5, file.ranges = total, wantMD5, ranges
	return file, nil
}

// Close closes the file.
func (f *File) Close() error { return f.f.Close() }

// ReaderAt exposes the file for parallel part reads.
func (f *File) ReaderAt() io.ReaderAt { return f.f }

// Reader rewinds the file and returns a reader of exactly Size bytes that
// hashes what it reads and reports it to progress (may be nil). Each call
// starts a fresh pass, so a retried request resends the whole file.
func (f *File) Reader(progress *Progress) (io.Reader, error) {
	if f.ranges == nil {
		if _, err := f.f.Seek(0, io.SeekStart); err != nil {
			return nil, err
		}
		f.pass = f.f
	} else {
		sections := make([]io.Reader, len(f.ranges))
		for i, r := range f.ranges {
			sections[i] = io.NewSectionReader(f.f, r.Offset, r.Length)
		}
		f.pass = io.MultiReader(sections...)
	}
	f.h = md5.New()
	f.read = 0
	return &countingReader{r: &exactReader{f: f}, p: progress}, nil
}

// exactReader yields exactly Size bytes of the file and hashes them; a file
// that shrank fails the read instead of sending a short body. When the
// planned md5 is known, the last byte is held back until the hash of the
// whole pass matches it: a file edited during the upload never completes
// the body, so the server never stores mismatched content. (Without a
// planned md5 there is nothing to compare; Verify can only check the size.)
type exactReader struct{ f *File }

func (e *exactReader) Read(b []byte) (int, error) {
	left := e.f.Size - e.f.read
	if left <= 0 {
		return 0, io.EOF
	}
	if int64(len(b)) > left {
		b = b[:left]
	}
	if e.f.wantMD5 != "" && left > 1 && int64(len(b)) == left {
		b = b[:left-1] // the last byte goes alone, after the check
	}
	n, err := e.f.pass.Read(b)
	e.f.h.Write(b[:n])
	e.f.read += int64(n)
	if errors.Is(err, io.EOF) && e.f.read < e.f.Size {
		return n, fmt.Errorf("%s: %w (it is shorter than when the upload started)", e.f.Path, ErrContentChanged)
	}
	if errors.Is(err, io.EOF) {
		err = nil
	}
	if e.f.read == e.f.Size && e.f.wantMD5 != "" && e.f.SentMD5() != e.f.wantMD5 {
		e.f.read -= int64(n) // withheld: this pass never completes
		return 0, fmt.Errorf("%s: %w: planned md5 %s, the file now hashes to %s; plan again to upload the new content", e.f.Path, ErrContentChanged, e.f.wantMD5, e.f.SentMD5())
	}
	return n, err
}

// SentMD5 is the md5 (lowercase hex) of the bytes read by the last full
// pass of Reader.
func (f *File) SentMD5() string { return hex.EncodeToString(f.h.Sum(nil)) }

// Verify confirms the last pass read the whole file and that its hash
// matches the plan's (when one was given).
func (f *File) Verify() error {
	if f.read != f.Size {
		return fmt.Errorf("%s: only %d of %d bytes were sent", f.Path, f.read, f.Size)
	}
	if f.wantMD5 != "" && f.SentMD5() != f.wantMD5 {
		return fmt.Errorf("%s: %w: planned md5 %s, uploaded md5 %s; plan again to upload the new content", f.Path, ErrContentChanged, f.wantMD5, f.SentMD5())
	}
	return nil
}
