package sandbox

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"sync"

	"github.com/audiencekit/terraform-provider-audience/internal/filecheck/tpnspackage"
)

// Tencent Cloud TPNS emulation: the account package upload API
// (POST /v3/push/package/upload, as Tencent Cloud's TPNS API documentation
// describes it). Auth is HTTP Basic with the
// AccessID and SecretKey; errors are body-level retCode/errMsg pairs.

// Body-level codes the emulated TPNS API answers with (the TPNS API
// documentation's error code table).
const (
	TPNSCodeOK           = 0
	TPNSCodeParseError   = 1008001
	TPNSCodeMissingParam = 1008002
	TPNSCodeAuthFailed   = 1008003
	TPNSCodeInternal     = 1008004
	TPNSCodeInvalidParam = 1008007
	TPNSCodeUploadFailed = 1008011
	TPNSCodeEmptyFile    = 1008012
	TPNSCodeRateLimited  = 1008028
	TPNSCodeKeyMismatch  = 10030002
)

// BucketTPNS is where the sandbox keeps uploaded packages, keyed by upload id.
const BucketTPNS = "tpns-packages"

// tpnsFormOverhead is room for the multipart framing around the file.
const tpnsFormOverhead = 64 << 10

// TPNSUpload is one package the emulated TPNS accepted.
type TPNSUpload struct {
	UploadID int64
	FileName string
	Size     int64
	MD5      string
	Format   string // txt, csv or zip
	Entries  int64
}

// tpnsState holds the emulated TPNS service's state.
type tpnsState struct {
	mu      sync.Mutex
	lastID  int64
	uploads []TPNSUpload
}

// registerTPNS mounts the emulated TPNS API under PrefixTPNS.
func (s *Server) registerTPNS(mux *http.ServeMux) {
	s.tpns = &tpnsState{lastID: 10000}
	mux.HandleFunc("POST "+PrefixTPNS+"/v3/push/package/upload", s.handleTPNSUpload)
	c := s.cfg.Credentials
	s.exportURL("TPNS_ENDPOINT", PrefixTPNS)
	s.exportValue("TPNS_ACCESS_ID", c.TPNSAccessID)
	s.exportValue("TPNS_SECRET_KEY", c.TPNSSecretKey)
}

// TPNSUploads lists the packages accepted so far, oldest first.
func (s *Server) TPNSUploads() []TPNSUpload {
	s.tpns.mu.Lock()
	defer s.tpns.mu.Unlock()
	return append([]TPNSUpload(nil), s.tpns.uploads...)
}

func writeTPNS(w http.ResponseWriter, status, code int, msg string, uploadID int64) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	body := map[string]any{"retCode": code, "errMsg": msg}
	if code == TPNSCodeOK {
		body["uploadId"] = uploadID
	}
	_ = json.NewEncoder(w).Encode(body)
}

// checkTPNSAuth verifies the Basic credentials: an unknown or missing
// AccessID fails authentication; a known one with the wrong SecretKey is
// the AccessID/AccessKey mismatch.
func (s *Server) checkTPNSAuth(r *http.Request) (int, string) {
	id, secret, ok := r.BasicAuth()
	if !ok {
		return TPNSCodeAuthFailed, "authentication failed: missing or malformed Authorization: Basic header"
	}
	if subtle.ConstantTimeCompare([]byte(id), []byte(s.cfg.Credentials.TPNSAccessID)) != 1 {
		return TPNSCodeAuthFailed, "authentication failed: unknown AccessID"
	}
	if subtle.ConstantTimeCompare([]byte(secret), []byte(s.cfg.Credentials.TPNSSecretKey)) != 1 {
		return TPNSCodeKeyMismatch, "AccessID and SecretKey do not match"
	}
	return TPNSCodeOK, ""
}

func (s *Server) handleTPNSUpload(w http.ResponseWriter, r *http.Request) {
	defer drain(r)
	if r.ContentLength < 0 || len(r.TransferEncoding) > 0 {
		writeTPNS(w, http.StatusLengthRequired, TPNSCodeMissingParam, "Content-Length is required", 0)
		return
	}
	if code, msg := s.checkTPNSAuth(r); code != TPNSCodeOK {
		writeTPNS(w, http.StatusOK, code, msg, 0)
		return
	}
	if r.ContentLength > tpnspackage.MaxFileSize+tpnsFormOverhead {
		writeTPNS(w, http.StatusOK, TPNSCodeInvalidParam, fmt.Sprintf("file exceeds %d bytes", int64(tpnspackage.MaxFileSize)), 0)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, r.ContentLength)
	up, code, msg := s.receiveTPNSFile(r)
	if code != TPNSCodeOK {
		writeTPNS(w, http.StatusOK, code, msg, 0)
		return
	}
	keep := false
	defer func() {
		if !keep {
			_ = os.Remove(up.path)
		}
	}()
	if err := tpnspackage.CheckName(up.name, up.name); err != nil {
		writeTPNS(w, http.StatusOK, TPNSCodeInvalidParam, err.Error(), 0)
		return
	}
	if up.size > tpnspackage.MaxFileSize {
		writeTPNS(w, http.StatusOK, TPNSCodeInvalidParam, fmt.Sprintf("file exceeds %d bytes", int64(tpnspackage.MaxFileSize)), 0)
		return
	}
	// The same endpoint takes account and token packages and is not told
	// which, so it can only hold entries to the account rule.
	res, err := checkTPNSPackage(up)
	if err != nil {
		switch tpnspackage.RuleOf(err) {
		case "":
			writeTPNS(w, http.StatusOK, TPNSCodeInternal, "internal error", 0)
		case tpnspackage.RuleNotEmpty:
			writeTPNS(w, http.StatusOK, TPNSCodeEmptyFile, "uploaded file is empty: "+err.Error(), 0)
		default:
			writeTPNS(w, http.StatusOK, TPNSCodeInvalidParam, err.Error(), 0)
		}
		return
	}
	s.tpns.mu.Lock()
	s.tpns.lastID++
	u := TPNSUpload{UploadID: s.tpns.lastID, FileName: up.name, Size: up.size, MD5: up.md5, Format: res.Format, Entries: res.Entries}
	s.tpns.mu.Unlock()
	if _, err := s.store.Commit(up.path, Object{Bucket: BucketTPNS, Key: strconv.FormatInt(u.UploadID, 10), Size: u.Size, MD5: u.MD5}); err != nil {
		writeTPNS(w, http.StatusOK, TPNSCodeUploadFailed, "file upload failed", 0)
		return
	}
	keep = true
	s.tpns.mu.Lock()
	s.tpns.uploads = append(s.tpns.uploads, u)
	s.tpns.mu.Unlock()
	writeTPNS(w, http.StatusOK, TPNSCodeOK, "", u.UploadID)
}

// checkTPNSPackage applies the platform's package rules to a received file;
// errors name the file as the client sent it.
func checkTPNSPackage(up *tpnsFile) (tpnspackage.Result, error) {
	f, err := os.Open(up.path)
	if err != nil {
		return tpnspackage.Result{}, err
	}
	defer f.Close()
	return tpnspackage.Check(f, up.size, up.name, up.name, tpnspackage.Account)
}

type tpnsFile struct {
	name, path, md5 string
	size            int64
}

// receiveTPNSFile streams the multipart body: the part named "file" goes to
// a scratch file, other parts are read and ignored.
func (s *Server) receiveTPNSFile(r *http.Request) (*tpnsFile, int, string) {
	_, file, ferr := s.readForm(r, formRules{fileField: "file", needFileName: true, scratch: "tpns-*"})
	if ferr == nil {
		return &tpnsFile{name: file.FileName, path: file.Path, size: file.Size, md5: file.MD5}, TPNSCodeOK, ""
	}
	switch ferr.problem {
	case formNotMultipart:
		return nil, TPNSCodeParseError, "request body must be multipart/form-data"
	case formMalformed:
		return nil, TPNSCodeParseError, "parameter parse error: malformed multipart body"
	case formSecondFile:
		return nil, TPNSCodeInvalidParam, "more than one file parameter"
	case formNotAFile:
		return nil, TPNSCodeMissingParam, "missing parameter: file must be sent as a file, with a filename"
	case formIncomplete:
		return nil, TPNSCodeUploadFailed, "file upload failed: incomplete body"
	case formNoFile:
		return nil, TPNSCodeMissingParam, "missing parameter: file"
	}
	return nil, TPNSCodeInternal, "internal error"
}

// tpnsStateFile keeps the accepted packages and the last upload ID across
// restarts, so IDs are never issued twice.
const tpnsStateFile = "tpns.json"

type tpnsSaved struct {
	LastID  int64        `json:"last_id"`
	Uploads []TPNSUpload `json:"uploads"`
}

func (s *Server) keepTPNS() error {
	st := s.tpns
	return s.keep(tpnsStateFile, func() any {
		st.mu.Lock()
		defer st.mu.Unlock()
		return tpnsSaved{LastID: st.lastID, Uploads: append([]TPNSUpload{}, st.uploads...)}
	}, func(dec *json.Decoder) error {
		var saved tpnsSaved
		if err := dec.Decode(&saved); err != nil {
			return err
		}
		st.mu.Lock()
		defer st.mu.Unlock()
		st.lastID = max(st.lastID, saved.LastID)
		st.uploads = saved.Uploads
		return nil
	})
}
