package futuredemand

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"strings"

	"github.com/audiencekit/terraform-provider-audience/internal/client/transfer"
)

// Ingest kinds: what a direct ingest upload carries.
const (
	KindTransactionSummary = "transaction_summary" // an .xlsx workbook, for one event (eid)
	KindEvents             = "events"              // a UTF-8 CSV or an .xlsx workbook of events, on the CR API
)

// EventTypes are the event_type values of a bulk event upload; which one
// an account may use depends on its permissions.
var EventTypes = []string{"prisma", "fdlive"}

// EventsContentType is the content type an events file is sent with, by
// the extension of the name sent: an .xlsx workbook, or else CSV.
func EventsContentType(fileName string) string {
	if strings.EqualFold(path.Ext(fileName), ".xlsx") {
		return xlsxContentType
	}
	return eventsCSVType
}

// versionSegment is the trailing version of an API base URL (/v3).
var versionSegment = regexp.MustCompile(`/v[0-9]+$`)

// MediaBase returns the base URL that POST /media goes to: override when
// set, else endpoint without its trailing version segment
// (https://client-api.prd.future-demand.com/api/v3 →
// https://client-api.prd.future-demand.com/api). Trailing slashes of
// either are ignored.
func MediaBase(endpoint, override string) string {
	if override != "" {
		return strings.TrimRight(override, "/")
	}
	return versionSegment.ReplaceAllString(strings.TrimRight(endpoint, "/"), "")
}

// IngestRequest describes one ingest upload.
type IngestRequest struct {
	Kind      string // KindTransactionSummary or KindEvents
	EID       string // the event of a transaction summary
	EventType string // the event_type of an events upload
	Path      string // local file
	FileName  string // name sent in the form
	// FileMD5 is the md5 (lowercase hex) recorded at plan time; the upload
	// fails if the bytes sent hash differently.
	FileMD5 string
	// Ingested, for events, is the content of this file Future Demand
	// already holds: only the header row and the rows after it are sent
	// (see PlanEventsAppend). The zero value sends the whole file.
	Ingested EventsBase
}

// IngestResult is what an accepted ingest returned.
type IngestResult struct {
	Response  string // the API's JSON answer, as returned
	RequestID string // the answer's x-request-id, for support
	FileMD5   string // of the bytes sent: the file, or an append's header and new rows
	FileSize  int64
}

// MediaRequest describes one creative media upload.
type MediaRequest struct {
	Path        string
	FileName    string
	ContentType string // the file part's Content-Type (image/… or video/…)
	FileMD5     string
}

// MediaResult is a stored media object.
type MediaResult struct {
	MediaID   string // the answer's id, or else the path of its url
	URL       string
	Type      string // "image" or "video", as the API says
	FileName  string // as the API stored it
	RequestID string
	FileMD5   string
	FileSize  int64
}

// RefusedError is an upload the API answered with success-shaped refusal:
// the events upload's row errors or top-level details, or validation
// errors, under HTTP 200.
type RefusedError struct {
	Op     string
	File   string
	Status int
	Codes  []string
	// Cut: the answer was longer than transfer.AnswerLimit; Codes are
	// those read before the cut.
	Cut bool
}

func (e *RefusedError) Error() string {
	const shown = 20
	codes := e.Codes
	more := ""
	if len(codes) > shown {
		more = fmt.Sprintf(" and %d more", len(codes)-shown)
		codes = codes[:shown]
	}
	if e.Cut {
		more += fmt.Sprintf(" (the answer was longer than %d bytes: more codes followed)", transfer.AnswerLimit)
	}
	return fmt.Sprintf("Future Demand %s answered HTTP %d but refused %s: %s%s", e.Op, e.Status, e.File, strings.Join(codes, ", "), more)
}

// Ingest sends a transaction summary workbook to the API, or an events
// file to the CR API, by direct multipart upload.
func (c *Client) Ingest(ctx context.Context, r IngestRequest) (*IngestResult, error) {
	d := directUpload{path: r.Path, fileName: r.FileName, fileMD5: r.FileMD5}
	var base string
	switch r.Kind {
	case KindTransactionSummary:
		if r.EID == "" {
			return nil, errors.New("futuredemand: a transaction summary needs an eid")
		}
		base, d.route, d.platform, d.contentType = c.Endpoint, pathIngestExcel+"?"+url.Values{paramEID: {r.EID}}.Encode(), c.http, xlsxContentType
		// Future Demand keeps one transaction summary per event (eid), and
		// an ingest stores the workbook's summary for it (assumed from
		// the JSON variant, which persists one record per eid). A second
		// copy of the same workbook stores the same summary again, so the
		// upload is sent again after an answer was lost.
		d.duplicate = transfer.DuplicateHarmless
	case KindEvents:
		if r.EventType == "" {
			return nil, errors.New("futuredemand: an events upload needs an event_type")
		}
		if c.CRAPIEndpoint == "" {
			return nil, errors.New("futuredemand: no CR API endpoint for an events upload")
		}
		base, d.route, d.platform, d.contentType = c.CRAPIEndpoint, pathEventsUpload+"?"+url.Values{paramEventType: {r.EventType}}.Encode(), c.cr, EventsContentType(r.FileName)
		// Every row creates an event: a second copy would list the events
		// twice (or be refused row by row as duplicates). It is not sent
		// again when the answer was lost; the error says so.
		d.duplicate = transfer.DuplicateVisible
		if r.Ingested.Size > 0 {
			if d.contentType != eventsCSVType {
				// A workbook's rows cannot be sent on their own.
				return nil, fmt.Errorf("futuredemand: %s is a workbook, whose new rows cannot be sent apart from those Future Demand holds", r.Path)
			}
			app, bodyMD5, err := appendBody(r.Path, r.Ingested, r.FileMD5)
			if err != nil {
				return nil, err
			}
			if app.From == app.Size {
				return nil, fmt.Errorf("futuredemand: %s holds no bytes after the %d Future Demand holds", r.Path, r.Ingested.Size)
			}
			d.ranges, d.fileSize, d.fileMD5 = app.ranges(), app.Size, bodyMD5
		}
	default:
		return nil, fmt.Errorf("futuredemand: unknown ingest kind %q", r.Kind)
	}
	d.url = strings.TrimRight(base, "/") + d.route
	d.label = "Future Demand " + r.Kind + " ingest of " + r.FileName
	res, file, err := c.direct(ctx, d)
	if err != nil {
		return nil, err
	}
	if res.Cut {
		// Only a refusal listing very many rows is that long.
		if codes := readableCodes(res.Body); len(codes) > 0 {
			return nil, &RefusedError{Op: d.op(), File: r.FileName, Status: res.Status, Codes: codes, Cut: true}
		}
		return nil, fmt.Errorf("Future Demand %s: HTTP %d with an answer longer than %d bytes: %s", d.op(), res.Status, transfer.AnswerLimit, shorten(string(res.Body)))
	}
	body := strings.TrimSpace(string(res.Body))
	if body != "" && !json.Valid(res.Body) {
		return nil, fmt.Errorf("Future Demand %s: HTTP %d with an answer that is not JSON: %s", d.op(), res.Status, shorten(body))
	}
	if codes := refusal(res.Body); len(codes) > 0 {
		return nil, &RefusedError{Op: d.op(), File: r.FileName, Status: res.Status, Codes: codes}
	}
	return &IngestResult{Response: body, RequestID: res.Header.Get(headerRequestID), FileMD5: file.md5, FileSize: file.size}, nil
}

// UploadMedia sends a creative (image or video) to POST /media on the
// media base, by direct multipart upload.
func (c *Client) UploadMedia(ctx context.Context, r MediaRequest) (*MediaResult, error) {
	d := directUpload{
		platform: c.media, route: pathMedia, path: r.Path, fileName: r.FileName, contentType: r.ContentType, fileMD5: r.FileMD5,
		url:   MediaBase(c.Endpoint, c.MediaEndpoint) + pathMedia,
		label: "Future Demand media upload of " + r.FileName,
		// A second copy is one more media object with its own url that
		// nothing uses. There is no API to list media and find the first,
		// so a rerun after a failed apply would make the same copy: the
		// upload is sent again after an answer was lost.
		duplicate: transfer.DuplicateHarmless,
	}
	res, file, err := c.direct(ctx, d)
	if err != nil {
		return nil, err
	}
	var m mediaResponse
	if err := json.Unmarshal(res.Body, &m); err != nil || m.URL == "" {
		return nil, fmt.Errorf("Future Demand %s: HTTP %d with an answer that has no media url: %s", d.op(), res.Status, shorten(string(res.Body)))
	}
	id := rawText(m.ID)
	if id == "" {
		id = mediaIDFromURL(m.URL)
	}
	return &MediaResult{MediaID: id, URL: m.URL, Type: m.Type, FileName: m.Filename, RequestID: res.Header.Get(headerRequestID), FileMD5: file.md5, FileSize: file.size}, nil
}

// mediaIDFromURL names a media object by the path of its url, which is
// where the object is stored, unescaped. A query or a fragment is no part
// of it, and a presigned url's signature must not become an id.
func mediaIDFromURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		raw, _, _ = strings.Cut(raw, "#")
		raw, _, _ = strings.Cut(raw, "?")
		return raw
	}
	if p := strings.Trim(u.Path, "/"); p != "" {
		return p
	}
	return transfer.RedactURL(raw)
}

// directUpload is one file posted to the API as the multipart field
// "file".
type directUpload struct {
	platform    *transfer.Platform
	url         string // base + route
	route       string // path and query, for messages
	path        string
	fileName    string
	contentType string
	fileMD5     string
	label       string
	duplicate   transfer.Duplicate
	// ranges, when set, are the parts of the file sent (an events
	// append), and fileMD5 their md5; fileSize is the whole file's.
	ranges   []transfer.Range
	fileSize int64
}

func (d directUpload) op() string {
	route, _, _ := strings.Cut(d.route, "?")
	return http.MethodPost + " " + route
}

// sentFile is what was sent: the md5 of the bytes and their count.
type sentFile struct {
	md5  string
	size int64
}

// direct posts the file with the Bearer token and the partner header,
// logging in again once if a login token was rejected, and returns a 2xx
// answer; another answer is an APIError.
func (c *Client) direct(ctx context.Context, d directUpload) (*transfer.Result, sentFile, error) {
	if err := c.check(); err != nil {
		return nil, sentFile{}, err
	}
	var file *transfer.File
	var err error
	if d.ranges != nil {
		file, err = transfer.OpenFileRanges(d.path, d.fileSize, d.fileMD5, d.ranges...)
	} else {
		file, err = transfer.OpenFile(d.path, d.fileMD5)
	}
	if err != nil {
		return nil, sentFile{}, err
	}
	defer func() { _ = file.Close() }()
	log := d.platform.Log()
	log.Info(ctx, "uploading to Future Demand by direct multipart", map[string]any{"op": d.op(), "file_name": d.fileName, "content_type": d.contentType, "size": transfer.LogBytes(file.Size)})
	for reauth := false; ; reauth = true {
		tok, err := c.bearer(ctx, reauth)
		if err != nil {
			return nil, sentFile{}, err
		}
		h := http.Header{}
		h.Set("Authorization", "Bearer "+tok)
		h.Set(headerPartner, c.PartnerID)
		h.Set("Accept", "application/json")
		res, err := d.platform.PostForm(ctx, transfer.FormPost{
			URL:             d.url,
			Header:          h,
			FileField:       directFileField,
			FileName:        d.fileName,
			FileContentType: d.contentType,
			File:            file,
			Label:           d.label,
			SuccessCodes:    transfer.AnsweredStatuses,
			ToAPI:           true,
			Duplicate:       d.duplicate,
		})
		if err != nil {
			if verr := file.Verify(); errors.Is(verr, transfer.ErrContentChanged) {
				return nil, sentFile{}, verr
			}
			return nil, sentFile{}, err
		}
		if res.Status == http.StatusUnauthorized && c.AccessToken == "" && !reauth {
			continue // the login token was revoked or expired early: log in again once
		}
		if res.Status < 200 || res.Status >= 300 {
			code, msg := errorMessage(bytes.TrimSpace(res.Body))
			return nil, sentFile{}, &APIError{Op: d.op(), Status: res.Status, Code: code, Message: msg}
		}
		// The reader withheld the last byte had the content changed; this
		// is a last size check.
		if err := file.Verify(); err != nil {
			return nil, sentFile{}, err
		}
		log.Info(ctx, "Future Demand took the upload", map[string]any{"op": d.op(), "file_name": d.fileName, "request_id": res.Header.Get(headerRequestID)})
		return res, sentFile{md5: file.SentMD5(), size: file.Size}, nil
	}
}
