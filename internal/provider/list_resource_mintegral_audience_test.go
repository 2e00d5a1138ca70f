package provider

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/querycheck"
	"github.com/hashicorp/terraform-plugin-testing/querycheck/queryfilter"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/audiencekit/terraform-provider-audience/internal/client/mintegral"
	"github.com/audiencekit/terraform-provider-audience/internal/sandbox"
)

// queryCheckFunc is a query check written inline.
type queryCheckFunc func() error

func (f queryCheckFunc) CheckQuery(_ context.Context, _ querycheck.CheckQueryRequest, resp *querycheck.CheckQueryResponse) {
	resp.Error = f()
}

// listAll lists every audience, up to 1000.
const listAll = `
list "audience_mintegral_audience" "all" {
  provider = audience
  limit    = 1000
}
`

// seedConsoleAudiences puts n audiences made in Mintegral's console into
// the sandbox: platforms android, ios and mix in turn.
func seedConsoleAudiences(t *testing.T, srv *sandbox.Server, n int, seed sandbox.MintegralSeed) []int64 {
	t.Helper()
	ids, err := srv.SeedMintegralAudiences(n, seed)
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// terraform query lists every audience, over Mintegral's pages, with the
// filters, the limit and include_resource.
func TestAccSmokeListMintegralAudience(t *testing.T) {
	srv := accTarget(t, mintegralPlatform)
	sandboxOnly(t, srv, "seeds 503 console-made audiences and counts the sandbox's list calls")
	seedConsoleAudiences(t, srv, mintegral.MaxListLimit+1, sandbox.MintegralSeed{})
	cn := seedConsoleAudiences(t, srv, 2, sandbox.MintegralSeed{NamePrefix: "cn-", Platform: 1, AreaType: 2, DeviceType: 4})
	var listCalls int
	countListCalls := func() { listCalls = srv.MintegralAudienceCalls("GET") }
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_14_0)},
		Steps: []resource.TestStep{
			{Config: `provider "audience" {}`},
			{
				// 503 audiences: two pages of Mintegral's list (500 a page).
				PreConfig: countListCalls,
				Query:     true,
				Config:    listAll,
				QueryResultChecks: []querycheck.QueryResultCheck{
					querycheck.ExpectLength("audience_mintegral_audience.all", 503),
					querycheck.ExpectIdentity("audience_mintegral_audience.all", map[string]knownvalue.Check{"ta_id": knownvalue.Int64Exact(cn[1])}),
					queryCheckFunc(func() error {
						if n := srv.MintegralAudienceCalls("GET") - listCalls; n != 2 {
							return fmt.Errorf("%d list calls, want 2 pages", n)
						}
						return nil
					}),
				},
			},
			{
				PreConfig: countListCalls,
				Query:     true,
				Config: `
list "audience_mintegral_audience" "ios" {
  provider = audience
  limit    = 1000
  config {
    platform = "ios"
  }
}

list "audience_mintegral_audience" "named" {
  provider = audience
  config {
    name = "audience-000"
  }
}

list "audience_mintegral_audience" "cn" {
  provider         = audience
  include_resource = true
  config {
    area_type = 2
  }
}

list "audience_mintegral_audience" "first_ten" {
  provider = audience
  limit    = 10
}
`,
				QueryResultChecks: []querycheck.QueryResultCheck{
					querycheck.ExpectLength("audience_mintegral_audience.ios", 167),
					querycheck.ExpectLength("audience_mintegral_audience.named", 9), // console-audience-0001 … 0009
					querycheck.ExpectLength("audience_mintegral_audience.cn", 2),
					querycheck.ExpectLength("audience_mintegral_audience.first_ten", 10),
					querycheck.ExpectResourceDisplayName("audience_mintegral_audience.cn",
						queryfilter.ByResourceIdentity(map[string]knownvalue.Check{"ta_id": knownvalue.Int64Exact(cn[0])}), knownvalue.StringExact("cn-0001")),
					querycheck.ExpectResourceKnownValues("audience_mintegral_audience.cn",
						queryfilter.ByResourceIdentity(map[string]knownvalue.Check{"ta_id": knownvalue.Int64Exact(cn[0])}),
						[]querycheck.KnownValueCheck{
							{Path: tfjsonpath.New("id"), KnownValue: knownvalue.StringExact(fmt.Sprint(cn[0]))},
							{Path: tfjsonpath.New("name"), KnownValue: knownvalue.StringExact("cn-0001")},
							{Path: tfjsonpath.New("platform"), KnownValue: knownvalue.StringExact("android")},
							{Path: tfjsonpath.New("area_type"), KnownValue: knownvalue.Int64Exact(2)},
							{Path: tfjsonpath.New("device_types"), KnownValue: knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("OAID")})},
							{Path: tfjsonpath.New("updatable_after"), KnownValue: knownvalue.StringRegexp(rfc3339)},
							{Path: tfjsonpath.New("files"), KnownValue: knownvalue.Null()},
						}),
					// One page each for ios and named; two for cn, as Mintegral
					// cannot filter by area; one for first_ten, as listing stops
					// at the limit.
					queryCheckFunc(func() error {
						if n := srv.MintegralAudienceCalls("GET") - listCalls; n != 5 {
							return fmt.Errorf("%d list calls, want 5", n)
						}
						return nil
					}),
				},
			},
			{
				// A 503, a 429 with Retry-After and an answer cut mid-body on
				// the list: retried, and every audience still comes back.
				PreConfig: func() {
					list := sandbox.PrefixMintegral + "/api/open/v1/audience"
					srv.AddFault(sandbox.Fault{Method: "GET", PathPrefix: list, Status: 503})
					srv.AddFault(sandbox.Fault{Method: "GET", PathPrefix: list, Status: 429, RetryAfter: "1"})
					srv.AddFault(sandbox.Fault{Method: "GET", PathPrefix: list, ResetAfterResponseBytes: 512})
				},
				Query:  true,
				Config: listAll,
				QueryResultChecks: []querycheck.QueryResultCheck{
					querycheck.ExpectLength("audience_mintegral_audience.all", 503),
					queryCheckFunc(func() error {
						if f := srv.PendingFaults(); len(f) != 0 {
							return fmt.Errorf("faults never hit: %v", f)
						}
						return nil
					}),
				},
			},
		},
	})
}

// A team adopts 501 audiences made in Mintegral's console: terraform
// query writes their import blocks and configuration, one apply imports
// them all without sending anything, and the plan after it is empty.
// Then the files of one are written by hand, as the README says, and its
// first update goes out.
func TestAccMintegralAudienceList_adoptConsoleAudiences(t *testing.T) {
	srv := requireSandbox(t, mintegralPlatform, "seeds 501 console-made audiences and counts the sandbox's list calls")
	ids := seedConsoleAudiences(t, srv, mintegral.MaxListLimit+1, sandbox.MintegralSeed{})
	w := newCLIWorkdir(t)
	w.skipBelowTerraform("1.14.0", "terraform query")
	w.write("main.tf", providerBlock)
	w.write("audiences.tfquery.hcl", `list "audience_mintegral_audience" "console" {
  provider = audience
  limit    = 1000
}
`)
	w.ok("init")
	lists := srv.MintegralAudienceCalls("GET")
	out := w.ok("query", "-generate-config-out=audiences.tf")
	if n := srv.MintegralAudienceCalls("GET") - lists; n != 2 {
		t.Fatalf("terraform query made %d list calls, want the 2 pages", n)
	}
	expectIn(t, out, "list.audience_mintegral_audience.console", "console-audience-0501")
	generated, err := os.ReadFile(filepath.Join(w.Dir, "audiences.tf"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(generated)
	if n := strings.Count(text, "import {"); n != len(ids) {
		t.Fatalf("%d import blocks generated, want %d:\n%.2000s", n, len(ids), text)
	}
	// The first audience's block, as a person will read it: identity,
	// name, platform, area, and files left to Mintegral.
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`resource "audience_mintegral_audience" "console_0" \{\s+provider\s+= audience\s+area_type\s+= 1\s+files\s+= null\s+name\s+= "console-audience-0001"\s+platform\s+= "android"`),
		regexp.MustCompile(fmt.Sprintf(`import \{\s+to\s+= audience_mintegral_audience\.console_0\s+provider\s+= audience\s+identity = \{\s+ta_id = %d\s+\}\s+\}`, ids[0])),
	} {
		if !want.MatchString(text) {
			t.Fatalf("generated configuration lacks %s:\n%.3000s", want, text)
		}
	}

	writes := func() int {
		return srv.MintegralAudienceCalls("POST") + srv.MintegralAudienceCalls("PUT") + srv.MintegralAudienceCalls("DELETE")
	}
	before := writes()
	expectIn(t, w.ok("apply", "-auto-approve"), fmt.Sprintf("Apply complete! Resources: %d imported, 0 added, 0 changed, 0 destroyed.", len(ids)))
	if n := writes() - before; n != 0 {
		t.Fatalf("the import sent %d create, update or delete requests", n)
	}
	w.emptyPlan()

	// The files of the first audience, written by hand: a new upload of
	// its list, then one update (the console audiences are past their
	// window), then an empty plan.
	w.write("devices.txt", "gaid\n38400000-8cf0-11bd-b23e-10b96e40000d\n")
	handWritten := strings.Replace(text, "  files     = null\n  name      = \"console-audience-0001\"", `  files = [{
    device_type = "GAID"
    data_path   = audience_mintegral_file.console_0.data_path
  }]
  name      = "console-audience-0001"`, 1)
	if handWritten == text {
		t.Fatalf("no files = null line for console-audience-0001:\n%.1000s", text)
	}
	w.write("audiences.tf", handWritten+fmt.Sprintf(`
resource "audience_mintegral_file" "console_0" {
  source = %q
}
`, filepath.Join(w.Dir, "devices.txt")))
	out = w.ok("apply", "-auto-approve")
	if n := srv.MintegralAudienceCalls("PUT"); n != 1 {
		t.Fatalf("%d updates after writing the files of one audience, want 1\n%s", n, out)
	}
	attrs, _, _ := w.instance("audience_mintegral_file", "console_0")
	if a := srv.MintegralAudiences()[0]; a.ID != ids[0] || a.Files[0].DataPath != attrs["data_path"] {
		t.Fatalf("Mintegral holds %+v, want %d built from %v", a, ids[0], attrs["data_path"])
	}
	w.emptyPlan()
}

// terraform query leaves out the audiences the configuration already
// manages, by exclude_ids (fed from state, as the README shows) or by
// name_prefix, so the generated configuration adopts each audience once:
// after the apply, state holds as many audiences as Mintegral.
func TestAccMintegralAudienceList_excludesManaged(t *testing.T) {
	srv := requireSandbox(t, mintegralPlatform, "seeds console-made audiences and reads the sandbox's records")
	seedConsoleAudiences(t, srv, 3, sandbox.MintegralSeed{})
	w := newCLIWorkdir(t)
	w.skipBelowTerraform("1.14.0", "terraform query")
	w.write("devices.txt", "gaid\n38400000-8cf0-11bd-b23e-10b96e40000d\n")
	w.write("main.tf", providerBlock+fmt.Sprintf(`
resource "audience_mintegral_file" "devices" {
  source = %q
}

resource "audience_mintegral_audience" "managed" {
  name     = "tf-android"
  platform = "android"
  files = [{
    device_type = "GAID"
    data_path   = audience_mintegral_file.devices.data_path
  }]
}
`, filepath.Join(w.Dir, "devices.txt")))
	w.write("audiences.tfquery.hcl", `variable "managed_ta_ids" {
  type    = list(number)
  default = []
}

list "audience_mintegral_audience" "console" {
  provider = audience
  limit    = 1000
  config {
    exclude_ids = var.managed_ta_ids
  }
}
`)
	w.ok("init")
	w.ok("apply", "-auto-approve")
	attrs, _, _ := w.instance("audience_mintegral_audience", "managed")
	managed := int64(attrs["ta_id"].(float64))
	// listed is the lines of query output for one list block.
	listed := func(out, label string) []string {
		var lines []string
		for _, line := range strings.Split(out, "\n") {
			if strings.Contains(line, "list.audience_mintegral_audience."+label) {
				lines = append(lines, line)
			}
		}
		return lines
	}
	managedIn := func(lines []string) bool { return strings.Contains(strings.Join(lines, "\n"), "tf-android") }

	// Unfiltered, the query lists the managed audience too.
	out := w.ok("query")
	if lines := listed(out, "console"); len(lines) != 4 || !managedIn(lines) {
		t.Fatalf("%d audiences listed, want the 3 console ones and the managed one:\n%s", len(lines), out)
	}
	// name_prefix keeps only the console ones.
	w.write("prefix.tfquery.hcl", `list "audience_mintegral_audience" "prefixed" {
  provider = audience
  config {
    name_prefix = "console-"
  }
}
`)
	out = w.ok("query")
	if lines := listed(out, "prefixed"); len(lines) != 3 || managedIn(lines) {
		t.Fatalf("%d audiences listed with name_prefix, want the 3 console ones:\n%s", len(lines), out)
	}
	if err := os.Remove(filepath.Join(w.Dir, "prefix.tfquery.hcl")); err != nil {
		t.Fatal(err)
	}

	// exclude_ids from the managed ta_ids: three blocks, none for it.
	out = w.ok("query", "-generate-config-out=audiences.tf", fmt.Sprintf("-var=managed_ta_ids=[%d]", managed))
	if lines := listed(out, "console"); len(lines) != 3 || managedIn(lines) {
		t.Fatalf("%d audiences listed, want the 3 console ones:\n%s", len(lines), out)
	}
	generated, err := os.ReadFile(filepath.Join(w.Dir, "audiences.tf"))
	if err != nil {
		t.Fatal(err)
	}
	if text := string(generated); strings.Count(text, "import {") != 3 || strings.Contains(text, fmt.Sprintf("ta_id = %d", managed)) || strings.Contains(text, "tf-android") {
		t.Fatalf("generated configuration adopts the managed audience again, or not each console one:\n%s", text)
	}
	expectIn(t, w.ok("apply", "-auto-approve"), "Apply complete! Resources: 3 imported, 0 added, 0 changed, 0 destroyed.")
	// Each audience at one address.
	var inState, inMintegral []int64
	for _, name := range []string{"managed", "console_0", "console_1", "console_2"} {
		attrs, _, _ := w.instance("audience_mintegral_audience", name)
		inState = append(inState, int64(attrs["ta_id"].(float64)))
	}
	for _, a := range srv.MintegralAudiences() {
		inMintegral = append(inMintegral, a.ID)
	}
	slices.Sort(inState)
	slices.Sort(inMintegral)
	if !slices.Equal(inState, inMintegral) {
		t.Fatalf("state names audiences %v, Mintegral holds %v", inState, inMintegral)
	}
	w.emptyPlan()
}
