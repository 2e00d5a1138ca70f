package openim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/audiencekit/terraform-provider-audience/internal/client/transfer"
)

// Wire shapes of the OpenIM object API's form upload.
//
// OpenIM's server is open source, so its source is the publication: the
// answers below are what it sends, read from openimsdk/open-im-server
// (7848d7c7), openimsdk/protocol (91e8d26e) and openimsdk/tools (b2339593).
// Everything the client assumes beyond that is marked so, and every answer
// is read liberally: the spellings a server of this family plausibly sends
// (a gateway re-encoding the answer in snake_case, a fork with a "code" /
// "message" envelope) are all accepted, and an answer that still does not
// fit is a *transfer.ShapeError naming the call, the status, the request
// id (the operationID the client sent) and the answer's keys and types.
//
//	call                                 | status    | source
//	-------------------------------------|-----------|--------------------------------------------
//	every answer: HTTP 200 and           | published | tools apiresp/resp.go ApiResponse (json tags
//	  {errCode, errMsg, errDlt, data},   |           | errCode, errMsg, errDlt, data omitempty);
//	  errCode 0 is success               |           | apiresp/gin.go ginJson (c.JSON(200, …))
//	errCode 500 = an error without a     | published | tools apiresp/resp.go ParseError
//	  code (the storage's), in errDlt    |           | (ErrInternalServer.WithDetail)
//	request headers operationID, token   | published | open-im-server internal/api/router.go (mw.
//	  (operationID names the request in  |           | GinParseOperationID, GinParseToken); tools
//	  the server's log)                  |           | mw/api/logger.go
//	POST /object/initiate_form_data      | published | router.go objectGroup; protocol third/
//	  {name, size, contentType, group,   |           | third.proto InitiateFormDataReq
//	  millisecond}                       |           |
//	  → data {id, url, file, header:     | published | protocol third/third.pb.go
//	    [{key, values}], formData{…},    |           | InitiateFormDataResp json tags (formData
//	    expires, successCodes}           |           | omitempty); expires in unix ms: open-im-
//	                                     |           | server internal/rpc/third/s3.go
//	                                     |           | InitiateFormData (Expires.UnixMilli)
//	  header null on every backend       | published | tools s3/{minio,cos,oss,kodo} FormData set
//	                                     |           | no Header
//	  formData fields per backend        | published | tools s3/<backend>/<backend>.go FormData
//	  AWS backend: errCode 500           | published | tools s3/aws/aws.go FormData
//	  header entry {key, value}          | assumed   | the OpenIM API document's example; the
//	                                     |           | server sends {key, values}
//	  header as an object {name: [v]}    | assumed   | a server passing Go's http.Header on
//	POST /object/complete_form_data {id} | published | third.proto CompleteFormDataReq/Resp; s3.go
//	  → data {url}                       |           | CompleteFormData (url = urlPrefix + name)
//	other spellings: err_code, code,     | assumed   | not sent by the server at the commits
//	  message, detail, snake_case data   |           | read; accepted for proxies, gateways and
//	  fields, data under "result"        |           | forks that re-encode the answer
//
// The requests keep the published spellings: a server that wants others
// answers errCode 1001 (ArgsError), which APIError shows.

// The API calls of the form upload.
const (
	opInitiate = "object/initiate_form_data"
	opComplete = "object/complete_form_data"
)

// InitiateRequest is the body of initiate_form_data.
type InitiateRequest struct {
	Name        string `json:"name"`
	Size        int64  `json:"size"`
	ContentType string `json:"contentType"`
	Group       string `json:"group,omitempty"`
	Millisecond int64  `json:"millisecond,omitempty"`
}

// completeRequest is the body of complete_form_data.
type completeRequest struct {
	ID string `json:"id"`
}

// Spellings of the answers' fields. Keys are compared with case, "_" and
// "-" ignored (transfer.FoldKey), so "errCode" also matches err_code and
// ErrCode; these lists add other words for the same field.
var (
	spellErrCode      = []string{"errCode", "code", "error_code"}
	spellErrMsg       = []string{"errMsg", "message", "msg", "error_message"}
	spellErrDlt       = []string{"errDlt", "detail", "err_detail", "error_detail"}
	spellData         = []string{"data", "result"} // wrappers of the answer's fields
	spellID           = []string{"id", "upload_id"}
	spellURL          = []string{"url"}
	spellFileField    = []string{"file", "file_field"}
	spellHeader       = []string{"header", "headers"}
	spellHeaderKey    = []string{"key", "name"}
	spellHeaderValue  = []string{"value"}
	spellHeaderValues = []string{"values"}
	spellFormData     = []string{"formData", "form_fields", "fields"}
	spellExpires      = []string{"expires", "expire_time", "expires_at"}
	spellSuccessCodes = []string{"successCodes", "success_status_codes"}
)

// answer is an answer read liberally (see transfer.Answer).
type answer = transfer.Answer

// data returns the answer's fields: those of its data wrapper, or the
// answer itself when it holds any of names.
func data(a answer, names []string) answer { return a.In(spellData, names) }

// envelope is the API's wrapper around every answer.
type envelope struct {
	Code    int64
	HasCode bool // errCode was there, in some spelling, as an integer
	Msg     string
	Dlt     string
}

func readEnvelope(a answer) envelope {
	code, ok := a.Int(spellErrCode)
	return envelope{Code: code, HasCode: ok, Msg: a.Str(spellErrMsg), Dlt: a.Str(spellErrDlt)}
}

// initiateAnswer is initiate_form_data's data.
type initiateAnswer struct{ FormUpload }

func (r *initiateAnswer) ReadAnswer(a answer) string {
	a = data(a, spellID)
	r.ID, r.URL, r.File = a.Str(spellID), a.Str(spellURL), a.Str(spellFileField)
	if m := transfer.Missing(map[string]bool{"id": r.ID == "", "url": r.URL == "", "file": r.File == ""}); m != "" {
		return m
	}
	var err error
	if r.Header, err = readHeader(a); err != nil {
		return err.Error()
	}
	if raw, ok := a.Raw(spellFormData); ok {
		if r.FormData, err = orderedStringMap(raw); err != nil {
			return "formData as an object of strings"
		}
	}
	if a.Has(spellExpires) {
		ms, ok := a.Int(spellExpires)
		if !ok {
			return "expires as unix milliseconds"
		}
		if ms > 0 {
			r.Expires = time.UnixMilli(ms)
		}
	}
	if raw, ok := a.Raw(spellSuccessCodes); ok {
		if r.SuccessCodes, err = statusList(raw); err != nil {
			return "successCodes as a list of HTTP statuses"
		}
	}
	return ""
}

// readHeader reads the headers the form POST must carry: the server's
// [{key, values: [..]}], the document's [{key, value}], or an object of
// names to a value or values. Absent or null is no header.
func readHeader(a answer) (http.Header, error) {
	h := http.Header{}
	raw, ok := a.Raw(spellHeader)
	if !ok {
		return h, nil
	}
	if entries, ok := a.List(spellHeader); ok {
		for i, e := range entries {
			k := e.Str(spellHeaderKey)
			if k == "" {
				return nil, fmt.Errorf("key in header[%d]", i)
			}
			if v, ok := e.Raw(spellHeaderValue); ok {
				s, ok := textValue(v)
				if !ok {
					return nil, fmt.Errorf("a string value in header[%d]", i)
				}
				h.Add(k, s)
			}
			if v, ok := e.Raw(spellHeaderValues); ok {
				vs, err := stringList(v)
				if err != nil {
					return nil, fmt.Errorf("a list of strings as values in header[%d]", i)
				}
				for _, s := range vs {
					h.Add(k, s)
				}
			}
		}
		return h, nil
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil {
		return nil, errors.New("header as a list of {key, values}")
	}
	for k, v := range obj {
		vs, err := stringList(v)
		if err != nil {
			return nil, fmt.Errorf("a string or strings for header %q", k)
		}
		for _, s := range vs {
			h.Add(k, s)
		}
	}
	return h, nil
}

// textValue is a JSON string or number as text.
func textValue(raw json.RawMessage) (string, bool) {
	s := transfer.RawText(raw)
	return s, s != "" || string(raw) == `""`
}

// stringList reads a JSON string or array of strings.
func stringList(raw json.RawMessage) ([]string, error) {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}, nil
	}
	var many []string
	if err := json.Unmarshal(raw, &many); err != nil {
		return nil, err
	}
	return many, nil
}

// statusList reads a JSON array of HTTP statuses, as numbers or strings.
func statusList(raw json.RawMessage) ([]int, error) {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, err
	}
	out := make([]int, len(items))
	for i, it := range items {
		n, err := strconv.Atoi(strings.TrimSpace(transfer.RawText(it)))
		if err != nil || n < 100 || n > 599 {
			return nil, fmt.Errorf("successCodes[%d] is not an HTTP status", i)
		}
		out[i] = n
	}
	return out, nil
}

// orderedStringMap decodes a JSON object of strings keeping the server's
// key order, so the form carries the pairs exactly as given.
func orderedStringMap(raw json.RawMessage) ([]transfer.FormField, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, errors.New("not a JSON object")
	}
	var out []transfer.FormField
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		k, _ := t.(string)
		var v string
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("value of %q is not a string", k)
		}
		out = append(out, transfer.FormField{Name: k, Value: v})
	}
	return out, nil
}

// completeAnswer is complete_form_data's data: the object's address.
type completeAnswer struct{ URL string }

func (r *completeAnswer) ReadAnswer(a answer) string {
	r.URL = data(a, spellURL).Str(spellURL)
	if r.URL == "" {
		return "url"
	}
	return ""
}
