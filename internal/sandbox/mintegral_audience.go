package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Mintegral audience lifecycle emulation: create, update, delete and list
// on /api/open/v1/audience, with the platform's rules: token auth, files
// that must be data_paths this sandbox issued and stored in the audience's
// area, and no second update within the update window (12 hours).

// MintegralUpdateWindow is how long after a create or update Mintegral
// refuses another update.
const MintegralUpdateWindow = 12 * time.Hour

// mintegralDeviceTypes are the device_type numbers the API documents.
var mintegralDeviceTypes = []int{1, 2, 3, 4, 6, 7, 8, 9, 10, 11}

// MintegralAudience is one audience as the sandbox holds it.
type MintegralAudience struct {
	ID       int64
	Name     string
	AreaType int
	Platform int
	Files    []MintegralAudienceFile
	Created  time.Time
	Updated  time.Time
}

// MintegralAudienceFile is one file of an audience, as sent on the wire.
type MintegralAudienceFile struct {
	DeviceType int    `json:"device_type"`
	DataPath   string `json:"data_path"`
}

// deviceTypeList is the List API's device_type: distinct numbers, sorted,
// comma-separated.
func (a *MintegralAudience) deviceTypeList() string {
	var codes []int
	for _, f := range a.Files {
		codes = append(codes, f.DeviceType)
	}
	slices.Sort(codes)
	codes = slices.Compact(codes)
	parts := make([]string, len(codes))
	for i, c := range codes {
		parts[i] = strconv.Itoa(c)
	}
	return strings.Join(parts, ",")
}

// issuedDataPath is where a data_path handed out by presigned-upload-data
// points.
type issuedDataPath struct {
	area   int
	bucket string // built-in bucket name
	key    string
}

type mintegralAudienceState struct {
	mu        sync.Mutex
	issued    map[string]issuedDataPath
	audiences map[int64]*MintegralAudience
	nextID    int64
	calls     map[string]int // audience API calls per method
}

func (st *mintegralAudienceState) init() {
	if st.audiences == nil {
		st.issued = map[string]issuedDataPath{}
		st.audiences = map[int64]*MintegralAudience{}
		st.nextID = 1000
		st.calls = map[string]int{}
	}
}

func (s *Server) registerMintegralAudience(mux *http.ServeMux) {
	p := PrefixMintegral + "/api/open/v1/audience"
	mux.HandleFunc("GET "+p, s.handleMintegralAudienceList)
	mux.HandleFunc("POST "+p, s.handleMintegralAudienceCreate)
	mux.HandleFunc("PUT "+p, s.handleMintegralAudienceUpdate)
	mux.HandleFunc("DELETE "+p, s.handleMintegralAudienceDelete)
}

// rememberMintegralDataPath records a data_path issued for an upload, so
// only data_paths of this sandbox's uploads can feed an audience.
func (s *Server) rememberMintegralDataPath(dataPath string, area int, bucket, key string) {
	st := &s.mintegralAudience
	st.mu.Lock()
	defer st.mu.Unlock()
	st.init()
	st.issued[dataPath] = issuedDataPath{area: area, bucket: bucket, key: key}
}

// MintegralAudienceCalls reports how many audience API calls (create,
// update, delete, list) of an HTTP method reached the sandbox, whatever
// their outcome.
func (s *Server) MintegralAudienceCalls(method string) int {
	st := &s.mintegralAudience
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.calls[method]
}

// MintegralAudiences returns a copy of every audience, by ta_id.
func (s *Server) MintegralAudiences() []MintegralAudience {
	st := &s.mintegralAudience
	st.mu.Lock()
	defer st.mu.Unlock()
	var out []MintegralAudience
	for _, a := range st.audiences {
		c := *a
		c.Files = slices.Clone(a.Files)
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b MintegralAudience) int { return int(a.ID - b.ID) })
	return out
}

// BackdateMintegralAudience moves an audience's creation and update times
// d into the past, as if its last change happened d earlier. Tests use it
// to get past (or not) the update window without waiting.
func (s *Server) BackdateMintegralAudience(id int64, d time.Duration) bool {
	return s.editMintegralAudience(id, func(a *MintegralAudience) {
		a.Created = a.Created.Add(-d)
		a.Updated = a.Updated.Add(-d)
	})
}

// RenameMintegralAudience renames an audience as Mintegral's console
// would, which counts as an update (it restarts the window).
func (s *Server) RenameMintegralAudience(id int64, name string) bool {
	now := s.now()
	return s.editMintegralAudience(id, func(a *MintegralAudience) {
		a.Name = name
		a.Updated = now
	})
}

func (s *Server) editMintegralAudience(id int64, edit func(*MintegralAudience)) bool {
	st := &s.mintegralAudience
	st.mu.Lock()
	defer st.mu.Unlock()
	st.init()
	a, ok := st.audiences[id]
	if ok {
		edit(a)
	}
	return ok
}

func (s *Server) updateWindow() time.Duration {
	if s.cfg.MintegralUpdateWindow > 0 {
		return s.cfg.MintegralUpdateWindow
	}
	return MintegralUpdateWindow
}

// audienceRequest authenticates and counts an audience API call and, for
// calls with a body, decodes it strictly (unknown fields are refused, as
// a misspelt field would be ignored by nobody).
func (s *Server) audienceRequest(w http.ResponseWriter, r *http.Request, body any) bool {
	st := &s.mintegralAudience
	st.mu.Lock()
	st.init()
	st.calls[r.Method]++
	st.mu.Unlock()
	if code, msg := s.checkMintegralAuth(r); code != MintegralCodeOK {
		drain(r)
		writeMintegral(w, code, msg, nil)
		return false
	}
	if body == nil {
		return true
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		drain(r)
		writeMintegral(w, MintegralCodeBadParam, "Content-Type must be application/json", nil)
		return false
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(body); err != nil {
		drain(r)
		writeMintegral(w, MintegralCodeBadParam, "invalid JSON body: "+err.Error(), nil)
		return false
	}
	return true
}

// checkFiles verifies an audience's files: known device types, and
// data_paths this sandbox issued for the audience's area and whose upload
// completed.
func (s *Server) checkFiles(ctx context.Context, area int, files []MintegralAudienceFile) string {
	if len(files) == 0 {
		return "data_path must list at least one file"
	}
	for i, f := range files {
		if !slices.Contains(mintegralDeviceTypes, f.DeviceType) {
			return fmt.Sprintf("data_path[%d].device_type %d is not a valid device type", i, f.DeviceType)
		}
		st := &s.mintegralAudience
		st.mu.Lock()
		issued, ok := st.issued[f.DataPath]
		st.mu.Unlock()
		if !ok {
			return fmt.Sprintf("data_path[%d].data_path %q was not returned by Upload Audience File", i, f.DataPath)
		}
		if issued.area != area {
			return fmt.Sprintf("data_path[%d].data_path %q was uploaded for area_type %d, not %d", i, f.DataPath, issued.area, area)
		}
		if !s.objectStored(ctx, issued.bucket, issued.key) {
			return fmt.Sprintf("data_path[%d].data_path %q: the file was never uploaded", i, f.DataPath)
		}
	}
	return ""
}

func (s *Server) objectStored(ctx context.Context, bucket, key string) bool {
	if bucket == BucketMintegralS3 && s.cfg.ExternalS3 != nil {
		return s.externalS3Call(ctx, http.MethodHead, key, nil, nil, nil) == nil
	}
	_, err := s.store.Get(bucket, key)
	return err == nil
}

func (s *Server) handleMintegralAudienceCreate(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Name     string                  `json:"ta_name"`
		AreaType int                     `json:"area_type"`
		Platform int                     `json:"platform"`
		DataPath []MintegralAudienceFile `json:"data_path"`
	}
	if !s.audienceRequest(w, r, &req) {
		return
	}
	switch {
	case strings.TrimSpace(req.Name) == "":
		writeMintegral(w, MintegralCodeBadParam, "ta_name is required", nil)
		return
	case req.AreaType != 1 && req.AreaType != 2:
		writeMintegral(w, MintegralCodeBadParam, "area_type must be 1 or 2", nil)
		return
	case req.Platform < 1 || req.Platform > 3:
		writeMintegral(w, MintegralCodeBadParam, "platform must be 1 (Android), 2 (iOS) or 3 (mix)", nil)
		return
	}
	if msg := s.checkFiles(r.Context(), req.AreaType, req.DataPath); msg != "" {
		writeMintegral(w, MintegralCodeBadParam, msg, nil)
		return
	}
	now := s.now()
	st := &s.mintegralAudience
	st.mu.Lock()
	st.nextID++
	a := &MintegralAudience{
		ID: st.nextID, Name: req.Name, AreaType: req.AreaType, Platform: req.Platform,
		// Create publishes at once, which starts the update window.
		Files: req.DataPath, Created: now, Updated: now,
	}
	st.audiences[a.ID] = a
	st.mu.Unlock()
	writeMintegral(w, MintegralCodeOK, "success", map[string]int64{"ta_id": a.ID})
}

func (s *Server) handleMintegralAudienceUpdate(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ID       int64                   `json:"ta_id"`
		DataPath []MintegralAudienceFile `json:"data_path"`
	}
	if !s.audienceRequest(w, r, &req) {
		return
	}
	st := &s.mintegralAudience
	st.mu.Lock()
	a, ok := st.audiences[req.ID]
	var area int
	var updated time.Time
	if ok {
		area, updated = a.AreaType, a.Updated
	}
	st.mu.Unlock()
	if !ok {
		writeMintegral(w, MintegralCodeBadParam, fmt.Sprintf("audience %d does not exist", req.ID), nil)
		return
	}
	now := s.now()
	if next := updated.Add(s.updateWindow()); now.Before(next) {
		writeMintegral(w, MintegralCodeBadParam, fmt.Sprintf("audience %d was updated at %s and cannot be updated again within %s (not before %s)",
			req.ID, updated.UTC().Format(time.RFC3339), s.updateWindow(), next.UTC().Format(time.RFC3339)), nil)
		return
	}
	if msg := s.checkFiles(r.Context(), area, req.DataPath); msg != "" {
		writeMintegral(w, MintegralCodeBadParam, msg, nil)
		return
	}
	st.mu.Lock()
	if a, ok = st.audiences[req.ID]; ok {
		a.Files, a.Updated = req.DataPath, now
	}
	st.mu.Unlock()
	writeMintegral(w, MintegralCodeOK, "success", map[string]int64{"ta_id": req.ID})
}

func (s *Server) handleMintegralAudienceDelete(w http.ResponseWriter, r *http.Request) {
	var req struct {
		IDs []int64 `json:"ta_id"`
	}
	if !s.audienceRequest(w, r, &req) {
		return
	}
	if len(req.IDs) == 0 {
		writeMintegral(w, MintegralCodeBadParam, "ta_id must list at least one audience", nil)
		return
	}
	st := &s.mintegralAudience
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, id := range req.IDs {
		if _, ok := st.audiences[id]; !ok {
			writeMintegral(w, MintegralCodeBadParam, fmt.Sprintf("audience %d does not exist", id), nil)
			return
		}
	}
	for _, id := range req.IDs {
		delete(st.audiences, id)
	}
	writeMintegral(w, MintegralCodeOK, "success", nil)
}

func (s *Server) handleMintegralAudienceList(w http.ResponseWriter, r *http.Request) {
	if !s.audienceRequest(w, r, nil) {
		return
	}
	q := r.URL.Query()
	var ids []int64
	if raw := q.Get("ta_ids"); raw != "" {
		for _, part := range strings.Split(raw, ",") {
			id, err := strconv.ParseInt(strings.TrimSpace(part), 10, 64)
			if err != nil {
				writeMintegral(w, MintegralCodeBadParam, "ta_ids must be comma-separated audience IDs", nil)
				return
			}
			ids = append(ids, id)
		}
	}
	platform := 0
	if raw := q.Get("platform"); raw != "" {
		platform = mustAtoi(raw)
		if platform < 1 || platform > 3 {
			writeMintegral(w, MintegralCodeBadParam, "platform must be 1, 2 or 3", nil)
			return
		}
	}
	limit, page := 10, 1 // documented defaults
	if raw := q.Get("limit"); raw != "" {
		if limit = mustAtoi(raw); limit < 1 {
			writeMintegral(w, MintegralCodeBadParam, "limit must be a positive integer", nil)
			return
		}
		limit = min(limit, 500) // larger limits return 500
	}
	if raw := q.Get("page"); raw != "" {
		if page = mustAtoi(raw); page < 1 {
			writeMintegral(w, MintegralCodeBadParam, "page must be a positive integer", nil)
			return
		}
	}
	name := strings.ToLower(q.Get("ta_name"))
	var match []MintegralAudience
	for _, a := range s.MintegralAudiences() {
		if (len(ids) == 0 || slices.Contains(ids, a.ID)) &&
			(platform == 0 || a.Platform == platform) &&
			strings.Contains(strings.ToLower(a.Name), name) {
			match = append(match, a)
		}
	}
	list := []map[string]any{}
	for i := (page - 1) * limit; i < len(match) && i < page*limit; i++ {
		a := match[i]
		list = append(list, map[string]any{
			"ta_id": a.ID, "platform": a.Platform, "ta_name": a.Name, "ta_type": 1,
			"device_type": a.deviceTypeList(), "area_type": a.AreaType,
			"ctime": a.Created.Unix(), "utime": a.Updated.Unix(),
		})
	}
	writeMintegral(w, MintegralCodeOK, "success", map[string]any{
		"page": page, "limit": limit, "current_total": len(list), "total": len(match), "list": list,
	})
}
