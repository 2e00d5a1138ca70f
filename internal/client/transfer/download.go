package transfer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
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
	Retry Retry
}

// Downloaded describes a file written by Download.
type Downloaded struct {
	Path   string
	Size   int64
	SHA256 string // lowercase hex
}

// Download streams a GET response to disk, hashing it (sha256) and
// counting its size while writing, with progress logs. Transient failures
// (429, 5xx, transport errors) restart the download from the beginning.
func Download(ctx context.Context, hc *http.Client, log Logger, d DownloadRequest) (*Downloaded, error) {
	op := http.MethodGet + " " + RedactURL(d.URL)
	var res *Downloaded
	err := d.Retry.Do(ctx, log, op, func() (again bool, err error) {
		res, again, err = downloadOnce(ctx, hc, log, op, d)
		return again, err
	})
	return res, err
}

func downloadOnce(ctx context.Context, hc *http.Client, log Logger, op string, d DownloadRequest) (_ *Downloaded, retryable bool, _ error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.URL, nil)
	if err != nil {
		return nil, false, transportError(op, err)
	}
	for k, vs := range d.Header {
		req.Header[k] = vs
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, true, transportError(op, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, Transient(resp.StatusCode), storageError(op, resp)
	}

	tmp, err := os.CreateTemp(filepath.Dir(d.Path), "."+filepath.Base(d.Path)+".*.part")
	if err != nil {
		return nil, false, err
	}
	done := false
	defer func() {
		if !done {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()

	progress := NewProgress(ctx, log, d.Label, resp.ContentLength)
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), &countingReader{r: resp.Body, p: progress})
	if err != nil {
		// A body cut short (io.ErrUnexpectedEOF) is a transport failure
		// worth another try; a local write error is not.
		var pe *os.PathError
		return nil, !errors.As(err, &pe), fmt.Errorf("%s: after %d bytes: %w", op, n, stripURL(err))
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return nil, true, fmt.Errorf("%s: got %d bytes, Content-Length announced %d", op, n, resp.ContentLength)
	}
	if err := tmp.Sync(); err != nil {
		return nil, false, err
	}
	if err := tmp.Close(); err != nil {
		_ = os.Remove(tmp.Name())
		done = true
		return nil, false, err
	}
	if err := os.Rename(tmp.Name(), d.Path); err != nil {
		_ = os.Remove(tmp.Name())
		done = true
		return nil, false, err
	}
	done = true
	progress.Finish()
	return &Downloaded{Path: d.Path, Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, false, nil
}

// stripURL keeps a transport error's cause and drops the URL it may carry.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
