package provider

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/audiencekit/terraform-provider-audience/internal/sandbox"
)

// altcraftCI is a team's CI for one configuration: every job is a fresh
// checkout (a new provider process, and a working directory emptied of
// every file an earlier job left), with state in a local backend outside
// the checkout. The checkout is always at one path, as CI runners check
// out (/builds/<project>): the provider runs in the test's process, whose
// working directory is not the job's, so the configuration names its
// folders by absolute path.
type altcraftCI struct {
	t     *testing.T
	srv   *sandbox.Server
	state string
	root  string // the checkout
	// plan is the saved plan the last plan job made, carried to the apply
	// job as a CI artifact.
	plan []byte
}

func newAltcraftCI(t *testing.T) *altcraftCI {
	t.Helper()
	srv := requireSandbox(t, altcraftPlatform, "moves the sandbox clock past max_age and the result lifetime, and counts export tasks")
	return &altcraftCI{t: t, srv: srv, state: filepath.Join(t.TempDir(), "terraform.tfstate"), root: filepath.Join(t.TempDir(), "checkout")}
}

// config is the export feeding an ID list and its upload, the documented
// pattern: the list reads files[0].path, the upload the list's id.
func (ci *altcraftCI) config(extra string) string {
	return strings.ReplaceAll(fmt.Sprintf(`
resource "audience_altcraft_profile_export" "crm" {
  source_type    = "segment"
  source_id      = 7
  custom_request = { occupation = "doctor" }
  output_dir     = "${path.root}/exports"
%s
}

data "audience_id_list" "pids" {
  source      = audience_altcraft_profile_export.crm.files[0].path
  column      = "_pid"
  output_path = "${path.root}/lists/pids.txt"
}

# The upload takes the list's id (its output_path, computed): unknown
# while the list waits for a new export.
resource "audience_tpns_account_package" "pids" {
  source = data.audience_id_list.pids.id
}

output "pids" {
  value = data.audience_id_list.pids.entry_count
}
`, extra), "${path.root}", ci.root)
}

// checkout starts a job: a fresh working directory holding the
// configuration, initialised.
func (ci *altcraftCI) checkout(config string) *cliWorkdir {
	ci.t.Helper()
	w := newCLIWorkdir(ci.t)
	if err := os.RemoveAll(ci.root); err != nil {
		ci.t.Fatal(err)
	}
	if err := os.MkdirAll(ci.root, 0o755); err != nil {
		ci.t.Fatal(err)
	}
	w.Dir = ci.root
	w.write("main.tf", fmt.Sprintf(`terraform {
  required_providers {
    audience = { source = "audiencekit/audience" }
  }
  backend "local" {
    path = %q
  }
}
`, ci.state)+config)
	w.ok("init")
	return w
}

// planJob runs terraform plan -out and keeps the plan file; want is the
// -detailed-exitcode it must give (0 no change, 2 changes).
func (ci *altcraftCI) planJob(config string, want int) string {
	ci.t.Helper()
	w := ci.checkout(config)
	out, _ := w.run([]int{want}, "plan", "-detailed-exitcode", "-out=plan.tfplan")
	b, err := os.ReadFile(filepath.Join(w.Dir, "plan.tfplan")) // a small test artifact
	if err != nil {
		ci.t.Fatal(err)
	}
	ci.plan = b
	return out
}

// applyJob applies the saved plan of the last plan job in a checkout of
// its own.
func (ci *altcraftCI) applyJob(config string) (*cliWorkdir, string) {
	ci.t.Helper()
	w := ci.checkout(config)
	w.write("plan.tfplan", string(ci.plan))
	// The plan file comes last: run puts -input=false after the arguments.
	out, err := w.exec("apply", "-no-color", "-input=false", "plan.tfplan")
	if err != nil {
		ci.t.Fatalf("apply of the saved plan: %v\n%s", err, out)
	}
	return w, out
}

// driftJob runs the nightly drift check, which must find nothing.
func (ci *altcraftCI) driftJob(config string) (*cliWorkdir, string) {
	ci.t.Helper()
	w := ci.checkout(config)
	out, _ := w.run([]int{0}, "plan", "-detailed-exitcode")
	return w, out
}

// day walks a period's jobs: plan (want: its exit code), apply of the
// saved plan, drift check. It fails unless the jobs started exports
// export tasks in all, and returns the plan job's output.
func (ci *altcraftCI) day(config string, want, exports int) string {
	ci.t.Helper()
	before := ci.srv.AltcraftExportsStarted()
	plan := ci.planJob(config, want)
	if n := ci.srv.AltcraftExportsStarted() - before; n != 0 {
		ci.t.Fatalf("the plan job started %d export tasks; only an apply may\n%s", n, plan)
	}
	apply, _ := ci.applyJob(config)
	if exports > 0 {
		// The new export, and the list Terraform read after it. An apply
		// with nothing to export touches neither: nothing it does reads
		// them.
		ci.checkLists(apply)
	}
	drift, _ := ci.driftJob(config)
	ci.checkLists(drift)
	if n := ci.srv.AltcraftExportsStarted() - before; n != exports {
		ci.t.Fatalf("the day's plan, apply and drift jobs started %d export tasks, want %d\n%s", n, exports, plan)
	}
	return plan
}

// checkLists checks a job's checkout holds the export, as the sandbox
// makes it now, and the ID list made from it.
func (ci *altcraftCI) checkLists(w *cliWorkdir) {
	ci.t.Helper()
	want := altcraftSandboxExport(ci.t, "segment", 7, map[string]any{"occupation": "doctor"})
	got, err := os.ReadFile(filepath.Join(w.Dir, "exports", "7_segment_export.csv")) // small test file
	if err != nil {
		ci.t.Fatalf("the job's checkout has no export: %v", err)
	}
	if string(got) != string(want) {
		ci.t.Fatalf("the job's export differs from the platform's (%d bytes, want %d)", len(got), len(want))
	}
	if fi, err := os.Stat(filepath.Join(w.Dir, "lists", "pids.txt")); err != nil || fi.Size() == 0 {
		ci.t.Fatalf("the job's checkout has no ID list made from the export: %v", err)
	}
}

// One export per period: the plan job, the apply of its saved plan and
// the drift job of a day start one export task between them, each in a
// fresh checkout; the next day (max_age past) starts one more, a trigger
// change one more, and a result the platform has dropped one more, each
// announced in the plan with its reason.
func TestAccSmokeAltcraftProfileExport_onePerPeriod(t *testing.T) {
	ci := newAltcraftCI(t)
	daily := ci.config(`  max_age        = "24h"`)

	plan := ci.day(daily, 2, 1)
	expectIn(t, plan, "audience_altcraft_profile_export.crm will be created")
	// The ID list waited for the export: read at apply, not at plan.
	expectIn(t, plan, "data.audience_id_list.pids will be read during apply")

	// The same day, another pipeline run: nothing to do, nothing exported.
	plan = ci.day(daily, 0, 0)
	expectIn(t, plan, "No changes.")

	// The next day: the plan says why the export runs again.
	ci.srv.Advance(26 * time.Hour)
	plan = ci.day(daily, 2, 1)
	expectIn(t, plan, "Altcraft export runs again at apply", "export is 26h old, max_age 24h",
		"audience_altcraft_profile_export.crm will be updated in-place")

	// max_age changed alone keeps the export.
	weekly := ci.config(`  max_age        = "168h"`)
	plan = ci.day(weekly, 2, 0)
	expectIn(t, plan, `~ max_age = "24h" -> "168h"`)
	if strings.Contains(plan, "runs again") {
		t.Fatalf("a longer max_age alone planned a new export:\n%s", plan)
	}

	// A trigger change exports again.
	plan = ci.day(ci.config(`  max_age        = "168h"
  triggers       = { campaign = "spring" }`), 2, 1)
	expectIn(t, plan, "triggers changed")

	// The platform drops results after a while: the plan job cannot
	// restore the files, and plans a new export saying so.
	spring := ci.config(`  max_age        = "168h"
  triggers       = { campaign = "spring" }`)
	ci.srv.Advance(sandbox.AltcraftResultLifetime + time.Hour)
	plan = ci.day(spring, 2, 1)
	expectIn(t, plan, "the platform no longer serves the result of task", "HTTP 404")
}

// Faults on every call of the flow (start, poll, download, and the
// download that restores the files in a fresh checkout) are ridden out,
// and never cost a second export task.
func TestAccAltcraftProfileExportResource_faults(t *testing.T) {
	ci := newAltcraftCI(t)
	config := ci.config(`  max_age        = "24h"`)
	ci.planJob(config, 2)
	for _, f := range []sandbox.Fault{
		{Method: http.MethodPost, PathPrefix: sandbox.PrefixAltcraft + "/api/v1.1/profiles/get_all", Status: 503, Count: 2},
		{Method: http.MethodPost, PathPrefix: sandbox.PrefixAltcraft + "/api/v1.1/profiles/get_all", ResetAfterBytes: 10},
		{Method: http.MethodPost, PathPrefix: sandbox.PrefixAltcraft + "/api/v1.1/tasks/status", Status: 429, RetryAfter: "1"},
		{Method: http.MethodPost, PathPrefix: sandbox.PrefixAltcraft + "/api/v1.1/tasks/status", ResetAfterBytes: 5},
		{Method: http.MethodGet, PathPrefix: sandbox.PrefixAltcraft + "/api/download/", ResetAfterResponseBytes: 100},
	} {
		ci.srv.AddFault(f)
	}
	apply, _ := ci.applyJob(config)
	ci.checkLists(apply)
	if left := ci.srv.PendingFaults(); len(left) > 0 {
		t.Fatalf("the apply job met not every fault: %v left", left)
	}
	// The restore in the drift job's fresh checkout meets a 503 and a
	// cut download.
	ci.srv.AddFault(sandbox.Fault{Method: http.MethodGet, PathPrefix: sandbox.PrefixAltcraft + "/api/download/", Status: 503})
	ci.srv.AddFault(sandbox.Fault{Method: http.MethodGet, PathPrefix: sandbox.PrefixAltcraft + "/api/download/", ResetAfterResponseBytes: 100})
	drift, _ := ci.driftJob(config)
	ci.checkLists(drift)
	if left := ci.srv.PendingFaults(); len(left) > 0 {
		t.Fatalf("the drift job met not every fault: %v left", left)
	}
	if n := ci.srv.AltcraftExportsStarted(); n != 1 {
		t.Fatalf("%d export tasks started, want 1", n)
	}
}

// max_age is checked at plan, before any request.
func TestAccAltcraftProfileExportResource_maxAgeValidated(t *testing.T) {
	srv := requireSandbox(t, altcraftPlatform, "counts the requests a refused plan sends")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: `
resource "audience_altcraft_profile_export" "crm" {
  source_type = "segment"
  source_id   = 7
  max_age     = "1d"
}
`,
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)Invalid max_age.*"1d" is not a duration`),
			},
		},
	})
	if n := srv.AltcraftExportsStarted(); n != 0 {
		t.Fatalf("%d export tasks started by a refused plan", n)
	}
}
