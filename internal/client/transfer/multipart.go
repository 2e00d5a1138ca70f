package transfer

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"strings"
	"sync"
)

// S3 multipart limits.
const (
	MinPartSize  = 5 << 20 // every part but the last
	MaxPartSize  = 5 << 30
	MaxPartCount = 10000
)

// PartURL is one presigned UploadPart URL.
type PartURL struct {
	Number int    // 1-based part number
	URL    string // presigned; never logged or returned in errors
}

// MultipartRequest uploads a File in parts to presigned URLs (S3
// UploadPart). Creating and completing the upload is the platform's job;
// this flow only moves the bytes.
type MultipartRequest struct {
	File     *File
	PartSize int64
	// Parts holds one URL per part, numbers 1..PartCount(File.Size, PartSize).
	Parts []PartURL
	// Concurrency is how many parts are in flight at once (default 4).
	Concurrency int
	// Header is sent with every part (e.g. Content-Type). It must never
	// carry platform credentials: presigned URLs authenticate by their query.
	Header http.Header
	Label  string // names the transfer in progress logs
}

// CompletedPart is what a complete call needs for one part.
type CompletedPart struct {
	Number int
	ETag   string // as the store sent it, without the quotes
	Size   int64
}

// MultipartResult is the outcome of UploadParts.
type MultipartResult struct {
	Parts []CompletedPart // in part-number order
	MD5   string          // whole-file md5 (lowercase hex) of the bytes sent
}

// PartCount is how many parts of partSize a file of size bytes needs (an
// empty file is one empty part).
func PartCount(size, partSize int64) int {
	if size <= 0 {
		return 1
	}
	return int((size + partSize - 1) / partSize)
}

// UploadParts streams the file's parts to their presigned URLs,
// Concurrency at a time. Each part is read straight from the file with a
// fixed Content-Length, so memory does not grow with PartSize or the file
// size; each part is retried on its own; the first failure, or ctx being
// cancelled, stops the parts in flight.
//
// Content check: plan time hashed the file, but the framework gives Create
// nothing from plan but the planned attributes, so per-part digests cannot
// travel from plan to apply. Instead one sequential pass hashes the file
// (whole md5 and one md5 per part) while the parts are in flight, and every
// part hashes the bytes it actually sent. The upload is accepted only if
// the whole md5 matches the plan and every sent part matches the pass; the
// caller completes the upload after that, never before. The extra read
// runs alongside the network transfer and costs no buffering.
func (p *Platform) UploadParts(ctx context.Context, req MultipartRequest) (*MultipartResult, error) {
	f := req.File
	if req.PartSize <= 0 {
		return nil, errors.New("multipart upload: part size must be positive")
	}
	count := PartCount(f.Size, req.PartSize)
	urls, err := orderParts(req.Parts, count)
	if err != nil {
		return nil, err
	}
	workers := req.Concurrency
	if workers <= 0 {
		workers = 4
	}
	workers = min(workers, count)

	parent := ctx
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	progress := NewProgress(ctx, p.log, req.Label, f.Size)

	hashed := make(chan hashPass, 1)
	go func() { hashed <- hashParts(ctx, f, req.PartSize, count) }()

	parts := make([]CompletedPart, count)
	sentMD5 := make([]string, count)
	jobs := make(chan int)
	var (
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	fail := func(err error) {
		errOnce.Do(func() { firstErr = err })
		cancel(err)
	}
	for range workers {
		wg.Go(func() {
			for i := range jobs {
				off := int64(i) * req.PartSize
				size := min(req.PartSize, f.Size-off)
				cp, md5hex, err := p.uploadPart(ctx, req, urls[i], off, size, count, progress)
				if err != nil {
					fail(err)
					return
				}
				parts[i], sentMD5[i] = cp, md5hex
			}
		})
	}
feed:
	for i := range count {
		select {
		case jobs <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	pass := <-hashed
	if err := parent.Err(); err != nil {
		// Cancelled or timed out from outside: say so rather than report
		// whichever part noticed first.
		return nil, fmt.Errorf("multipart upload of %s stopped: %w", f.Path, context.Cause(parent))
	}
	if firstErr != nil {
		return nil, firstErr
	}
	if pass.err != nil {
		return nil, fmt.Errorf("%s: hashing for the content check: %w", f.Path, pass.err)
	}
	if f.wantMD5 != "" && pass.whole != f.wantMD5 {
		return nil, fmt.Errorf("%s: %w: planned md5 %s, file md5 during upload %s; plan again to upload the new content", f.Path, ErrContentChanged, f.wantMD5, pass.whole)
	}
	for i := range count {
		if sentMD5[i] != pass.parts[i] {
			return nil, fmt.Errorf("%s: %w while part %d was being sent; plan again to upload the new content", f.Path, ErrContentChanged, i+1)
		}
	}
	progress.Finish()
	return &MultipartResult{Parts: parts, MD5: pass.whole}, nil
}

// orderParts checks that urls holds exactly parts 1..count and returns
// them indexed by part number - 1.
func orderParts(urls []PartURL, count int) ([]string, error) {
	if len(urls) != count {
		return nil, fmt.Errorf("multipart upload: %d part URLs for %d parts", len(urls), count)
	}
	out := make([]string, count)
	for _, p := range urls {
		if p.Number < 1 || p.Number > count || out[p.Number-1] != "" {
			return nil, fmt.Errorf("multipart upload: part numbers must be 1..%d, each once (got %d)", count, p.Number)
		}
		if p.URL == "" {
			return nil, fmt.Errorf("multipart upload: part %d has no URL", p.Number)
		}
		out[p.Number-1] = p.URL
	}
	return out, nil
}

func (p *Platform) uploadPart(ctx context.Context, req MultipartRequest, url string, off, size int64, count int, progress *Progress) (CompletedPart, string, error) {
	n := int(off/req.PartSize) + 1
	src := &partSource{f: req.File, off: off, size: size, h: md5.New()}
	res, err := p.send(ctx, upload{method: http.MethodPut, url: url, header: req.Header, src: src, size: size, ok: is2xx}, progress)
	op := fmt.Sprintf("part %d of %d", n, count)
	if err != nil {
		return CompletedPart{}, "", fmt.Errorf("%s: %w", op, err)
	}
	// S3 quotes ETags; complete calls want them bare.
	etag := strings.ReplaceAll(res.ETag, `"`, "")
	if etag == "" {
		return CompletedPart{}, "", fmt.Errorf("%s: the store answered without an ETag, which completing the upload needs", op)
	}
	if src.read != size {
		return CompletedPart{}, "", fmt.Errorf("%s: only %d of %d bytes were sent", op, src.read, size)
	}
	return CompletedPart{Number: n, ETag: etag, Size: size}, hex.EncodeToString(src.h.Sum(nil)), nil
}

// partSource is one part of a file, read with its own SectionReader so
// parts can be sent in parallel from a single open file.
type partSource struct {
	f         *File
	off, size int64
	sr        *io.SectionReader
	h         hash.Hash
	read      int64
}

func (p *partSource) open(progress *Progress) (io.Reader, error) {
	p.sr = io.NewSectionReader(p.f.ReaderAt(), p.off, p.size)
	p.h = md5.New()
	p.read = 0
	return &countingReader{r: p, p: progress}, nil
}

func (p *partSource) sent() int64 { return p.read }

func (p *partSource) Read(b []byte) (int, error) {
	n, err := p.sr.Read(b)
	p.h.Write(b[:n])
	p.read += int64(n)
	if errors.Is(err, io.EOF) && p.read < p.size {
		return n, fmt.Errorf("%s: %w (it is shorter than when the upload started)", p.f.Path, ErrContentChanged)
	}
	return n, err
}

// hashPass is the result of the sequential content-check pass.
type hashPass struct {
	whole string
	parts []string
	err   error
}

// hashParts reads the file once, in order, computing its md5 and each
// part's md5. It stops early when ctx is cancelled.
func hashParts(ctx context.Context, f *File, partSize int64, count int) hashPass {
	whole := md5.New()
	out := hashPass{parts: make([]string, count)}
	buf := make([]byte, 256<<10)
	for i := range count {
		off := int64(i) * partSize
		size := min(partSize, f.Size-off)
		ph := md5.New()
		w := io.MultiWriter(whole, ph)
		sr := io.NewSectionReader(f.ReaderAt(), off, size)
		var got int64
		for got < size {
			if err := ctx.Err(); err != nil {
				out.err = err
				return out
			}
			n, err := sr.Read(buf)
			_, _ = w.Write(buf[:n])
			got += int64(n)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				out.err = err
				return out
			}
		}
		if got != size {
			out.err = fmt.Errorf("%w (it is shorter than when the upload started)", ErrContentChanged)
			return out
		}
		out.parts[i] = hex.EncodeToString(ph.Sum(nil))
	}
	out.whole = hex.EncodeToString(whole.Sum(nil))
	return out
}
