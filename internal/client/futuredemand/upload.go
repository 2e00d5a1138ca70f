package futuredemand

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/audiencekit/terraform-provider-audience/internal/client/transfer"
)

// Upload methods, as recorded in state.
const (
	MethodPresigned = "presigned"
	MethodMultipart = "multipart"
)

// Defaults and limits of an upload.
const (
	DefaultMultipartThreshold int64 = 50 << 20
	DefaultPartSize           int64 = 16 << 20
	DefaultConcurrency              = 4
	MinPartSize                     = transfer.MinPartSize
	MaxPartSize                     = transfer.MaxPartSize
	MaxPartCount                    = transfer.MaxPartCount
	// MaxSinglePutSize is S3's limit for one PUT.
	MaxSinglePutSize int64 = 5 << 30
	// MaxFileSize is S3's object limit.
	MaxFileSize int64 = 5 << 40
)

// UploadRequest describes one file upload to Future Demand storage.
type UploadRequest struct {
	Path       string // local file
	FileName   string // name sent to the API
	UploadType string // X-Upload-Type; default audience_csv
	// FileMD5 is the md5 (lowercase hex) recorded at plan time; the upload
	// fails if the bytes sent hash differently.
	FileMD5 string
	// Files larger than MultipartThreshold go by multipart, in parts of
	// PartSize, Concurrency at a time.
	MultipartThreshold int64
	PartSize           int64
	Concurrency        int
}

// UploadResult is the outcome of an upload.
type UploadResult struct {
	ObjectKey string
	Method    string // MethodPresigned or MethodMultipart
	FileMD5   string
	FileSize  int64
	Parts     int
}

// AbortedError is a multipart upload that failed and was aborted (or
// whose abort failed too, or found it gone).
type AbortedError struct {
	UploadID  string
	ObjectKey string
	Err       error // why the upload failed
	AbortErr  error // nil when the abort succeeded or found the upload gone
	// Gone: the abort found no such upload after a complete that may have
	// acted, so the object may be stored. ByAbort: an abort attempt whose
	// answer was lost may have discarded it instead.
	Gone, ByAbort bool
}

func (e *AbortedError) Error() string {
	switch {
	case e.AbortErr != nil:
		return fmt.Sprintf("%v; aborting multipart upload %s with DELETE %s failed too: %v; its parts may use storage until the bucket's lifecycle rules remove them", e.Err, e.UploadID, pathMultipart, e.AbortErr)
	case e.Gone && e.ByAbort:
		return fmt.Sprintf("%v; the multipart upload %s is gone (DELETE %s answered 404): an earlier complete attempt may have stored it as object_key %s, or an earlier abort attempt discarded it, and the API has no call to tell which", e.Err, e.UploadID, pathMultipart, e.ObjectKey)
	case e.Gone:
		return fmt.Sprintf("%v; the multipart upload %s is gone (DELETE %s answered 404): an earlier complete attempt whose answer was lost most likely stored it as object_key %s, which the API has no call to confirm", e.Err, e.UploadID, pathMultipart, e.ObjectKey)
	}
	return fmt.Sprintf("%v; the multipart upload %s was aborted (DELETE %s) and its parts discarded", e.Err, e.UploadID, pathMultipart)
}

func (e *AbortedError) Unwrap() error { return e.Err }

// UnconfirmedError is a multipart upload whose complete was answered 404
// after an attempt whose answer was lost: completing the upload is what
// makes the API forget it, so the object is most likely stored, but the
// API offers no call to look it up. The upload is not aborted: there is
// nothing left to abort.
type UnconfirmedError struct {
	UploadID  string
	ObjectKey string
	Err       error // the complete's 404
}

func (e *UnconfirmedError) Error() string {
	return fmt.Sprintf("%v; an earlier attempt of this complete was sent and its answer lost, and completing is what removes an upload, so object_key %s is most likely stored, but the API has no call to confirm it; nothing was aborted", e.Err, e.ObjectKey)
}

func (e *UnconfirmedError) Unwrap() error { return e.Err }

// ChooseMethod says how a file of size bytes is uploaded.
func ChooseMethod(size, threshold int64) string {
	if size > threshold {
		return MethodMultipart
	}
	return MethodPresigned
}

// CheckSizes validates the sizes of an upload, as far as they can be
// checked locally, so a plan fails before any request.
func CheckSizes(size, threshold, partSize int64) error {
	switch {
	case threshold > MaxSinglePutSize:
		return fmt.Errorf("multipart_threshold %d is above S3's %d-byte limit for a single PUT", threshold, MaxSinglePutSize)
	case size > MaxFileSize:
		return fmt.Errorf("the file has %d bytes; S3 objects are at most %d bytes", size, MaxFileSize)
	}
	if ChooseMethod(size, threshold) == MethodPresigned {
		return nil
	}
	switch {
	case partSize < MinPartSize || partSize > MaxPartSize:
		return fmt.Errorf("part_size %d must be between %d (5 MiB) and %d (5 GiB) bytes", partSize, MinPartSize, int64(MaxPartSize))
	case transfer.PartCount(size, partSize) > MaxPartCount:
		need := (size + MaxPartCount - 1) / MaxPartCount
		return fmt.Errorf("a file of %d bytes in parts of %d bytes needs %d parts; S3 allows %d: set part_size to at least %d", size, partSize, transfer.PartCount(size, partSize), MaxPartCount, need)
	}
	return nil
}

// Upload sends a file to Future Demand storage: one presigned PUT up to
// MultipartThreshold, presigned multipart above it.
func (c *Client) Upload(ctx context.Context, r UploadRequest) (*UploadResult, error) {
	if r.UploadType == "" {
		r.UploadType = DefaultUploadType
	}
	if r.MultipartThreshold <= 0 {
		r.MultipartThreshold = DefaultMultipartThreshold
	}
	if r.PartSize <= 0 {
		r.PartSize = DefaultPartSize
	}
	if r.Concurrency <= 0 {
		r.Concurrency = DefaultConcurrency
	}
	file, err := transfer.OpenFile(r.Path, r.FileMD5)
	if err != nil {
		return nil, err
	}
	defer func() { _ = file.Close() }()
	if err := CheckSizes(file.Size, r.MultipartThreshold, r.PartSize); err != nil {
		return nil, fmt.Errorf("%s: %w", r.Path, err)
	}
	if ChooseMethod(file.Size, r.MultipartThreshold) == MethodMultipart {
		return c.uploadMultipart(ctx, r, file)
	}
	return c.uploadPresigned(ctx, r, file)
}

func (c *Client) uploadPresigned(ctx context.Context, r UploadRequest, file *transfer.File) (*UploadResult, error) {
	var info presignedURLResponse
	// A second copy is a URL for another key, which nobody uses.
	if err := c.call(ctx, http.MethodPost, pathPresignedURL, r.UploadType, transfer.DuplicateHarmless, presignedURLRequest{FileName: r.FileName, ContentType: storageContentTyp}, &info); err != nil {
		return nil, err
	}
	// The URL is presigned: only Content-Type and the body, never the
	// Bearer token or the partner header.
	_, err := c.http.Put(ctx, transfer.PutRequest{
		URL:    info.URL,
		Header: http.Header{"Content-Type": {storageContentTyp}},
		File:   file,
		Label:  "Future Demand upload of " + r.FileName,
	})
	if err != nil {
		if verr := file.Verify(); errors.Is(verr, transfer.ErrContentChanged) {
			return nil, verr
		}
		return nil, err
	}
	if err := file.Verify(); err != nil {
		return nil, err
	}
	return &UploadResult{ObjectKey: info.ObjectKey, Method: MethodPresigned, FileMD5: file.SentMD5(), FileSize: file.Size, Parts: 1}, nil
}

func (c *Client) uploadMultipart(ctx context.Context, r UploadRequest, file *transfer.File) (*UploadResult, error) {
	count := transfer.PartCount(file.Size, r.PartSize)
	var up multipartCreateResponse
	// A second copy is an upload session that holds no parts, which the
	// bucket's lifecycle rules clear.
	err := c.call(ctx, http.MethodPost, pathMultipart, r.UploadType, transfer.DuplicateHarmless, multipartCreateRequest{
		FileName: r.FileName, FileSize: file.Size, PartSize: r.PartSize, PartCount: count,
	}, &up)
	if err != nil {
		return nil, err
	}
	log := c.http.Log()
	log.Info(ctx, "started Future Demand multipart upload", map[string]any{"upload_id": up.UploadID, "object_key": up.ObjectKey, "parts": count, "part_size": r.PartSize, "concurrency": r.Concurrency})

	urls := make([]transfer.PartURL, len(up.Parts))
	for i, p := range up.Parts {
		urls[i] = transfer.PartURL{Number: p.PartNumber, URL: p.URL}
	}
	res, err := c.http.UploadParts(ctx, transfer.MultipartRequest{
		File:        file,
		PartSize:    r.PartSize,
		Parts:       urls,
		Concurrency: r.Concurrency,
		// Presigned part URLs: Content-Type and the body only.
		Header: http.Header{"Content-Type": {storageContentTyp}},
		Label:  "Future Demand multipart upload of " + r.FileName,
	})
	if err != nil {
		return nil, c.abort(ctx, r.UploadType, up, err, false)
	}
	done := multipartCompleteRequest{UploadID: up.UploadID, ObjectKey: up.ObjectKey}
	for _, p := range res.Parts {
		done.Parts = append(done.Parts, wirePartETag{PartNumber: p.Number, ETag: p.ETag})
	}
	var out multipartCompleteResponse
	// The complete names the upload and its parts: while the upload is
	// open, a second copy stores the same object under the same key. The
	// first copy to land closes it, and the API then forgets it (as S3
	// does), so a copy sent after a lost answer may find it gone.
	if err := c.call(ctx, http.MethodPut, pathMultipart, r.UploadType, transfer.DuplicateHarmless, done, &out); err != nil {
		var ae *APIError
		if errors.As(err, &ae) && ae.Status == http.StatusNotFound && ae.afterUnclear {
			return nil, &UnconfirmedError{UploadID: up.UploadID, ObjectKey: up.ObjectKey, Err: err}
		}
		// Only an API answer to this very attempt says the complete did
		// not act (a failure without one, or after 5xx, leaves it open).
		completeMayHaveActed := !errors.As(err, &ae) || ae.afterUnclear
		return nil, c.abort(ctx, r.UploadType, up, err, completeMayHaveActed)
	}
	key := out.ObjectKey
	if key == "" {
		key = up.ObjectKey
	}
	return &UploadResult{ObjectKey: key, Method: MethodMultipart, FileMD5: res.MD5, FileSize: file.Size, Parts: count}, nil
}

// abort discards a failed multipart upload. It runs even when ctx was
// cancelled (Ctrl-C), with its own deadline, so the parts are freed.
// completeMayHaveActed says a complete was sent that may have stored the
// object, so an upload found gone may be stored rather than lost.
func (c *Client) abort(ctx context.Context, uploadType string, up multipartCreateResponse, cause error, completeMayHaveActed bool) error {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	c.http.Log().Info(actx, "aborting Future Demand multipart upload", map[string]any{"upload_id": up.UploadID, "object_key": up.ObjectKey, "error": cause.Error()})
	// The abort names the upload: a second copy discards nothing more,
	// and finds the upload gone (404) if the first one landed.
	err := c.call(actx, http.MethodDelete, pathMultipart, uploadType, transfer.DuplicateHarmless, multipartAbortRequest{UploadID: up.UploadID, ObjectKey: up.ObjectKey}, nil)
	ab := &AbortedError{UploadID: up.UploadID, ObjectKey: up.ObjectKey, Err: cause, AbortErr: err}
	var ae *APIError
	if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
		switch {
		case completeMayHaveActed:
			ab.AbortErr, ab.Gone, ab.ByAbort = nil, true, ae.afterUnclear
		case ae.afterUnclear:
			ab.AbortErr = nil // an earlier attempt of this abort discarded it
		}
	}
	return ab
}
