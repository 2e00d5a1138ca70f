package futuredemand

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/audiencekit/terraform-provider-audience/internal/client/transfer"
)

// Wire shapes of the Future Demand client API.
//
// Login follows the vendor's client API documentation. The storage calls'
// JSON bodies are NOT published by the vendor: they are assumed here, after
// the documented flow (presigned PUT, presigned S3 multipart). Everything that may have to
// be corrected when the vendor publishes them lives in this file: paths,
// field names and the error body.
//
// The direct multipart calls follow Future Demand's developer kit (pages
// "Cookbook / File uploads", "Lookout / Sales uploads", "Lookout / Bulk
// event upload", "Cookbook / Error handling"):
//   - POST /media is on the API host without the /v3 prefix and answers
//     {"type", "url", "filename"} (documented). No id is documented: an id
//     is taken when the API sends one, otherwise the media id is the path
//     of the returned url, which names the stored object (assumed).
//   - POST /ingest/transaction_summary/from_excel?eid= takes an .xlsx in
//     the field "file". Its answer is not documented; it is kept verbatim.
//   - [CR API] POST events/bulk_upload?event_type= is on a second host. It
//     answers HTTP 200 whether or not rows were refused: the body decides
//     ([<sentinel>, [{"errCode"}...]] with a non-empty list, or
//     {"detail": [{"name"}...]}, is a refusal).
//   - Errors come in the envelope {"message", "error_code",
//     "error_subcode", "validation_errors": [{"code"}]}, and some uploads
//     answer 2xx with a non-empty validation_errors: that is a refusal too.

// API paths, relative to the endpoint (which already ends in /api/v3).
const (
	pathAuth          = "/auth"
	pathRefresh       = "/auth/refresh_token"
	pathPresignedURL  = "/storage/presigned-url"
	pathMultipart     = "/storage/multipart-upload"
	headerPartner     = "X-Preferred-Partner-Id"
	headerUploadType  = "X-Upload-Type"
	storageContentTyp = "application/octet-stream"
	headerRequestID   = "X-Request-Id"
)

// Direct multipart paths: the ingest on the API base, the bulk event
// upload on the CR API base, media on the API base without its version.
const (
	pathIngestExcel  = "/ingest/transaction_summary/from_excel"
	pathEventsUpload = "/events/bulk_upload"
	pathMedia        = "/media"
	paramEID         = "eid"
	paramEventType   = "event_type"
	directFileField  = "file"
	xlsxContentType  = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	eventsCSVType    = "text/csv"
)

// mediaResponse is the answer of POST /media.
type mediaResponse struct {
	ID       json.RawMessage `json:"id"` // not documented; used when sent
	Type     string          `json:"type"`
	URL      string          `json:"url"`
	Filename string          `json:"filename"`
}

// refusal reads, from a 2xx answer of a direct upload, the codes of what
// the platform refused: the events upload's row errors
// ([<sentinel>, [{"errCode"}...]]), its top-level detail list
// ({"detail": [{"name"}...]}), or a success-shaped envelope with
// validation_errors. No codes means the upload was taken.
func refusal(body []byte) []string {
	var codes []string
	var arr []json.RawMessage
	if json.Unmarshal(body, &arr) == nil {
		if len(arr) < 2 {
			return nil
		}
		var rows []struct {
			ErrCode string `json:"errCode"`
		}
		if json.Unmarshal(arr[1], &rows) != nil {
			return []string{"unreadable row errors: " + shorten(string(arr[1]))}
		}
		for _, r := range rows {
			codes = append(codes, r.ErrCode)
		}
		return codes
	}
	var doc struct {
		Detail           json.RawMessage `json:"detail"`
		ValidationErrors []struct {
			Code string `json:"code"`
		} `json:"validation_errors"`
	}
	if json.Unmarshal(body, &doc) != nil {
		return nil
	}
	var detail []struct {
		Name string `json:"name"`
	}
	if json.Unmarshal(doc.Detail, &detail) == nil {
		for _, d := range detail {
			codes = append(codes, d.Name)
		}
	}
	for _, v := range doc.ValidationErrors {
		codes = append(codes, v.Code)
	}
	return codes
}

// codeField finds, in an answer cut short (so not JSON), the codes of the
// shapes refusal reads: "errCode", "name" and "code".
var codeField = regexp.MustCompile(`"(?:errCode|name|code)"\s*:\s*"([^"\\]*)"`)

// readableCodes lists the codes found in the readable part of an answer.
func readableCodes(body []byte) []string {
	var codes []string
	for _, m := range codeField.FindAllSubmatch(body, -1) {
		codes = append(codes, string(m[1]))
	}
	return codes
}

func shorten(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// What is published and what is assumed, and where each published fact
// comes from. Every assumed answer is read liberally (see answer): the
// spellings a server of this family plausibly sends are all accepted, and
// an answer that still does not fit is a *ShapeError naming the call, the
// status, the request id and the answer's keys and types.
//
//	call                                  | status    | source
//	--------------------------------------|-----------|-------------------------------------------
//	POST /auth {username,password}        | published | client API docs ("Authentication"):
//	  → {AccessToken, IdToken,            |           | Cognito-style names, ExpiresIn 3600
//	     RefreshToken, ExpiresIn,         |           |
//	     TokenType}                       |           |
//	POST /auth → {ChallengeName, Session} | assumed   | Cognito InitiateAuth (the tokens' names are
//	  instead of tokens (MFA, new         |           | Cognito's): ChallengeName, Session,
//	  password)                           |           | AuthenticationResult wrapping the tokens
//	POST /auth/refresh_token              | assumed   | path published, body and answer not: the
//	  {refresh_token} → tokens            |           | answer is read as /auth's, RefreshToken optional
//	POST /storage/presigned-url           | assumed   | not published; {url, object_key}
//	POST|PUT|DELETE                       | assumed   | not published; {upload_id, object_key,
//	  /storage/multipart-upload           |           | parts: [{part_number, url}]}, complete →
//	                                      |           | {object_key} (optional), abort: any answer
//	POST /ingest/transaction_summary/     | published | dev kit "Lookout / Sales uploads": path and
//	  from_excel?eid=                     |           | field; its answer is not: kept verbatim
//	POST events/bulk_upload?event_type=   | published | https://dev-kit.pages.dev/guides/lookout/
//	  (CR API), .csv or .xlsx, answer     |           | bulk-event-upload
//	  [sentinel, [{errCode}]] | {detail}  |           |
//	POST /media → {type, url, filename}   | published | dev kit "Cookbook / File uploads"
//
// The request bodies of the assumed calls keep the snake_case spellings
// above: a server that wants others answers 4xx/422, which errorMessage
// shows.

// Spellings of the assumed answers' fields. Keys are compared with case,
// "_" and "-" ignored (normalKey), so "upload_id" also matches uploadId,
// UploadId and UPLOAD_ID; these lists add the other words for the same
// field.
var (
	spellURL          = []string{"url", "presigned_url", "upload_url", "signed_url"}
	spellObjectKey    = []string{"object_key", "key", "s3_key", "file_key"}
	spellUploadID     = []string{"upload_id"}
	spellParts        = []string{"parts", "part_urls", "presigned_urls", "presigned_parts", "urls"}
	spellPartNumber   = []string{"part_number", "part_no", "part", "number"}
	spellAccessToken  = []string{"access_token"}
	spellIDToken      = []string{"id_token"}
	spellRefreshToken = []string{"refresh_token"}
	spellExpiresIn    = []string{"expires_in"}
	spellTokenType    = []string{"token_type"}
	spellChallenge    = []string{"challenge_name", "challenge"}
	// Wrappers an answer's fields may come in: Cognito's
	// AuthenticationResult, and the common data/result envelopes.
	spellWrappers = []string{"authentication_result", "data", "result"}
)

// answer is an answer read liberally (see transfer.Answer).
type answer = transfer.Answer

// in returns a's fields, or those of the first wrapper holding any of names.
func in(a answer, names []string) answer { return a.In(spellWrappers, names) }

// ShapeError is a 2xx answer the client cannot read in any spelling it
// knows.
type ShapeError = transfer.ShapeError

// authRequest is POST /auth.
type authRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// refreshRequest is POST /auth/refresh_token. The body is not documented;
// the refresh token goes in a JSON field.
type refreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

// tokenResponse answers both auth calls (Cognito-style names, maybe in
// an AuthenticationResult), or names a challenge the account must pass
// first. A refresh may leave RefreshToken empty: the old one stays valid.
type tokenResponse struct {
	AccessToken  string
	IDToken      string
	RefreshToken string
	ExpiresIn    int64
	TokenType    string
	// ChallengeName is set when the API asks for another sign-in step
	// instead of tokens. The challenge's Session is never kept: it is a
	// credential, and the provider cannot answer the challenge anyway.
	ChallengeName string
}

func (t *tokenResponse) ReadAnswer(a answer) string {
	if a == nil {
		return "AccessToken"
	}
	if c := in(a, spellChallenge).Str(spellChallenge); c != "" {
		t.ChallengeName = c
		return ""
	}
	tok := in(a, spellAccessToken)
	t.AccessToken = tok.Str(spellAccessToken)
	t.IDToken = tok.Str(spellIDToken)
	t.RefreshToken = tok.Str(spellRefreshToken)
	t.ExpiresIn, _ = tok.Int(spellExpiresIn)
	t.TokenType = tok.Str(spellTokenType)
	if t.AccessToken == "" {
		return "AccessToken"
	}
	return ""
}

// presignedURLRequest is POST /storage/presigned-url.
type presignedURLRequest struct {
	FileName    string `json:"file_name"`
	ContentType string `json:"content_type"`
}

type presignedURLResponse struct {
	URL       string
	ObjectKey string
}

func (r *presignedURLResponse) ReadAnswer(a answer) string {
	a = in(a, spellURL)
	r.URL, r.ObjectKey = a.Str(spellURL), a.Str(spellObjectKey)
	return missing(map[string]bool{"url": r.URL == "", "object_key": r.ObjectKey == ""})
}

var missing = transfer.Missing

// multipartCreateRequest is POST /storage/multipart-upload.
type multipartCreateRequest struct {
	FileName  string `json:"file_name"`
	FileSize  int64  `json:"file_size"`
	PartSize  int64  `json:"part_size"`
	PartCount int    `json:"part_count"`
}

type multipartCreateResponse struct {
	UploadID  string
	ObjectKey string
	Parts     []wirePartURL
}

type wirePartURL struct {
	PartNumber int
	URL        string
}

func (r *multipartCreateResponse) ReadAnswer(a answer) string {
	a = in(a, spellUploadID)
	r.UploadID, r.ObjectKey = a.Str(spellUploadID), a.Str(spellObjectKey)
	parts, ok := a.List(spellParts)
	if m := missing(map[string]bool{"upload_id": r.UploadID == "", "object_key": r.ObjectKey == "", "parts": !ok}); m != "" {
		return m
	}
	r.Parts = make([]wirePartURL, len(parts))
	for i, p := range parts {
		n, ok := p.Int(spellPartNumber)
		u := p.Str(spellURL)
		if !ok || u == "" {
			return fmt.Sprintf("part_number and url in parts[%d]", i)
		}
		r.Parts[i] = wirePartURL{PartNumber: int(n), URL: u}
	}
	return ""
}

// multipartCompleteRequest is PUT /storage/multipart-upload. ETags go
// without their quotes.
type multipartCompleteRequest struct {
	UploadID  string         `json:"upload_id"`
	ObjectKey string         `json:"object_key"`
	Parts     []wirePartETag `json:"parts"`
}

type wirePartETag struct {
	PartNumber int    `json:"part_number"`
	ETag       string `json:"etag"`
}

// multipartCompleteResponse may name the object; any other answer leaves
// the key the create gave.
type multipartCompleteResponse struct {
	ObjectKey string
}

func (r *multipartCompleteResponse) ReadAnswer(a answer) string {
	r.ObjectKey = in(a, spellObjectKey).Str(spellObjectKey)
	return ""
}

// multipartAbortRequest is DELETE /storage/multipart-upload.
type multipartAbortRequest struct {
	UploadID  string `json:"upload_id"`
	ObjectKey string `json:"object_key"`
}

// errorMessage extracts the code and message of an error body: the
// documented envelope {"message", "error_code", "error_subcode",
// "validation_errors": [{"code"}]}, FastAPI's {"detail": "..." | [{"msg"}]
// | [{"name"}]}, and the common {"error"} / {"code"} shapes.
func errorMessage(body []byte) (code, message string) {
	var doc struct {
		Detail           json.RawMessage `json:"detail"`
		Message          string          `json:"message"`
		Error            json.RawMessage `json:"error"`
		Code             json.RawMessage `json:"code"`
		ErrorCode        json.RawMessage `json:"error_code"`
		ErrorSubcode     json.RawMessage `json:"error_subcode"`
		ValidationErrors []struct {
			Code  string `json:"code"`
			Field string `json:"field"`
		} `json:"validation_errors"`
	}
	if json.Unmarshal(body, &doc) != nil {
		return "", shorten(string(body))
	}
	code = rawText(doc.ErrorCode)
	if sub := rawText(doc.ErrorSubcode); sub != "" {
		code += "/" + sub
	}
	if code == "" {
		code = rawText(doc.Code)
	}
	var parts []string
	if d := rawText(doc.Detail); d != "" {
		parts = append(parts, d)
	} else if len(doc.Detail) > 0 {
		var items []struct {
			Loc  []any  `json:"loc"`
			Msg  string `json:"msg"`
			Name string `json:"name"`
		}
		if json.Unmarshal(doc.Detail, &items) == nil {
			for _, it := range items {
				if it.Name != "" {
					parts = append(parts, it.Name)
					continue
				}
				parts = append(parts, fmt.Sprintf("%v: %s", it.Loc, it.Msg))
			}
		}
	}
	if doc.Message != "" {
		parts = append(parts, doc.Message)
	}
	for _, v := range doc.ValidationErrors {
		if v.Field != "" {
			parts = append(parts, v.Field+": "+v.Code)
		} else {
			parts = append(parts, v.Code)
		}
	}
	if e := rawText(doc.Error); e != "" {
		parts = append(parts, e)
	}
	return code, strings.Join(parts, "; ")
}

var rawText = transfer.RawText
