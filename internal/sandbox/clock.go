package sandbox

import "time"

// Advance makes d pass for everything the sandbox remembers: every stored
// timestamp moves d into the past (Mintegral audiences' creation and last
// update, so the 12-hour window runs out; Future Demand tokens' expiry and
// the times of its ingests and media).
// The server's clock itself stays the wall clock, because clients sign
// requests with theirs: Mintegral's token check compares the timestamp
// header with the server's now, and presigned URLs carry their signing
// time. Tests use it to let simulated days pass between runs without
// sleeping.
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
}
