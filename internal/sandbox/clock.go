package sandbox

import (
	"encoding/json"
	"time"
)

// Advance makes d pass for everything the sandbox remembers: every stored
// timestamp moves d into the past (Mintegral audiences' creation and last
// update, so the 12-hour window runs out; Future Demand tokens' expiry and
// the times of its ingests and media; when Altcraft export results were
// written, so they expire).
// The server's clock itself stays the wall clock, because clients sign
// requests with theirs: Mintegral's token check compares the timestamp
// header with the server's now, and presigned URLs carry their signing
// time. Tests use it to let simulated days pass between runs without
// sleeping; `audience-sandbox -clock-advance` and POST AdminClockPath
// let a person do the same. What moved is saved in Config.Dir.
func (s *Server) Advance(d time.Duration) {
	st := &s.mintegralAudience
	st.mu.Lock()
	st.init()
	for _, a := range st.audiences {
		a.Created = a.Created.Add(-d)
		a.Updated = a.Updated.Add(-d)
	}
	_ = st.saveLocked() // kept in memory regardless; the next save catches up
	st.mu.Unlock()

	fd := s.futuredemand
	fd.mu.Lock()
	for tok, exp := range fd.tokens {
		fd.tokens[tok] = exp.Add(-d)
	}
	for i := range fd.ingests {
		fd.ingests[i].At = fd.ingests[i].At.Add(-d)
	}
	for i := range fd.media {
		fd.media[i].At = fd.media[i].At.Add(-d)
	}
	fd.mu.Unlock()

	ac := s.altcraft
	ac.mu.Lock()
	for _, t := range ac.tasks {
		if !t.done.IsZero() {
			t.done = t.done.Add(-d)
		}
	}
	ac.mu.Unlock()

	s.mu.Lock()
	s.advanced += d
	s.mu.Unlock()
	s.persist()
}

// Advanced is how far Advance has moved the clock in total, restarts on
// the same Config.Dir included.
func (s *Server) Advanced() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.advanced
}

// clockStateFile keeps Advanced across restarts.
const clockStateFile = "clock.json"

type clockSaved struct {
	Advanced string `json:"advanced"` // a Go duration
}

func (s *Server) keepClock() error {
	return s.keep(clockStateFile, func() any {
		return clockSaved{Advanced: s.Advanced().String()}
	}, func(dec *json.Decoder) error {
		var saved clockSaved
		if err := dec.Decode(&saved); err != nil {
			return err
		}
		d, err := time.ParseDuration(saved.Advanced)
		if err != nil {
			return err
		}
		s.mu.Lock()
		s.advanced = d
		s.mu.Unlock()
		return nil
	})
}
