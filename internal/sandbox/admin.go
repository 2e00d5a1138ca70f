package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The sandbox's own endpoints, for a person (or a script) rehearsing a
// pipeline against it: faults, the clock, and the profiles behind Altcraft
// exports. They live under AdminPrefix, outside every platform's mount, so
// no platform client reaches them by a wrong path, and they are never
// counted as platform requests nor hit by faults.
const (
	AdminPrefix = "/_sandbox/"
	// AdminClockPath: GET tells how far the clock was moved; POST
	// {"advance": "13h"} (or the text 13h) moves it (Server.Advance).
	AdminClockPath = AdminPrefix + "clock"
	// AdminAltcraftProfilesPath: GET lists the panel's databases and
	// segments; under it, /{source_type}/{source_id} answers GET with that
	// source's profiles as CSV, takes PUT with a CSV body
	// (Server.LoadAltcraftProfiles) and DELETE (ResetAltcraftProfiles).
	AdminAltcraftProfilesPath = AdminPrefix + "altcraft/profiles"
)

func (s *Server) registerAdmin() {
	s.admin = http.NewServeMux()
	s.admin.HandleFunc(AdminFaultsPath, s.handleAdminFaults)
	s.admin.HandleFunc(AdminClockPath, s.handleAdminClock)
	s.admin.HandleFunc(AdminAltcraftProfilesPath, s.handleAdminAltcraftSources)
	s.admin.HandleFunc(AdminAltcraftProfilesPath+"/{type}/{id}", s.handleAdminAltcraftProfiles)
	s.admin.HandleFunc(AdminPrefix, func(w http.ResponseWriter, r *http.Request) {
		drain(r)
		writeAdminJSON(w, http.StatusNotFound, map[string]any{
			"error":     fmt.Sprintf("no sandbox endpoint %s", r.URL.Path),
			"endpoints": []string{AdminFaultsPath, AdminClockPath, AdminAltcraftProfilesPath, AdminAltcraftProfilesPath + "/{database|segment}/{id}"},
		})
	})
}

// adminMethodNotAllowed answers a method an admin endpoint does not take.
func adminMethodNotAllowed(w http.ResponseWriter, r *http.Request, allow ...string) {
	drain(r)
	w.Header().Set("Allow", strings.Join(allow, ", "))
	writeAdminJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "use " + strings.Join(allow, " or ")})
}

// handleAdminClock serves AdminClockPath.
func (s *Server) handleAdminClock(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		writeAdminJSON(w, http.StatusOK, map[string]string{"advanced": s.Advanced().String()})
	case http.MethodPost:
		d, err := readAdminAdvance(r)
		if err != nil {
			writeAdminJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		s.Advance(d)
		writeAdminJSON(w, http.StatusOK, map[string]string{"advanced_by": d.String(), "advanced": s.Advanced().String()})
	default:
		adminMethodNotAllowed(w, r, http.MethodGet, http.MethodPost)
	}
}

// readAdminAdvance reads {"advance": "13h"}, or the duration as text.
func readAdminAdvance(r *http.Request) (time.Duration, error) {
	var b strings.Builder
	if _, err := io.Copy(&b, io.LimitReader(r.Body, maxAdminBody)); err != nil {
		return 0, err
	}
	text := strings.TrimSpace(b.String())
	if strings.HasPrefix(text, "{") {
		var j struct {
			Advance string `json:"advance"`
		}
		dec := json.NewDecoder(strings.NewReader(text))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&j); err != nil {
			return 0, fmt.Errorf("clock JSON: %w", err)
		}
		text = j.Advance
	}
	return ParseAdvance(text)
}

// ParseAdvance reads how far to move the clock: a positive Go duration
// such as 13h or 90m (time moves forward only).
func ParseAdvance(text string) (time.Duration, error) {
	if text == "" {
		return 0, errors.New(`say how far to move the clock, e.g. {"advance": "13h"}`)
	}
	d, err := time.ParseDuration(text)
	if err != nil {
		return 0, fmt.Errorf("advance %q: give a duration such as 13h or 90m", text)
	}
	if d <= 0 {
		return 0, fmt.Errorf("advance %s: the clock only moves forward; give a positive duration", d)
	}
	return d, nil
}

// handleAdminAltcraftSources serves AdminAltcraftProfilesPath: the list of
// databases and segments.
func (s *Server) handleAdminAltcraftSources(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		adminMethodNotAllowed(w, r, http.MethodGet)
		return
	}
	writeAdminJSON(w, http.StatusOK, s.AltcraftSources())
}

// handleAdminAltcraftProfiles serves one source's profiles.
func (s *Server) handleAdminAltcraftProfiles(w http.ResponseWriter, r *http.Request) {
	typ := r.PathValue("type")
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err == nil {
		err = checkAltcraftSource(typ, id)
	}
	if err != nil {
		drain(r)
		writeAdminJSON(w, http.StatusNotFound, map[string]string{"error": fmt.Sprintf("%s: use %s/{database|segment}/{id}", err, AdminAltcraftProfilesPath)})
		return
	}
	switch r.Method {
	case http.MethodGet:
		// Checked first, so a missing source gets a JSON answer, not a
		// CSV that stops short.
		if !s.hasAltcraftSource(typ, id) {
			writeAdminJSON(w, http.StatusNotFound, map[string]string{"error": fmt.Sprintf("Altcraft %s %d not found", typ, id)})
			return
		}
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		_, _ = s.WriteAltcraftProfiles(w, typ, id) // a failure mid-body can only cut the answer
	case http.MethodPut:
		n, err := s.LoadAltcraftProfiles(typ, id, r.Body)
		drain(r)
		var bad *AltcraftProfilesError
		switch {
		case errors.As(err, &bad):
			writeAdminJSON(w, http.StatusBadRequest, map[string]string{"error": "profiles CSV: " + bad.Error()})
		case err != nil:
			writeAdminJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		default:
			writeAdminJSON(w, http.StatusOK, map[string]any{"source_type": typ, "source_id": id, "profiles": n})
		}
	case http.MethodDelete:
		drain(r)
		if err := s.ResetAltcraftProfiles(typ, id); err != nil {
			writeAdminJSON(w, http.StatusNotFound, map[string]string{"error": err.Error()})
			return
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		adminMethodNotAllowed(w, r, http.MethodGet, http.MethodPut, http.MethodDelete)
	}
}

// hasAltcraftSource reports whether the panel has a source.
func (s *Server) hasAltcraftSource(sourceType string, sourceID int64) bool {
	s.altcraft.mu.Lock()
	defer s.altcraft.mu.Unlock()
	_, ok := s.altcraftContentOf(altcraftSource{sourceType, sourceID})
	return ok
}
