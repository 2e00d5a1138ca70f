package tpns

import (
	"encoding/base64"
	"path"
	"strings"

	"github.com/audiencekit/terraform-provider-audience/internal/client/transfer"
)

// Wire shapes of the TPNS account package upload: the path, the auth
// header, the form, the answer and the error codes, in one place, so a
// difference with the live API is corrected here and nowhere else. What is
// sent follows Tencent Cloud's pages exactly; the answer is read liberally
// (see transfer.Answer), and one that still does not fit is a
// *transfer.ShapeError naming the call, the status, the request id and the
// answer's keys and types.
//
// What is published and what is assumed, and where each published fact
// comes from (seed = Tencent Cloud's API document "Account Package Upload API"
// this project started from):
//
//	call / fact                           | status    | source
//	--------------------------------------|-----------|----------------------------------------------------
//	service access points (4 hosts)       | published | the seed ("select the service URL
//	                                      |           | corresponding to the service access point")
//	Authorization: Basic base64(AccessID: | published | seed (sample request); cloud.tencent.com/document/
//	  SecretKey)                          |           | product/548/50301 ("Basic 应用鉴权信息")
//	POST /v3/push/package/upload, form    | published | seed; www.tencentcloud.com/document/product/1024/
//	  field "file" (.zip/.txt/.csv)       |           | 33765 (号码包上传接口)
//	answer {retCode, errMsg, uploadId},   | published | seed ("Response Parameters"); the same table on
//	  retCode 0 is success, uploadId > 0  |           | 1024/33765 and 548/50301
//	retCode as a string, ErrMsg / err_msg,| assumed   | TPNS itself varies: its push plan page types
//	  the answer wrapped in "result"      |           | retCode "string" and its sample says "ErrMsg"
//	                                      |           | (www.tencentcloud.com/document/product/1024/39025)
//	error codes 1008001-1008031, 10030002 | published | cloud.tencent.com/document/product/548/39080
//	                                      |           | (通用错误码); tencentcloud.com/document/product/
//	                                      |           | 1024/33763 ("Server-Side Error Codes")
//	1008028 "request too fast" is a rate  | published | same pages (超出限频); it pauses every upload of
//	  limit                               |           | the account like an HTTP 429
//	HTTP status of a body-level error     | assumed   | the pages show none; 200 and 4xx answers are
//	                                      |           | both read for a retCode
//	request id header                     | assumed   | none published; any of the usual headers
//	                                      |           | (transfer.RequestID) is named when sent

// UploadPath is the account package upload API, relative to the endpoint.
const UploadPath = "/v3/push/package/upload"

// fileField is the form field that carries the package.
const fileField = "file"

// platformName names TPNS in errors.
const platformName = "TPNS"

// Body-level codes (retCode) the API answers with: the published table of
// general codes and those of the package upload.
const (
	CodeOK           = 0
	CodeParseError   = 1008001
	CodeMissingParam = 1008002
	CodeAuthFailed   = 1008003
	CodeInternal     = 1008004
	CodeInvalidParam = 1008007
	CodeUploadFailed = 1008011
	CodeEmptyFile    = 1008012
	CodeRateLimited  = 1008028
	CodeNotPaid      = 1008030
	CodeDestroyed    = 1008031
	CodeKeyMismatch  = 10030002
)

// Explain says what a retCode means and what to do about it; "" for codes
// the documentation does not list for this call.
func Explain(code int) string {
	switch code {
	case CodeParseError:
		return "parameter parse error: the request body could not be parsed"
	case CodeMissingParam:
		return "missing parameter: the request lacked the file or a required header"
	case CodeAuthFailed:
		return "authentication failed: check tpns.access_id and tpns.secret_key (TPNS_ACCESS_ID, TPNS_SECRET_KEY), and that tpns.region is the application's service access point"
	case CodeInternal:
		return "TPNS internal error: try again later"
	case CodeInvalidParam:
		return "invalid parameter: the package breaks a TPNS rule"
	case CodeUploadFailed:
		return "file upload failed: try again"
	case CodeEmptyFile:
		return "the uploaded file is empty"
	case CodeRateLimited:
		return "rate limit exceeded: wait a moment and try again"
	case CodeNotPaid:
		return "the application's TPNS service is not paid for: settle it in the Tencent Cloud console"
	case CodeDestroyed:
		return "the application's TPNS resources were destroyed: the application can no longer take packages"
	case CodeKeyMismatch:
		return "AccessID and secret key do not match: check tpns.secret_key (TPNS_SECRET_KEY) belongs to tpns.access_id (TPNS_ACCESS_ID)"
	}
	return ""
}

// BasicAuth is the Authorization header value: Basic base64(AccessID:SecretKey).
func BasicAuth(accessID, secretKey string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(accessID+":"+secretKey))
}

// contentType is the package part's type, by the file's extension.
func contentType(name string) string {
	switch strings.ToLower(path.Ext(name)) {
	case ".zip":
		return "application/zip"
	case ".csv":
		return "text/csv"
	}
	return "text/plain"
}

// Spellings of the answer's fields. Keys are compared with case, "_" and
// "-" ignored (transfer.FoldKey), so "retCode" also matches ret_code and
// RetCode; these lists add the other words for the same field.
var (
	spellRetCode  = []string{"ret_code", "code", "error_code"}
	spellErrMsg   = []string{"err_msg", "error_msg", "msg", "message", "error_info"}
	spellUploadID = []string{"upload_id", "id", "file_id"}
	// Wrappers the answer's fields may come in (the push plan API answers
	// in "result").
	spellWrappers = []string{"result", "data"}
)

// answer is the upload's answer.
type answer struct {
	RetCode  int
	ErrMsg   string
	UploadID int64
}

// readAnswer reads the upload's answer; ok is false when it has no
// retCode. isObject is false when the body is not a JSON object at all.
func readAnswer(body []byte) (a answer, isObject, ok bool) {
	doc := transfer.ParseAnswer(body)
	if doc == nil {
		return a, false, false
	}
	code, ok := doc.In(spellWrappers, spellRetCode).Int(spellRetCode)
	if !ok {
		return a, true, false
	}
	a.RetCode = int(code)
	a.ErrMsg = doc.In(spellWrappers, spellErrMsg).Str(spellErrMsg)
	a.UploadID, _ = doc.In(spellWrappers, spellUploadID).Int(spellUploadID)
	return a, true, true
}

// rateLimited recognises the published rate-limit code: every upload of
// the account waits, as for an HTTP 429.
func rateLimited(_ int, body []byte) bool {
	a, _, ok := readAnswer(body)
	return ok && a.RetCode == CodeRateLimited
}

// retryable reports other body-level failures worth sending the file
// again for: TPNS says it did not take the package.
func retryable(_ int, body []byte) bool {
	a, _, ok := readAnswer(body)
	return ok && a.RetCode == CodeInternal
}
