package sandbox

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// OpenIM's object storage backends. The server builds the upload form in
// its storage driver (openimsdk/tools s3/<backend> FormData, chosen by
// object.enable in open-im-server config/openim-rpc-third.yml), so what
// initiate_form_data answers, and what the form POST must carry, depends
// on the backend.

// OpenIMBackend is the kind of object storage the emulated OpenIM server
// is configured with.
type OpenIMBackend string

const (
	// OpenIMBackendMinIO (the default): an S3 POST policy V4, header null
	// (tools s3/minio/minio.go FormData).
	OpenIMBackendMinIO OpenIMBackend = "minio"
	// OpenIMBackendCOS: Tencent COS POST object with a q-sign policy
	// (tools s3/cos/cos.go FormData; COS document 436/14690).
	OpenIMBackendCOS OpenIMBackend = "cos"
	// OpenIMBackendOSS: Aliyun OSS PostObject with a V1 policy signature
	// (tools s3/oss/oss.go FormData).
	OpenIMBackendOSS OpenIMBackend = "oss"
	// OpenIMBackendKodo: Qiniu Kodo form upload with an upload token
	// (tools s3/kodo/kodo.go FormData; Qiniu document kodo/1312).
	OpenIMBackendKodo OpenIMBackend = "kodo"
	// OpenIMBackendAWS: no form upload at all; initiate_form_data fails
	// with errCode 500 (tools s3/aws/aws.go FormData).
	OpenIMBackendAWS OpenIMBackend = "aws"
)

// OpenIMBackends lists the backend kinds, for flags and errors.
var OpenIMBackends = []OpenIMBackend{OpenIMBackendMinIO, OpenIMBackendCOS, OpenIMBackendOSS, OpenIMBackendKodo, OpenIMBackendAWS}

// ParseOpenIMBackend reads a backend kind; "" is MinIO.
func ParseOpenIMBackend(s string) (OpenIMBackend, error) {
	if s == "" {
		return OpenIMBackendMinIO, nil
	}
	for _, b := range OpenIMBackends {
		if string(b) == s {
			return b, nil
		}
	}
	return "", fmt.Errorf("unknown OpenIM storage backend %q; use one of minio, cos, oss, kodo, aws", s)
}

// openIMAWSNoForm is the error text of the AWS driver's FormData, which
// the API passes on as errDlt of a ServerInternalError (errCode 500).
const openIMAWSNoForm = "aws does not currently support form data file uploads"

// openIMNoSuchKey is MinIO's message for a missing object; complete_form_data
// passes the storage's stat error on as errCode 500 (open-im-server
// internal/rpc/third/s3.go CompleteFormData returns StatObject's error).
const openIMNoSuchKey = "The specified key does not exist."

// PrefixOpenIMStorage is where the sandbox serves the COS, OSS and Kodo
// form targets of OpenIM uploads: /openim-storage/<backend>/<bucket>.
const PrefixOpenIMStorage = "/openim-storage"

func (s *Server) registerOpenIMStorage(mux *http.ServeMux) {
	mux.HandleFunc("POST "+PrefixOpenIMStorage+"/{backend}/{bucket}", s.handleOpenIMStoragePost)
}

// openIMForm is an upload form one backend issued.
type openIMForm struct {
	URL    string
	Fields map[string]string
}

// issueOpenIMForm builds the form of a COS, OSS or Kodo backend for one
// key, signed with the built-in store's credentials.
func (s *Server) issueOpenIMForm(b OpenIMBackend, key, contentType string, size int64, expires time.Time) (openIMForm, error) {
	url := s.baseURL + PrefixOpenIMStorage + "/" + string(b) + "/" + BucketOpenIM
	now := s.now()
	switch b {
	case OpenIMBackendCOS:
		// Fields and policy as tools s3/cos/cos.go FormData builds them.
		keyTime := fmt.Sprintf("%d;%d", now.Unix(), expires.Unix())
		conds := []any{
			map[string]string{"q-sign-algorithm": "sha1"},
			map[string]string{"q-ak": s.storageKeyID},
			map[string]string{"q-sign-time": keyTime},
			map[string]string{"key": key},
		}
		if contentType != "" {
			conds = append(conds, map[string]string{"Content-Type": contentType})
		}
		doc, err := json.Marshal(map[string]any{"expiration": expires.UTC().Format(postPolicyTimeFormat), "conditions": conds})
		if err != nil {
			return openIMForm{}, err
		}
		f := map[string]string{
			"policy":                base64.StdEncoding.EncodeToString(doc),
			"q-sign-algorithm":      "sha1",
			"q-ak":                  s.storageKeyID,
			"q-key-time":            keyTime,
			"q-signature":           cosSignature(s.storageSecret, keyTime, string(doc)),
			"key":                   key,
			"success_action_status": strconv.Itoa(openIMSuccessStatus),
		}
		if contentType != "" {
			f["Content-Type"] = contentType
		}
		return openIMForm{URL: url, Fields: f}, nil
	case OpenIMBackendOSS:
		// Fields as tools s3/oss/oss.go FormData builds them.
		doc, err := json.Marshal(map[string]any{
			"expiration": expires.UTC().Format(postPolicyTimeFormat),
			"conditions": []any{
				map[string]string{"bucket": BucketOpenIM},
				map[string]string{"key": key},
				[]any{"content-length-range", 0, size},
			},
		})
		if err != nil {
			return openIMForm{}, err
		}
		policy := base64.StdEncoding.EncodeToString(doc)
		f := map[string]string{
			"key":                   key,
			"policy":                policy,
			"OSSAccessKeyId":        s.storageKeyID,
			"success_action_status": strconv.Itoa(openIMSuccessStatus),
			"signature":             signOSSPolicy(s.storageSecret, policy),
		}
		if contentType != "" {
			f["x-oss-content-type"] = contentType
		}
		return openIMForm{URL: url, Fields: f}, nil
	case OpenIMBackendKodo:
		// The fields tools s3/kodo/kodo.go FormData sends (token, key,
		// accept), with the upload token as Qiniu documents it:
		// AK:urlsafe_b64(HMAC-SHA1(SK, encodedPutPolicy)):encodedPutPolicy,
		// scope "<bucket>:<key>" with the key field the bare key. (The
		// current OpenIM driver signs differently and prefixes the key
		// with the bucket; a real Qiniu refuses that form, so the sandbox
		// emulates the form Qiniu accepts.)
		pol, err := json.Marshal(map[string]any{"scope": BucketOpenIM + ":" + key, "deadline": expires.Unix()})
		if err != nil {
			return openIMForm{}, err
		}
		enc := base64.URLEncoding.EncodeToString(pol)
		f := map[string]string{"key": key, "token": s.storageKeyID + ":" + kodoSign(s.storageSecret, enc) + ":" + enc}
		if contentType != "" {
			f["accept"] = contentType
		}
		return openIMForm{URL: url, Fields: f}, nil
	}
	return openIMForm{}, fmt.Errorf("backend %s builds no form of its own", b)
}

// cosSignature is COS's POST signature: HMAC-SHA1(HMAC-SHA1(SK, keyTime),
// SHA1(policy)), all hex.
func cosSignature(secret, keyTime, policyJSON string) string {
	signKey := hmacSHA1Hex(secret, keyTime)
	sum := sha1.Sum([]byte(policyJSON))
	return hmacSHA1Hex(signKey, hex.EncodeToString(sum[:]))
}

func hmacSHA1Hex(key, msg string) string {
	m := hmac.New(sha1.New, []byte(key))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

// kodoSign is Qiniu's token signature: urlsafe base64 of HMAC-SHA1.
func kodoSign(secret, encodedPolicy string) string {
	m := hmac.New(sha1.New, []byte(secret))
	m.Write([]byte(encodedPolicy))
	return base64.URLEncoding.EncodeToString(m.Sum(nil))
}

// handleOpenIMStoragePost is the COS, OSS or Kodo form target. Besides
// the backend's own signature checks, the form must carry every field the
// server issued for its key, unchanged, nothing else, and the file last
// (readPostForm refuses a field after the file).
func (s *Server) handleOpenIMStoragePost(w http.ResponseWriter, r *http.Request) {
	b, err := ParseOpenIMBackend(r.PathValue("backend"))
	if err != nil || b == OpenIMBackendMinIO || b == OpenIMBackendAWS {
		defer drain(r)
		writeS3Error(w, &s3Error{http.StatusNotFound, "NoSuchBucket", "no such storage"})
		return
	}
	if b == OpenIMBackendKodo {
		s.serveKodoForm(w, r)
		return
	}
	s.servePostObject(w, r, func(bucket string, fields []formField, file *formFile) (postAccepted, error) {
		up, err := s.checkOpenIMIssued(b, bucket, fields)
		if err != nil {
			return postAccepted{}, err
		}
		values := map[string]string{"bucket": bucket}
		for _, f := range fields {
			values[strings.ToLower(f.Name)] = f.Value
		}
		switch b {
		case OpenIMBackendCOS:
			if err := s.checkCOSForm(values, file); err != nil {
				return postAccepted{}, err
			}
			return postAccepted{Key: up.Key, ContentType: values["content-type"], ETag: `"` + file.MD5 + `"`}, nil
		default: // OSS
			if err := s.checkOSSForm(bucket, up.Key, fields, file); err != nil {
				return postAccepted{}, err
			}
			return postAccepted{Key: up.Key, ContentType: values["x-oss-content-type"], ETag: `"` + strings.ToUpper(file.MD5) + `"`}, nil
		}
	})
}

// checkOpenIMIssued finds the upload a form is for (by its key field) and
// requires exactly the fields issued for it.
func (s *Server) checkOpenIMIssued(b OpenIMBackend, bucket string, fields []formField) (*openIMUpload, error) {
	key := lookupField(fields, "key")
	s.openim.mu.Lock()
	up := s.openim.byKey[key]
	s.openim.mu.Unlock()
	if bucket != BucketOpenIM {
		return nil, &s3Error{http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist."}
	}
	if key == "" || up == nil || up.backend != b {
		return nil, &s3Error{http.StatusForbidden, "AccessDenied", fmt.Sprintf("no upload form was issued for key %q", key)}
	}
	seen := map[string]bool{}
	for _, f := range fields {
		name := strings.ToLower(f.Name)
		if seen[name] {
			return nil, &s3Error{http.StatusBadRequest, "InvalidArgument", fmt.Sprintf("form field %q appears more than once", f.Name)}
		}
		seen[name] = true
		want, issued := lookupIssued(up.form, f.Name)
		if !issued {
			return nil, &s3Error{http.StatusForbidden, "AccessDenied", fmt.Sprintf("form field %q was not issued by the server; send only the formData fields and the file", f.Name)}
		}
		if f.Value != want {
			return nil, &s3Error{http.StatusForbidden, "AccessDenied", fmt.Sprintf("form field %q differs from what the server issued; send every formData value unchanged", f.Name)}
		}
	}
	for name := range up.form {
		if !seen[strings.ToLower(name)] {
			return nil, &s3Error{http.StatusBadRequest, "InvalidArgument", fmt.Sprintf("form field %q issued by the server is missing", name)}
		}
	}
	return up, nil
}

// lookupIssued finds an issued field; the stores match names regardless
// of case.
func lookupIssued(form map[string]string, name string) (string, bool) {
	for k, v := range form {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}

// checkCOSForm verifies a COS POST object form: key id, algorithm, key
// time window, signature over the policy, and the policy's conditions
// (COS names the key time q-sign-time in the policy and q-key-time in the
// form).
func (s *Server) checkCOSForm(values map[string]string, file *formFile) error {
	if values["q-sign-algorithm"] != "sha1" {
		return &s3Error{http.StatusBadRequest, "InvalidArgument", "q-sign-algorithm must be sha1"}
	}
	if values["q-ak"] != s.storageKeyID {
		return &s3Error{http.StatusForbidden, "InvalidAccessKeyId", "The access key Id format you provided is invalid."}
	}
	first, last, ok := strings.Cut(values["q-key-time"], ";")
	start, err1 := strconv.ParseInt(first, 10, 64)
	end, err2 := strconv.ParseInt(last, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return &s3Error{http.StatusBadRequest, "InvalidArgument", "q-key-time must be <start>;<end> in unix seconds"}
	}
	if now := s.now().Unix(); now < start || now > end {
		return &s3Error{http.StatusForbidden, "AccessDenied", "Request has expired"}
	}
	raw, err := base64.StdEncoding.DecodeString(values["policy"])
	if err != nil {
		return &s3Error{http.StatusBadRequest, "InvalidPolicyDocument", "policy is not valid base64"}
	}
	if !hmac.Equal([]byte(values["q-signature"]), []byte(cosSignature(s.storageSecret, values["q-key-time"], string(raw)))) {
		return &s3Error{http.StatusForbidden, "SignatureDoesNotMatch", "The calculated signature does not match the signature you provided."}
	}
	pol, err := parsePostPolicy(values["policy"])
	if err != nil {
		return err
	}
	if !s.now().Before(pol.expiration) {
		return &s3Error{http.StatusForbidden, "AccessDenied", "Invalid according to Policy: Policy expired."}
	}
	withTime := map[string]string{"q-sign-time": values["q-key-time"]}
	for k, v := range values {
		withTime[k] = v
	}
	return checkPolicyConditions(pol.Conditions, withTime, file.Size)
}

// serveKodoForm is Qiniu's form upload: the token authorizes one scope
// until its deadline; the answer is 200 with {hash, key}.
func (s *Server) serveKodoForm(w http.ResponseWriter, r *http.Request) {
	defer drain(r)
	kodoErr := func(status int, msg string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
	}
	fields, file, ok := s.receivePostForm(w, r)
	if !ok {
		return
	}
	keep := false
	defer func() {
		if !keep {
			_ = os.Remove(file.Path)
		}
	}()
	bucket := r.PathValue("bucket")
	up, err := s.checkOpenIMIssued(OpenIMBackendKodo, bucket, fields)
	if err != nil {
		writeS3Error(w, err)
		return
	}
	parts := strings.Split(lookupField(fields, "token"), ":")
	if len(parts) != 3 || parts[0] != s.storageKeyID {
		kodoErr(http.StatusUnauthorized, "bad token")
		return
	}
	if !hmac.Equal([]byte(parts[1]), []byte(kodoSign(s.storageSecret, parts[2]))) {
		kodoErr(http.StatusUnauthorized, "bad token")
		return
	}
	raw, err := base64.URLEncoding.DecodeString(parts[2])
	var pol struct {
		Scope    string `json:"scope"`
		Deadline int64  `json:"deadline"`
	}
	if err != nil || json.Unmarshal(raw, &pol) != nil {
		kodoErr(http.StatusUnauthorized, "bad token")
		return
	}
	if s.now().Unix() > pol.Deadline {
		kodoErr(http.StatusUnauthorized, "token out of date")
		return
	}
	if pol.Scope != bucket+":"+up.Key {
		kodoErr(http.StatusForbidden, "key doesn't match with scope")
		return
	}
	if err := s.checkExpectedMD5(bucket, up.Key, file.MD5); err != nil {
		writeS3Error(w, err)
		return
	}
	if _, err := s.store.Commit(file.Path, Object{Bucket: bucket, Key: up.Key, Size: file.Size, MD5: file.MD5, ContentType: file.Type}); err != nil {
		writeS3Error(w, err)
		return
	}
	keep = true
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(map[string]string{"hash": file.MD5, "key": up.Key})
}
