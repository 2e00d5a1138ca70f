package sandbox

import (
	"bufio"
	"crypto/md5"
	"crypto/subtle"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"maps"
	"mime"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Altcraft platform API v1.1 emulation: profile export tasks
// (profiles/get_all), their status (tasks/status) and the download of the
// result file. As on the real API, HTTP 200 does not mean success: every
// answer carries a body-level `error` (0 = success) and `error_text`.

// Body-level error codes of the emulated Altcraft API.
const (
	AltcraftCodeOK            = 0
	AltcraftCodeBadRequest    = 400
	AltcraftCodeTokenRequired = 401
)

// BucketAltcraftExports holds finished export files in the sandbox store.
const BucketAltcraftExports = "altcraft-exports"

// BucketAltcraftProfiles holds the profiles loaded from CSV files
// (LoadAltcraftProfiles), one object per load.
const BucketAltcraftProfiles = "altcraft-profiles"

// AltcraftResultLifetime is how long a finished export task's result
// files stay downloadable; afterwards the panel answers 404 to their URLs.
// Altcraft does not document a lifetime: the API reference ("Uploading
// profiles to a file", guides.altcraft.com developer-guide profiles/3115796,
// and the Altcraft API document this project started from) says only that the file is downloaded from the link in
// `urls`, and the help pages searched name no retention. Panels clean up
// their export files, so a client must not count on a result for ever;
// the sandbox assumes three days.
const AltcraftResultLifetime = 72 * time.Hour

// altcraftProgressSteps is what successive tasks/status polls report: a
// task completes on its fourth poll.
var altcraftProgressSteps = []int{0, 40, 80, 100}

// altcraftSources are the databases and segments the sandbox panel is set
// up with, and their profile counts. Segment 8 is empty. Loading a CSV
// (LoadAltcraftProfiles) may add others.
var altcraftSources = map[altcraftSource]int{
	{"database", 1}: 1343,
	{"database", 2}: 25,
	{"segment", 7}:  240,
	{"segment", 8}:  0,
}

type altcraftSource struct {
	Type string
	ID   int64
}

// altcraftColumn is a profile field and the JSON type custom_request must
// use to filter on it: "string", "number" or "boolean".
type altcraftColumn struct{ Name, Kind string }

// altcraftColumns are the profile fields of the generated profiles, in file
// order. A loaded CSV has its own header; a field named here keeps its type
// there, any other field is a string.
var altcraftColumns = []altcraftColumn{
	{"_pid", "number"},
	{"email", "string"},
	{"first_name", "string"},
	{"last_name", "string"},
	{"city", "string"},
	{"occupation", "string"},
	{"age", "number"},
	{"vip", "boolean"},
	{"idfa", "string"},
	{"gaid", "string"},
}

var (
	altcraftFirstNames  = []string{"Anna", "Boris", "Clara", "Dmitri", "Elena", "Farid", "Greta", "Hugo", "Irina", "Jonas"}
	altcraftLastNames   = []string{"Ivanova", "Petrov", "Smirnova", "Novak", "Weber", "Silva", "Kowalski", "Berg"}
	altcraftCities      = []string{"Moscow", "Berlin", "Lisbon", "Riga", "Almaty", "Tbilisi"}
	altcraftOccupations = []string{"doctor", "teacher", "engineer", "designer", "nurse", "lawyer", "driver", "chef"}
)

type altcraftState struct {
	mu    sync.Mutex
	tasks map[string]*altcraftTask
	// holdAt, when not negative, stops every task once it reports that
	// progress (to exercise client timeouts).
	holdAt int
	// failWith makes tasks started from now on end in failure with these
	// errors.
	failWith []string
	// started counts the export tasks profiles/get_all created.
	started int
	// content overrides a source's profiles (SetAltcraftProfiles,
	// EditAltcraftProfile, LoadAltcraftProfiles) and holds the sources a
	// load added; tasks export what it holds when they finish.
	content map[altcraftSource]altcraftContent
}

// altcraftContent is what a source holds: how many generated profiles, and
// which of them were edited (and how often) since the panel was set up; or
// the profiles of a loaded CSV.
type altcraftContent struct {
	profiles int
	edits    map[int]int // profile index -> revision
	csv      *altcraftCSV
}

// altcraftCSV is a loaded profile file, kept in the store as it was
// checked: a header, then one record per profile.
type altcraftCSV struct {
	Key     string   `json:"key"` // in BucketAltcraftProfiles
	Columns []string `json:"columns"`
	Rows    int      `json:"rows"`
	path    string   // of the stored bytes, set when the content is looked up
}

// columns are the fields of the source's profiles, in file order.
func (c altcraftContent) columns() []altcraftColumn {
	if c.csv == nil {
		return altcraftColumns
	}
	out := make([]altcraftColumn, len(c.csv.Columns))
	for i, name := range c.csv.Columns {
		out[i] = altcraftColumn{name, "string"}
		if j := slices.IndexFunc(altcraftColumns, func(c altcraftColumn) bool { return c.Name == name }); j >= 0 {
			out[i].Kind = altcraftColumns[j].Kind
		}
	}
	return out
}

// count is how many profiles the source holds.
func (c altcraftContent) count() int {
	if c.csv != nil {
		return c.csv.Rows
	}
	return c.profiles
}

// SetAltcraftProfiles changes how many profiles a source holds, as the
// CRM gains or loses contacts: fewer drops the newest, more adds profiles
// at the end. A profile is its position, so growing back after shrinking
// restores the dropped profiles as they were, edits included. Export
// tasks finishing afterwards see the new content. It fails for a source
// the panel does not have, and for one holding a loaded CSV.
func (s *Server) SetAltcraftProfiles(sourceType string, sourceID int64, profiles int) error {
	return s.editAltcraftSource(sourceType, sourceID, func(c *altcraftContent) { c.profiles = max(profiles, 0) })
}

// EditAltcraftProfile changes profile i of a source (0-based) as an edit
// in the CRM would: its fields are drawn anew, so it may enter or leave a
// filtered export, or change its device ID or e-mail. Its _pid stays.
func (s *Server) EditAltcraftProfile(sourceType string, sourceID int64, i int) error {
	return s.editAltcraftSource(sourceType, sourceID, func(c *altcraftContent) { c.edits[i]++ })
}

// altcraftContentOf is what a source holds now, and whether the panel has
// it; the caller holds s.altcraft.mu.
func (s *Server) altcraftContentOf(src altcraftSource) (altcraftContent, bool) {
	if c, ok := s.altcraft.content[src]; ok {
		if c.csv != nil {
			csv := *c.csv
			csv.path = s.store.objectPath(BucketAltcraftProfiles, csv.Key)
			c.csv = &csv
		}
		return c, true
	}
	n, ok := altcraftSources[src]
	return altcraftContent{profiles: n}, ok
}

func (s *Server) editAltcraftSource(sourceType string, sourceID int64, edit func(*altcraftContent)) error {
	src := altcraftSource{sourceType, sourceID}
	st := s.altcraft
	st.mu.Lock()
	c, ok := s.altcraftContentOf(src)
	switch {
	case !ok:
		st.mu.Unlock()
		return fmt.Errorf("sandbox: Altcraft %s %d not found", sourceType, sourceID)
	case c.csv != nil:
		st.mu.Unlock()
		return fmt.Errorf("sandbox: Altcraft %s %d holds profiles loaded from a CSV; load another, or reset it to the generated profiles", sourceType, sourceID)
	}
	if c.edits == nil {
		c.edits = map[int]int{}
	}
	edit(&c)
	st.content[src] = c
	st.mu.Unlock()
	s.persist()
	return nil
}

type altcraftTask struct {
	id       string
	source   altcraftSource
	filter   map[string]any
	polls    int
	failWith []string
	// Set once the task has finished.
	status string
	total  int
	urls   []string
	dir    string    // of the result file in BucketAltcraftExports
	done   time.Time // when the result was written; Advance moves it
}

// expired reports whether the task's result is past its lifetime; the
// caller holds s.altcraft.mu.
func (t *altcraftTask) expired(now time.Time) bool {
	return !t.done.IsZero() && now.Sub(t.done) >= AltcraftResultLifetime
}

// HoldAltcraftTasks stops every Altcraft export task once it reports
// atProgress percent (0, 40 or 80), so a client's timeout can be tested.
func (s *Server) HoldAltcraftTasks(atProgress int) {
	st := s.altcraft
	st.mu.Lock()
	defer st.mu.Unlock()
	st.holdAt = atProgress
}

// ReleaseAltcraftTasks lets held tasks progress again.
func (s *Server) ReleaseAltcraftTasks() { s.HoldAltcraftTasks(-1) }

// FailAltcraftTasks makes every export task started afterwards end with
// status "error" and these errors in its result. No arguments restores
// normal behaviour.
func (s *Server) FailAltcraftTasks(errs ...string) {
	st := s.altcraft
	st.mu.Lock()
	defer st.mu.Unlock()
	st.failWith = slices.Clone(errs)
}

// registerAltcraft mounts the emulated Altcraft API under PrefixAltcraft:
// the panel is {base}/altcraft, the API {panel}/api/v1.1/...
func (s *Server) registerAltcraft(mux *http.ServeMux) {
	s.altcraft = &altcraftState{tasks: map[string]*altcraftTask{}, holdAt: -1, content: map[altcraftSource]altcraftContent{}}
	mux.HandleFunc("POST "+PrefixAltcraft+"/api/v1.1/profiles/get_all", s.handleAltcraftGetAll)
	mux.HandleFunc("POST "+PrefixAltcraft+"/api/v1.1/tasks/status", s.handleAltcraftTaskStatus)
	mux.HandleFunc("GET "+PrefixAltcraft+"/api/download/{dir}/{name}", s.handleAltcraftDownload)
	s.exportURL("ALTCRAFT_ENDPOINT", PrefixAltcraft)
	s.exportValue("ALTCRAFT_TOKEN", s.cfg.Credentials.AltcraftToken)
}

func writeAltcraft(w http.ResponseWriter, code int, text string, data any) {
	if code == AltcraftCodeOK {
		text = "Successful operation"
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"data": data, "error": code, "error_text": text})
}

// readAltcraftRequest decodes a JSON API request and checks its token.
// Numbers stay json.Number so types can be checked exactly.
func (s *Server) readAltcraftRequest(r *http.Request) (map[string]any, int, string) {
	defer drain(r)
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		return nil, AltcraftCodeBadRequest, "Bad request: Content-Type must be application/json"
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, 64<<10))
	dec.UseNumber()
	var body map[string]any
	if err := dec.Decode(&body); err != nil || body == nil {
		return nil, AltcraftCodeBadRequest, "Bad request: body is not a JSON object"
	}
	// The token travels in the body only, never in the URL.
	tok, _ := body["token"].(string)
	if tok == "" {
		return nil, AltcraftCodeTokenRequired, "Token required"
	}
	if subtle.ConstantTimeCompare([]byte(tok), []byte(s.cfg.Credentials.AltcraftToken)) != 1 {
		return nil, AltcraftCodeTokenRequired, "Invalid token"
	}
	return body, AltcraftCodeOK, ""
}

func (s *Server) handleAltcraftGetAll(w http.ResponseWriter, r *http.Request) {
	body, code, text := s.readAltcraftRequest(r)
	if code != AltcraftCodeOK {
		writeAltcraft(w, code, text, nil)
		return
	}
	src, filter, err := parseAltcraftExport(body)
	if err != nil {
		writeAltcraft(w, AltcraftCodeBadRequest, "Bad request: "+err.Error(), nil)
		return
	}
	st := s.altcraft
	st.mu.Lock()
	content, ok := s.altcraftContentOf(src)
	if !ok {
		err = fmt.Errorf("%s %d not found", src.Type, src.ID)
	} else if _, ferr := altcraftFilter(filter, content.columns()); ferr != nil {
		err = fmt.Errorf("custom_request: %w", ferr)
	}
	if err != nil {
		st.mu.Unlock()
		writeAltcraft(w, AltcraftCodeBadRequest, "Bad request: "+err.Error(), nil)
		return
	}
	t := &altcraftTask{id: "task_" + randomUUID(), source: src, filter: filter, failWith: st.failWith}
	st.tasks[t.id] = t
	st.started++
	st.mu.Unlock()
	writeAltcraft(w, AltcraftCodeOK, "", map[string]string{"task_id": t.id})
}

// parseAltcraftExport reads a get_all request the way the platform does: a
// source type and ID, csv, and a filter object. Whether the panel has the
// source, and the filter's fields and types, depend on what it holds.
func parseAltcraftExport(body map[string]any) (altcraftSource, map[string]any, error) {
	typ, _ := body["source_type"].(string)
	if typ != "database" && typ != "segment" {
		return altcraftSource{}, nil, fmt.Errorf(`source_type must be "database" or "segment", got %v`, body["source_type"])
	}
	num, ok := body["source_id"].(json.Number)
	if !ok {
		return altcraftSource{}, nil, errors.New("source_id must be an integer")
	}
	id, err := num.Int64()
	if err != nil {
		return altcraftSource{}, nil, errors.New("source_id must be an integer")
	}
	src := altcraftSource{typ, id}
	if f, ok := body["file_format"]; ok && f != "csv" {
		return altcraftSource{}, nil, fmt.Errorf(`file_format %v is not supported; use "csv"`, f)
	}
	var filter map[string]any
	if raw, ok := body["custom_request"]; ok && raw != nil {
		if filter, ok = raw.(map[string]any); !ok {
			return altcraftSource{}, nil, errors.New("custom_request must be a JSON object")
		}
	}
	return src, filter, nil
}

// altcraftFilter checks each custom_request field is one of columns and
// has the field's type, and renders the values as they appear in the file.
func altcraftFilter(req map[string]any, columns []altcraftColumn) (map[string]string, error) {
	out := map[string]string{}
	for _, name := range slices.Sorted(maps.Keys(req)) {
		kind := ""
		for _, c := range columns {
			if c.Name == name {
				kind = c.Kind
			}
		}
		if kind == "" {
			return nil, fmt.Errorf("unknown profile field %q", name)
		}
		var v string
		ok := false
		switch x := req[name].(type) {
		case string:
			v, ok = x, kind == "string"
		case bool:
			v, ok = strconv.FormatBool(x), kind == "boolean"
		case json.Number:
			f, err := x.Float64()
			v, ok = strconv.FormatFloat(f, 'f', -1, 64), kind == "number" && err == nil
		case float64:
			v, ok = strconv.FormatFloat(x, 'f', -1, 64), kind == "number"
		case int:
			v, ok = strconv.Itoa(x), kind == "number"
		}
		if !ok {
			return nil, fmt.Errorf("field %q must be a %s, got %s", name, kind, altcraftJSONKind(req[name]))
		}
		out[name] = v
	}
	return out, nil
}

func (s *Server) handleAltcraftTaskStatus(w http.ResponseWriter, r *http.Request) {
	body, code, text := s.readAltcraftRequest(r)
	if code != AltcraftCodeOK {
		writeAltcraft(w, code, text, nil)
		return
	}
	id, _ := body["task_id"].(string)
	st := s.altcraft
	st.mu.Lock()
	defer st.mu.Unlock()
	t, ok := st.tasks[id]
	if !ok {
		writeAltcraft(w, AltcraftCodeBadRequest, fmt.Sprintf("Bad request: task %q not found", id), nil)
		return
	}
	progressAt := func(polls int) int { return altcraftProgressSteps[max(min(polls, len(altcraftProgressSteps))-1, 0)] }
	if t.status == "" && (st.holdAt < 0 || t.polls == 0 || progressAt(t.polls) < st.holdAt) {
		t.polls++
	}
	progress := progressAt(t.polls)
	data := map[string]any{"progress": progress}
	switch {
	case t.status != "":
	case progress < 100:
		data["status"] = map[bool]string{true: "pending", false: "processing"}[progress == 0]
		writeAltcraft(w, AltcraftCodeOK, "", data)
		return
	case len(t.failWith) > 0:
		t.status = "error"
	default:
		// Writing the file under the lock keeps the task's state simple,
		// and a load replacing the source's CSV waits for it.
		var gone *altcraftSourceChanged
		switch err := s.finishAltcraftTask(t); {
		case errors.As(err, &gone):
			t.status, t.failWith = "error", []string{gone.Error()}
		case err != nil:
			writeAltcraft(w, 500, "Internal error: "+err.Error(), nil)
			return
		default:
			t.status = "completed"
		}
	}
	errs := t.failWith
	if errs == nil {
		errs = []string{}
	}
	data["status"] = t.status
	data["result"] = map[string]any{
		"errors":    errs,
		"source_id": t.source.ID,
		"total":     t.total,
		"type":      t.source.Type,
		"urls":      t.urls,
	}
	writeAltcraft(w, AltcraftCodeOK, "", data)
}

// altcraftSourceChanged fails a task whose source was removed, or lost a
// field its filter names, while it ran.
type altcraftSourceChanged struct{ problem string }

func (e *altcraftSourceChanged) Error() string { return e.problem }

// finishAltcraftTask writes the export file into the store and records its
// download URL, relative to the panel as on the real API.
func (s *Server) finishAltcraftTask(t *altcraftTask) error {
	content, ok := s.altcraftContentOf(t.source)
	if !ok {
		return &altcraftSourceChanged{fmt.Sprintf("%s %d was removed while the task ran", t.source.Type, t.source.ID)}
	}
	if _, err := altcraftFilter(t.filter, content.columns()); err != nil {
		return &altcraftSourceChanged{fmt.Sprintf("%s %d changed while the task ran: custom_request: %v", t.source.Type, t.source.ID, err)}
	}
	dir := randomUUID()
	name := fmt.Sprintf("%d_%s_export.csv", t.source.ID, t.source.Type)
	f, err := s.store.TempFile("altcraft-*")
	if err != nil {
		return err
	}
	h := md5.New()
	cw := &altcraftCountWriter{w: io.MultiWriter(f, h)}
	total, err := writeAltcraftExport(cw, t.source, content, t.filter)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		_, err = s.store.Commit(f.Name(), Object{Bucket: BucketAltcraftExports, Key: dir + "/" + name, Size: cw.n, MD5: hex.EncodeToString(h.Sum(nil)), ContentType: "text/csv"})
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return err
	}
	t.total = total
	t.urls = []string{"/api/download/" + dir + "/" + name}
	t.dir, t.done = dir, s.now()
	return nil
}

type altcraftCountWriter struct {
	w io.Writer
	n int64
}

func (c *altcraftCountWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}

// AltcraftExport writes the CSV export of a sandbox source: a header, then
// every profile whose fields equal each filter value (filter values as
// custom_request sends them: strings, numbers, booleans). The content is a
// pure function of its arguments, so tests can compute what a download
// must contain. It returns the number of profiles written.
func AltcraftExport(w io.Writer, sourceType string, sourceID int64, filter map[string]any) (int, error) {
	src := altcraftSource{sourceType, sourceID}
	n, ok := altcraftSources[src]
	if !ok {
		return 0, fmt.Errorf("%s %d not found", sourceType, sourceID)
	}
	return writeAltcraftExport(w, src, altcraftContent{profiles: n}, filter)
}

// writeAltcraftExport writes the export of a source holding content.
func writeAltcraftExport(w io.Writer, src altcraftSource, content altcraftContent, filter map[string]any) (int, error) {
	columns := content.columns()
	want, err := altcraftFilter(filter, columns)
	if err != nil {
		return 0, err
	}
	bw := bufio.NewWriter(w)
	cw := csv.NewWriter(bw)
	header := make([]string, len(columns))
	for i, c := range columns {
		header[i] = c.Name
	}
	if err := cw.Write(header); err != nil {
		return 0, err
	}
	total := 0
	err = content.eachProfile(src, func(row []string) error {
		for j, c := range columns {
			if v, ok := want[c.Name]; ok && !altcraftValueIs(c.Kind, row[j], v) {
				return nil
			}
		}
		total++
		return cw.Write(row)
	})
	if err != nil {
		return 0, err
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return 0, err
	}
	return total, bw.Flush()
}

// eachProfile calls fn with each profile's fields in columns order: the
// generated profiles, or the loaded CSV's records, streamed from the store.
func (c altcraftContent) eachProfile(src altcraftSource, fn func([]string) error) error {
	if c.csv == nil {
		for i := range c.profiles {
			if err := fn(altcraftProfile(src.Type, src.ID, i, c.edits[i])); err != nil {
				return err
			}
		}
		return nil
	}
	f, err := os.Open(c.csv.path)
	if err != nil {
		return err
	}
	defer f.Close()
	r := csv.NewReader(bufio.NewReader(f))
	r.ReuseRecord = true
	if _, err := r.Read(); err != nil { // the header
		return err
	}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
}

// altcraftValueIs compares a profile's field with a filter value rendered
// by altcraftFilter: numbers by value (30 is 30.0), the rest as text.
func altcraftValueIs(kind, field, want string) bool {
	if kind == "number" {
		a, errA := strconv.ParseFloat(field, 64)
		b, errB := strconv.ParseFloat(want, 64)
		return errA == nil && errB == nil && a == b
	}
	return field == want
}

// altcraftProfile derives profile i of a source, at a revision (0 until
// the profile is edited), from a hash of its coordinates, in
// altcraftColumns order.
func altcraftProfile(sourceType string, sourceID int64, i, revision int) []string {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s/%d/%d", sourceType, sourceID, i)
	if revision > 0 {
		fmt.Fprintf(h, "/r%d", revision)
	}
	seed := h.Sum64()
	// Each field draws from its own mixed hash so fields are independent.
	draw := func(field uint64, n uint64) uint64 { return altcraftMix64(seed+field*0x9e3779b97f4a7c15) % n }
	pick := func(list []string, field uint64) string { return list[draw(field, uint64(len(list)))] }
	pid := sourceID*100000 + int64(i) + 1
	first, last := pick(altcraftFirstNames, 1), pick(altcraftLastNames, 2)
	idfa, gaid := altcraftDeviceIDs(seed, draw)
	return []string{
		strconv.FormatInt(pid, 10),
		fmt.Sprintf("%s.%s.%d@example.com", strings.ToLower(first), strings.ToLower(last), pid),
		first,
		last,
		pick(altcraftCities, 3),
		pick(altcraftOccupations, 4),
		strconv.FormatUint(18+draw(5, 60), 10),
		strconv.FormatBool(draw(6, 5) == 0),
		idfa,
		gaid,
	}
}

// altcraftDeviceIDs gives a profile the advertising ID of its phone: an
// IDFA (upper case) on iOS, a GAID (lower case) on Android, the other
// column blank, as CRM exports have them. One iOS user in ten limits ad
// tracking and reports the all-zero IDFA.
func altcraftDeviceIDs(seed uint64, draw func(field, n uint64) uint64) (idfa, gaid string) {
	golden := uint64(0x9e3779b97f4a7c15) // the same field spacing as draw
	hi, lo := altcraftMix64(seed+10*golden), altcraftMix64(seed+11*golden)
	id := fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", hi>>32, hi>>16&0xffff, hi&0xfff, 0x8000|lo>>48&0x3fff, lo&0xffffffffffff)
	switch {
	case draw(7, 2) == 1:
		return "", id
	case draw(9, 10) == 0:
		return "00000000-0000-0000-0000-000000000000", ""
	}
	return strings.ToUpper(id), ""
}

// altcraftMix64 is the splitmix64 finalizer: FNV alone leaves the bits of similar
// inputs correlated, which skews the profile fields.
func altcraftMix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// AltcraftPanel is the generation of the emulated Altcraft panel, which
// decides how a result download takes the token.
type AltcraftPanel string

const (
	// AltcraftPanelNew (the default) takes Authorization: Bearer, and
	// still ?token=, which its documentation discourages but does not
	// refuse (guides.altcraft.com developer-guide "API interaction").
	AltcraftPanelNew AltcraftPanel = "new"
	// AltcraftPanelOld takes the token only as ?token= (the seed's
	// download form; docs.altcraft.com "API interaction", the outdated
	// documentation, knows no header) and answers 401 to a download
	// authorized by the header alone.
	AltcraftPanelOld AltcraftPanel = "old"
)

// ParseAltcraftPanel reads a panel generation; "" is new.
func ParseAltcraftPanel(s string) (AltcraftPanel, error) {
	switch AltcraftPanel(s) {
	case "", AltcraftPanelNew:
		return AltcraftPanelNew, nil
	case AltcraftPanelOld:
		return AltcraftPanelOld, nil
	}
	return "", fmt.Errorf("unknown Altcraft panel generation %q; use old or new", s)
}

// handleAltcraftDownload serves an export file, streamed from disk. The
// token may come as ?token= (as the seed documents) or, on a new panel, as
// a Bearer header.
func (s *Server) handleAltcraftDownload(w http.ResponseWriter, r *http.Request) {
	defer drain(r)
	tok := r.URL.Query().Get("token")
	if h := r.Header.Get("Authorization"); tok == "" && strings.HasPrefix(h, "Bearer ") && s.cfg.AltcraftPanel != AltcraftPanelOld {
		tok = strings.TrimPrefix(h, "Bearer ")
	}
	if tok == "" || subtle.ConstantTimeCompare([]byte(tok), []byte(s.cfg.Credentials.AltcraftToken)) != 1 {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_ = json.NewEncoder(w).Encode(map[string]any{"error": AltcraftCodeTokenRequired, "error_text": "Token required"})
		return
	}
	// A result past its lifetime is gone, as if the panel had deleted it.
	st := s.altcraft
	st.mu.Lock()
	var done time.Time
	for _, t := range st.tasks {
		if t.dir == r.PathValue("dir") {
			done = t.done
			if t.expired(s.now()) {
				done = time.Time{}
			}
		}
	}
	st.mu.Unlock()
	obj, err := s.store.Get(BucketAltcraftExports, r.PathValue("dir")+"/"+r.PathValue("name"))
	if err != nil || done.IsZero() {
		http.NotFound(w, r)
		return
	}
	f, err := os.Open(obj.Path)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	// Last-Modified is when the task wrote the result, on the panel's
	// clock (moved by Advance), as a web server serving the file says.
	http.ServeContent(w, r, obj.Key, done, f)
}

// altcraftJSONKind names a decoded JSON value's type for error messages.
func altcraftJSONKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number, float64, int:
		return "a number"
	case []any:
		return "an array"
	default:
		return "an object"
	}
}

// randomUUID returns a random version 4 UUID string.
func randomUUID() string {
	h := randomHex(16)
	b, _ := hex.DecodeString(h)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h = hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
