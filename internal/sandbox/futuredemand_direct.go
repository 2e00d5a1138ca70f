package sandbox

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/audiencekit/terraform-provider-audience/internal/filecheck/fdfiles"
)

// Future Demand's direct multipart uploads (the developer kit's pages
// "Cookbook / File uploads", "Lookout / Sales uploads" and "Lookout / Bulk
// event upload"):
//   - POST {api}/ingest/transaction_summary/from_excel?eid= takes an .xlsx
//     workbook in the field "file";
//   - POST {cr_api}/events/bulk_upload?event_type= (a second host, the CR
//     API) takes a UTF-8 CSV of events in "file", or an .xlsx workbook
//     (the page lists both formats, and its example request sends
//     events.xlsx: https://dev-kit.pages.dev/guides/lookout/bulk-event-upload),
//     sent as text/csv or as the spreadsheet content type
//     (assumed: the name's extension and the content type must agree),
//     and answers HTTP 200
//     either way: [200, []] when every row was taken, [400, [{"errCode":
//     "ROW_<n>_<PROBLEM>"}...]] when rows were refused, {"detail":
//     [{"name"}...]} when the file as a whole was;
//   - POST {api without /v3}/media takes an image or a video of at most
//     50 MiB in "file" and answers {"type", "url", "filename"}; under
//     /api/v3 it is a 404, the document's first "common mistake".
// Every call needs the Bearer token and the partner header; errors use the
// documented envelope {"message", "error_code", "error_subcode",
// "validation_errors"}, and every answer carries an X-Request-Id.
//
// Assumed where the kit is silent: the workbook answer's shape (the
// record below); one summary per eid, replaced by a new ingest; an events
// upload stores all rows or none; ROW_<n> counts data rows from 1; the
// columns title, start_date_time, city and venue are required and a title
// appears once per file; the media id is the path of the url.

// Paths of the direct uploads, under the sandbox's Future Demand mount.
const (
	fdCRAPI     = PrefixFutureDemand + "/cr/api"
	fdMediaBase = PrefixFutureDemand + "/api"
	// fdMediaCDN serves stored media, as Future Demand's media host does:
	// outside the API's mount, so reading a url is not an API request.
	fdMediaCDN    = "/futuredemand-media/"
	BucketFDMedia = "futuredemand-media"
)

// fdXLSXType is the content type of an .xlsx workbook.
const fdXLSXType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// FutureDemandEventTypes are the event_type values the CR API takes.
var FutureDemandEventTypes = []string{"prisma", "fdlive"}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// futureDemandEventColumns are the columns an events file must have.
var futureDemandEventColumns = []string{"title", "start_date_time", "city", "venue"}

// FutureDemandIngest is one ingest the emulated API took.
type FutureDemandIngest struct {
	Kind      string // "transaction_summary" or "events"
	EID       string
	EventType string
	Partner   string
	FileName  string
	Size      int64
	MD5       string
	Rows      int64 // events taken, for an events upload
	At        time.Time
	// Events are the events an events upload created, one per row, in
	// the file's order.
	Events []FutureDemandEvent
}

// FutureDemandEvent is one event the emulated CR API created from a row of
// an events upload: its required columns, as sent.
type FutureDemandEvent struct {
	Title, StartDateTime, City, Venue string
}

// FutureDemandMedia is one media object the emulated API stored.
type FutureDemandMedia struct {
	URL         string
	Key         string // in BucketFDMedia
	Type        string // "image" or "video"
	ContentType string // of the file part
	FileName    string
	Partner     string
	Size        int64
	MD5         string
	At          time.Time
}

// FutureDemandIngests lists the ingests taken so far, oldest first.
func (s *Server) FutureDemandIngests() []FutureDemandIngest {
	st := s.futuredemand
	st.mu.Lock()
	defer st.mu.Unlock()
	return slices.Clone(st.ingests)
}

// FutureDemandEvents lists the events created so far by events uploads of
// eventType, oldest first: a row sent twice is two events.
func (s *Server) FutureDemandEvents(eventType string) []FutureDemandEvent {
	st := s.futuredemand
	st.mu.Lock()
	defer st.mu.Unlock()
	var out []FutureDemandEvent
	for _, in := range st.ingests {
		if in.Kind == "events" && in.EventType == eventType {
			out = append(out, in.Events...)
		}
	}
	return out
}

// FutureDemandMediaObjects lists the media stored so far, oldest first.
func (s *Server) FutureDemandMediaObjects() []FutureDemandMedia {
	st := s.futuredemand
	st.mu.Lock()
	defer st.mu.Unlock()
	return slices.Clone(st.media)
}

func (s *Server) registerFutureDemandDirect(mux *http.ServeMux, api string) {
	s.exportURL("FUTUREDEMAND_CR_API_ENDPOINT", fdCRAPI)
	mux.HandleFunc("POST "+api+"/ingest/transaction_summary/from_excel", s.fdDirect(s.handleFDIngestExcel))
	mux.HandleFunc("POST "+fdCRAPI+"/events/bulk_upload", s.fdDirect(s.handleFDEventsUpload))
	mux.HandleFunc("POST "+fdMediaBase+"/media", s.fdDirect(s.handleFDMedia))
	mux.HandleFunc("GET "+fdMediaCDN+"{key...}", s.handleFDMediaGet)
	// Not on these bases: the mistakes the document warns of.
	for _, p := range []string{api + "/media", api + "/events/bulk_upload"} {
		mux.HandleFunc("POST "+p, func(w http.ResponseWriter, r *http.Request) {
			defer drain(r)
			fdEnvelope(w, http.StatusNotFound, "NOT_FOUND", "not_found")
		})
	}
}

type fdValidation struct {
	Code  string `json:"code"`
	Field string `json:"field,omitempty"`
}

// fdEnvelope answers with the documented error envelope.
func fdEnvelope(w http.ResponseWriter, status int, code, key string, validation ...fdValidation) {
	writeFD(w, status, map[string]any{
		"message":           "error." + key,
		"error_code":        code,
		"error_subcode":     nil,
		"validation_errors": append([]fdValidation{}, validation...),
	})
}

// fdDirect wraps a direct upload: an X-Request-Id on the answer, the
// caller's token and partner, a Content-Length, and the multipart form
// with one file in "file", streamed to a scratch file that the handler
// may keep.
func (s *Server) fdDirect(next func(http.ResponseWriter, *http.Request, string, *formFile) (keep bool)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		defer drain(r)
		w.Header().Set("X-Request-Id", randomHex(16))
		partner, refused := s.fdCaller(w, r)
		if refused != nil {
			fdEnvelope(w, refused.status, refused.code, refused.key)
			return
		}
		if r.ContentLength < 0 || len(r.TransferEncoding) > 0 {
			fdEnvelope(w, http.StatusLengthRequired, "LENGTH_REQUIRED", "request.length_required")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, r.ContentLength)
		_, file, ferr := s.readForm(r, formRules{fileField: "file", needFileName: true, scratch: "fd-direct-*"})
		if ferr != nil {
			switch ferr.problem {
			case formNotMultipart:
				fdEnvelope(w, http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE", "request.multipart_required")
			case formSecondFile:
				fdEnvelope(w, http.StatusBadRequest, "VALIDATION_ERROR", "validation.failed", fdValidation{"FILE_MULTIPLE", "file"})
			case formNotAFile, formNoFile:
				fdEnvelope(w, http.StatusBadRequest, "VALIDATION_ERROR", "validation.failed", fdValidation{"FILE_REQUIRED", "file"})
			case formInternal:
				fdEnvelope(w, http.StatusInternalServerError, "INTERNAL_ERROR", "internal")
			default:
				fdEnvelope(w, http.StatusBadRequest, "MALFORMED_BODY", "request.malformed")
			}
			return
		}
		if !next(w, r, partner, file) {
			_ = os.Remove(file.Path)
		}
	}
}

func (s *Server) handleFDIngestExcel(w http.ResponseWriter, r *http.Request, partner string, file *formFile) bool {
	eid := r.URL.Query().Get("eid")
	if strings.TrimSpace(eid) == "" {
		fdEnvelope(w, http.StatusBadRequest, "VALIDATION_ERROR", "validation.failed", fdValidation{"EID_REQUIRED", "eid"})
		return false
	}
	if mt, _, _ := mime.ParseMediaType(file.Type); mt != fdXLSXType && mt != "application/octet-stream" {
		fdEnvelope(w, http.StatusBadRequest, "VALIDATION_ERROR", "validation.failed", fdValidation{"INVALID_CONTENT_TYPE", "file"})
		return false
	}
	if err := checkStoredFile(file, func(f *os.File) error { return fdfiles.CheckWorkbook(f, file.Size, file.FileName) }); err != nil {
		fdEnvelope(w, http.StatusBadRequest, "VALIDATION_ERROR", "validation.failed", fdValidation{"INVALID_WORKBOOK", "file"})
		return false
	}
	at := s.now().UTC()
	s.recordIngest(FutureDemandIngest{Kind: "transaction_summary", EID: eid, Partner: partner, FileName: file.FileName, Size: file.Size, MD5: file.MD5, At: at})
	writeFD(w, http.StatusOK, map[string]any{
		"eid": eid, "file_name": file.FileName, "status": "ingested", "ingested_at": at.Format(time.RFC3339),
	})
	return false
}

func (s *Server) recordIngest(in FutureDemandIngest) {
	st := s.futuredemand
	st.mu.Lock()
	st.ingests = append(st.ingests, in)
	st.mu.Unlock()
}

// checkStoredFile runs check on a received file.
func checkStoredFile(file *formFile, check func(*os.File) error) error {
	f, err := os.Open(file.Path)
	if err != nil {
		return err
	}
	defer f.Close()
	return check(f)
}

// fdDetail is the CR API's answer to a file refused as a whole.
func fdDetail(w http.ResponseWriter, status int, names ...string) {
	detail := make([]map[string]string, len(names))
	for i, n := range names {
		detail[i] = map[string]string{"name": n}
	}
	writeFD(w, status, map[string]any{"detail": detail})
}

func (s *Server) handleFDEventsUpload(w http.ResponseWriter, r *http.Request, partner string, file *formFile) bool {
	eventType := r.URL.Query().Get("event_type")
	if !slices.Contains(FutureDemandEventTypes, eventType) {
		fdDetail(w, http.StatusUnprocessableEntity, "INVALID_EVENT_TYPE")
		return false
	}
	mt, _, _ := mime.ParseMediaType(file.Type)
	if workbook := strings.HasSuffix(strings.ToLower(file.FileName), ".xlsx"); workbook != (mt == fdXLSXType) {
		// The format is read from the content type, which must agree
		// with the file's name.
		fdDetail(w, http.StatusOK, "INVALID_CONTENT_TYPE")
		return false
	}
	if mt == fdXLSXType {
		return s.fdEventsWorkbook(w, eventType, partner, file)
	}
	var rows int64
	err := checkStoredFile(file, func(f *os.File) error {
		var err error
		rows, err = fdfiles.CheckEvents(f, file.FileName)
		return err
	})
	switch fdfiles.RuleOf(err) {
	case "":
	case fdfiles.RuleEventsUTF8:
		fdDetail(w, http.StatusOK, "FILE_NOT_UTF8")
		return false
	case fdfiles.RuleEventsHeader, fdfiles.RuleEventsNoRows:
		fdDetail(w, http.StatusOK, "FILE_NO_HEADER_OR_ROWS")
		return false
	default:
		fdDetail(w, http.StatusOK, "FILE_INVALID_CSV")
		return false
	}
	if err != nil {
		fdEnvelope(w, http.StatusInternalServerError, "INTERNAL_ERROR", "internal")
		return false
	}
	var rowErrors []string
	var events []FutureDemandEvent
	if err := checkStoredFile(file, func(f *os.File) error {
		var err error
		events, rowErrors, err = eventRows(f)
		return err
	}); err != nil {
		var missing missingColumns
		var parse *csv.ParseError
		switch {
		case errors.As(err, &missing):
			fdDetail(w, http.StatusOK, missing...)
		case errors.As(err, &parse):
			// The file is the caller's fault, whatever the check above let by.
			fdDetail(w, http.StatusOK, "FILE_INVALID_CSV")
		default:
			fdEnvelope(w, http.StatusInternalServerError, "INTERNAL_ERROR", "internal")
		}
		return false
	}
	if len(rowErrors) > 0 {
		items := make([]map[string]string, len(rowErrors))
		for i, e := range rowErrors {
			items[i] = map[string]string{"errCode": e}
		}
		writeFD(w, http.StatusOK, []any{http.StatusBadRequest, items})
		return false
	}
	s.recordIngest(FutureDemandIngest{Kind: "events", EventType: eventType, Partner: partner, FileName: file.FileName, Size: file.Size, MD5: file.MD5, Rows: rows, At: s.now().UTC(), Events: events})
	writeFD(w, http.StatusOK, []any{http.StatusOK, []any{}})
	return false
}

// fdEventsWorkbook takes an .xlsx events upload: a workbook whose first
// sheet has a header row and an event per row. Its rows are counted, not
// read as events (the sandbox reads no cell values of a workbook), so
// FutureDemandEvents lists no events for it.
func (s *Server) fdEventsWorkbook(w http.ResponseWriter, eventType, partner string, file *formFile) bool {
	var rows int64
	err := checkStoredFile(file, func(f *os.File) error {
		var err error
		rows, err = fdfiles.CheckEventsWorkbook(f, file.Size, file.FileName)
		return err
	})
	switch rule := fdfiles.RuleOf(err); {
	case rule == fdfiles.RuleEventsNoRows:
		fdDetail(w, http.StatusOK, "FILE_NO_HEADER_OR_ROWS")
		return false
	case rule != "":
		fdDetail(w, http.StatusOK, "FILE_INVALID_XLSX")
		return false
	case err != nil:
		fdEnvelope(w, http.StatusInternalServerError, "INTERNAL_ERROR", "internal")
		return false
	}
	s.recordIngest(FutureDemandIngest{Kind: "events", EventType: eventType, Partner: partner, FileName: file.FileName, Size: file.Size, MD5: file.MD5, Rows: rows, At: s.now().UTC()})
	writeFD(w, http.StatusOK, []any{http.StatusOK, []any{}})
	return false
}

// missingColumns names, as the CR API does, the required columns an
// events file lacks.
type missingColumns []string

func (m missingColumns) Error() string { return strings.Join(m, ", ") }

// eventRows applies the events template's rules to every row of a file
// already known to be UTF-8 CSV with a header row, and returns the events
// its rows describe and the problems found.
func eventRows(r io.Reader) ([]FutureDemandEvent, []string, error) {
	br := bufio.NewReader(r)
	// A byte order mark is allowed, as CheckEvents allows it; left in, it
	// would make a quoted first column a bare quote.
	if head, _ := br.Peek(len(utf8BOM)); bytes.Equal(head, utf8BOM) {
		_, _ = br.Discard(len(utf8BOM))
	}
	cr := csv.NewReader(br)
	header, err := cr.Read()
	if err != nil {
		return nil, nil, err
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(h))] = i
	}
	var missing missingColumns
	for _, c := range futureDemandEventColumns {
		if _, ok := col[c]; !ok {
			missing = append(missing, "MISSING_COLUMN_"+strings.ToUpper(c))
		}
	}
	if len(missing) > 0 {
		return nil, nil, missing
	}
	var problems []string
	var events []FutureDemandEvent
	titles := map[string]bool{}
	for n := 1; ; n++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return events, problems, nil
		}
		if err != nil {
			return nil, nil, err
		}
		row := func(problem string) { problems = append(problems, fmt.Sprintf("ROW_%d_%s", n, problem)) }
		field := func(name string) string { return strings.TrimSpace(rec[col[name]]) }
		title := field("title")
		switch {
		case title == "":
			row("MISSING_TITLE")
		case titles[strings.ToLower(title)]:
			row("DUPLICATE_TITLE")
		}
		titles[strings.ToLower(title)] = true
		if _, err := time.Parse(time.RFC3339, field("start_date_time")); err != nil {
			row("INVALID_DATE")
		}
		for _, c := range []string{"city", "venue"} {
			if field(c) == "" {
				row("MISSING_" + strings.ToUpper(c))
			}
		}
		if i, ok := col["capacity"]; ok && strings.TrimSpace(rec[i]) != "" {
			if _, err := strconv.ParseUint(strings.TrimSpace(rec[i]), 10, 32); err != nil {
				row("INVALID_CAPACITY")
			}
		}
		events = append(events, FutureDemandEvent{Title: title, StartDateTime: field("start_date_time"), City: field("city"), Venue: field("venue")})
	}
}

func (s *Server) handleFDMedia(w http.ResponseWriter, _ *http.Request, partner string, file *formFile) bool {
	if file.Size > fdfiles.MaxMediaSize {
		fdEnvelope(w, http.StatusRequestEntityTooLarge, "FILE_TOO_LARGE", "media.too_large", fdValidation{"FILE_TOO_LARGE", "file"})
		return false
	}
	if fdFileNameProblem(file.FileName) != "" {
		fdEnvelope(w, http.StatusBadRequest, "VALIDATION_ERROR", "validation.failed", fdValidation{"INVALID_FILENAME", "file"})
		return false
	}
	var media fdfiles.Media
	var sniffed bool
	_ = checkStoredFile(file, func(f *os.File) error {
		head := make([]byte, 64)
		n, _ := io.ReadFull(f, head)
		media, sniffed = fdfiles.SniffMedia(head[:n])
		return nil
	})
	if !sniffed {
		fdEnvelope(w, http.StatusBadRequest, "VALIDATION_ERROR", "validation.failed", fdValidation{"UNSUPPORTED_MEDIA_FORMAT", "file"})
		return false
	}
	if kind, _, _ := strings.Cut(strings.ToLower(file.Type), "/"); kind != media.Kind {
		fdEnvelope(w, http.StatusBadRequest, "VALIDATION_ERROR", "validation.failed", fdValidation{"CONTENT_TYPE_MISMATCH", "file"})
		return false
	}
	dir := randomHex(8)
	key := fmt.Sprintf("partners/%s/%s/%s", partner, dir, file.FileName)
	// Each segment escaped, so a name with "?", "#", "%" or a space stays
	// in the url's path.
	path := fmt.Sprintf("partners/%s/%s/%s", url.PathEscape(partner), dir, url.PathEscape(file.FileName))
	if _, err := s.store.Commit(file.Path, Object{Bucket: BucketFDMedia, Key: key, Size: file.Size, MD5: file.MD5, ContentType: file.Type}); err != nil {
		fdEnvelope(w, http.StatusInternalServerError, "INTERNAL_ERROR", "internal")
		return false
	}
	m := FutureDemandMedia{URL: s.baseURL + fdMediaCDN + path, Key: key, Type: media.Kind, ContentType: file.Type, FileName: file.FileName, Partner: partner, Size: file.Size, MD5: file.MD5, At: s.now().UTC()}
	st := s.futuredemand
	st.mu.Lock()
	st.media = append(st.media, m)
	st.mu.Unlock()
	writeFD(w, http.StatusOK, map[string]string{"type": m.Type, "url": m.URL, "filename": m.FileName})
	return true
}

// handleFDMediaGet serves stored media at their url, as the media host
// does.
func (s *Server) handleFDMediaGet(w http.ResponseWriter, r *http.Request) {
	obj, err := s.store.Get(BucketFDMedia, r.PathValue("key"))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	f, err := os.Open(obj.Path)
	if err != nil {
		http.Error(w, "unreadable", http.StatusInternalServerError)
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", obj.ContentType)
	w.Header().Set("Content-Length", strconv.FormatInt(obj.Size, 10))
	_, _ = io.Copy(w, f)
}
