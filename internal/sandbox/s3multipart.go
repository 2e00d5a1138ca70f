package sandbox

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
)

// S3 multipart upload semantics: CreateMultipartUpload, UploadPart through
// presigned URLs, CompleteMultipartUpload and AbortMultipartUpload. On the
// built-in store parts are kept on disk until complete or abort; with an
// ExternalS3 the same operations are sent to that server.

// S3 multipart limits, as AWS documents them.
const (
	S3MinPartSize  = 5 << 20 // every part but the last
	S3MaxPartSize  = 5 << 30
	S3MaxPartCount = 10000
)

type s3MultipartState struct {
	mu      sync.Mutex
	uploads map[string]*s3Upload
	aborted int
}

type s3Upload struct {
	id, bucket, key string
	parts           map[int]s3Part
}

type s3Part struct {
	path string
	size int64
	md5  string // lowercase hex; the ETag without quotes
}

// s3CompletePart is one entry of a complete request.
type s3CompletePart struct {
	Number int
	ETag   string
}

// PendingMultipartUploads reports how many multipart uploads on the
// built-in store were created and neither completed nor aborted.
func (s *Server) PendingMultipartUploads() int {
	s.multipart.mu.Lock()
	defer s.multipart.mu.Unlock()
	return len(s.multipart.uploads)
}

// AbortedMultipartUploads reports how many multipart uploads on the
// built-in store were aborted.
func (s *Server) AbortedMultipartUploads() int {
	s.multipart.mu.Lock()
	defer s.multipart.mu.Unlock()
	return s.multipart.aborted
}

// s3CreateMultipart starts a multipart upload for bucket/key (built-in
// bucket names; mapped when an ExternalS3 is configured).
func (s *Server) s3CreateMultipart(ctx context.Context, bucket, key string) (string, error) {
	if s.cfg.ExternalS3 != nil {
		var out struct {
			UploadID string `xml:"UploadId"`
		}
		if err := s.externalS3Call(ctx, http.MethodPost, key, url.Values{"uploads": {""}}, nil, &out); err != nil {
			return "", err
		}
		if out.UploadID == "" {
			return "", &s3Error{http.StatusBadGateway, "InternalError", "external S3 answered CreateMultipartUpload without an UploadId"}
		}
		return out.UploadID, nil
	}
	id := randomHex(24)
	m := &s.multipart
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.uploads == nil {
		m.uploads = map[string]*s3Upload{}
	}
	m.uploads[id] = &s3Upload{id: id, bucket: bucket, key: key, parts: map[int]s3Part{}}
	return id, nil
}

// s3PresignPart returns the presigned UploadPart URL for one part; the
// part number and upload id are part of the signature.
func (s *Server) s3PresignPart(bucket, key, uploadID string, n int) (string, error) {
	return s.presignObject(http.MethodPut, bucket, key, url.Values{"partNumber": {strconv.Itoa(n)}, "uploadId": {uploadID}}, nil)
}

// handleS3UploadPart serves a presigned UploadPart (PUT with partNumber and
// uploadId). handleS3Put has verified the signature and Content-Length.
func (s *Server) handleS3UploadPart(w http.ResponseWriter, r *http.Request, bucket, key string) {
	q := r.URL.Query()
	n, err := strconv.Atoi(q.Get("partNumber"))
	if err != nil || n < 1 || n > S3MaxPartCount {
		writeS3Error(w, &s3Error{http.StatusBadRequest, "InvalidArgument", fmt.Sprintf("Part number must be an integer between 1 and %d, inclusive", S3MaxPartCount)})
		return
	}
	if r.ContentLength > S3MaxPartSize {
		writeS3Error(w, &s3Error{http.StatusBadRequest, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size"})
		return
	}
	id := q.Get("uploadId")
	if _, err := s.lookupUpload(id, bucket, key); err != nil {
		writeS3Error(w, err)
		return
	}
	tmp, sum, err := s.store.WriteTemp(r.Body, r.ContentLength)
	if err != nil {
		writeS3Error(w, &s3Error{http.StatusBadRequest, "IncompleteBody", err.Error()})
		return
	}
	if err := s.checkContentMD5(r, sum); err != nil {
		_ = os.Remove(tmp)
		writeS3Error(w, err)
		return
	}
	m := &s.multipart
	m.mu.Lock()
	up, ok := m.uploads[id]
	if !ok { // aborted while the part was arriving
		m.mu.Unlock()
		_ = os.Remove(tmp)
		writeS3Error(w, noSuchUpload())
		return
	}
	if old, ok := up.parts[n]; ok {
		_ = os.Remove(old.path) // a re-sent part replaces the earlier one
	}
	up.parts[n] = s3Part{path: tmp, size: r.ContentLength, md5: sum}
	m.mu.Unlock()
	w.Header().Set("ETag", `"`+sum+`"`)
	w.WriteHeader(http.StatusOK)
}

func noSuchUpload() *s3Error {
	return &s3Error{http.StatusNotFound, "NoSuchUpload", "The specified multipart upload does not exist. The upload ID might be invalid, or the multipart upload might have been aborted or completed."}
}

func (s *Server) lookupUpload(id, bucket, key string) (*s3Upload, error) {
	m := &s.multipart
	m.mu.Lock()
	defer m.mu.Unlock()
	up, ok := m.uploads[id]
	if !ok || up.bucket != bucket || up.key != key {
		return nil, noSuchUpload()
	}
	return up, nil
}

// s3CompleteMultipart assembles the listed parts into the object, with the
// checks S3 makes: at least one part, ascending part numbers, every part
// uploaded with that ETag, every part but the last at least 5 MiB.
func (s *Server) s3CompleteMultipart(ctx context.Context, bucket, key, uploadID string, parts []s3CompletePart) error {
	if s.cfg.ExternalS3 != nil {
		return s.externalComplete(ctx, key, uploadID, parts)
	}
	up, err := s.lookupUpload(uploadID, bucket, key)
	if err != nil {
		return err
	}
	if len(parts) == 0 {
		return &s3Error{http.StatusBadRequest, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema: a complete request must list at least one part."}
	}
	m := &s.multipart
	m.mu.Lock()
	var chosen []s3Part
	for i, p := range parts {
		if i > 0 && p.Number <= parts[i-1].Number {
			m.mu.Unlock()
			return &s3Error{http.StatusBadRequest, "InvalidPartOrder", "The list of parts was not in ascending order. Parts must be ordered by part number."}
		}
		got, ok := up.parts[p.Number]
		if !ok || strings.Trim(p.ETag, `"`) != got.md5 {
			m.mu.Unlock()
			return &s3Error{http.StatusBadRequest, "InvalidPart", fmt.Sprintf("One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag. (part %d)", p.Number)}
		}
		chosen = append(chosen, got)
	}
	for i, p := range chosen[:len(chosen)-1] {
		if p.size < S3MinPartSize {
			m.mu.Unlock()
			return &s3Error{http.StatusBadRequest, "EntityTooSmall", fmt.Sprintf("Your proposed upload is smaller than the minimum allowed size: part %d has %d bytes; every part but the last must be at least %d bytes.", parts[i].Number, p.size, S3MinPartSize)}
		}
	}
	// Take the upload out so no part can change while it is assembled.
	delete(m.uploads, uploadID)
	m.mu.Unlock()
	defer removeParts(up)

	out, err := s.store.TempFile("complete-*")
	if err != nil {
		return err
	}
	h := md5.New()
	var size int64
	etagSum := md5.New()
	for _, p := range chosen {
		f, err := os.Open(p.path)
		if err != nil {
			_ = out.Close()
			_ = os.Remove(out.Name())
			return err
		}
		n, err := io.Copy(io.MultiWriter(out, h), f)
		_ = f.Close()
		if err != nil {
			_ = out.Close()
			_ = os.Remove(out.Name())
			return err
		}
		size += n
		raw, _ := hex.DecodeString(p.md5)
		etagSum.Write(raw)
	}
	if err := out.Close(); err != nil {
		return err
	}
	_, err = s.store.Commit(out.Name(), Object{Bucket: bucket, Key: key, Size: size, MD5: hex.EncodeToString(h.Sum(nil)), ContentType: "application/octet-stream"})
	return err
}

func removeParts(up *s3Upload) {
	for _, p := range up.parts {
		_ = os.Remove(p.path)
	}
}

// s3AbortMultipart discards an upload and frees its parts.
func (s *Server) s3AbortMultipart(ctx context.Context, bucket, key, uploadID string) error {
	if s.cfg.ExternalS3 != nil {
		return s.externalS3Call(ctx, http.MethodDelete, key, url.Values{"uploadId": {uploadID}}, nil, nil)
	}
	m := &s.multipart
	m.mu.Lock()
	up, ok := m.uploads[uploadID]
	if !ok || up.bucket != bucket || up.key != key {
		m.mu.Unlock()
		return noSuchUpload()
	}
	delete(m.uploads, uploadID)
	m.aborted++
	m.mu.Unlock()
	removeParts(up)
	return nil
}

// externalComplete sends CompleteMultipartUpload to the external server.
// S3 may answer 200 with an <Error> document, so the body is checked too.
func (s *Server) externalComplete(ctx context.Context, key, uploadID string, parts []s3CompletePart) error {
	type xmlPart struct {
		PartNumber int    `xml:"PartNumber"`
		ETag       string `xml:"ETag"`
	}
	doc := struct {
		XMLName xml.Name  `xml:"CompleteMultipartUpload"`
		Parts   []xmlPart `xml:"Part"`
	}{}
	for _, p := range parts {
		doc.Parts = append(doc.Parts, xmlPart{p.Number, `"` + strings.Trim(p.ETag, `"`) + `"`})
	}
	body, err := xml.Marshal(doc)
	if err != nil {
		return err
	}
	var out struct {
		XMLName xml.Name
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	}
	if err := s.externalS3Call(ctx, http.MethodPost, key, url.Values{"uploadId": {uploadID}}, body, &out); err != nil {
		return err
	}
	if out.XMLName.Local == "Error" {
		return &s3Error{http.StatusBadRequest, out.Code, out.Message}
	}
	return nil
}
