package sandbox

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// AWS Signature Version 4, query-string (presigned URL) form, as S3 uses
// it. The sandbox signs URLs for its own store or for an external S3
// server, and verifies the ones that reach its own store.

const (
	sigV4Algorithm  = "AWS4-HMAC-SHA256"
	amzDateFormat   = "20060102T150405Z"
	unsignedPayload = "UNSIGNED-PAYLOAD"
)

// presignRequest describes a URL to presign.
type presignRequest struct {
	Method    string
	Endpoint  string // scheme://host[:port]
	Path      string // unescaped path, starting with /
	Region    string
	AccessKey string
	Secret    string
	Expires   time.Duration
	Now       time.Time
	// Extra query parameters that are part of the signature (e.g.
	// partNumber and uploadId for multipart parts).
	Query url.Values
	// Headers (besides host) the client must send with these exact values.
	Headers map[string]string
}

// presignV4 returns a presigned URL.
func presignV4(p presignRequest) (string, error) {
	u, err := url.Parse(p.Endpoint)
	if err != nil {
		return "", err
	}
	date := p.Now.UTC().Format(amzDateFormat)
	scope := fmt.Sprintf("%s/%s/s3/aws4_request", date[:8], p.Region)

	signed := []string{"host"}
	for h := range p.Headers {
		signed = append(signed, strings.ToLower(h))
	}
	sort.Strings(signed)

	q := url.Values{}
	for k, vs := range p.Query {
		q[k] = append([]string(nil), vs...)
	}
	q.Set("X-Amz-Algorithm", sigV4Algorithm)
	q.Set("X-Amz-Credential", p.AccessKey+"/"+scope)
	q.Set("X-Amz-Date", date)
	q.Set("X-Amz-Expires", strconv.Itoa(int(p.Expires/time.Second)))
	q.Set("X-Amz-SignedHeaders", strings.Join(signed, ";"))

	headerValues := map[string]string{"host": u.Host}
	for h, v := range p.Headers {
		headerValues[strings.ToLower(h)] = v
	}
	canonical := canonicalRequest(p.Method, p.Path, q, signed, headerValues)
	sig := signV4(p.Secret, date, p.Region, scope, canonical)
	q.Set("X-Amz-Signature", sig)
	return u.Scheme + "://" + u.Host + awsURIEncode(p.Path, false) + "?" + canonicalQuery(q), nil
}

// s3Error is an error a storage server answers with.
type s3Error struct {
	Status  int
	Code    string
	Message string
}

func (e *s3Error) Error() string { return e.Code + ": " + e.Message }

// verifyPresignedV4 checks a request against its presigned query string:
// the signature (over method, path, query and signed headers), the
// credential, and expiry. path is the unescaped request path.
func verifyPresignedV4(r *http.Request, path, accessKey, secret string, now time.Time) error {
	q := r.URL.Query()
	if r.Header.Get("Authorization") != "" {
		return &s3Error{http.StatusBadRequest, "InvalidArgument", "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified"}
	}
	if q.Get("X-Amz-Algorithm") != sigV4Algorithm {
		return &s3Error{http.StatusForbidden, "AccessDenied", "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters."}
	}
	cred := strings.Split(q.Get("X-Amz-Credential"), "/")
	if len(cred) != 5 || cred[0] != accessKey || cred[3] != "s3" || cred[4] != "aws4_request" {
		return &s3Error{http.StatusForbidden, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."}
	}
	date, err := time.Parse(amzDateFormat, q.Get("X-Amz-Date"))
	if err != nil || date.Format("20060102") != cred[1] {
		return &s3Error{http.StatusForbidden, "AuthorizationQueryParametersError", "X-Amz-Date must be in the ISO8601 Long Format and match the credential scope."}
	}
	expires, err := strconv.Atoi(q.Get("X-Amz-Expires"))
	if err != nil || expires <= 0 || expires > 604800 {
		return &s3Error{http.StatusForbidden, "AuthorizationQueryParametersError", "X-Amz-Expires must be a number between 1 and 604800."}
	}
	if now.After(date.Add(time.Duration(expires) * time.Second)) {
		return &s3Error{http.StatusForbidden, "AccessDenied", "Request has expired"}
	}
	signed := strings.Split(q.Get("X-Amz-SignedHeaders"), ";")
	headerValues := map[string]string{}
	for _, h := range signed {
		if h == "host" {
			headerValues[h] = r.Host
			continue
		}
		headerValues[h] = strings.Join(r.Header.Values(h), ",")
	}
	want := q.Get("X-Amz-Signature")
	q.Del("X-Amz-Signature")
	canonical := canonicalRequest(r.Method, path, q, signed, headerValues)
	scope := strings.Join(cred[1:], "/")
	got := signV4(secret, q.Get("X-Amz-Date"), cred[2], scope, canonical)
	if !hmac.Equal([]byte(got), []byte(want)) {
		return &s3Error{http.StatusForbidden, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your key and signing method."}
	}
	return nil
}

func canonicalRequest(method, path string, q url.Values, signed []string, values map[string]string) string {
	var hdrs strings.Builder
	for _, h := range signed {
		hdrs.WriteString(h + ":" + strings.TrimSpace(values[h]) + "\n")
	}
	return strings.Join([]string{
		method,
		awsURIEncode(path, false),
		canonicalQuery(q),
		hdrs.String(),
		strings.Join(signed, ";"),
		unsignedPayload,
	}, "\n")
}

func signV4(secret, amzDate, region, scope, canonical string) string {
	sum := sha256.Sum256([]byte(canonical))
	toSign := sigV4Algorithm + "\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(sum[:])
	return hex.EncodeToString(hmacSHA256(sigV4Key(secret, amzDate[:8], region), toSign))
}

// sigV4Key derives the SigV4 signing key for S3 on one day (YYYYMMDD) in
// one region. POST policies are signed with it too.
func sigV4Key(secret, day, region string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), day)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, "s3")
	return hmacSHA256(k, "aws4_request")
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

func canonicalQuery(q url.Values) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		vs := append([]string(nil), q[k]...)
		sort.Strings(vs)
		for _, v := range vs {
			parts = append(parts, awsURIEncode(k, true)+"="+awsURIEncode(v, true))
		}
	}
	return strings.Join(parts, "&")
}

// awsURIEncode percent-encodes everything but RFC 3986 unreserved
// characters; '/' is kept unless encodeSlash.
func awsURIEncode(s string, encodeSlash bool) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_', c == '.', c == '~':
			b.WriteByte(c)
		case c == '/' && !encodeSlash:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}
