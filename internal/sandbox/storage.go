package sandbox

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// Buckets of the built-in store.
const (
	BucketMintegralS3  = "mintegral-audience"
	BucketMintegralOSS = "mintegral-cn"
	BucketFutureDemand = "futuredemand-uploads"
	BucketOpenIM       = "openim"
)

// MaxSinglePutSize is S3's limit for one PUT (and Mintegral's file limit).
const MaxSinglePutSize = 5 << 30

const storageRegion = "us-east-1"

func (s *Server) registerStorage(mux *http.ServeMux) {
	mux.HandleFunc("PUT "+PrefixS3+"/{bucket}/{key...}", s.handleS3Put)
	mux.HandleFunc("POST "+PrefixS3+"/{bucket}", s.handleS3PostObject)
	mux.HandleFunc("POST "+PrefixOSS+"/{bucket}", s.handleOSSPostObject)
}

// bucketFor maps a built-in bucket name to the external S3 bucket when one
// is configured.
func (s *Server) bucketFor(bucket string) string {
	if s.cfg.ExternalS3 != nil {
		return s.cfg.ExternalS3.Bucket
	}
	return bucket
}

// presignObject returns a presigned URL for an object on the built-in store
// or on the external S3 server. headers are header values the client must
// send as signed; query holds extra signed parameters.
func (s *Server) presignObject(method, bucket, key string, query url.Values, headers map[string]string) (string, error) {
	p := presignRequest{
		Method:  method,
		Expires: s.cfg.PresignTTL,
		Now:     s.now(),
		Query:   query,
		Headers: headers,
	}
	if ext := s.cfg.ExternalS3; ext != nil {
		p.Endpoint, p.Region, p.AccessKey, p.Secret = ext.Endpoint, ext.Region, ext.AccessKey, ext.SecretKey
		p.Path = "/" + ext.Bucket + "/" + key
	} else {
		p.Endpoint, p.Region, p.AccessKey, p.Secret = s.baseURL, storageRegion, s.storageKeyID, s.storageSecret
		p.Path = PrefixS3 + "/" + bucket + "/" + key
	}
	return presignV4(p)
}

// expectMD5 records the md5 a platform was told the object will have; the
// store refuses an upload whose bytes do not match it.
func (s *Server) expectMD5(bucket, key, md5hex string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.expectedMD5 == nil {
		s.expectedMD5 = map[string]string{}
	}
	s.expectedMD5[bucket+"/"+key] = md5hex
}

func (s *Server) checkExpectedMD5(bucket, key, got string) error {
	s.mu.Lock()
	want, ok := s.expectedMD5[bucket+"/"+key]
	s.mu.Unlock()
	if ok && want != got {
		return &s3Error{http.StatusBadRequest, "BadDigest", fmt.Sprintf("The uploaded content's MD5 %s does not match the file_md5 %s declared when the upload was requested.", got, want)}
	}
	return nil
}

func writeS3Error(w http.ResponseWriter, err error) {
	var se *s3Error
	if !errors.As(err, &se) {
		se = &s3Error{http.StatusInternalServerError, "InternalError", err.Error()}
	}
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(se.Status)
	_ = xml.NewEncoder(w).Encode(struct {
		XMLName xml.Name `xml:"Error"`
		Code    string   `xml:"Code"`
		Message string   `xml:"Message"`
	}{Code: se.Code, Message: se.Message})
}

// requireContentLength enforces what S3 and OSS do: a body must come with
// a Content-Length, not chunked transfer encoding.
func requireContentLength(r *http.Request) error {
	if r.ContentLength < 0 || len(r.TransferEncoding) > 0 {
		return &s3Error{http.StatusLengthRequired, "MissingContentLength", "You must provide the Content-Length HTTP header."}
	}
	return nil
}

// handleS3Put serves a presigned PutObject or UploadPart.
func (s *Server) handleS3Put(w http.ResponseWriter, r *http.Request) {
	defer drain(r)
	bucket, key := r.PathValue("bucket"), r.PathValue("key")
	if err := verifyPresignedV4(r, r.URL.Path, s.storageKeyID, s.storageSecret, s.now()); err != nil {
		writeS3Error(w, err)
		return
	}
	if err := checkFutureDemandStorageHeaders(bucket, r); err != nil {
		writeS3Error(w, err)
		return
	}
	if err := requireContentLength(r); err != nil {
		writeS3Error(w, err)
		return
	}
	if r.URL.Query().Has("uploadId") {
		s.handleS3UploadPart(w, r, bucket, key)
		return
	}
	if r.ContentLength > MaxSinglePutSize {
		writeS3Error(w, &s3Error{http.StatusBadRequest, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed object size."})
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
	if err := s.checkExpectedMD5(bucket, key, sum); err != nil {
		_ = os.Remove(tmp)
		writeS3Error(w, err)
		return
	}
	if _, err := s.store.Commit(tmp, Object{Bucket: bucket, Key: key, Size: r.ContentLength, MD5: sum, ContentType: r.Header.Get("Content-Type")}); err != nil {
		writeS3Error(w, err)
		return
	}
	w.Header().Set("ETag", `"`+sum+`"`)
	w.WriteHeader(http.StatusOK)
}

// checkContentMD5 verifies an optional Content-MD5 header (base64 of the
// binary digest).
func (s *Server) checkContentMD5(r *http.Request, md5hex string) error {
	h := r.Header.Get("Content-MD5")
	if h == "" {
		return nil
	}
	raw, _ := hex.DecodeString(md5hex)
	if h != base64.StdEncoding.EncodeToString(raw) {
		return &s3Error{http.StatusBadRequest, "BadDigest", "The Content-MD5 you specified did not match what we received."}
	}
	return nil
}

// readPostForm streams a multipart/form-data POST to an object store. Text
// fields are collected in order (names as sent); the part named fileField
// is written to disk. A part after the file is an error: object stores
// stop reading at the file.
func (s *Server) readPostForm(r *http.Request, fileField string, maxField int64) ([]formField, *formFile, error) {
	fields, file, ferr := s.readForm(r, formRules{fileField: fileField, fileLast: true, keepFields: true, maxField: maxField, scratch: "form-*"})
	if ferr == nil {
		return fields, file, nil
	}
	switch ferr.problem {
	case formNotMultipart:
		return nil, nil, &s3Error{http.StatusBadRequest, "InvalidArgument", "POST requires a multipart/form-data body."}
	case formMalformed:
		return nil, nil, &s3Error{http.StatusBadRequest, "MalformedPOSTRequest", "The body of your POST request is not well-formed multipart/form-data: " + ferr.detail}
	case formAfterFile:
		return nil, nil, &s3Error{http.StatusBadRequest, "InvalidArgument", fmt.Sprintf("form field %q comes after the file field %q; the file must be the last field", ferr.field, fileField)}
	case formIncomplete:
		return nil, nil, &s3Error{http.StatusBadRequest, "IncompleteBody", ferr.detail}
	case formFieldTooLarge:
		return nil, nil, &s3Error{http.StatusBadRequest, "InvalidArgument", ferr.Error()}
	case formNoFile:
		return nil, nil, &s3Error{http.StatusBadRequest, "InvalidArgument", fmt.Sprintf("POST form has no file field %q", fileField)}
	}
	return nil, nil, ferr
}

// lookupField finds a form field, case-insensitively as OSS and S3 do.
func lookupField(fields []formField, name string) string {
	for _, f := range fields {
		if strings.EqualFold(f.Name, name) {
			return f.Value
		}
	}
	return ""
}

// ossPolicy is an OSS/S3 POST policy document.
type ossPolicy struct {
	Expiration string            `json:"expiration"`
	Conditions []json.RawMessage `json:"conditions"`
}

// signOSSPolicy signs a policy the way Aliyun OSS PostObject (signature
// version 1) does: base64(HMAC-SHA1(secret, base64(policy))).
func signOSSPolicy(secret, policyB64 string) string {
	m := hmac.New(sha1.New, []byte(secret))
	m.Write([]byte(policyB64))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// newOSSPolicy builds and encodes a policy that allows exactly one key in
// bucket, with a size range, until expire.
func newOSSPolicy(bucket, key string, maxSize int64, expire time.Time) string {
	doc := map[string]any{
		"expiration": expire.UTC().Format("2006-01-02T15:04:05.000Z"),
		"conditions": []any{
			map[string]string{"bucket": bucket},
			[]any{"content-length-range", 1, maxSize},
			[]any{"eq", "$key", key},
		},
	}
	raw, _ := json.Marshal(doc)
	return base64.StdEncoding.EncodeToString(raw)
}

// postAccepted is what a store's form check decided about an upload.
type postAccepted struct {
	Key         string
	ContentType string
	ETag        string // as the store spells it, quotes included
}

// receivePostForm reads a form upload as every object store does: a
// Content-Length is required and the file, the last field, is streamed to
// disk. On a refusal it answers with an S3 error and reports false; the
// caller removes file.Path unless it stores the object.
func (s *Server) receivePostForm(w http.ResponseWriter, r *http.Request) ([]formField, *formFile, bool) {
	if err := requireContentLength(r); err != nil {
		writeS3Error(w, err)
		return nil, nil, false
	}
	fields, file, err := s.readPostForm(r, "file", 64<<10)
	if err != nil {
		writeS3Error(w, err)
		return nil, nil, false
	}
	return fields, file, true
}

// servePostObject runs the flow OSS PostObject and S3 POST Object share:
// a fixed-length multipart body with the file last, streamed to disk,
// authorized by check, matched against the declared md5, then stored.
func (s *Server) servePostObject(w http.ResponseWriter, r *http.Request, check func(bucket string, fields []formField, file *formFile) (postAccepted, error)) {
	defer drain(r)
	bucket := r.PathValue("bucket")
	fields, file, received := s.receivePostForm(w, r)
	if !received {
		return
	}
	keep := false
	defer func() {
		if !keep {
			_ = os.Remove(file.Path)
		}
	}()
	ok, err := check(bucket, fields, file)
	if err != nil {
		writeS3Error(w, err)
		return
	}
	if err := s.checkExpectedMD5(bucket, ok.Key, file.MD5); err != nil {
		writeS3Error(w, err)
		return
	}
	if _, err := s.store.Commit(file.Path, Object{Bucket: bucket, Key: ok.Key, Size: file.Size, MD5: file.MD5, ContentType: ok.ContentType}); err != nil {
		writeS3Error(w, err)
		return
	}
	keep = true
	w.Header().Set("ETag", ok.ETag)
	location := s.baseURL + r.URL.Path + "/" + awsURIEncode(ok.Key, false)
	w.Header().Set("Location", location)
	switch lookupField(fields, "success_action_status") {
	case "200":
		w.WriteHeader(http.StatusOK)
	case "201":
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusCreated)
		_ = xml.NewEncoder(w).Encode(struct {
			XMLName  xml.Name `xml:"PostResponse"`
			Location string   `xml:"Location"`
			Bucket   string   `xml:"Bucket"`
			Key      string   `xml:"Key"`
			ETag     string   `xml:"ETag"`
		}{Location: location, Bucket: bucket, Key: ok.Key, ETag: ok.ETag})
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

// handleOSSPostObject emulates Aliyun OSS PostObject with a V1 policy
// signature.
func (s *Server) handleOSSPostObject(w http.ResponseWriter, r *http.Request) {
	s.servePostObject(w, r, func(bucket string, fields []formField, file *formFile) (postAccepted, error) {
		key := lookupField(fields, "key")
		if err := s.checkOSSForm(bucket, key, fields, file); err != nil {
			return postAccepted{}, err
		}
		return postAccepted{Key: key, ContentType: file.Type, ETag: `"` + strings.ToUpper(file.MD5) + `"`}, nil
	})
}

func (s *Server) checkOSSForm(bucket, key string, fields []formField, file *formFile) error {
	if key == "" {
		return &s3Error{http.StatusBadRequest, "InvalidArgument", "The key field is required."}
	}
	accessID := lookupField(fields, "OSSAccessKeyId")
	policyB64 := lookupField(fields, "policy")
	signature := lookupField(fields, "Signature")
	if accessID == "" || policyB64 == "" || signature == "" {
		return &s3Error{http.StatusBadRequest, "InvalidArgument", "OSSAccessKeyId, policy and Signature are required for an authenticated PostObject."}
	}
	if accessID != s.storageKeyID {
		return &s3Error{http.StatusForbidden, "InvalidAccessKeyId", "The OSS Access Key Id you provided does not exist in our records."}
	}
	if !hmac.Equal([]byte(signature), []byte(signOSSPolicy(s.storageSecret, policyB64))) {
		return &s3Error{http.StatusForbidden, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided."}
	}
	raw, err := base64.StdEncoding.DecodeString(policyB64)
	if err != nil {
		return &s3Error{http.StatusBadRequest, "InvalidPolicyDocument", "policy is not valid base64"}
	}
	var pol ossPolicy
	if err := json.Unmarshal(raw, &pol); err != nil {
		return &s3Error{http.StatusBadRequest, "InvalidPolicyDocument", "policy is not valid JSON"}
	}
	exp, err := time.Parse(time.RFC3339, pol.Expiration)
	if err != nil {
		return &s3Error{http.StatusBadRequest, "InvalidPolicyDocument", "policy expiration is not ISO 8601"}
	}
	if s.now().After(exp) {
		return &s3Error{http.StatusForbidden, "AccessDenied", "Invalid according to Policy: Policy expired."}
	}
	values := map[string]string{"bucket": bucket, "key": key}
	for _, f := range fields {
		values[strings.ToLower(f.Name)] = f.Value
	}
	return checkPolicyConditions(pol.Conditions, values, file.Size)
}

// checkPolicyConditions evaluates POST policy conditions (shared by OSS
// and S3): exact matches, eq, starts-with and content-length-range.
func checkPolicyConditions(conds []json.RawMessage, values map[string]string, size int64) error {
	for _, c := range conds {
		var obj map[string]string
		if json.Unmarshal(c, &obj) == nil {
			for k, v := range obj {
				if values[strings.ToLower(k)] != v {
					return &s3Error{http.StatusForbidden, "AccessDenied", fmt.Sprintf("Invalid according to Policy: Policy Condition failed: [\"eq\", \"$%s\", %q]", k, v)}
				}
			}
			continue
		}
		var arr []any
		if err := json.Unmarshal(c, &arr); err != nil || len(arr) != 3 {
			return &s3Error{http.StatusBadRequest, "InvalidPolicyDocument", "malformed condition " + string(c)}
		}
		op, _ := arr[0].(string)
		switch strings.ToLower(op) {
		case "content-length-range":
			lo, _ := arr[1].(float64)
			hi, _ := arr[2].(float64)
			if float64(size) < lo || float64(size) > hi {
				return &s3Error{http.StatusBadRequest, "EntityTooLarge", fmt.Sprintf("Your proposed upload size %d is outside the policy's content-length-range [%d, %d].", size, int64(lo), int64(hi))}
			}
		case "eq", "starts-with":
			field, _ := arr[1].(string)
			want, _ := arr[2].(string)
			got := values[strings.ToLower(strings.TrimPrefix(field, "$"))]
			if (op == "eq" && got != want) || (op != "eq" && !strings.HasPrefix(got, want)) {
				return &s3Error{http.StatusForbidden, "AccessDenied", fmt.Sprintf("Invalid according to Policy: Policy Condition failed: [%q, %q, %q]", op, field, want)}
			}
		default:
			return &s3Error{http.StatusBadRequest, "InvalidPolicyDocument", "unknown condition " + op}
		}
	}
	return nil
}
