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
	Size    int64
	wantMD5 string
	f       *os.File
	h       hash.Hash
	read    int64
}

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
	return &File{Path: path, Size: st.Size(), wantMD5: wantMD5, f: f}, nil
}

// Close closes the file.
func (f *File) Close() error { return f.f.Close() }

// ReaderAt exposes the file for parallel part reads.
func (f *File) ReaderAt() io.ReaderAt { return f.f }

// Reader rewinds the file and returns a reader of exactly Size bytes that
// hashes what it reads and reports it to progress (may be nil). Each call
// starts a fresh pass, so a retried request resends the whole file.
func (f *File) Reader(progress *Progress) (io.Reader, error) {
	if _, err := f.f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	f.h = md5.New()
	f.read = 0
	return &countingReader{r: &exactReader{f: f}, p: progress}, nil
}

// exactReader yields exactly Size bytes of the file and hashes them; a file
// that shrank fails the read instead of sending a short body.
type exactReader struct{ f *File }

func (e *exactReader) Read(b []byte) (int, error) {
	left := e.f.Size - e.f.read
	if left <= 0 {
		return 0, io.EOF
	}
	if int64(len(b)) > left {
		b = b[:left]
	}
	n, err := e.f.f.Read(b)
	e.f.h.Write(b[:n])
	e.f.read += int64(n)
	if errors.Is(err, io.EOF) && e.f.read < e.f.Size {
		return n, fmt.Errorf("%s: %w (it is shorter than when the upload started)", e.f.Path, ErrContentChanged)
	}
	if errors.Is(err, io.EOF) {
		err = nil
	}
	return n, err
}

// SentMD5 is the md5 (lowercase hex) of the bytes read by the last full
// pass of Reader.
func (f *File) SentMD5() string {
	if f.h == nil {
		return ""
	}
	return hex.EncodeToString(f.h.Sum(nil))
}

// Verify confirms the last pass read the whole file and that its hash
// matches the plan's (when one was given).
func (f *File) Verify() error {
	if f.read != f.Size {
		return fmt.Errorf("%s: only %d of %d bytes were sent", f.Path, f.read, f.Size)
	}
	if f.wantMD5 != "" && f.SentMD5() != f.wantMD5 {
		return fmt.Errorf("%s: %w: planned md5 %s, uploaded md5 %s; run terraform apply again to plan the new content", f.Path, ErrContentChanged, f.wantMD5, f.SentMD5())
	}
	return nil
}

// HashFile streams a file once and returns its md5 (lowercase hex) and size.
func HashFile(path string) (md5hex string, size int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := md5.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}
