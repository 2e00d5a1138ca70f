package sandbox

import (
	"bytes"
	"crypto/hmac"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// S3 POST Object with a Signature Version 4 POST policy, as S3 and MinIO
// (OpenIM's default storage) serve it. The sandbox signs policies for its
// own store or for an ExternalS3, and verifies the ones that reach its own
// store as strictly as MinIO does: every form field must be covered by a
// policy condition.

// postPolicyTimeFormat is the policy document's expiration format.
const postPolicyTimeFormat = "2006-01-02T15:04:05.000Z"

// postPolicyRequest describes a POST policy to sign for one object.
type postPolicyRequest struct {
	Bucket      string // built-in bucket name; mapped to ExternalS3.Bucket when set
	Key         string
	ContentType string // when set, the form must carry exactly this Content-Type
	MinSize     int64  // content-length-range
	MaxSize     int64
	// SuccessStatus is the success_action_status the form must carry
	// (200, 201 or 204); 0 leaves it out and S3 answers 204.
	SuccessStatus int
	TTL           time.Duration
}

// postPolicy is a signed POST policy: where to POST, and the form fields
// to send before the file (in this order; S3 does not care about the order
// as long as the file comes last).
type postPolicy struct {
	URL     string
	Fields  []formField
	Expires time.Time
}

// FieldMap returns the fields as a map (OpenIM's formData shape).
func (p postPolicy) FieldMap() map[string]string {
	m := make(map[string]string, len(p.Fields))
	for _, f := range p.Fields {
		m[f.Name] = f.Value
	}
	return m
}

// presignPostPolicy builds and signs a V4 POST policy for one object on the
// built-in store or on the external S3 server: the policy is the base64 of
// its JSON, and x-amz-signature is the hex HMAC-SHA256 of that base64 text
// with the SigV4 signing key of the credential's day and region.
func (s *Server) presignPostPolicy(p postPolicyRequest) (postPolicy, error) {
	now := s.now().UTC()
	endpoint, region, accessKey, secret := s.baseURL+PrefixS3, storageRegion, s.storageKeyID, s.storageSecret
	bucket := p.Bucket
	if ext := s.cfg.ExternalS3; ext != nil {
		endpoint, region, accessKey, secret = strings.TrimRight(ext.Endpoint, "/"), ext.Region, ext.AccessKey, ext.SecretKey
		bucket = ext.Bucket
	}
	if p.Key == "" || bucket == "" {
		return postPolicy{}, fmt.Errorf("post policy needs a bucket and a key")
	}
	amzDate := now.Format(amzDateFormat)
	credential := accessKey + "/" + amzDate[:8] + "/" + region + "/s3/aws4_request"
	expires := now.Add(p.TTL)

	fields := []formField{{"bucket", bucket}, {"key", p.Key}}
	conds := []any{
		map[string]string{"bucket": bucket},
		[]any{"eq", "$key", p.Key},
	}
	if p.ContentType != "" {
		fields = append(fields, formField{"Content-Type", p.ContentType})
		conds = append(conds, []any{"eq", "$Content-Type", p.ContentType})
	}
	if p.SuccessStatus != 0 {
		st := strconv.Itoa(p.SuccessStatus)
		fields = append(fields, formField{"success_action_status", st})
		conds = append(conds, []any{"eq", "$success_action_status", st})
	}
	conds = append(conds,
		[]any{"content-length-range", p.MinSize, p.MaxSize},
		map[string]string{"x-amz-algorithm": sigV4Algorithm},
		map[string]string{"x-amz-credential": credential},
		map[string]string{"x-amz-date": amzDate},
	)
	doc, err := json.Marshal(map[string]any{
		"expiration": expires.Format(postPolicyTimeFormat),
		"conditions": conds,
	})
	if err != nil {
		return postPolicy{}, err
	}
	policy := base64.StdEncoding.EncodeToString(doc)
	signature := hex.EncodeToString(hmacSHA256(sigV4Key(secret, amzDate[:8], region), policy))
	fields = append(fields,
		formField{"x-amz-algorithm", sigV4Algorithm},
		formField{"x-amz-credential", credential},
		formField{"x-amz-date", amzDate},
		formField{"policy", policy},
		formField{"x-amz-signature", signature},
	)
	return postPolicy{URL: endpoint + "/" + bucket, Fields: fields, Expires: expires}, nil
}

// postPolicyExempt are the form fields a policy need not cover.
var postPolicyExempt = map[string]bool{"policy": true, "x-amz-signature": true, "file": true}

// postPolicyNoStartsWith are the fields S3 only allows exact conditions on.
var postPolicyNoStartsWith = map[string]bool{"bucket": true, "x-amz-algorithm": true, "x-amz-credential": true, "x-amz-date": true}

// handleS3PostObject serves an S3 POST Object with a V4 POST policy on the
// built-in store.
func (s *Server) handleS3PostObject(w http.ResponseWriter, r *http.Request) {
	s.servePostObject(w, r, func(bucket string, fields []formField, file *formFile) (postAccepted, error) {
		values, err := s.checkS3PostForm(bucket, fields, file)
		if err != nil {
			return postAccepted{}, err
		}
		// The object's type is the form's Content-Type field, as on S3.
		ct := values["content-type"]
		if ct == "" {
			ct = "binary/octet-stream"
		}
		return postAccepted{Key: values["key"], ContentType: ct, ETag: `"` + file.MD5 + `"`}, nil
	})
}

// checkS3PostForm authenticates a POST Object form and applies its policy.
// It returns the form's values by lower-case field name.
func (s *Server) checkS3PostForm(bucket string, fields []formField, file *formFile) (map[string]string, error) {
	values := map[string]string{}
	for _, f := range fields {
		name := strings.ToLower(f.Name)
		if _, dup := values[name]; dup {
			return nil, &s3Error{http.StatusBadRequest, "InvalidArgument", fmt.Sprintf("POST form field %q appears more than once.", f.Name)}
		}
		values[name] = f.Value
	}
	for _, name := range []string{"key", "policy", "x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-signature"} {
		if values[name] == "" {
			return nil, &s3Error{http.StatusBadRequest, "InvalidArgument", fmt.Sprintf("Bucket POST must contain a field named '%s'.", name)}
		}
	}
	if b, ok := values["bucket"]; ok && b != bucket {
		return nil, &s3Error{http.StatusBadRequest, "InvalidArgument", fmt.Sprintf("The bucket form field %q does not match the bucket %q in the URL.", b, bucket)}
	}
	values["bucket"] = bucket
	if values["x-amz-algorithm"] != sigV4Algorithm {
		return nil, &s3Error{http.StatusBadRequest, "InvalidArgument", "Only AWS4-HMAC-SHA256 is supported for x-amz-algorithm."}
	}
	cred := strings.Split(values["x-amz-credential"], "/")
	if len(cred) != 5 || cred[3] != "s3" || cred[4] != "aws4_request" {
		return nil, &s3Error{http.StatusBadRequest, "InvalidArgument", "x-amz-credential must be <access key>/<YYYYMMDD>/<region>/s3/aws4_request."}
	}
	if cred[0] != s.storageKeyID {
		return nil, &s3Error{http.StatusForbidden, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."}
	}
	if cred[2] != storageRegion {
		return nil, &s3Error{http.StatusBadRequest, "AuthorizationHeaderMalformed", fmt.Sprintf("The region '%s' is wrong; expecting '%s'.", cred[2], storageRegion)}
	}
	date, err := time.Parse(amzDateFormat, values["x-amz-date"])
	if err != nil || date.Format("20060102") != cred[1] {
		return nil, &s3Error{http.StatusBadRequest, "InvalidArgument", "x-amz-date must be in the ISO8601 basic format (YYYYMMDDTHHMMSSZ) and on the day of the credential scope."}
	}
	want := hex.EncodeToString(hmacSHA256(sigV4Key(s.storageSecret, cred[1], cred[2]), values["policy"]))
	if !hmac.Equal([]byte(want), []byte(values["x-amz-signature"])) {
		return nil, &s3Error{http.StatusForbidden, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your key and signing method."}
	}
	pol, err := parsePostPolicy(values["policy"])
	if err != nil {
		return nil, err
	}
	if !s.now().Before(pol.expiration) {
		return nil, &s3Error{http.StatusForbidden, "AccessDenied", "Invalid according to Policy: Policy expired."}
	}
	covered := map[string]bool{}
	for _, c := range pol.Conditions {
		var obj map[string]string
		if json.Unmarshal(c, &obj) == nil {
			for k := range obj {
				covered[strings.ToLower(k)] = true
			}
			continue
		}
		var arr []any
		if json.Unmarshal(c, &arr) != nil || len(arr) != 3 {
			return nil, &s3Error{http.StatusBadRequest, "InvalidPolicyDocument", "Invalid Policy: malformed condition " + string(c)}
		}
		op, _ := arr[0].(string)
		if strings.EqualFold(op, "content-length-range") {
			continue
		}
		field, _ := arr[1].(string)
		if !strings.HasPrefix(field, "$") {
			return nil, &s3Error{http.StatusBadRequest, "InvalidPolicyDocument", "Invalid Policy: a condition's field must start with $: " + string(c)}
		}
		name := strings.ToLower(strings.TrimPrefix(field, "$"))
		if strings.EqualFold(op, "starts-with") && postPolicyNoStartsWith[name] {
			return nil, &s3Error{http.StatusForbidden, "AccessDenied", fmt.Sprintf("Invalid according to Policy: Policy Condition failed: starts-with is not allowed on %s", field)}
		}
		covered[name] = true
	}
	if err := checkPolicyConditions(pol.Conditions, values, file.Size); err != nil {
		return nil, err
	}
	// Every field but the exempt ones must be named by a condition: an
	// extra field is how a client leaks metadata the signer never allowed.
	var extra []string
	for _, f := range fields {
		name := strings.ToLower(f.Name)
		if postPolicyExempt[name] || strings.HasPrefix(name, "x-ignore-") || covered[name] {
			continue
		}
		extra = append(extra, f.Name)
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		return nil, &s3Error{http.StatusForbidden, "AccessDenied", "Invalid according to Policy: Extra input fields: " + strings.Join(extra, ", ")}
	}
	if file.Size > MaxSinglePutSize {
		return nil, &s3Error{http.StatusBadRequest, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed object size."}
	}
	return values, nil
}

// s3PostPolicy is a decoded V4 POST policy document.
type s3PostPolicy struct {
	Expiration string            `json:"expiration"`
	Conditions []json.RawMessage `json:"conditions"`
	expiration time.Time
}

// parsePostPolicy decodes a base64 policy strictly: unknown top-level keys
// and a missing or malformed expiration are rejected.
func parsePostPolicy(b64 string) (*s3PostPolicy, error) {
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, &s3Error{http.StatusBadRequest, "InvalidPolicyDocument", "Invalid Policy: the policy is not valid base64."}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var pol s3PostPolicy
	if err := dec.Decode(&pol); err != nil {
		return nil, &s3Error{http.StatusBadRequest, "InvalidPolicyDocument", "Invalid Policy: " + err.Error()}
	}
	pol.expiration, err = time.Parse(time.RFC3339Nano, pol.Expiration)
	if err != nil {
		return nil, &s3Error{http.StatusBadRequest, "InvalidPolicyDocument", "Invalid Policy: expiration must be an ISO 8601 UTC time."}
	}
	return &pol, nil
}
