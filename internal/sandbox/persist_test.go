package sandbox

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// restartOn starts a sandbox on dir, closed when the test ends.
func restartOn(t *testing.T, dir string) *Server {
	t.Helper()
	s, err := New(Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func fdLogin(t *testing.T, s *Server) string {
	t.Helper()
	c := s.cfg.Credentials
	body, _ := json.Marshal(map[string]string{"username": c.FutureDemandUsername, "password": c.FutureDemandPassword})
	resp, err := http.Post(s.URL()+PrefixFutureDemand+"/api/v3/auth", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok fdTokens
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("login: HTTP %d, %v", resp.StatusCode, err)
	}
	return tok.AccessToken
}

// A sandbox restarted on the same directory answers as the platforms
// would: TPNS upload IDs continue, Altcraft's tasks, files and changed
// profiles, Future Demand's tokens, ingests and media, and the clock's
// advance are all still there.
func TestRestartKeepsWhatThePlatformsHold(t *testing.T) {
	dir := t.TempDir()
	s1 := restartOn(t, dir)

	// Changes through the Go API first, then requests: what the requests
	// change is saved only because they were handled.
	if _, err := s1.LoadAltcraftProfiles("segment", 4711, strings.NewReader("_pid,idfa\n1,AEBE52E7-03EE-455A-B3C4-E57283966239\n")); err != nil {
		t.Fatal(err)
	}
	if err := s1.EditAltcraftProfile("database", 1, 3); err != nil {
		t.Fatal(err)
	}
	at := time.Now().UTC().Truncate(time.Second)
	s1.recordIngest(FutureDemandIngest{Kind: "events", EventType: "fdlive", FileName: "events.csv", Rows: 3, At: at})
	s1.futuredemand.mu.Lock()
	s1.futuredemand.media = append(s1.futuredemand.media, FutureDemandMedia{Key: "partners/42/x/a.png", Type: "image", At: at})
	s1.futuredemand.mu.Unlock()
	s1.Advance(20 * time.Minute) // within a token's hour

	_, up := postTPNS(t, s1, tpnsReq{fileName: "accounts.txt", content: "alice\nbob\n"})
	if up.UploadID == nil {
		t.Fatalf("TPNS upload refused: %+v", up)
	}
	start := altcraftCall(t, s1, "profiles/get_all", `{`+altcraftTok+`,"source_type":"segment","source_id":7}`)
	done, _ := altcraftPollToEnd(t, s1, start.Data.TaskID)
	running := altcraftCall(t, s1, "profiles/get_all", `{`+altcraftTok+`,"source_type":"database","source_id":2}`)
	altcraftCall(t, s1, "tasks/status", `{`+altcraftTok+`,"task_id":"`+running.Data.TaskID+`"}`) // 0 %
	tok := fdLogin(t, s1)
	var sources bytes.Buffer
	_ = json.NewEncoder(&sources).Encode(s1.AltcraftSources())
	if err := s1.Close(); err != nil {
		t.Fatal(err)
	}

	s2 := restartOn(t, dir)
	if got := s2.TPNSUploads(); len(got) != 1 || got[0].UploadID != *up.UploadID {
		t.Fatalf("TPNS uploads after restart: %+v", got)
	}
	if _, next := postTPNS(t, s2, tpnsReq{fileName: "more.txt", content: "carol\n"}); next.UploadID == nil || *next.UploadID != *up.UploadID+1 {
		t.Fatalf("the next TPNS upload ID is %v, want %d", next.UploadID, *up.UploadID+1)
	}
	again := altcraftCall(t, s2, "tasks/status", `{`+altcraftTok+`,"task_id":"`+start.Data.TaskID+`"}`)
	if again.Data.Status != "completed" || again.Data.Result == nil || !slices.Equal(again.Data.Result.URLs, done.Data.Result.URLs) {
		t.Fatalf("finished task after restart: %+v", again.Data)
	}
	if code, body := altcraftDownload(t, s2, done.Data.Result.URLs[0]+"?token=sandbox-altcraft-token", nil); code != http.StatusOK || bytes.Count(body, []byte("\n")) != 241 {
		t.Fatalf("its file after restart: HTTP %d, %d lines", code, bytes.Count(body, []byte("\n")))
	}
	if end, seen := altcraftPollToEnd(t, s2, running.Data.TaskID); end.Data.Status != "completed" || seen[0] != 40 {
		t.Fatalf("a task started before the restart went on %v to %s, want from 40 %% to completed", seen, end.Data.Status)
	}
	var after bytes.Buffer
	_ = json.NewEncoder(&after).Encode(s2.AltcraftSources())
	if after.String() != sources.String() {
		t.Fatalf("Altcraft sources after restart:\n%s\nbefore:\n%s", after.String(), sources.String())
	}
	var profiles bytes.Buffer
	if n, err := s2.WriteAltcraftProfiles(&profiles, "segment", 4711); err != nil || n != 1 || !strings.Contains(profiles.String(), "AEBE52E7") {
		t.Fatalf("loaded profiles after restart: %d, %v, %q", n, err, profiles.String())
	}
	if !s2.fdTokenValid(tok) {
		t.Fatal("a Future Demand token issued before the restart is no longer valid")
	}
	ins, media := s2.FutureDemandIngests(), s2.FutureDemandMediaObjects()
	if len(ins) != 1 || ins[0].Rows != 3 || !ins[0].At.Equal(at.Add(-20*time.Minute)) || len(media) != 1 || media[0].Key != "partners/42/x/a.png" {
		t.Fatalf("Future Demand after restart: ingests %+v, media %+v", ins, media)
	}
	if got := s2.Advanced(); got != 20*time.Minute {
		t.Fatalf("Advanced after restart = %s, want 20m", got)
	}
}

// A request that changes nothing writes nothing.
func TestUnchangedStateIsNotRewritten(t *testing.T) {
	dir := t.TempDir()
	s := restartOn(t, dir)
	postTPNS(t, s, tpnsReq{fileName: "accounts.txt", content: "alice\n"})
	file := filepath.Join(dir, tpnsStateFile)
	before, err := os.Stat(file)
	if err != nil {
		t.Fatalf("no TPNS state after an upload: %v", err)
	}
	postTPNS(t, s, tpnsReq{fileName: "bad.exe", content: "alice\n"}) // refused: nothing changes
	after, err := os.Stat(file)
	if err != nil || !os.SameFile(before, after) || !after.ModTime().Equal(before.ModTime()) {
		t.Fatal("a refused upload rewrote the TPNS state")
	}
}

// A state file the sandbox cannot read stops it, naming the file and what
// to do, rather than starting with that platform silently empty.
func TestUnreadableStateFileStopsTheStart(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, altcraftStateFile), []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := New(Config{Dir: dir})
	if err == nil || !strings.Contains(err.Error(), altcraftStateFile) || !strings.Contains(err.Error(), "move it away") {
		t.Fatalf("err = %v", err)
	}
}
