package sandbox

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Mintegral Open API emulation: token auth and presigned audience-file
// upload information for S3 (area 1) and Aliyun OSS (area 2). The audience
// lifecycle is in mintegral_audience.go.

// Body-level error codes the emulated Mintegral API answers with (HTTP
// status is 200, as on the real API; success is code 200).
const (
	MintegralCodeOK            = 200
	MintegralCodeBadParam      = 400
	MintegralCodeAuthMissing   = 10001
	MintegralCodeBadAccessKey  = 10002
	MintegralCodeBadToken      = 10003
	MintegralCodeStaleTimstamp = 10004
	MintegralCodeInternal      = 500
)

// MintegralTimestampWindow is how far the timestamp header may be from the
// server clock.
const MintegralTimestampWindow = 5 * time.Minute

var md5Hex = regexp.MustCompile(`^[0-9a-f]{32}$`)

func (s *Server) registerMintegral(mux *http.ServeMux) {
	mux.HandleFunc("GET "+PrefixMintegral+"/api/open/v1/audience/presigned-upload-data", s.handleMintegralPresign)
	s.registerMintegralAudience(mux)
	c := s.cfg.Credentials
	s.exportURL("MINTEGRAL_ENDPOINT", PrefixMintegral)
	s.exportValue("MINTEGRAL_ACCESS_KEY", c.MintegralAccessKey)
	s.exportValue("MINTEGRAL_API_KEY", c.MintegralAPIKey)
}

// MintegralToken computes the token the API expects:
// md5_hex(api_key + md5_hex(timestamp)).
func MintegralToken(apiKey, timestamp string) string {
	inner := md5.Sum([]byte(timestamp))
	outer := md5.Sum([]byte(apiKey + hex.EncodeToString(inner[:])))
	return hex.EncodeToString(outer[:])
}

func writeMintegral(w http.ResponseWriter, code int, msg string, data any) {
	w.Header().Set("Content-Type", "application/json")
	body := map[string]any{"code": code}
	if code == MintegralCodeOK {
		body["message"] = msg // success examples use "message"
		body["data"] = data
	} else {
		body["msg"] = msg // the field table says "msg"
	}
	_ = json.NewEncoder(w).Encode(body)
}

// checkMintegralAuth verifies access-key, timestamp and token.
func (s *Server) checkMintegralAuth(r *http.Request) (int, string) {
	ak, ts, tok := r.Header.Get("access-key"), r.Header.Get("timestamp"), r.Header.Get("token")
	if ak == "" || ts == "" || tok == "" {
		return MintegralCodeAuthMissing, "access-key, timestamp and token headers are required"
	}
	if subtle.ConstantTimeCompare([]byte(ak), []byte(s.cfg.Credentials.MintegralAccessKey)) != 1 {
		return MintegralCodeBadAccessKey, "invalid access-key"
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return MintegralCodeStaleTimstamp, "timestamp must be unix seconds"
	}
	if d := s.now().Sub(time.Unix(sec, 0)); d > MintegralTimestampWindow || d < -MintegralTimestampWindow {
		return MintegralCodeStaleTimstamp, "timestamp expired"
	}
	if subtle.ConstantTimeCompare([]byte(tok), []byte(MintegralToken(s.cfg.Credentials.MintegralAPIKey, ts))) != 1 {
		return MintegralCodeBadToken, "token verification failed"
	}
	return MintegralCodeOK, ""
}

func mintegralFileNameOK(name string) bool {
	for _, ext := range []string{".txt", ".csv", ".txt.gz", ".csv.gz"} {
		if strings.HasSuffix(strings.ToLower(name), ext) && len(name) > len(ext) {
			return true
		}
	}
	return false
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (s *Server) handleMintegralPresign(w http.ResponseWriter, r *http.Request) {
	if code, msg := s.checkMintegralAuth(r); code != MintegralCodeOK {
		writeMintegral(w, code, msg, nil)
		return
	}
	q := r.URL.Query()
	area, fileName, fileMD5 := q.Get("area_type"), q.Get("file_name"), q.Get("file_md5")
	if n, err := strconv.Atoi(area); err != nil || !s.mintegralAreaValid(n) || area != strconv.Itoa(n) {
		writeMintegral(w, MintegralCodeBadParam, s.mintegralAreaRule(), nil)
		return
	}
	if !mintegralFileNameOK(fileName) || strings.ContainsAny(fileName, "/\\") {
		writeMintegral(w, MintegralCodeBadParam, "file_name must end in .txt, .csv, .txt.gz or .csv.gz", nil)
		return
	}
	if !md5Hex.MatchString(fileMD5) {
		writeMintegral(w, MintegralCodeBadParam, "file_md5 must be 32 lowercase hex characters", nil)
		return
	}
	now := s.now()
	ttl := s.cfg.PresignTTL
	key := fmt.Sprintf("audience/%s/%s/%s/%s", s.cfg.Credentials.MintegralAccessKey, now.UTC().Format("20060102"), randomHex(8), fileName)
	data := map[string]any{
		"area_type": mustAtoi(area),
		"file_name": fileName,
		"file_md5":  fileMD5,
		"ttl":       int(ttl / time.Second),
	}
	if area == "1" {
		bucket := s.bucketFor(BucketMintegralS3)
		u, err := s.presignObject(http.MethodPut, BucketMintegralS3, key, nil, nil)
		if err != nil {
			writeMintegral(w, MintegralCodeInternal, "presign failed", nil)
			return
		}
		s.expectMD5(BucketMintegralS3, key, fileMD5)
		dataPath := "s3://" + bucket + "/" + key
		s.rememberMintegralDataPath(dataPath, 1, BucketMintegralS3, key)
		data["s3"] = map[string]string{"method": http.MethodPut, "url": u, "data_path": dataPath}
	} else {
		expire := now.Add(ttl)
		policy := newOSSPolicy(BucketMintegralOSS, key, MaxSinglePutSize, expire)
		s.expectMD5(BucketMintegralOSS, key, fileMD5)
		dataPath := "oss://" + BucketMintegralOSS + "/" + key
		s.rememberMintegralDataPath(dataPath, 2, BucketMintegralOSS, key)
		data["oss"] = map[string]any{
			"method":    http.MethodPost,
			"accessid":  s.storageKeyID,
			"host":      s.baseURL + PrefixOSS + "/" + BucketMintegralOSS,
			"expire":    expire.Unix(),
			"signature": signOSSPolicy(s.storageSecret, policy),
			"policy":    policy,
			"dir":       key,
			"data_path": dataPath,
		}
	}
	writeMintegral(w, MintegralCodeOK, "success", data)
}

// mintegralAreaValid reports whether the API takes area as an area_type.
func (s *Server) mintegralAreaValid(area int) bool {
	return area == 1 || (area == 2 && !s.cfg.MintegralAreaOneOnly)
}

// mintegralAreaRule is the message refusing any other area_type.
func (s *Server) mintegralAreaRule() string {
	if s.cfg.MintegralAreaOneOnly {
		return "area_type must be 1"
	}
	return "area_type must be 1 or 2"
}

func mustAtoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
