package sandbox

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

func TestAdvanceOpensTheUpdateWindow(t *testing.T) {
	s := startSandbox(t)
	dp := uploadedDataPath(t, s, "1", true)
	a := audienceCall(t, s, http.MethodPost, nil, createBody("ios", 1, 2, MintegralAudienceFile{DeviceType: 2, DataPath: dp}))
	var created struct {
		ID int64 `json:"ta_id"`
	}
	if a.Code != MintegralCodeOK || json.Unmarshal(a.Data, &created) != nil {
		t.Fatalf("create: %+v", a)
	}
	update := map[string]any{"ta_id": created.ID, "data_path": []MintegralAudienceFile{{DeviceType: 2, DataPath: uploadedDataPath(t, s, "1", true)}}}
	if a := audienceCall(t, s, http.MethodPut, nil, update); a.Code == MintegralCodeOK {
		t.Fatal("an update right after the create was accepted")
	}
	s.Advance(11 * time.Hour)
	if a := audienceCall(t, s, http.MethodPut, nil, update); a.Code == MintegralCodeOK {
		t.Fatal("an update 11 hours after the create was accepted")
	}
	s.Advance(time.Hour + time.Minute)
	if a := audienceCall(t, s, http.MethodPut, nil, update); a.Code != MintegralCodeOK {
		t.Fatalf("an update 12 hours and a minute after the create: %+v", a)
	}
	// Mintegral's token check still uses the server's clock: the signed
	// calls above kept working after two days had "passed".
}

func TestAdvanceExpiresFutureDemandTokens(t *testing.T) {
	s := startSandbox(t)
	tok := s.issueFDToken(false).AccessToken
	if !s.fdTokenValid(tok) {
		t.Fatal("a new token is not valid")
	}
	s.Advance(FutureDemandTokenTTL - time.Minute)
	if !s.fdTokenValid(tok) {
		t.Fatal("a token is not valid a minute before it expires")
	}
	s.Advance(2 * time.Minute)
	if s.fdTokenValid(tok) {
		t.Fatal("a token is still valid after it expired")
	}
}

func TestAdvanceMovesFutureDemandIngestAndMediaTimes(t *testing.T) {
	s := startSandbox(t)
	at := s.now().UTC()
	s.recordIngest(FutureDemandIngest{Kind: "events", At: at})
	s.futuredemand.mu.Lock()
	s.futuredemand.media = append(s.futuredemand.media, FutureDemandMedia{At: at})
	s.futuredemand.mu.Unlock()
	s.Advance(3 * time.Hour)
	if got := s.FutureDemandIngests()[0].At; !got.Equal(at.Add(-3 * time.Hour)) {
		t.Errorf("ingest at %s, want 3 hours before %s", got, at)
	}
	if got := s.FutureDemandMediaObjects()[0].At; !got.Equal(at.Add(-3 * time.Hour)) {
		t.Errorf("media at %s, want 3 hours before %s", got, at)
	}
}
