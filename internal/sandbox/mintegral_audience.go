package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"mime"
	"net/http"
	"os"
	"path/filepath"
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
//
// Audiences and issued data_paths live in Config.Dir, as the uploaded
// objects do, so a sandbox restarted on the same directory still knows
// them (Mintegral does not forget an account's audiences either).

// MintegralUpdateWindow is how long after a create or update Mintegral
// refuses another update.
const MintegralUpdateWindow = 12 * time.Hour

// mintegralDeviceTypes are the device_type numbers the API documents
// (IDFV and IDFV_MD5 as 10 and 11; see Config.MintegralIDFVCodes).
var mintegralDeviceTypes = []int{1, 2, 3, 4, 6, 7, 8, 9, 10, 11}

// checkMintegralIDFVCodes defaults MintegralIDFVCodes to the official 10
// and refuses any number but 10 and 12.
func (c *Config) checkMintegralIDFVCodes() error {
	switch c.MintegralIDFVCodes {
	case 0:
		c.MintegralIDFVCodes = 10
	case 10, 12:
	default:
		return fmt.Errorf("sandbox: MintegralIDFVCodes is %d; IDFV is numbered 10 (official) or 12 (a newer reading)", c.MintegralIDFVCodes)
	}
	return nil
}

// mintegralDeviceTypeValid reports whether the API takes code as a
// device_type: the documented numbers, IDFV and IDFV_MD5 as configured.
func (s *Server) mintegralDeviceTypeValid(code int) bool {
	if idfv := s.cfg.MintegralIDFVCodes; idfv != 10 {
		switch code {
		case 10, 11:
			return false
		case idfv, idfv + 1:
			return true
		}
	}
	return slices.Contains(mintegralDeviceTypes, code)
}

// MintegralAudience is one audience as the sandbox holds it.
type MintegralAudience struct {
	ID       int64                   `json:"ta_id"`
	Name     string                  `json:"ta_name"`
	AreaType int                     `json:"area_type"`
	Platform int                     `json:"platform"`
	Files    []MintegralAudienceFile `json:"data_path"`
	Created  time.Time               `json:"created"`
	Updated  time.Time               `json:"updated"`
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
	Area   int    `json:"area_type"`
	Bucket string `json:"bucket"` // built-in bucket name
	Key    string `json:"key"`
}

type mintegralAudienceState struct {
	mu        sync.Mutex
	file      string // where the state below is kept; "" keeps it in memory only
	issued    map[string]issuedDataPath
	audiences map[int64]*MintegralAudience
	nextID    int64
	calls     map[string]int // audience API calls per method (not kept on disk)
}

// mintegralStateFile is the file in Config.Dir that keeps audiences and
// issued data_paths across restarts.
const mintegralStateFile = "mintegral-audiences.json"

// mintegralSaved is the on-disk form of mintegralAudienceState.
type mintegralSaved struct {
	NextID    int64                     `json:"next_id"`
	Issued    map[string]issuedDataPath `json:"issued_data_paths"`
	Audiences []*MintegralAudience      `json:"audiences"`
}

func (st *mintegralAudienceState) init() {
	if st.audiences == nil {
		st.issued = map[string]issuedDataPath{}
		st.audiences = map[int64]*MintegralAudience{}
		st.nextID = 1000
		st.calls = map[string]int{}
	}
}

// loadMintegral reads the audiences and data_paths a previous sandbox on
// the same directory left, and keeps every later change there.
func (s *Server) loadMintegral() error {
	st := &s.mintegralAudience
	st.mu.Lock()
	defer st.mu.Unlock()
	st.init()
	st.file = filepath.Join(s.cfg.Dir, mintegralStateFile)
	raw, err := os.ReadFile(st.file) // the sandbox's own small state file, not an upload
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sandbox: read Mintegral audiences: %w", err)
	}
	var saved mintegralSaved
	if err := json.Unmarshal(raw, &saved); err != nil {
		return fmt.Errorf("sandbox: %s is not a Mintegral state file (%v); move it away to start with no audiences", st.file, err)
	}
	st.nextID = max(st.nextID, saved.NextID)
	for dp, issued := range saved.Issued {
		st.issued[dp] = issued
	}
	for _, a := range saved.Audiences {
		st.audiences[a.ID] = a
		st.nextID = max(st.nextID, a.ID)
	}
	return nil
}

// saveLocked writes the state to its file. The caller holds st.mu.
func (st *mintegralAudienceState) saveLocked() error {
	return st.writeLocked(st.audiences, st.nextID)
}

// commitLocked saves audiences and nextID and only then makes them the
// state, so an audience call that answers an error has changed nothing.
// The caller holds st.mu and passes a new map, not st.audiences edited.
func (st *mintegralAudienceState) commitLocked(audiences map[int64]*MintegralAudience, nextID int64) error {
	if err := st.writeLocked(audiences, nextID); err != nil {
		return err
	}
	st.audiences, st.nextID = audiences, nextID
	return nil
}

// writeLocked writes audiences, nextID and the issued data_paths to the
// state file atomically (a temporary file renamed over it), so a sandbox
// killed mid-write leaves the previous state, never half of one. The
// caller holds st.mu.
func (st *mintegralAudienceState) writeLocked(audiences map[int64]*MintegralAudience, nextID int64) error {
	if st.file == "" {
		return nil
	}
	saved := mintegralSaved{NextID: nextID, Issued: st.issued}
	for _, a := range audiences {
		saved.Audiences = append(saved.Audiences, a)
	}
	slices.SortFunc(saved.Audiences, func(a, b *MintegralAudience) int { return int(a.ID - b.ID) })
	raw, err := json.MarshalIndent(saved, "", "  ")
	if err != nil {
		return err
	}
	if err := writeStateFile(st.file, raw); err != nil {
		return fmt.Errorf("sandbox: save Mintegral audiences: %w", err)
	}
	return nil
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
	st.issued[dataPath] = issuedDataPath{Area: area, Bucket: bucket, Key: key}
	// A data_path that could not be kept is still usable while this
	// sandbox runs; the next successful save keeps it too.
	_ = st.saveLocked()
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

// MintegralSeed describes audiences made in Mintegral's console rather
// than through the API. Zero fields take the defaults given.
type MintegralSeed struct {
	NamePrefix string // "console-audience-"; names are the prefix and a number: console-audience-0001, …
	Platform   int    // 1 Android, 2 iOS, 3 mix; 0 takes them in turn
	AreaType   int    // 1 (default) or 2
	DeviceType int    // 0: one that fits the platform (GAID for Android and mix, IDFA for iOS)
	// Age is how long ago they were created and last updated (default 24
	// hours: past the update window).
	Age time.Duration
	// SkipExisting leaves out the names an audience already has, so
	// seeding again on the same directory adds only what is missing.
	SkipExisting bool
}

// seedDeviceIDs is the content of a seeded audience's file: a header and
// advertising IDs, one a line.
const seedDeviceIDs = "device_id\n38400000-8cf0-11bd-b23e-10b96e40000d\n6d92078a-8246-4ba4-ae5b-76104861e7dc\n"

// SeedMintegralAudiences creates n audiences the way Mintegral's console
// does: each is built from a stored file whose data_path no API client
// was ever given. It returns the ta_ids it created, in order.
func (s *Server) SeedMintegralAudiences(n int, seed MintegralSeed) ([]int64, error) {
	if seed.NamePrefix == "" {
		seed.NamePrefix = "console-audience-"
	}
	if seed.AreaType == 0 {
		seed.AreaType = 1
	}
	if seed.Age == 0 {
		seed.Age = 24 * time.Hour
	}
	if seed.AreaType != 1 && seed.AreaType != 2 {
		return nil, fmt.Errorf("sandbox: area_type %d is not 1 or 2", seed.AreaType)
	}
	if seed.Platform < 0 || seed.Platform > 3 {
		return nil, fmt.Errorf("sandbox: platform %d is not 1, 2 or 3", seed.Platform)
	}
	if seed.DeviceType != 0 && !slices.Contains(mintegralDeviceTypes, seed.DeviceType) {
		return nil, fmt.Errorf("sandbox: %d is not a Mintegral device type", seed.DeviceType)
	}
	st := &s.mintegralAudience
	name := func(i int) string { return fmt.Sprintf("%s%04d", seed.NamePrefix, i+1) }
	missing := func() []int {
		taken := map[string]bool{}
		if seed.SkipExisting {
			for _, a := range st.audiences {
				taken[a.Name] = true
			}
		}
		var out []int
		for i := range n {
			if !taken[name(i)] {
				out = append(out, i)
			}
		}
		return out
	}
	st.mu.Lock()
	st.init()
	todo := len(missing())
	st.mu.Unlock()
	if todo == 0 {
		return nil, nil
	}
	dataPath, err := s.storeConsoleFile(seed.AreaType)
	if err != nil {
		return nil, err
	}
	created := s.now().Add(-seed.Age)
	st.mu.Lock()
	defer st.mu.Unlock()
	audiences, nextID := maps.Clone(st.audiences), st.nextID
	var ids []int64
	for _, i := range missing() {
		platform := seed.Platform
		if platform == 0 {
			platform = i%3 + 1
		}
		deviceType := seed.DeviceType
		if deviceType == 0 {
			deviceType = map[int]int{1: 3, 2: 2, 3: 3}[platform]
		}
		nextID++
		audiences[nextID] = &MintegralAudience{
			ID: nextID, Name: name(i), AreaType: seed.AreaType, Platform: platform,
			Files:   []MintegralAudienceFile{{DeviceType: deviceType, DataPath: dataPath}},
			Created: created, Updated: created,
		}
		ids = append(ids, nextID)
	}
	if err := st.commitLocked(audiences, nextID); err != nil {
		return nil, err
	}
	return ids, nil
}

// storeConsoleFile stores the file a console upload leaves in the area's
// bucket and returns its data_path.
func (s *Server) storeConsoleFile(area int) (string, error) {
	key := fmt.Sprintf("audience/%s/console/%s/devices.txt", s.cfg.Credentials.MintegralAccessKey, randomHex(8))
	bucket, dataPath := BucketMintegralS3, "s3://"+BucketMintegralS3+"/"+key
	if area == 2 {
		bucket, dataPath = BucketMintegralOSS, "oss://"+BucketMintegralOSS+"/"+key
	}
	tmp, sum, err := s.store.WriteTemp(strings.NewReader(seedDeviceIDs), int64(len(seedDeviceIDs)))
	if err != nil {
		return "", fmt.Errorf("sandbox: store a console file: %w", err)
	}
	if _, err := s.store.Commit(tmp, Object{Bucket: bucket, Key: key, Size: int64(len(seedDeviceIDs)), MD5: sum, ContentType: "text/plain"}); err != nil {
		return "", fmt.Errorf("sandbox: store a console file: %w", err)
	}
	s.rememberMintegralDataPath(dataPath, area, bucket, key)
	return dataPath, nil
}

func (s *Server) editMintegralAudience(id int64, edit func(*MintegralAudience)) bool {
	st := &s.mintegralAudience
	st.mu.Lock()
	defer st.mu.Unlock()
	st.init()
	a, ok := st.audiences[id]
	if ok {
		edit(a)
		_ = st.saveLocked() // kept in memory regardless; the next save catches up
	}
	return ok
}

func (s *Server) updateWindow() time.Duration {
	if s.cfg.MintegralUpdateWindow > 0 {
		return s.cfg.MintegralUpdateWindow
	}
	return MintegralUpdateWindow
}

// reportedTimeShift is how much earlier than they happened the List API
// reports creations and updates. A window shorter than the documented 12
// hours is for trying updates by hand: times are reported that much
// earlier so that a client adding the documented 12 hours to utime arrives
// at the moment this sandbox accepts the update. A longer window (a
// platform whose clock is ahead) reports the true times.
func (s *Server) reportedTimeShift() time.Duration {
	return max(MintegralUpdateWindow-s.updateWindow(), 0)
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
		if !s.mintegralDeviceTypeValid(f.DeviceType) {
			return fmt.Sprintf("data_path[%d].device_type %d is not a valid device type", i, f.DeviceType)
		}
		st := &s.mintegralAudience
		st.mu.Lock()
		issued, ok := st.issued[f.DataPath]
		st.mu.Unlock()
		if !ok {
			return fmt.Sprintf("data_path[%d].data_path %q was not returned by Upload Audience File", i, f.DataPath)
		}
		if issued.Area != area {
			return fmt.Sprintf("data_path[%d].data_path %q was uploaded for area_type %d, not %d", i, f.DataPath, issued.Area, area)
		}
		if !s.objectStored(ctx, issued.Bucket, issued.Key) {
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
	case !s.mintegralAreaValid(req.AreaType):
		writeMintegral(w, MintegralCodeBadParam, s.mintegralAreaRule(), nil)
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
	a := &MintegralAudience{
		ID: st.nextID + 1, Name: req.Name, AreaType: req.AreaType, Platform: req.Platform,
		// Create publishes at once, which starts the update window.
		Files: req.DataPath, Created: now, Updated: now,
	}
	audiences := maps.Clone(st.audiences)
	audiences[a.ID] = a
	err := st.commitLocked(audiences, a.ID)
	st.mu.Unlock()
	if err != nil {
		writeMintegral(w, MintegralCodeInternal, "internal error", nil)
		return
	}
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
	var err error
	if a, ok = st.audiences[req.ID]; ok {
		changed := *a
		changed.Files, changed.Updated = req.DataPath, now
		audiences := maps.Clone(st.audiences)
		audiences[req.ID] = &changed
		err = st.commitLocked(audiences, st.nextID)
	}
	st.mu.Unlock()
	if err != nil {
		writeMintegral(w, MintegralCodeInternal, "internal error", nil)
		return
	}
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
	audiences := maps.Clone(st.audiences)
	for _, id := range req.IDs {
		delete(audiences, id)
	}
	if err := st.commitLocked(audiences, st.nextID); err != nil {
		writeMintegral(w, MintegralCodeInternal, "internal error", nil)
		return
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
	shift := s.reportedTimeShift()
	for i := (page - 1) * limit; i < len(match) && i < page*limit; i++ {
		a := match[i]
		list = append(list, map[string]any{
			"ta_id": a.ID, "platform": a.Platform, "ta_name": a.Name, "ta_type": 1,
			"device_type": a.deviceTypeList(), "area_type": a.AreaType,
			"ctime": a.Created.Add(-shift).Unix(), "utime": a.Updated.Add(-shift).Unix(),
		})
	}
	writeMintegral(w, MintegralCodeOK, "success", map[string]any{
		"page": page, "limit": limit, "current_total": len(list), "total": len(match), "list": list,
	})
}
