package sandbox

import (
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// OpenIM object API emulation: form-data direct upload
// (object/initiate_form_data, then an S3 POST policy upload to the storage,
// then object/complete_form_data), as the OpenIM server does it with its
// default MinIO backend.

// Body-level error codes. OpenIM answers every API error with HTTP 200 and
// a non-zero errCode. The codes are OpenIM's own (openimsdk/tools errs and
// the server's data error); where OpenIM has no rule of its own the choice
// is noted.
const (
	OpenIMCodeOK = 0
	// OpenIMCodeArgs: bad or missing argument, missing operationID or token
	// header, and (sandbox rule, OpenIM only uses it for tracing) a reused
	// operationID.
	OpenIMCodeArgs = 1001
	// OpenIMCodeServerInternal: an error without a code of its own, e.g.
	// the storage's (openimsdk/tools apiresp/resp.go ParseError): a
	// backend without form upload on initiate_form_data, a missing object
	// on complete_form_data.
	OpenIMCodeServerInternal = 500
	// OpenIMCodeTokenNotExist: the token is not one the server issued. The
	// sandbox token is opaque, so every wrong token is "not exist" rather
	// than expired (1501) or malformed (1503).
	OpenIMCodeTokenNotExist = 1507
	OpenIMCodeData          = 90007 // complete_form_data: stored size differs
)

// OpenIMAdminUserID is the user the sandbox token belongs to. The token is
// an admin token (the API document asks for one), so object names need not
// start with "<userID>/".
const OpenIMAdminUserID = "imAdmin"

// openIMDefaultExpire is the server's default validity of an upload form.
const openIMDefaultExpire = 10 * time.Minute

// openIMSuccessStatus is the status the form POST must ask the storage for
// (success_action_status) and the only one listed in successCodes.
const openIMSuccessStatus = http.StatusOK

// openIMState holds the emulated OpenIM service's state.
type openIMState struct {
	mu           sync.Mutex
	operationIDs map[string]bool
	uploads      map[string]*openIMUpload
	byKey        map[string]*openIMUpload // by storage key, for the COS, OSS and Kodo form targets
}

// openIMUpload is one initiated form upload.
type openIMUpload struct {
	Name        string `json:"name"`
	Size        int64  `json:"size"`
	ContentType string `json:"contentType"`
	Group       string `json:"group"`
	Key         string `json:"key"`
	completed   bool
	backend     OpenIMBackend
	form        map[string]string // the formData issued (COS, OSS, Kodo)
}

// registerOpenIM mounts the emulated OpenIM API under PrefixOpenIM.
func (s *Server) registerOpenIM(mux *http.ServeMux) {
	s.openim = &openIMState{operationIDs: map[string]bool{}, uploads: map[string]*openIMUpload{}, byKey: map[string]*openIMUpload{}}
	s.registerOpenIMStorage(mux)
	mux.HandleFunc("POST "+PrefixOpenIM+"/object/initiate_form_data", s.handleOpenIMInitiateFormData)
	mux.HandleFunc("POST "+PrefixOpenIM+"/object/complete_form_data", s.handleOpenIMCompleteFormData)
	s.exportURL("OPENIM_ENDPOINT", PrefixOpenIM)
	s.exportValue("OPENIM_TOKEN", s.cfg.Credentials.OpenIMToken)
}

// OpenIMObject is an object confirmed through complete_form_data.
type OpenIMObject struct {
	Name, ContentType, Group string
	Size                     int64
	Bucket, Key              string // where the bytes are (the external bucket when ExternalS3 is set)
}

// OpenIMObjects lists the objects confirmed so far, for tests.
func (s *Server) OpenIMObjects() []OpenIMObject {
	s.openim.mu.Lock()
	defer s.openim.mu.Unlock()
	var out []OpenIMObject
	for _, u := range s.openim.uploads {
		if u.completed {
			out = append(out, OpenIMObject{Name: u.Name, ContentType: u.ContentType, Group: u.Group, Size: u.Size, Bucket: s.bucketFor(BucketOpenIM), Key: u.Key})
		}
	}
	return out
}

type openIMError struct {
	Code int
	Msg  string
	Dlt  string
}

func writeOpenIM(w http.ResponseWriter, e *openIMError, data any) {
	w.Header().Set("Content-Type", "application/json")
	body := map[string]any{"errCode": 0, "errMsg": "", "errDlt": ""}
	if e != nil {
		body["errCode"], body["errMsg"], body["errDlt"] = e.Code, e.Msg, e.Dlt
	} else {
		body["data"] = data
	}
	// OpenIM answers errors with HTTP 200 too; only errCode tells.
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(body)
}

// openIMAuth checks the operationID and token headers as the OpenIM API
// gateway does, and rejects an operationID seen before.
func (s *Server) openIMAuth(r *http.Request) *openIMError {
	opID := r.Header.Get("operationID")
	if opID == "" {
		return &openIMError{OpenIMCodeArgs, "ArgsError", "header must have operationID"}
	}
	token, ok := r.Header["Token"]
	if !ok || len(token) == 0 || token[0] == "" {
		return &openIMError{OpenIMCodeArgs, "ArgsError", "header must have token"}
	}
	if subtle.ConstantTimeCompare([]byte(token[0]), []byte(s.cfg.Credentials.OpenIMToken)) != 1 {
		return &openIMError{OpenIMCodeTokenNotExist, "TokenNotExistError", "token is not valid for this server"}
	}
	st := s.openim
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.operationIDs[opID] {
		return &openIMError{OpenIMCodeArgs, "ArgsError", fmt.Sprintf("operationID %q was already used; send a new one with each request", opID)}
	}
	st.operationIDs[opID] = true
	return nil
}

// decodeOpenIM reads a small JSON request body.
func decodeOpenIM(r *http.Request, v any) *openIMError {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20+1))
	if err != nil || len(body) > 1<<20 {
		return &openIMError{OpenIMCodeArgs, "ArgsError", "request body unreadable or larger than 1 MiB"}
	}
	if err := json.Unmarshal(body, v); err != nil {
		return &openIMError{OpenIMCodeArgs, "ArgsError", "request body is not the expected JSON: " + err.Error()}
	}
	return nil
}

// checkOpenIMName applies OpenIM's object-name rules (S3 object name
// validity, no leading slash).
func checkOpenIMName(name string) error {
	switch {
	case name == "":
		return errors.New("name is empty")
	case strings.HasPrefix(name, "/"):
		return errors.New("name cannot start with `/`")
	case len(name) > 1024:
		return errors.New("name is longer than 1024 bytes")
	case !utf8.ValidString(name):
		return errors.New("name is not valid UTF-8")
	}
	for _, seg := range strings.Split(name, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("name %q has an empty, '.' or '..' path segment", name)
		}
	}
	return nil
}

func (s *Server) handleOpenIMInitiateFormData(w http.ResponseWriter, r *http.Request) {
	defer drain(r)
	if e := s.openIMAuth(r); e != nil {
		writeOpenIM(w, e, nil)
		return
	}
	var req struct {
		Name        string `json:"name"`
		Size        int64  `json:"size"`
		ContentType string `json:"contentType"`
		Group       string `json:"group"`
		Millisecond int64  `json:"millisecond"`
	}
	if e := decodeOpenIM(r, &req); e != nil {
		writeOpenIM(w, e, nil)
		return
	}
	if err := checkOpenIMName(req.Name); err != nil {
		writeOpenIM(w, &openIMError{OpenIMCodeArgs, "ArgsError", err.Error()}, nil)
		return
	}
	if req.Size <= 0 {
		writeOpenIM(w, &openIMError{OpenIMCodeArgs, "ArgsError", "size must be greater than 0"}, nil)
		return
	}
	if req.Size > MaxSinglePutSize {
		writeOpenIM(w, &openIMError{OpenIMCodeArgs, "ArgsError", fmt.Sprintf("size %d is larger than a form upload allows (%d)", req.Size, int64(MaxSinglePutSize))}, nil)
		return
	}
	if req.ContentType == "" {
		writeOpenIM(w, &openIMError{OpenIMCodeArgs, "ArgsError", "contentType is required"}, nil)
		return
	}
	ttl := openIMDefaultExpire
	if req.Millisecond > 0 {
		ttl = time.Duration(req.Millisecond) * time.Millisecond
	}
	if ttl > 7*24*time.Hour {
		writeOpenIM(w, &openIMError{OpenIMCodeArgs, "ArgsError", "millisecond must be at most 7 days"}, nil)
		return
	}
	backend := s.cfg.OpenIMBackend
	if backend == OpenIMBackendAWS {
		writeOpenIM(w, &openIMError{OpenIMCodeServerInternal, "ServerInternalError", openIMAWSNoForm}, nil)
		return
	}
	key := path.Join("openim", "direct", s.now().UTC().Format("20060102"), OpenIMAdminUserID, randomHex(16)+path.Ext(req.Name))
	up := &openIMUpload{Name: req.Name, Size: req.Size, ContentType: req.ContentType, Group: req.Group, Key: key, backend: backend}
	var form openIMForm
	expires := s.now().Add(ttl)
	if backend == OpenIMBackendMinIO || backend == "" {
		up.backend = OpenIMBackendMinIO
		pol, err := s.presignPostPolicy(postPolicyRequest{
			Bucket:        BucketOpenIM,
			Key:           key,
			ContentType:   req.ContentType,
			MinSize:       0,
			MaxSize:       req.Size,
			SuccessStatus: openIMSuccessStatus,
			TTL:           ttl,
		})
		if err != nil {
			writeOpenIM(w, &openIMError{OpenIMCodeServerInternal, "ServerInternalError", err.Error()}, nil)
			return
		}
		form, expires = openIMForm{URL: pol.URL, Fields: pol.FieldMap()}, pol.Expires
	} else {
		var err error
		if form, err = s.issueOpenIMForm(backend, key, req.ContentType, req.Size, expires); err != nil {
			writeOpenIM(w, &openIMError{OpenIMCodeServerInternal, "ServerInternalError", err.Error()}, nil)
			return
		}
		up.form = form.Fields
	}
	// Like the server, the id carries the upload's description.
	meta, _ := json.Marshal(up)
	id := base64.RawStdEncoding.EncodeToString(meta)
	s.openim.mu.Lock()
	s.openim.uploads[id] = up
	s.openim.byKey[key] = up
	s.openim.mu.Unlock()
	writeOpenIM(w, nil, map[string]any{
		"id":   id,
		"url":  form.URL,
		"file": "file",
		// Every driver leaves the form's headers unset, which the API
		// answers as null (tools s3/*/ FormData: Header nil).
		"header":       nil,
		"formData":     form.Fields,
		"expires":      expires.UnixMilli(),
		"successCodes": []int{openIMSuccessStatus},
	})
}

func (s *Server) handleOpenIMCompleteFormData(w http.ResponseWriter, r *http.Request) {
	defer drain(r)
	if e := s.openIMAuth(r); e != nil {
		writeOpenIM(w, e, nil)
		return
	}
	var req struct {
		ID string `json:"id"`
	}
	if e := decodeOpenIM(r, &req); e != nil {
		writeOpenIM(w, e, nil)
		return
	}
	if req.ID == "" {
		writeOpenIM(w, &openIMError{OpenIMCodeArgs, "ArgsError", "id is empty"}, nil)
		return
	}
	s.openim.mu.Lock()
	up := s.openim.uploads[req.ID]
	s.openim.mu.Unlock()
	if up == nil {
		writeOpenIM(w, &openIMError{OpenIMCodeArgs, "ArgsError", "invalid id: no form upload was initiated with it"}, nil)
		return
	}
	size, _, err := s.statStoredObject(BucketOpenIM, up.Key)
	// The server passes the storage's stat error on, a missing object
	// included, as errCode 500 (open-im-server internal/rpc/third/s3.go
	// CompleteFormData).
	if errors.Is(err, ErrNoSuchObject) {
		writeOpenIM(w, &openIMError{OpenIMCodeServerInternal, "ServerInternalError", openIMNoSuchKey}, nil)
		return
	}
	if err != nil {
		writeOpenIM(w, &openIMError{OpenIMCodeServerInternal, "ServerInternalError", err.Error()}, nil)
		return
	}
	if size != up.Size {
		writeOpenIM(w, &openIMError{OpenIMCodeData, "DataError", fmt.Sprintf("file size mismatch: stored %d bytes, initiate_form_data declared %d", size, up.Size)}, nil)
		return
	}
	s.openim.mu.Lock()
	up.completed = true
	s.openim.mu.Unlock()
	writeOpenIM(w, nil, map[string]any{"url": s.baseURL + PrefixOpenIM + "/object/" + up.Name})
}

// statStoredObject returns the size and content type of an object on the
// built-in store, or on the external S3 server through a presigned HEAD.
func (s *Server) statStoredObject(bucket, key string) (int64, string, error) {
	if s.cfg.ExternalS3 == nil {
		obj, err := s.store.Get(bucket, key)
		if err != nil {
			return 0, "", err
		}
		return obj.Size, obj.ContentType, nil
	}
	u, err := s.presignObject(http.MethodHead, bucket, key, nil, nil)
	if err != nil {
		return 0, "", err
	}
	hc := &http.Client{Timeout: 30 * time.Second}
	resp, err := hc.Head(u)
	if err != nil {
		return 0, "", fmt.Errorf("stat %s/%s on the external S3: %w", s.bucketFor(bucket), key, errors.Unwrap(err))
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return 0, "", ErrNoSuchObject
	case resp.StatusCode != http.StatusOK:
		return 0, "", fmt.Errorf("stat %s/%s on the external S3: HTTP %d", s.bucketFor(bucket), key, resp.StatusCode)
	}
	return resp.ContentLength, resp.Header.Get("Content-Type"), nil
}
