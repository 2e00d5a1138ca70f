package transfer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// DownloadRequest fetches one URL into a file.
type DownloadRequest struct {
	URL string // may carry a token in its query; never logged or returned in errors
	// Header is sent as is (e.g. Authorization). Go's client drops it on a
	// redirect to another host.
	Header http.Header
	// Path is the final file. The body is written to a temporary file in
	// the same directory and renamed over Path only once it is complete, so
	// a failed download never leaves a partial file under this name. The
	// file is readable by its owner only (0600): downloads such as profile
	// exports hold personal data.
	Path  string
	Label string // names the transfer in progress logs
}

// Downloaded describes a file written by Download.
type Downloaded struct {
	Path   string
	Size   int64
	SHA256 string // lowercase hex
	// Modified is the answer's Last-Modified, on the server's clock; zero
	// when it sent none.
	Modified time.Time
}

// Download streams a GET response to disk, hashing it (sha256) and
// counting its size while writing, with progress logs. A body cut short
// is a broken connection: the retry policy starts the download again.
func (p *Platform) Download(ctx context.Context, d DownloadRequest) (*Downloaded, error) {
	ex := &exchange{service: serviceStorage, repeatable: true}
	var res *Downloaded
	ex.handle = func(resp *http.Response) error {
		if resp.StatusCode != http.StatusOK {
			return nil // statusError reads it below
		}
		defer resp.Body.Close()
		var err error
		res, err = p.saveBody(ctx, d, resp)
		return err
	}
	resp, err := p.exchange(ctx, ex, http.MethodGet, d.URL, d.Header, nil, 0)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, p.statusError(ex, resp)
	}
	return res, nil
}

// saveBody writes one answer's body to a temporary file and renames it
// into place once complete. A local failure is a localError, which the
// retry policy does not retry.
func (p *Platform) saveBody(ctx context.Context, d DownloadRequest, resp *http.Response) (_ *Downloaded, err error) {
	tmp, err := os.CreateTemp(filepath.Dir(d.Path), "."+filepath.Base(d.Path)+".*.part")
	if err != nil {
		return nil, &localError{err}
	}
	done := false
	defer func() {
		if !done {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	progress := NewProgress(ctx, p.log, d.Label, resp.ContentLength)
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(&localWriter{tmp}, h), &countingReader{r: resp.Body, p: progress})
	if err != nil {
		var le *localError
		if errors.As(err, &le) {
			return nil, err
		}
		return nil, fmt.Errorf("after %d bytes: %w", n, stripURL(err))
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return nil, fmt.Errorf("got %d bytes, Content-Length announced %d: %w", n, resp.ContentLength, io.ErrUnexpectedEOF)
	}
	if err := tmp.Sync(); err != nil {
		return nil, &localError{err}
	}
	done = true
	if err := tmp.Close(); err != nil {
		_ = os.Remove(tmp.Name())
		return nil, &localError{err}
	}
	if err := os.Rename(tmp.Name(), d.Path); err != nil {
		_ = os.Remove(tmp.Name())
		return nil, &localError{err}
	}
	progress.Finish()
	modified, _ := http.ParseTime(resp.Header.Get("Last-Modified"))
	return &Downloaded{Path: d.Path, Size: n, SHA256: hex.EncodeToString(h.Sum(nil)), Modified: modified}, nil
}

// localError is a failure on this machine (disk full, permissions):
// downloading again would not help.
type localError struct{ err error }

func (e *localError) Error() string { return e.err.Error() }
func (e *localError) Unwrap() error { return e.err }

type localWriter struct{ f *os.File }

func (w *localWriter) Write(b []byte) (int, error) {
	n, err := w.f.Write(b)
	if err != nil {
		err = &localError{err}
	}
	return n, err
}
