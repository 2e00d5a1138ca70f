package mintegral

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/audiencekit/terraform-provider-audience/internal/sandbox"
)

// readWaves reads ids ten at a time, as Terraform's default parallelism
// does, and returns each answer.
func readWaves(t *testing.T, c *Client, ids []int64) []*Audience {
	t.Helper()
	got := make([]*Audience, len(ids))
	for start := 0; start < len(ids); start += 10 {
		var wg sync.WaitGroup
		errs := make([]error, len(ids))
		for i := start; i < min(start+10, len(ids)); i++ {
			wg.Go(func() { got[i], errs[i] = c.GetAudience(context.Background(), ids[i]) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("read %d: %v", ids[i], err)
			}
		}
	}
	return got
}

func seeded(t *testing.T, srv *sandbox.Server, n int) []int64 {
	t.Helper()
	ids, err := srv.SeedMintegralAudiences(n, sandbox.MintegralSeed{NamePrefix: "ahead-", Platform: 2})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func TestReadAheadAnswersEveryReadFromOneListing(t *testing.T) {
	c, srv, _ := setup(t, nil)
	ids := seeded(t, srv, 60)
	direct := readWaves(t, c, ids) // no read-ahead: batched reads
	c.ReadAhead = NewReadAhead()
	before := srv.MintegralAudienceCalls("GET")
	got := readWaves(t, c, ids)
	if n := srv.MintegralAudienceCalls("GET") - before; n != 1 {
		t.Errorf("%d List calls for 60 reads, want 1", n)
	}
	for i := range ids {
		if got[i] == nil || got[i].ID != ids[i] || got[i].Name != direct[i].Name || !slices.Equal(got[i].DeviceTypes, direct[i].DeviceTypes) || !got[i].Updated.Equal(direct[i].Updated) {
			t.Errorf("read %d: %+v, want %+v", ids[i], got[i], direct[i])
		}
	}
	again, _ := c.GetAudience(context.Background(), ids[0])
	again.DeviceTypes[0] = "changed"
	if got[0].DeviceTypes[0] == "changed" {
		t.Error("two readers share one value")
	}
}

// A listing is no proof of absence: an audience it does not hold is read
// directly before it is called gone.
func TestReadAheadReadsUnlistedAudiencesDirectly(t *testing.T) {
	c, srv, _ := setup(t, nil)
	ids := seeded(t, srv, 5)
	c.ReadAhead = NewReadAhead()
	readWaves(t, c, ids[:1]) // takes the listing
	// Made after the listing, as if the listing lagged behind it.
	later := seeded(t, srv, 6)[5]
	// Renamed after the listing, by another hand.
	if !srv.RenameMintegralAudience(ids[1], "renamed") {
		t.Fatal("rename failed")
	}
	before := srv.MintegralAudienceCalls("GET")
	a, err := c.GetAudience(context.Background(), later)
	if err != nil || a == nil || a.ID != later {
		t.Fatalf("unlisted audience %d: %+v, %v", later, a, err)
	}
	gone, err := c.GetAudience(context.Background(), 999999)
	if err != nil || gone != nil {
		t.Fatalf("missing audience: %+v, %v", gone, err)
	}
	if n := srv.MintegralAudienceCalls("GET") - before; n != 2 {
		t.Errorf("%d List calls for two unlisted audiences read one after the other, want 2", n)
	}
	// The listing answers for the whole run: the rename is seen by the
	// next run's listing, not this one's.
	if a, _ := c.GetAudience(context.Background(), ids[1]); a == nil || a.Name == "renamed" {
		t.Errorf("listed audience: %+v", a)
	}
}

// What the run writes is never answered from the listing taken before.
func TestReadAheadForgetsWrittenAudiences(t *testing.T) {
	c, srv, _ := setup(t, nil)
	ids := seeded(t, srv, 3)
	c.ReadAhead = NewReadAhead()
	readWaves(t, c, ids)
	if err := c.DeleteAudience(context.Background(), ids[2]); err != nil {
		t.Fatal(err)
	}
	if a, err := c.GetAudience(context.Background(), ids[2]); err != nil || a != nil {
		t.Fatalf("deleted audience read back as %+v, %v", a, err)
	}
	dp := uploaded(t, c, AreaOutsideMainlandChina)
	before := srv.MintegralAudienceCalls("PUT")
	srv.BackdateMintegralAudience(ids[0], 13*time.Hour)
	old, _ := c.GetAudience(context.Background(), ids[0])
	if err := c.UpdateAudience(context.Background(), ids[0], []AudienceFile{{"IDFA_MD5", dp}}, old.Updated); err != nil {
		t.Fatal(err)
	}
	if srv.MintegralAudienceCalls("PUT") == before {
		t.Fatal("no update sent")
	}
	a, err := c.GetAudience(context.Background(), ids[0])
	if err != nil || a == nil || !slices.Equal(a.DeviceTypes, []string{"IDFA_MD5"}) {
		t.Fatalf("updated audience read back as %+v, %v", a, err)
	}
}

// An account of more pages than the bound costs one page, and the reads
// it does not answer are batched as without read-ahead.
func TestReadAheadIsBounded(t *testing.T) {
	c, srv, _ := setup(t, nil)
	ids := seeded(t, srv, 30)
	c.ReadAhead = NewReadAhead()
	c.ReadAhead.pageSize, c.ReadAhead.pages = 10, 2 // 3 pages: more than 2
	before := srv.MintegralAudienceCalls("GET")
	got := readWaves(t, c, ids[:20])
	for i, a := range got {
		if a == nil || a.ID != ids[i] {
			t.Fatalf("read %d: %+v", ids[i], a)
		}
	}
	// One page, then one batched call per wave the page does not answer
	// (the second wave); a third page is never read.
	if n := srv.MintegralAudienceCalls("GET") - before; n != 2 {
		t.Errorf("%d List calls, want 2 (one page, one batch)", n)
	}
	c.ReadAhead = NewReadAhead()
	c.ReadAhead.pageSize, c.ReadAhead.pages = 10, 3
	before = srv.MintegralAudienceCalls("GET")
	readWaves(t, c, ids)
	if n := srv.MintegralAudienceCalls("GET") - before; n != 3 {
		t.Errorf("%d List calls for 3 pages within the bound, want 3", n)
	}
}

// A 429 on the listing is waited out (Retry-After), and every read gets
// its answer.
func TestReadAheadWaitsOutA429(t *testing.T) {
	c, srv, _ := setup(t, nil)
	ids := seeded(t, srv, 20)
	c.ReadAhead = NewReadAhead()
	srv.AddFault(sandbox.Fault{Method: "GET", PathPrefix: sandbox.PrefixMintegral + "/api/open/v1/audience", Query: "page=1", Status: 429, RetryAfter: "1"})
	start := time.Now()
	got := readWaves(t, c, ids)
	for i, a := range got {
		if a == nil || a.ID != ids[i] {
			t.Fatalf("read %d: %+v", ids[i], a)
		}
	}
	if len(srv.PendingFaults()) != 0 {
		t.Fatal("the 429 was never hit")
	}
	if time.Since(start) < time.Second {
		t.Error("the Retry-After of the 429 was not waited out")
	}
}
