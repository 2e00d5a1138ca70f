package sandbox

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
)

// Future Demand client API emulation, after the vendor's client API
// documentation (the storage calls' bodies, which it does not publish, are
// assumed as the client assumes them): username/password login with
// refresh, Bearer auth with the partner and upload-type headers on every
// storage call, single presigned PUT, and presigned S3 multipart
// (initiate, parts, complete, abort).
// Errors are JSON {"detail": "..."} with the HTTP status telling the kind.

// FutureDemandTokenTTL is the lifetime of a token issued by /auth
// (ExpiresIn 3600 in the vendor's example).
const FutureDemandTokenTTL = time.Hour

// FutureDemandUploadTypes are the X-Upload-Type values the emulated API
// accepts.
var FutureDemandUploadTypes = []string{"audience_csv"}

// FutureDemandMaxFileSize is the largest object a multipart upload may
// build (S3's object limit).
const FutureDemandMaxFileSize = 5 << 40

type futureDemandState struct {
	mu      sync.Mutex
	tokens  map[string]time.Time // access token -> expiry
	refresh map[string]bool      // refresh tokens issued
	uploads map[string]*fdUpload // upload_id -> upload
	ingests []FutureDemandIngest // direct ingests taken, oldest first
	media   []FutureDemandMedia  // media objects stored, oldest first
}

type fdUpload struct {
	id, key, partner string
	fileSize         int64
	partCount        int
}

func (s *Server) registerFutureDemand(mux *http.ServeMux) {
	s.futuredemand = &futureDemandState{tokens: map[string]time.Time{}, refresh: map[string]bool{}, uploads: map[string]*fdUpload{}}
	api := PrefixFutureDemand + "/api/v3"
	c := s.cfg.Credentials
	s.exportURL("FUTUREDEMAND_ENDPOINT", api)
	s.exportValue("FUTUREDEMAND_ACCESS_TOKEN", c.FutureDemandAccessToken)
	s.exportValue("FUTUREDEMAND_PARTNER_ID", c.FutureDemandPartnerID)
	mux.HandleFunc("POST "+api+"/auth", s.handleFDAuth)
	mux.HandleFunc("POST "+api+"/auth/refresh_token", s.handleFDRefresh)
	mux.HandleFunc("POST "+api+"/storage/presigned-url", s.fdStorage(s.handleFDPresignedURL))
	mux.HandleFunc("POST "+api+"/storage/multipart-upload", s.fdStorage(s.handleFDMultipartCreate))
	mux.HandleFunc("PUT "+api+"/storage/multipart-upload", s.fdStorage(s.handleFDMultipartComplete))
	mux.HandleFunc("DELETE "+api+"/storage/multipart-upload", s.fdStorage(s.handleFDMultipartAbort))
	s.registerFutureDemandDirect(mux, api)
}

func writeFD(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if body != nil {
		_ = json.NewEncoder(w).Encode(body)
	}
}

func fdError(w http.ResponseWriter, status int, format string, args ...any) {
	writeFD(w, status, map[string]string{"detail": fmt.Sprintf(format, args...)})
}

// decodeFD reads a JSON request body strictly: right Content-Type, no
// unknown fields, nothing after the object.
func decodeFD(w http.ResponseWriter, r *http.Request, v any) bool {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		fdError(w, http.StatusUnsupportedMediaType, "Content-Type must be application/json, got %q", ct)
		return false
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		fdError(w, http.StatusBadRequest, "could not read the request body")
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		fdError(w, http.StatusUnprocessableEntity, "invalid request body: %v", err)
		return false
	}
	if dec.More() {
		fdError(w, http.StatusUnprocessableEntity, "invalid request body: data after the JSON object")
		return false
	}
	return true
}

type fdTokens struct {
	AccessToken  string `json:"AccessToken"`
	IdToken      string `json:"IdToken"`
	RefreshToken string `json:"RefreshToken,omitempty"`
	ExpiresIn    int    `json:"ExpiresIn"`
	TokenType    string `json:"TokenType"`
}

func (s *Server) issueFDToken(withRefresh bool) fdTokens {
	st := s.futuredemand
	t := fdTokens{
		AccessToken: "fd-at-" + randomHex(16),
		IdToken:     "fd-id-" + randomHex(16),
		ExpiresIn:   int(FutureDemandTokenTTL / time.Second),
		TokenType:   "Bearer",
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	st.tokens[t.AccessToken] = s.now().Add(FutureDemandTokenTTL)
	if withRefresh {
		t.RefreshToken = "fd-rt-" + randomHex(16)
		st.refresh[t.RefreshToken] = true
	}
	return t
}

func (s *Server) handleFDAuth(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if !decodeFD(w, r, &in) {
		return
	}
	c := s.cfg.Credentials
	userOK := subtle.ConstantTimeCompare([]byte(in.Username), []byte(c.FutureDemandUsername)) == 1
	passOK := subtle.ConstantTimeCompare([]byte(in.Password), []byte(c.FutureDemandPassword)) == 1
	if in.Username == "" || !userOK || !passOK {
		fdError(w, http.StatusUnauthorized, "Incorrect username or password.")
		return
	}
	if ch := s.cfg.FutureDemandAuthChallenge; ch != "" {
		// Cognito's answer when another sign-in step is due: no tokens.
		writeFD(w, http.StatusOK, map[string]any{"ChallengeName": ch, "Session": "fd-session-" + randomHex(24), "ChallengeParameters": map[string]string{"USER_ID_FOR_SRP": in.Username}})
		return
	}
	writeFD(w, http.StatusOK, s.issueFDToken(true))
}

func (s *Server) handleFDRefresh(w http.ResponseWriter, r *http.Request) {
	var in struct {
		RefreshToken string `json:"refresh_token"`
	}
	if !decodeFD(w, r, &in) {
		return
	}
	st := s.futuredemand
	st.mu.Lock()
	ok := st.refresh[in.RefreshToken]
	st.mu.Unlock()
	if !ok {
		fdError(w, http.StatusUnauthorized, "Invalid refresh token.")
		return
	}
	writeFD(w, http.StatusOK, s.issueFDToken(false))
}

// fdStorage wraps a storage handler with the checks every storage call
// gets: Bearer token (static or issued and unexpired), partner header,
// upload-type header.
func (s *Server) fdStorage(next func(http.ResponseWriter, *http.Request, string, string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		defer drain(r)
		partner, refused := s.fdCaller(w, r)
		if refused != nil {
			fdError(w, refused.status, "%s", refused.detail)
			return
		}
		ut := r.Header.Get("X-Upload-Type")
		if ut == "" {
			fdError(w, http.StatusBadRequest, "X-Upload-Type header is required.")
			return
		}
		if !slices.Contains(FutureDemandUploadTypes, ut) {
			fdError(w, http.StatusBadRequest, "Unsupported X-Upload-Type %q; supported: %s.", ut, strings.Join(FutureDemandUploadTypes, ", "))
			return
		}
		next(w, r, partner, ut)
	}
}

// fdRefusal is why a call was refused before its handler ran: the
// status, the documented envelope's code and key, and a sentence.
type fdRefusal struct {
	status    int
	code, key string
	detail    string
}

// fdCaller checks what every call of the client API needs: a Bearer
// token (static, or issued and unexpired) and the partner header naming a
// partner the account belongs to. It returns the partner, or why the call
// is refused (with WWW-Authenticate set for a 401).
func (s *Server) fdCaller(w http.ResponseWriter, r *http.Request) (string, *fdRefusal) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" {
		w.Header().Set("WWW-Authenticate", "Bearer")
		return "", &fdRefusal{http.StatusUnauthorized, "NOT_AUTHENTICATED", "auth.not_authenticated", "Not authenticated: send Authorization: Bearer <AccessToken>."}
	}
	if !s.fdTokenValid(tok) {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		return "", &fdRefusal{http.StatusUnauthorized, "INVALID_TOKEN", "auth.invalid_token", "The access token is invalid or has expired."}
	}
	partner := r.Header.Get("X-Preferred-Partner-Id")
	if partner == "" {
		return "", &fdRefusal{http.StatusBadRequest, "PARTNER_REQUIRED", "partner.header_required", "X-Preferred-Partner-Id header is required."}
	}
	if partner != s.cfg.Credentials.FutureDemandPartnerID {
		return "", &fdRefusal{http.StatusForbidden, "PARTNER_FORBIDDEN", "partner.forbidden", fmt.Sprintf("You are not a member of partner %q.", partner)}
	}
	return partner, nil
}

func (s *Server) fdTokenValid(tok string) bool {
	if static := s.cfg.Credentials.FutureDemandAccessToken; static != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(static)) == 1 {
		return true
	}
	st := s.futuredemand
	st.mu.Lock()
	defer st.mu.Unlock()
	exp, ok := st.tokens[tok]
	return ok && s.now().Before(exp)
}

// fdFileNameProblem explains what is wrong with a file name, or "".
func fdFileNameProblem(name string) string {
	switch {
	case name == "":
		return "file_name is required"
	case len(name) > 255:
		return "file_name must be at most 255 bytes"
	case strings.ContainsAny(name, `/\`):
		return "file_name must not contain a path separator"
	case name == "." || name == "..":
		return "file_name must name a file"
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return "file_name must not contain control characters"
	}
	return ""
}

func (s *Server) fdObjectKey(partner, uploadType, fileName string) string {
	return fmt.Sprintf("partners/%s/%s/%s/%s", partner, uploadType, randomHex(8), fileName)
}

func (s *Server) handleFDPresignedURL(w http.ResponseWriter, r *http.Request, partner, uploadType string) {
	var in struct {
		FileName    string `json:"file_name"`
		ContentType string `json:"content_type"`
	}
	if !decodeFD(w, r, &in) {
		return
	}
	if p := fdFileNameProblem(in.FileName); p != "" {
		fdError(w, http.StatusUnprocessableEntity, "%s", p)
		return
	}
	if in.ContentType == "" {
		fdError(w, http.StatusUnprocessableEntity, "content_type is required")
		return
	}
	key := s.fdObjectKey(partner, uploadType, in.FileName)
	// The content type is signed: the PUT must send exactly this one.
	u, err := s.presignObject(http.MethodPut, BucketFutureDemand, key, nil, map[string]string{"Content-Type": in.ContentType})
	if err != nil {
		fdError(w, http.StatusInternalServerError, "could not presign the upload")
		return
	}
	if s.cfg.FutureDemandCamelCase {
		writeFD(w, http.StatusOK, map[string]string{"presignedUrl": u, "objectKey": key})
		return
	}
	writeFD(w, http.StatusOK, map[string]string{"url": u, "object_key": key})
}

type fdPartURL struct {
	PartNumber int    `json:"part_number"`
	URL        string `json:"url"`
}

func (s *Server) handleFDMultipartCreate(w http.ResponseWriter, r *http.Request, partner, uploadType string) {
	var in struct {
		FileName  string `json:"file_name"`
		FileSize  int64  `json:"file_size"`
		PartSize  int64  `json:"part_size"`
		PartCount int    `json:"part_count"`
	}
	if !decodeFD(w, r, &in) {
		return
	}
	if p := fdFileNameProblem(in.FileName); p != "" {
		fdError(w, http.StatusUnprocessableEntity, "%s", p)
		return
	}
	switch {
	case in.FileSize < 1 || in.FileSize > FutureDemandMaxFileSize:
		fdError(w, http.StatusUnprocessableEntity, "file_size must be between 1 and %d bytes", int64(FutureDemandMaxFileSize))
		return
	case in.PartSize < S3MinPartSize || in.PartSize > S3MaxPartSize:
		fdError(w, http.StatusUnprocessableEntity, "part_size must be between %d (5 MiB) and %d (5 GiB) bytes", S3MinPartSize, int64(S3MaxPartSize))
		return
	}
	want := int((in.FileSize + in.PartSize - 1) / in.PartSize)
	if in.PartCount != want {
		fdError(w, http.StatusUnprocessableEntity, "part_count %d does not match file_size %d split into parts of %d bytes (%d parts)", in.PartCount, in.FileSize, in.PartSize, want)
		return
	}
	if in.PartCount > S3MaxPartCount {
		fdError(w, http.StatusUnprocessableEntity, "part_count must be at most %d; use a larger part_size", S3MaxPartCount)
		return
	}
	key := s.fdObjectKey(partner, uploadType, in.FileName)
	id, err := s.s3CreateMultipart(r.Context(), BucketFutureDemand, key)
	if err != nil {
		fdStorageFailure(w, "CreateMultipartUpload", err)
		return
	}
	parts := make([]fdPartURL, in.PartCount)
	for i := range parts {
		u, err := s.s3PresignPart(BucketFutureDemand, key, id, i+1)
		if err != nil {
			fdError(w, http.StatusInternalServerError, "could not presign part %d", i+1)
			return
		}
		parts[i] = fdPartURL{PartNumber: i + 1, URL: u}
	}
	st := s.futuredemand
	st.mu.Lock()
	st.uploads[id] = &fdUpload{id: id, key: key, partner: partner, fileSize: in.FileSize, partCount: in.PartCount}
	st.mu.Unlock()
	if s.cfg.FutureDemandCamelCase {
		camel := make([]map[string]any, len(parts))
		for i, p := range parts {
			camel[i] = map[string]any{"partNumber": p.PartNumber, "presignedUrl": p.URL}
		}
		writeFD(w, http.StatusOK, map[string]any{"uploadId": id, "objectKey": key, "presignedUrls": camel})
		return
	}
	writeFD(w, http.StatusOK, map[string]any{"upload_id": id, "object_key": key, "parts": parts})
}

// fdStorageFailure reports an S3 error the way the API passes it on: the
// storage's code and message in the detail.
func fdStorageFailure(w http.ResponseWriter, op string, err error) {
	var se *s3Error
	if errors.As(err, &se) {
		status := http.StatusBadRequest
		if se.Status >= 500 {
			status = http.StatusBadGateway
		}
		if se.Code == "NoSuchUpload" {
			status = http.StatusNotFound
		}
		fdError(w, status, "storage %s failed: %s: %s", op, se.Code, se.Message)
		return
	}
	fdError(w, http.StatusInternalServerError, "storage %s failed", op)
}

// fdLookup finds an upload by id and object key for the caller's partner.
func (s *Server) fdLookup(w http.ResponseWriter, id, key, partner string) *fdUpload {
	st := s.futuredemand
	st.mu.Lock()
	up, ok := st.uploads[id]
	st.mu.Unlock()
	if id == "" || key == "" {
		fdError(w, http.StatusUnprocessableEntity, "upload_id and object_key are required")
		return nil
	}
	if !ok || up.key != key || up.partner != partner {
		fdError(w, http.StatusNotFound, "No multipart upload %q for object_key %q.", id, key)
		return nil
	}
	return up
}

func (s *Server) handleFDMultipartComplete(w http.ResponseWriter, r *http.Request, partner, _ string) {
	var in struct {
		UploadID  string `json:"upload_id"`
		ObjectKey string `json:"object_key"`
		Parts     []struct {
			PartNumber int    `json:"part_number"`
			ETag       string `json:"etag"`
		} `json:"parts"`
	}
	if !decodeFD(w, r, &in) {
		return
	}
	up := s.fdLookup(w, in.UploadID, in.ObjectKey, partner)
	if up == nil {
		return
	}
	if len(in.Parts) != up.partCount {
		fdError(w, http.StatusUnprocessableEntity, "parts lists %d parts; the upload was created with part_count %d", len(in.Parts), up.partCount)
		return
	}
	parts := make([]s3CompletePart, len(in.Parts))
	for i, p := range in.Parts {
		if strings.Contains(p.ETag, `"`) {
			fdError(w, http.StatusUnprocessableEntity, "parts[%d].etag %s is quoted; send the ETag without its quotes", i, p.ETag)
			return
		}
		if p.ETag == "" {
			fdError(w, http.StatusUnprocessableEntity, "parts[%d].etag is required", i)
			return
		}
		parts[i] = s3CompletePart{Number: p.PartNumber, ETag: p.ETag}
	}
	if err := s.s3CompleteMultipart(r.Context(), BucketFutureDemand, up.key, up.id, parts); err != nil {
		fdStorageFailure(w, "CompleteMultipartUpload", err)
		return
	}
	st := s.futuredemand
	st.mu.Lock()
	delete(st.uploads, up.id)
	st.mu.Unlock()
	if s.cfg.FutureDemandCamelCase {
		writeFD(w, http.StatusOK, map[string]string{"objectKey": up.key})
		return
	}
	writeFD(w, http.StatusOK, map[string]string{"object_key": up.key})
}

func (s *Server) handleFDMultipartAbort(w http.ResponseWriter, r *http.Request, partner, _ string) {
	var in struct {
		UploadID  string `json:"upload_id"`
		ObjectKey string `json:"object_key"`
	}
	if !decodeFD(w, r, &in) {
		return
	}
	up := s.fdLookup(w, in.UploadID, in.ObjectKey, partner)
	if up == nil {
		return
	}
	if err := s.s3AbortMultipart(r.Context(), BucketFutureDemand, up.key, up.id); err != nil {
		fdStorageFailure(w, "AbortMultipartUpload", err)
		return
	}
	st := s.futuredemand
	st.mu.Lock()
	delete(st.uploads, up.id)
	st.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// checkFutureDemandStorageHeaders rejects a storage request to the Future
// Demand bucket that carries the API's own headers: the vendor documents
// that they break the presigned signature.
func checkFutureDemandStorageHeaders(bucket string, r *http.Request) error {
	if bucket != BucketFutureDemand {
		return nil
	}
	for _, h := range []string{"X-Preferred-Partner-Id", "X-Upload-Type"} {
		if r.Header.Get(h) != "" {
			return &s3Error{http.StatusForbidden, "SignatureDoesNotMatch", fmt.Sprintf("The request signature we calculated does not match the signature you provided: %s is a Future Demand API header; send a presigned URL only Content-Type and the body.", h)}
		}
	}
	return nil
}

// futureDemandStateFile keeps issued tokens, ingests and media across
// restarts.
const futureDemandStateFile = "futuredemand.json"

type fdSaved struct {
	Tokens        map[string]time.Time `json:"tokens"` // access token -> expiry; expired ones are dropped
	RefreshTokens []string             `json:"refresh_tokens"`
	Ingests       []FutureDemandIngest `json:"ingests"`
	Media         []FutureDemandMedia  `json:"media"`
}

func (s *Server) keepFutureDemand() error {
	st := s.futuredemand
	return s.keep(futureDemandStateFile, func() any {
		st.mu.Lock()
		defer st.mu.Unlock()
		saved := fdSaved{Tokens: map[string]time.Time{}, RefreshTokens: slices.Sorted(maps.Keys(st.refresh)),
			Ingests: append([]FutureDemandIngest{}, st.ingests...), Media: append([]FutureDemandMedia{}, st.media...)}
		now := s.now()
		for tok, exp := range st.tokens {
			if now.Before(exp) {
				saved.Tokens[tok] = exp
			}
		}
		return saved
	}, func(dec *json.Decoder) error {
		var saved fdSaved
		if err := dec.Decode(&saved); err != nil {
			return err
		}
		st.mu.Lock()
		defer st.mu.Unlock()
		maps.Copy(st.tokens, saved.Tokens)
		for _, tok := range saved.RefreshTokens {
			st.refresh[tok] = true
		}
		st.ingests, st.media = saved.Ingests, saved.Media
		return nil
	})
}
