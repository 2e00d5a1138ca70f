package sandbox

import (
	"bufio"
	"bytes"
	"cmp"
	"crypto/md5"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The profiles behind Altcraft exports, as a person rehearsing a pipeline
// changes them: a CSV loaded into a database or segment (a new one, or in
// place of the generated profiles), read back, or reset.

// AltcraftProfilesError is a loaded CSV the panel refuses, located by line
// and column.
type AltcraftProfilesError struct {
	Line    int    // 0 when not about one line
	Column  string // the field, when about one
	Problem string
}

func (e *AltcraftProfilesError) Error() string {
	var b strings.Builder
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d", e.Line)
		if e.Column != "" {
			fmt.Fprintf(&b, ", column %s", e.Column)
		}
		b.WriteString(": ")
	}
	b.WriteString(e.Problem)
	return b.String()
}

// AltcraftSourceInfo describes one database or segment of the panel.
type AltcraftSourceInfo struct {
	SourceType string   `json:"source_type"`
	SourceID   int64    `json:"source_id"`
	Profiles   int      `json:"profiles"`
	Loaded     bool     `json:"loaded"` // from a CSV; else the generated profiles
	Columns    []string `json:"columns"`
}

// AltcraftSources lists the panel's databases and segments.
func (s *Server) AltcraftSources() []AltcraftSourceInfo {
	st := s.altcraft
	st.mu.Lock()
	defer st.mu.Unlock()
	srcs := slices.Collect(maps.Keys(altcraftSources))
	for src := range st.content {
		if _, builtIn := altcraftSources[src]; !builtIn {
			srcs = append(srcs, src)
		}
	}
	slices.SortFunc(srcs, func(a, b altcraftSource) int { return cmp.Or(cmp.Compare(a.Type, b.Type), cmp.Compare(a.ID, b.ID)) })
	out := make([]AltcraftSourceInfo, 0, len(srcs))
	for _, src := range srcs {
		c, _ := s.altcraftContentOf(src)
		info := AltcraftSourceInfo{SourceType: src.Type, SourceID: src.ID, Profiles: c.count(), Loaded: c.csv != nil}
		for _, col := range c.columns() {
			info.Columns = append(info.Columns, col.Name)
		}
		out = append(out, info)
	}
	return out
}

// checkAltcraftSource checks a source's coordinates as the API does.
func checkAltcraftSource(sourceType string, sourceID int64) error {
	if sourceType != "database" && sourceType != "segment" {
		return fmt.Errorf(`source type must be "database" or "segment", got %q`, sourceType)
	}
	if sourceID < 1 {
		return fmt.Errorf("source ID must be a positive integer, got %d", sourceID)
	}
	return nil
}

// LoadAltcraftProfiles makes a CSV the profiles of a database or segment,
// adding the source if the panel lacks it. The first record is the header,
// naming the profile fields (any, in any order; those of the generated
// profiles keep their type: _pid and age numbers, vip true or false); each
// other record is one profile. The CSV is streamed into the store and
// checked on the way; a refused CSV (an *AltcraftProfilesError) changes
// nothing. Export tasks finishing afterwards export it. It returns the
// number of profiles.
func (s *Server) LoadAltcraftProfiles(sourceType string, sourceID int64, r io.Reader) (int, error) {
	if err := checkAltcraftSource(sourceType, sourceID); err != nil {
		return 0, &AltcraftProfilesError{Problem: err.Error()}
	}
	f, err := s.store.TempFile("altcraft-profiles-*")
	if err != nil {
		return 0, err
	}
	committed := false
	defer func() {
		if !committed {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	h := md5.New()
	cw := &altcraftCountWriter{w: io.MultiWriter(f, h)}
	loaded, err := copyAltcraftProfiles(cw, r)
	if err != nil {
		return 0, err
	}
	if err := f.Close(); err != nil {
		return 0, err
	}
	src := altcraftSource{sourceType, sourceID}
	loaded.Key = fmt.Sprintf("%s/%d/%s.csv", sourceType, sourceID, randomHex(8))
	if _, err := s.store.Commit(f.Name(), Object{Bucket: BucketAltcraftProfiles, Key: loaded.Key, Size: cw.n, MD5: hex.EncodeToString(h.Sum(nil)), ContentType: "text/csv"}); err != nil {
		return 0, err
	}
	committed = true

	st := s.altcraft
	st.mu.Lock()
	previous := st.content[src].csv
	st.content[src] = altcraftContent{csv: loaded}
	st.mu.Unlock()
	s.persist()
	if previous != nil {
		_ = s.store.Delete(BucketAltcraftProfiles, previous.Key)
	}
	return loaded.Rows, nil
}

// copyAltcraftProfiles checks a profile CSV record by record and writes it,
// as encoding/csv writes it, to w.
func copyAltcraftProfiles(w io.Writer, r io.Reader) (*altcraftCSV, error) {
	br := bufio.NewReader(r)
	if bom, _ := br.Peek(len(utf8BOM)); bytes.Equal(bom, utf8BOM) {
		_, _ = br.Discard(len(utf8BOM))
	}
	cr := csv.NewReader(br)
	cr.ReuseRecord = true
	bw := bufio.NewWriter(w)
	out := csv.NewWriter(bw)
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, &AltcraftProfilesError{Problem: "the CSV is empty: give a header naming the profile fields, then one record per profile"}
	}
	if err != nil {
		return nil, csvProblem(err)
	}
	loaded := &altcraftCSV{Columns: slices.Clone(header)}
	seen := map[string]bool{}
	for _, name := range loaded.Columns {
		switch {
		case strings.TrimSpace(name) == "":
			return nil, &AltcraftProfilesError{Line: 1, Problem: "the header has a field without a name"}
		case seen[name]:
			return nil, &AltcraftProfilesError{Line: 1, Problem: fmt.Sprintf("the header names %q twice", name)}
		}
		seen[name] = true
	}
	columns := altcraftContent{csv: loaded}.columns()
	if err := out.Write(loaded.Columns); err != nil {
		return nil, err
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, csvProblem(err)
		}
		for i, v := range rec {
			if problem := altcraftFieldProblem(columns[i].Kind, v); problem != "" {
				line, _ := cr.FieldPos(i)
				return nil, &AltcraftProfilesError{Line: line, Column: columns[i].Name, Problem: problem}
			}
		}
		if err := out.Write(rec); err != nil {
			return nil, err
		}
		loaded.Rows++
	}
	out.Flush()
	if err := out.Error(); err != nil {
		return nil, err
	}
	return loaded, bw.Flush()
}

// csvProblem locates a CSV syntax error; anything else (a broken upload)
// passes as it is.
func csvProblem(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &AltcraftProfilesError{Line: pe.Line, Problem: pe.Err.Error()}
	}
	return err
}

// altcraftFieldProblem says what is wrong with a field of a kind, or "".
// An empty field is a profile without that value.
func altcraftFieldProblem(kind, v string) string {
	if v == "" {
		return ""
	}
	switch kind {
	case "number":
		if f, err := strconv.ParseFloat(v, 64); err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return fmt.Sprintf("%q is not a number", v)
		}
	case "boolean":
		if v != "true" && v != "false" {
			return fmt.Sprintf("%q is not true or false", v)
		}
	}
	return ""
}

// ResetAltcraftProfiles undoes every change to a source: a source the
// panel is set up with gets its generated profiles back (edits and resizes
// undone); one a load added is removed.
func (s *Server) ResetAltcraftProfiles(sourceType string, sourceID int64) error {
	src := altcraftSource{sourceType, sourceID}
	st := s.altcraft
	st.mu.Lock()
	c, ok := s.altcraftContentOf(src)
	if ok {
		delete(st.content, src)
	}
	st.mu.Unlock()
	if !ok {
		return fmt.Errorf("sandbox: Altcraft %s %d not found", sourceType, sourceID)
	}
	s.persist()
	if c.csv != nil {
		_ = s.store.Delete(BucketAltcraftProfiles, c.csv.Key)
	}
	return nil
}

// WriteAltcraftProfiles writes every profile of a source as CSV, as an
// export without custom_request would, and returns how many.
func (s *Server) WriteAltcraftProfiles(w io.Writer, sourceType string, sourceID int64) (int, error) {
	src := altcraftSource{sourceType, sourceID}
	st := s.altcraft
	st.mu.Lock()
	c, ok := s.altcraftContentOf(src)
	if !ok {
		st.mu.Unlock()
		return 0, fmt.Errorf("sandbox: Altcraft %s %d not found", sourceType, sourceID)
	}
	if c.csv == nil {
		c.edits = maps.Clone(c.edits)
		st.mu.Unlock()
		return writeAltcraftExport(w, src, c, nil)
	}
	// A loaded CSV is stored as an export writes it. Opened under the lock,
	// it stays readable if a new load deletes it meanwhile.
	f, err := os.Open(c.csv.path)
	st.mu.Unlock()
	if err != nil {
		return 0, err
	}
	defer f.Close()
	_, err = io.Copy(w, f)
	return c.csv.Rows, err
}

// altcraftStateFile keeps export tasks and changed sources across
// restarts. The controls tests use (HoldAltcraftTasks, FailAltcraftTasks)
// are not kept, as faults are not.
const altcraftStateFile = "altcraft.json"

type altcraftSaved struct {
	Tasks   []altcraftTaskSaved   `json:"tasks"`
	Sources []altcraftSourceSaved `json:"sources"`
	Started int                   `json:"started"`
}

type altcraftTaskSaved struct {
	ID         string         `json:"id"`
	SourceType string         `json:"source_type"`
	SourceID   int64          `json:"source_id"`
	Filter     map[string]any `json:"filter,omitempty"`
	Polls      int            `json:"polls"`
	FailWith   []string       `json:"fail_with,omitempty"`
	Status     string         `json:"status,omitempty"`
	Total      int            `json:"total"`
	URLs       []string       `json:"urls,omitempty"`
	Dir        string         `json:"dir,omitempty"`
	Done       time.Time      `json:"done,omitzero"`
}

type altcraftSourceSaved struct {
	SourceType string       `json:"source_type"`
	SourceID   int64        `json:"source_id"`
	Profiles   int          `json:"profiles"`
	Edits      map[int]int  `json:"edits,omitempty"`
	CSV        *altcraftCSV `json:"csv,omitempty"`
}

func (s *Server) keepAltcraft() error {
	st := s.altcraft
	return s.keep(altcraftStateFile, func() any {
		st.mu.Lock()
		defer st.mu.Unlock()
		saved := altcraftSaved{Tasks: []altcraftTaskSaved{}, Sources: []altcraftSourceSaved{}, Started: st.started}
		for _, t := range st.tasks {
			saved.Tasks = append(saved.Tasks, altcraftTaskSaved{ID: t.id, SourceType: t.source.Type, SourceID: t.source.ID, Filter: t.filter,
				Polls: t.polls, FailWith: t.failWith, Status: t.status, Total: t.total, URLs: t.urls, Dir: t.dir, Done: t.done})
		}
		slices.SortFunc(saved.Tasks, func(a, b altcraftTaskSaved) int { return cmp.Compare(a.ID, b.ID) })
		for src, c := range st.content {
			saved.Sources = append(saved.Sources, altcraftSourceSaved{SourceType: src.Type, SourceID: src.ID, Profiles: c.profiles, Edits: c.edits, CSV: c.csv})
		}
		slices.SortFunc(saved.Sources, func(a, b altcraftSourceSaved) int {
			return cmp.Or(cmp.Compare(a.SourceType, b.SourceType), cmp.Compare(a.SourceID, b.SourceID))
		})
		return saved
	}, func(dec *json.Decoder) error {
		var saved altcraftSaved
		if err := dec.Decode(&saved); err != nil {
			return err
		}
		st.mu.Lock()
		defer st.mu.Unlock()
		st.started = saved.Started
		for _, t := range saved.Tasks {
			task := &altcraftTask{id: t.ID, source: altcraftSource{t.SourceType, t.SourceID}, filter: t.Filter,
				polls: t.Polls, failWith: t.FailWith, status: t.Status, total: t.Total, urls: t.URLs, dir: t.Dir, done: t.Done}
			if task.done.IsZero() && len(task.urls) > 0 {
				// Saved before results had a time: their lifetime starts now,
				// and their directory is in their URL.
				task.done = s.now()
				if parts := strings.Split(task.urls[0], "/"); len(parts) >= 2 {
					task.dir = parts[len(parts)-2]
				}
			}
			st.tasks[t.ID] = task
		}
		for _, src := range saved.Sources {
			if src.CSV != nil {
				if _, err := s.store.Get(BucketAltcraftProfiles, src.CSV.Key); err != nil {
					return fmt.Errorf("the profiles of %s %d (%s): %w", src.SourceType, src.SourceID, src.CSV.Key, err)
				}
			}
			st.content[altcraftSource{src.SourceType, src.SourceID}] = altcraftContent{profiles: src.Profiles, edits: src.Edits, csv: src.CSV}
		}
		return nil
	})
}
