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
