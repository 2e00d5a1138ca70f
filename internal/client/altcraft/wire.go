package altcraft

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/audiencekit/terraform-provider-audience/internal/client/transfer"
)

// Wire shapes of the Altcraft API v1.1 profile export.
//
// What Altcraft publishes, and where; what the client assumes. Every answer
// is read liberally: the spellings a panel of this family plausibly sends
// (another generation, a proxy re-encoding in camelCase, fields at the top
// instead of in data) are all accepted, and an answer that still does not
// fit is a *transfer.ShapeError naming the call, the status, the request
// id (a request id header, when the panel sends one) and the answer's keys
// and types. "The seed" is Altcraft's API document this project started
// from.
//
//	call                                  | status    | source
//	--------------------------------------|-----------|-------------------------------------------
//	every answer: {error, error_text,     | published | guides.altcraft.com/en/developer-guide/
//	  …}, error 0 is success, even under  |           | api-interaction ("Response format",
//	  HTTP 200 a non-zero error fails     |           | "Response codes": 0, 400, 401, 402, 403…)
//	POST /api/v1.1/profiles/get_all       | published | guides.altcraft.com/en/developer-guide/
//	  {token, source_type, source_id,     |           | profiles/3115796 ("Uploading profiles to a
//	  file_format, custom_request}        |           | file", step 1); the seed
//	  → {data: {task_id}}                 |           |
//	POST /api/v1.1/tasks/status           | published | same page, step 2; the seed
//	  {token, task_id} → {data: {status,  |           |
//	  progress, result: {errors,          |           |
//	  source_id, total, type, urls}}}     |           |
//	status "completed"                    | published | same page (current)
//	status "success"                      | published | same page, older revisions (v72)
//	status "error" / "failed" = failure;  | assumed   | not documented; any other status counts
//	  others still running                |           | as running until the timeout
//	urls as one string                    | published | same page, XML form (<urls> a scalar)
//	result.errors entries' shape          | assumed   | only [] is shown: a string is kept as is,
//	                                      |           | anything else as compact JSON
//	progress as a fraction or a string    | assumed   | documented as int
//	GET {panel}{url} with Authorization:  | published | use.altcraft.com/en/developer-guide/
//	  Bearer <token>                      |           | profiles/3115796 (step 3); api-interaction
//	GET {panel}{url}?token=<token>        | published | the seed and the v72 page (older panels)
//	other spellings: taskId, errorText,   | assumed   | not sent by the documented panels;
//	  code/message, fields beside data    |           | accepted for other generations and proxies
//	a request id header                   | assumed   | none documented; the first of transfer's
//	                                      |           | request id headers, when sent
//
// The requests keep the published snake_case spellings: a panel that wants
// others answers error 400, which APIError shows.

// Spellings of the answers' fields. Keys are compared with case, "_" and
// "-" ignored (transfer.FoldKey), so "task_id" also matches taskId and
// TaskId; these lists add other words for the same field.
var (
	spellError     = []string{"error", "error_code", "code"}
	spellErrorText = []string{"error_text", "error_message", "message"}
	spellData      = []string{"data"} // the wrapper of the answer's fields
	spellTaskID    = []string{"task_id", "id"}
	spellStatus    = []string{"status", "state", "task_status"}
	spellProgress  = []string{"progress", "percent"}
	spellResult    = []string{"result", "results"}
	spellErrors    = []string{"errors"}
	spellSourceID  = []string{"source_id"}
	spellTotal     = []string{"total", "total_count", "count"}
	spellType      = []string{"type", "source_type"}
	spellURLs      = []string{"urls", "url", "links"}
)

// Export statuses. The API documents "completed" (older panels say
// "success"); other values are undocumented, so anything not listed here
// counts as still running.
var (
	doneStatuses   = []string{"completed", "success"}
	failedStatuses = []string{"error", "failed"}
)

// answer is an answer read liberally (see transfer.Answer).
type answer = transfer.Answer

// data returns the answer's fields: those in its data wrapper, or the
// answer itself when it holds any of names.
func data(a answer, names []string) answer { return a.In(spellData, names) }

// envelope is the API's wrapper around every answer.
type envelope struct {
	Code    int64
	HasCode bool // error was there, in some spelling, as an integer
	Text    string
}

func readEnvelope(a answer) envelope {
	code, ok := a.Int(spellError)
	return envelope{Code: code, HasCode: ok, Text: a.Str(spellErrorText)}
}

// startAnswer is profiles/get_all's data.
type startAnswer struct{ TaskID string }

func (r *startAnswer) ReadAnswer(a answer) string {
	r.TaskID = data(a, spellTaskID).Str(spellTaskID)
	if r.TaskID == "" {
		return "task_id"
	}
	return ""
}

// statusAnswer is tasks/status's data. A task that is done must carry
// its result's urls: without them the export cannot be reported.
type statusAnswer struct{ Task }

func (t *statusAnswer) ReadAnswer(a answer) string {
	d := data(a, spellStatus)
	t.Status = d.Str(spellStatus)
	if t.Status == "" {
		return "status"
	}
	if p, err := strconv.ParseFloat(strings.TrimSpace(d.Str(spellProgress)), 64); err == nil {
		t.Progress = int(p)
	}
	// The result's fields, in result or (flattened) beside status.
	r, hasResult := d.Object(spellResult)
	if !hasResult {
		r, hasResult = d, d.Has(spellURLs)
	}
	if !hasResult {
		if oneOf(t.Status, doneStatuses) {
			return "result.urls"
		}
		return ""
	}
	t.Total, _ = r.Int(spellTotal)
	t.SourceID, _ = r.Int(spellSourceID)
	t.Type = r.Str(spellType)
	if raw, ok := r.Raw(spellURLs); ok {
		var urls stringList
		if json.Unmarshal(raw, &urls) != nil {
			return "result.urls as a list of strings"
		}
		t.URLs = urls
	} else if oneOf(t.Status, doneStatuses) {
		return "result.urls"
	}
	if raw, ok := r.Raw(spellErrors); ok {
		var list []json.RawMessage
		if json.Unmarshal(raw, &list) != nil {
			list = []json.RawMessage{raw} // one error, not in a list
		}
		for _, e := range list {
			t.Errors = append(t.Errors, errorText(e))
		}
	}
	return ""
}

// errorText renders one entry of a result's `errors`, whose shape the API
// does not document: a string as is, anything else as compact JSON.
func errorText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var b bytes.Buffer
	if json.Compact(&b, raw) == nil {
		return b.String()
	}
	return string(raw)
}

// stringList accepts a JSON array of strings or a single string (the XML
// form of the API shows one url as a scalar).
type stringList []string

func (l *stringList) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*l = stringList{one}
		if one == "" {
			*l = nil
		}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*l = many
	return nil
}
