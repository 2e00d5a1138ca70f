package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// What TPNS, Altcraft and Future Demand hold (and how far the clock was
// moved) is kept in Config.Dir, one JSON file each, as Mintegral's
// audiences are, so a sandbox restarted on the same directory answers as
// the platforms would: TPNS upload IDs continue, export tasks and their
// files, loaded profiles, issued tokens, ingests and media are still
// there. Upload sessions in flight (multipart uploads) end with the
// process, as the storage's own multipart state does.
//
// A platform's state is saved when a request to it has been handled,
// before net/http sends the (small) answer it buffered, and after every
// change made through the admin endpoints or the Go API. Nothing is
// written when nothing changed.

// persistedState is one state file.
type persistedState struct {
	file string
	// snapshot returns the state in its saved form, taking the platform's
	// own lock.
	snapshot func() any
	// restore reads a saved state at start.
	restore func(dec *json.Decoder) error
	last    []byte // what the file holds
}

// persistence is the server's set of state files.
type persistence struct {
	mu     sync.Mutex // one save at a time, so a newer state is never overwritten by an older one
	states []*persistedState
}

// keep declares a state file of Config.Dir and loads what it holds.
func (s *Server) keep(file string, snapshot func() any, restore func(*json.Decoder) error) error {
	p := &persistedState{file: filepath.Join(s.cfg.Dir, file), snapshot: snapshot, restore: restore}
	s.persisted.states = append(s.persisted.states, p)
	f, err := os.Open(p.file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sandbox: read %s: %w", p.file, err)
	}
	defer f.Close()
	dec := json.NewDecoder(f)
	dec.UseNumber() // custom_request numbers stay as sent
	if err := restore(dec); err != nil {
		return fmt.Errorf("sandbox: %s is not a state file this sandbox can read (%v); move it away to start that platform afresh", p.file, err)
	}
	return nil
}

// persist saves every state that changed since it was last saved. A
// failed save is logged and retried by the next one; the state stays in
// memory.
func (s *Server) persist() {
	s.persisted.mu.Lock()
	defer s.persisted.mu.Unlock()
	for _, p := range s.persisted.states {
		raw, err := json.MarshalIndent(p.snapshot(), "", "  ")
		if err == nil && bytes.Equal(raw, p.last) {
			continue
		}
		if err == nil {
			err = writeStateFile(p.file, raw)
		}
		if err != nil {
			log.Printf("sandbox: save %s: %v", p.file, err)
			continue
		}
		p.last = raw
	}
}

// persistAfter saves the state of the platform a request went to once it
// has been handled.
func (s *Server) persistAfter(path string) {
	for _, prefix := range []string{PrefixTPNS, PrefixAltcraft, PrefixFutureDemand} {
		if path == prefix || strings.HasPrefix(path, prefix+"/") {
			s.persist()
			return
		}
	}
}

// writeStateFile replaces file with raw atomically (a temporary file
// renamed over it), so a sandbox killed mid-write leaves the previous
// state, never half of one.
func writeStateFile(file string, raw []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(file), "."+filepath.Base(file)+"-*.tmp")
	if err != nil {
		return err
	}
	_, err = io.Copy(tmp, bytes.NewReader(raw))
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), file)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
	}
	return err
}
