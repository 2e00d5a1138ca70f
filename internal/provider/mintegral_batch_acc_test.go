package provider

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"

	"github.com/audiencekit/terraform-provider-audience/internal/sandbox"
)

// audienceListCounter counts the List calls (GET on the audience path)
// the sandbox answered.
type audienceListCounter struct {
	mu sync.Mutex
	n  int
}

func (c *audienceListCounter) log(r sandbox.RequestRecord) {
	if r.Method == "GET" && r.Path == sandbox.PrefixMintegral+"/api/open/v1/audience" {
		c.mu.Lock()
		c.n++
		c.mu.Unlock()
	}
}

func (c *audienceListCounter) take() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.n
	c.n = 0
	return n
}

const batchAudiences = 30

func batchConfig(source string) string {
	return fmt.Sprintf(`
resource "audience_mintegral_file" "devices" {
  source = %q
}

resource "audience_mintegral_audience" "many" {
  count    = %d
  name     = "batch-${count.index}"
  platform = "ios"
  files = [{
    device_type = "IDFA"
    data_path   = audience_mintegral_file.devices.data_path
  }]
}
`, source, batchAudiences)
}

// A no-change plan of many audiences reads them in a few List calls, and
// still sees a rename and a deletion made outside Terraform, each on its
// own audience, and survives a 429 on a batched read.
func TestAccMintegralAudience_batchedReads(t *testing.T) {
	counter := &audienceListCounter{}
	srv := startSandbox(t, func(c *sandbox.Config) { c.RequestLog = counter.log })
	// Terraform runs at most -parallelism reads at once (10 by default);
	// raised so all reads of the plan can meet in one batch.
	t.Setenv("TF_CLI_ARGS_plan", fmt.Sprintf("-parallelism=%d", batchAudiences+5))
	src := writeFile(t, t.TempDir(), "idfa.txt", "idfa\nAEBE52E7-03EE-455A-B3C4-E57283966239\n")
	config := batchConfig(src)
	idOf := func(i int) int64 {
		for _, a := range srv.MintegralAudiences() {
			if a.Name == fmt.Sprintf("batch-%d", i) {
				return a.ID
			}
		}
		t.Fatalf("no audience batch-%d in the sandbox", i)
		return 0
	}
	var planned int
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: config},
			{
				PreConfig: func() { counter.take() },
				Config:    config,
				PlanOnly:  true,
			},
			{
				PreConfig: func() {
					planned = counter.take()
					srv.RenameMintegralAudience(idOf(3), "renamed-in-console")
					if err := sandboxMintegralClient(srv).DeleteAudience(context.Background(), idOf(7)); err != nil {
						t.Fatal(err)
					}
				},
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction("audience_mintegral_audience.many[3]", plancheck.ResourceActionDestroyBeforeCreate),
						plancheck.ExpectResourceAction("audience_mintegral_audience.many[7]", plancheck.ResourceActionCreate),
						plancheck.ExpectResourceAction("audience_mintegral_audience.many[0]", plancheck.ResourceActionNoop),
						plancheck.ExpectResourceAction("audience_mintegral_audience.many[29]", plancheck.ResourceActionNoop),
					},
				},
			},
			{
				// Every audience's read waits out the 429 of the one List call.
				PreConfig: func() {
					srv.AddFault(sandbox.Fault{Method: "GET", PathPrefix: sandbox.PrefixMintegral + "/api/open/v1/audience", Status: 429, RetryAfter: "1"})
				},
				Config:   config,
				PlanOnly: true,
			},
		},
	})
	// A PlanOnly step runs several Terraform commands, each reading all
	// 30 audiences (unbatched: at least 30 calls each); batched, a handful
	// in all (5 on an idle machine). The bound leaves room for a loaded
	// machine, whose reads may straddle more 30 ms windows, and still
	// fails without batching.
	t.Logf("no-change plan step: %d audience List calls", planned)
	if planned == 0 || planned > batchAudiences/2 {
		t.Errorf("the no-change plan step of %d audiences made %d List calls, want at most %d", batchAudiences, planned, batchAudiences/2)
	}
	if len(srv.PendingFaults()) != 0 {
		t.Error("the 429 was never hit")
	}
}

// readAheadAudiences is the workspace of the read-ahead test: as many
// audiences as the 600-resource workspace of issue #25 has.
const readAheadAudiences = 300

func readAheadConfig(source string) string {
	return fmt.Sprintf(`
resource "audience_mintegral_file" "devices" {
  source = %q
}

resource "audience_mintegral_audience" "many" {
  count    = %d
  name     = "ahead-${count.index}"
  platform = "ios"
  files = [{
    device_type = "IDFA"
    data_path   = audience_mintegral_file.devices.data_path
  }]
}
`, source, readAheadAudiences)
}

// With Terraform's default parallelism (10 reads at once, too few for a
// gathering window to batch), a no-change plan of 300 audiences reads
// them from one listing of the account: at most one request per page of
// 500, plus one. Drift is still seen on its own audience, an audience the
// listing does not hold is read directly and found gone, and a 429 on the
// listing is waited out.
func TestAccMintegralAudience_readAhead(t *testing.T) {
	counter := &audienceListCounter{}
	srv := startSandbox(t, func(c *sandbox.Config) { c.RequestLog = counter.log })
	// Only the first apply's 900 calls (look up, create, read back) need
	// more than the conservative default budget; the plans are 1 request.
	t.Setenv(rateLimitsEnv, "mintegral=200/s")
	src := writeFile(t, t.TempDir(), "idfa.txt", "idfa\nAEBE52E7-03EE-455A-B3C4-E57283966239\n")
	config := readAheadConfig(src)
	idOf := func(i int) int64 {
		for _, a := range srv.MintegralAudiences() {
			if a.Name == fmt.Sprintf("ahead-%d", i) {
				return a.ID
			}
		}
		t.Fatalf("no audience ahead-%d in the sandbox", i)
		return 0
	}
	var planned, drifted int
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: config},
			{
				// One refresh plan (and one without refresh, which reads
				// nothing).
				PreConfig: func() { counter.take() },
				Config:    config,
				PlanOnly:  true,
			},
			{
				PreConfig: func() {
					planned = counter.take()
					srv.RenameMintegralAudience(idOf(3), "renamed-in-console")
					if err := sandboxMintegralClient(srv).DeleteAudience(context.Background(), idOf(7)); err != nil {
						t.Fatal(err)
					}
					counter.take()
				},
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction("audience_mintegral_audience.many[3]", plancheck.ResourceActionDestroyBeforeCreate),
						plancheck.ExpectResourceAction("audience_mintegral_audience.many[7]", plancheck.ResourceActionCreate),
						plancheck.ExpectResourceAction("audience_mintegral_audience.many[0]", plancheck.ResourceActionNoop),
						plancheck.ExpectResourceAction("audience_mintegral_audience.many[299]", plancheck.ResourceActionNoop),
					},
				},
			},
			{
				PreConfig: func() {
					drifted = counter.take()
					srv.AddFault(sandbox.Fault{Method: "GET", PathPrefix: sandbox.PrefixMintegral + "/api/open/v1/audience", Query: "page=1", Status: 429, RetryAfter: "1"})
				},
				Config:   config,
				PlanOnly: true,
			},
		},
	})
	t.Logf("no-change plan step of %d audiences: %d audience List calls", readAheadAudiences, planned)
	if planned == 0 || planned > 2 {
		t.Errorf("the no-change plan of %d audiences made %d List calls, want 1 (at most 2)", readAheadAudiences, planned)
	}
	// The drift step's plan: the listing and the direct read of the gone
	// audience; its apply's plan again, then the checks' two plans (one
	// refreshing), each one listing; the replaced audiences' create
	// look-ups and read-backs. Batched per 10, it would be over 90.
	t.Logf("drift step: %d audience List calls", drifted)
	if drifted > 12 {
		t.Errorf("the drift step made %d List calls, want at most 12", drifted)
	}
	if len(srv.PendingFaults()) != 0 {
		t.Error("the 429 on the listing was never hit")
	}
}
