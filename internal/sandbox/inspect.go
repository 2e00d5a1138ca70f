package sandbox

import (
	"fmt"
	"time"
)

// Read-only views of what the platforms hold, for tests that check the
// platforms' side against what a client claims (the journey test's
// invariants). They never change state.

// MintegralFile resolves a data_path this sandbox issued to the stored
// object holding the file's bytes. It fails for a data_path the sandbox
// never issued, and with ErrNoSuchObject for one whose upload never
// completed. Objects on an external S3 server are not resolved.
func (s *Server) MintegralFile(dataPath string) (Object, error) {
	st := &s.mintegralAudience
	st.mu.Lock()
	st.init()
	issued, ok := st.issued[dataPath]
	st.mu.Unlock()
	if !ok {
		return Object{}, fmt.Errorf("sandbox: data_path %q was never issued", dataPath)
	}
	if issued.Bucket == BucketMintegralS3 && s.cfg.ExternalS3 != nil {
		return Object{}, fmt.Errorf("sandbox: data_path %q is on the external S3 server", dataPath)
	}
	return s.store.Get(issued.Bucket, issued.Key)
}

// MintegralDataPaths lists every data_path issued so far, whether or not
// its upload completed.
func (s *Server) MintegralDataPaths() []string {
	st := &s.mintegralAudience
	st.mu.Lock()
	defer st.mu.Unlock()
	st.init()
	out := make([]string, 0, len(st.issued))
	for p := range st.issued {
		out = append(out, p)
	}
	return out
}

// MintegralStoredFiles lists every object stored in Mintegral's buckets
// (both areas): everything that reached Mintegral, referenced by an
// audience or not.
func (s *Server) MintegralStoredFiles() ([]Object, error) {
	var out []Object
	for _, b := range []string{BucketMintegralS3, BucketMintegralOSS} {
		objs, err := s.store.List(b)
		if err != nil {
			return nil, err
		}
		out = append(out, objs...)
	}
	return out, nil
}

// FutureDemandObject returns the stored object behind a Future Demand
// object_key.
func (s *Server) FutureDemandObject(objectKey string) (Object, error) {
	return s.store.Get(BucketFutureDemand, objectKey)
}

// AltcraftExportsStarted counts the export tasks profiles/get_all started
// since the sandbox started: what a team pays in quota and minutes.
func (s *Server) AltcraftExportsStarted() int {
	st := s.altcraft
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.started
}

// AltcraftExportsStartedFor counts the export tasks profiles/get_all
// started for one database or segment (those whose answer was lost
// included), so a test can tell one pipeline's exports from another's.
func (s *Server) AltcraftExportsStartedFor(sourceType string, sourceID int64) int {
	st := s.altcraft
	st.mu.Lock()
	defer st.mu.Unlock()
	n := 0
	for _, t := range st.tasks {
		if t.source == (altcraftSource{sourceType, sourceID}) {
			n++
		}
	}
	return n
}

// AltcraftTaskInfo is what the panel holds of an export task.
type AltcraftTaskInfo struct {
	ID         string
	SourceType string
	SourceID   int64
	Status     string        // "" while it runs
	Age        time.Duration // since its result was written, on the sandbox clock; 0 while it runs
	Expired    bool          // its result is past AltcraftResultLifetime: its URLs answer 404
}

// AltcraftTask looks up an export task by ID.
func (s *Server) AltcraftTask(id string) (AltcraftTaskInfo, bool) {
	st := s.altcraft
	st.mu.Lock()
	defer st.mu.Unlock()
	t, ok := st.tasks[id]
	if !ok {
		return AltcraftTaskInfo{}, false
	}
	info := AltcraftTaskInfo{ID: t.id, SourceType: t.source.Type, SourceID: t.source.ID, Status: t.status}
	if !t.done.IsZero() {
		now := s.now()
		info.Age, info.Expired = now.Sub(t.done), t.expired(now)
	}
	return info, true
}
