package provider

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/audiencekit/terraform-provider-audience/internal/client/mintegral"
	"github.com/audiencekit/terraform-provider-audience/internal/client/transfer"
	"github.com/audiencekit/terraform-provider-audience/internal/sandbox"
)

const audienceAddr = "audience_mintegral_audience.test"

// audienceConfig is the file → audience pipeline: one uploaded file feeds
// one audience.
func audienceConfig(source, name, platform, deviceType string) string {
	return fmt.Sprintf(`
resource "audience_mintegral_file" "devices" {
  source = %q
}

resource "audience_mintegral_audience" "test" {
  name     = %q
  platform = %q
  files = [{
    device_type = %q
    data_path   = audience_mintegral_file.devices.data_path
  }]
}
`, source, name, platform, deviceType)
}

// onlyAudience is the sandbox's one audience; the test fails if there is
// not exactly one.
func onlyAudience(t *testing.T, srv *sandbox.Server) sandbox.MintegralAudience {
	t.Helper()
	all := srv.MintegralAudiences()
	if len(all) != 1 {
		t.Fatalf("sandbox holds %d audiences, want exactly 1: %+v", len(all), all)
	}
	return all[0]
}

// checkAudienceMatchesSandbox asserts state and the sandbox agree: same
// ta_id, the file's data_path on the audience, and RFC 3339 times with
// updatable_after 12 hours after updated_at.
func checkAudienceMatchesSandbox(t *testing.T, srv *sandbox.Server) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		a := onlyAudience(t, srv)
		attrs := s.RootModule().Resources[audienceAddr].Primary.Attributes
		if attrs["ta_id"] != strconv.FormatInt(a.ID, 10) || attrs["id"] != attrs["ta_id"] {
			return fmt.Errorf("state id %s / ta_id %s, sandbox ta_id %d", attrs["id"], attrs["ta_id"], a.ID)
		}
		dataPath := s.RootModule().Resources["audience_mintegral_file.devices"].Primary.Attributes["data_path"]
		if len(a.Files) != 1 || a.Files[0].DataPath != dataPath || attrs["files.0.data_path"] != dataPath {
			return fmt.Errorf("sandbox files %+v, state file data_path %s", a.Files, dataPath)
		}
		updated, err := time.Parse(time.RFC3339, attrs["updated_at"])
		if err != nil || !updated.Equal(a.Updated.Truncate(time.Second)) {
			return fmt.Errorf("updated_at %q, sandbox utime %s (%v)", attrs["updated_at"], a.Updated, err)
		}
		if want := updated.Add(12 * time.Hour).Format(time.RFC3339); attrs["updatable_after"] != want {
			return fmt.Errorf("updatable_after %q, want %q", attrs["updatable_after"], want)
		}
		if _, err := time.Parse(time.RFC3339, attrs["created_at"]); err != nil {
			return fmt.Errorf("created_at %q: %v", attrs["created_at"], err)
		}
		return nil
	}
}

func TestAccSmokeMintegralAudience_createUpdateInPlaceAndReplace(t *testing.T) {
	srv := startSandbox(t)
	dir := t.TempDir()
	src := writeFile(t, dir, "idfa.txt", "idfa\n6D92078A-8246-4BA4-AE5B-76104861E7DC\n")
	sameID := statecheck.CompareValue(compare.ValuesSame())
	newID := statecheck.CompareValue(compare.ValuesDiffer())
	var firstID int64

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: audienceConfig(src, "ios-buyers", "ios", "IDFA"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(audienceAddr, tfjsonpath.New("area_type"), knownvalue.Int64Exact(1)),
					statecheck.ExpectKnownValue(audienceAddr, tfjsonpath.New("device_types"), knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("IDFA")})),
					sameID.AddStateValue(audienceAddr, tfjsonpath.New("ta_id")),
					newID.AddStateValue(audienceAddr, tfjsonpath.New("ta_id")),
				},
				Check: resource.ComposeTestCheckFunc(checkAudienceMatchesSandbox(t, srv), func(*terraform.State) error {
					firstID = onlyAudience(t, srv).ID
					return nil
				}),
			},
			{
				Config: audienceConfig(src, "ios-buyers", "ios", "IDFA"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
			{
				// New content → new upload → new data_path → PUT on the same
				// audience, once its 12-hour window has passed.
				PreConfig: func() {
					srv.BackdateMintegralAudience(firstID, 13*time.Hour)
					writeFile(t, dir, "idfa.txt", "idfa\nAEBE52E7-03EE-455A-B3C4-E57283966239\n")
				},
				Config: audienceConfig(src, "ios-buyers", "ios", "IDFA"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(audienceAddr, plancheck.ResourceActionUpdate),
						plancheck.ExpectUnknownValue(audienceAddr, tfjsonpath.New("files").AtSliceIndex(0).AtMapKey("data_path")),
						plancheck.ExpectUnknownValue(audienceAddr, tfjsonpath.New("updatable_after")),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					sameID.AddStateValue(audienceAddr, tfjsonpath.New("ta_id")),
				},
				Check: resource.ComposeTestCheckFunc(checkAudienceMatchesSandbox(t, srv), func(*terraform.State) error {
					if n := srv.MintegralAudienceCalls("PUT"); n != 1 {
						return fmt.Errorf("%d update calls, want 1", n)
					}
					if a := onlyAudience(t, srv); time.Since(a.Updated) > time.Minute {
						return fmt.Errorf("the update did not restart the window: utime %s", a.Updated)
					}
					return nil
				}),
			},
			{
				// A new name cannot be set by the update call: replace.
				Config: audienceConfig(src, "ios-buyers-2", "ios", "IDFA"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(audienceAddr, plancheck.ResourceActionDestroyBeforeCreate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					newID.AddStateValue(audienceAddr, tfjsonpath.New("ta_id")),
					statecheck.ExpectKnownValue(audienceAddr, tfjsonpath.New("name"), knownvalue.StringExact("ios-buyers-2")),
				},
				Check: checkAudienceMatchesSandbox(t, srv),
			},
		},
	})
	if n := len(srv.MintegralAudiences()); n != 0 {
		t.Fatalf("%d audiences left after destroy", n)
	}
}

// The exact error of a plan that would update an audience within its
// 12-hour window.
var updateWindowError = wrappedPattern(`Mintegral audience cannot be updated yet.*Audience "android-gaid" \(ta_id \d+\) was last changed at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ; Mintegral refuses another update until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(12 hours later`)

func TestAccMintegralAudience_updateWindowFailsAtPlan(t *testing.T) {
	srv := startSandbox(t)
	dir := t.TempDir()
	src := writeFile(t, dir, "gaid.csv", "gaid\n38400000-8cf0-11bd-b23e-10b96e40000d\n")
	config := audienceConfig(src, "android-gaid", "android", "GAID")
	var writes, uploads, apiCalls, reads int
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: config},
			{
				PreConfig: func() {
					writeFile(t, dir, "gaid.csv", "gaid\n11111111-8cf0-11bd-b23e-10b96e40000d\n")
					writes = srv.MintegralAudienceCalls("POST") + srv.MintegralAudienceCalls("PUT") + srv.MintegralAudienceCalls("DELETE")
					uploads = srv.Requests(sandbox.PrefixS3)
					apiCalls, reads = srv.Requests(sandbox.PrefixMintegral), srv.MintegralAudienceCalls("GET")
				},
				Config:      config,
				PlanOnly:    true,
				ExpectError: updateWindowError,
			},
			{
				// Nothing was sent: no update, no upload of the new file.
				PreConfig: func() {
					if n := srv.MintegralAudienceCalls("POST") + srv.MintegralAudienceCalls("PUT") + srv.MintegralAudienceCalls("DELETE") - writes; n != 0 {
						t.Fatalf("the refused plan sent %d audience write requests", n)
					}
					if n := srv.Requests(sandbox.PrefixS3) - uploads; n != 0 {
						t.Fatalf("the refused plan sent %d storage requests", n)
					}
					if srv.MintegralAudienceCalls("PUT") != 0 {
						t.Fatalf("an update request was sent")
					}
					// Only the refresh's reads of the audience reached Mintegral.
					if n, r := srv.Requests(sandbox.PrefixMintegral)-apiCalls, srv.MintegralAudienceCalls("GET")-reads; n != r {
						t.Fatalf("the refused plan sent %d Mintegral requests, %d of them audience reads", n, r)
					}
				},
				Config:      config,
				ExpectError: updateWindowError, // apply plans first, and fails the same way
			},
		},
	})
	if n := srv.MintegralAudienceCalls("PUT"); n != 0 {
		t.Fatalf("%d update requests sent, want 0", n)
	}
}

// When the platform refuses anyway (its clock is ahead of ours), its own
// message surfaces at apply.
func TestAccMintegralAudience_platformRefusalSurfacesAtApply(t *testing.T) {
	srv := startSandbox(t, func(c *sandbox.Config) { c.MintegralUpdateWindow = 24 * time.Hour })
	dir := t.TempDir()
	src := writeFile(t, dir, "oaid.txt", "oaid\n0a1b2c3d\n")
	config := audienceConfig(src, "cn-oaid", "android", "OAID")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: config},
			{
				PreConfig: func() {
					srv.BackdateMintegralAudience(onlyAudience(t, srv).ID, 13*time.Hour)
					writeFile(t, dir, "oaid.txt", "oaid\n4e5f6a7b\n")
				},
				Config:      config,
				ExpectError: wrappedPattern(`Updating the Mintegral audience failed.*Mintegral refused to update audience "cn-oaid".*Mintegral API error 400: audience \d+ was updated at .*cannot be updated again within 24h0m0s`),
			},
		},
	})
	if n := srv.MintegralAudienceCalls("PUT"); n != 1 {
		t.Fatalf("%d update requests, want the 1 that was refused", n)
	}
}

func TestAccMintegralAudience_import(t *testing.T) {
	srv := startSandbox(t)
	src := writeFile(t, t.TempDir(), "idfv.txt", "idfv\n6D92078A-8246-4BA4-AE5B-76104861E7DC\n")
	config := audienceConfig(src, "ios-idfv", "ios", "IDFV")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: config},
			{
				// terraform import: everything but files (Mintegral does not
				// return data paths) matches the created state.
				ResourceName:            audienceAddr,
				ImportState:             true,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"files", "timeouts"},
			},
			{
				// An import {} block: the files are recorded from the
				// configuration, and nothing is sent to Mintegral.
				Config:             config,
				ResourceName:       audienceAddr,
				ImportState:        true,
				ImportStateKind:    resource.ImportBlockWithID,
				ExpectNonEmptyPlan: true,
				ImportPlanChecks: resource.ImportPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectKnownValue(audienceAddr, tfjsonpath.New("device_types"), knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("IDFV")})),
						plancheck.ExpectKnownValue(audienceAddr, tfjsonpath.New("name"), knownvalue.StringExact("ios-idfv")),
					},
				},
			},
			{
				ResourceName:  audienceAddr,
				ImportState:   true,
				ImportStateId: "not-a-number",
				ExpectError:   wrappedPattern(`"not-a-number" is not a Mintegral audience ID; import with the numeric ta_id`),
			},
		},
	})
	if n := srv.MintegralAudienceCalls("PUT"); n != 0 {
		t.Fatalf("%d update requests, want 0", n)
	}
}

// An audience deleted or renamed in Mintegral shows in the next plan.
func TestAccMintegralAudience_driftFromOutsideTerraform(t *testing.T) {
	srv := startSandbox(t)
	src := writeFile(t, t.TempDir(), "imei.txt", "imei\n490154203237518\n")
	config := audienceConfig(src, "android-imei", "android", "IMEI")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: config},
			{
				PreConfig: func() {
					client := sandboxMintegralClient(srv)
					if err := client.DeleteAudience(context.Background(), onlyAudience(t, srv).ID); err != nil {
						t.Fatal(err)
					}
				},
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(audienceAddr, plancheck.ResourceActionCreate)},
				},
				Check: checkAudienceMatchesSandbox(t, srv),
			},
			{
				// Renamed in the console: the name reads back and the
				// configuration's name replaces it.
				PreConfig: func() { srv.RenameMintegralAudience(onlyAudience(t, srv).ID, "renamed-in-console") },
				Config:    config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(audienceAddr, plancheck.ResourceActionDestroyBeforeCreate)},
				},
				Check: checkAudienceMatchesSandbox(t, srv),
			},
			{
				// Files changed outside Terraform (other device types): the
				// device types read back plan an update, which that change's
				// own 12-hour window holds back...
				PreConfig: func() {
					a := onlyAudience(t, srv)
					srv.BackdateMintegralAudience(a.ID, 13*time.Hour)
					err := sandboxMintegralClient(srv).UpdateAudience(context.Background(), a.ID, []mintegral.AudienceFile{{DeviceType: "IMEI_MD5", DataPath: a.Files[0].DataPath}}, a.Updated)
					if err != nil {
						t.Fatal(err)
					}
				},
				Config:      config,
				PlanOnly:    true,
				ExpectError: wrappedPattern(`Mintegral audience cannot be updated yet.*"android-imei"`),
			},
			{
				// ...until it has passed; then the configured files are put back.
				PreConfig: func() { srv.BackdateMintegralAudience(onlyAudience(t, srv).ID, 13*time.Hour) },
				Config:    config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(audienceAddr, plancheck.ResourceActionUpdate),
						plancheck.ExpectKnownValue(audienceAddr, tfjsonpath.New("device_types"), knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("IMEI")})),
					},
				},
				Check: checkAudienceMatchesSandbox(t, srv),
			},
		},
	})
}

func TestAccMintegralAudience_planTimeValidation(t *testing.T) {
	srv := startSandbox(t)
	cases := []struct {
		name, config string
		want         *regexp.Regexp
	}{
		{"empty name", audienceLiteral(`""`, "ios", 1, `[{ device_type = "IDFA", data_path = "s3://b/k.txt" }]`), wrappedPattern(`name.*at least 1`)},
		{"blank name", audienceLiteral(`"  "`, "ios", 1, `[{ device_type = "IDFA", data_path = "s3://b/k.txt" }]`), wrappedPattern(`name is blank`)},
		{"no files", audienceLiteral(`"a"`, "ios", 1, `[]`), wrappedPattern(`files.*at least 1`)},
		{"unknown device type", audienceLiteral(`"a"`, "ios", 1, `[{ device_type = "ADID", data_path = "s3://b/k.txt" }]`), wrappedPattern(`device_type.*IDFV_MD5`)},
		{"GAID on iOS", audienceLiteral(`"a"`, "ios", 1, `[{ device_type = "GAID", data_path = "s3://b/k.txt" }]`), wrappedPattern(`files\[0\] holds GAID IDs, which come from android devices; a platform = "ios" audience cannot take them`)},
		{"IDFA on Android", audienceLiteral(`"a"`, "android", 1, `[{ device_type = "IDFA_MD5", data_path = "s3://b/k.txt" }]`), wrappedPattern(`holds IDFA_MD5 IDs, which come from ios devices`)},
		{"oss path in area 1", audienceLiteral(`"a"`, "mix", 1, `[{ device_type = "GAID", data_path = "oss://b/k.txt" }]`), wrappedPattern(`files\[0\]\.data_path is "oss://b/k\.txt", but an area_type = 1 audience takes s3:// data paths`)},
		{"s3 path in area 2", audienceLiteral(`"a"`, "mix", 2, `[{ device_type = "IDFA", data_path = "s3://b/k.txt" }]`), wrappedPattern(`area_type = 2 audience takes oss:// data paths`)},
		{"bad platform", audienceLiteral(`"a"`, "windows", 1, `[{ device_type = "IDFA", data_path = "s3://b/k.txt" }]`), wrappedPattern(`platform.*android`)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps:                    []resource.TestStep{{Config: tc.config, PlanOnly: true, ExpectError: tc.want}},
			})
		})
	}
	if n := srv.Requests(sandbox.PrefixMintegral); n != 0 {
		t.Fatalf("%d requests reached the sandbox; plan-time validation must send nothing", n)
	}
}

func audienceLiteral(name, platform string, area int, files string) string {
	return fmt.Sprintf(`
resource "audience_mintegral_audience" "test" {
  name      = %s
  platform  = %q
  area_type = %d
  files     = %s
}
`, name, platform, area, files)
}

// sandboxMintegralClient talks to the sandbox as someone outside
// Terraform would.
func sandboxMintegralClient(srv *sandbox.Server) *mintegral.Client {
	creds := sandbox.DefaultCredentials()
	return mintegral.New(srv.URL()+sandbox.PrefixMintegral, creds.MintegralAccessKey, creds.MintegralAPIKey, transfer.Options{})
}

// wrappedPattern compiles pattern so that each space also matches the line
// breaks Terraform puts into long diagnostics.
func wrappedPattern(pattern string) *regexp.Regexp {
	return regexp.MustCompile(`(?s)` + strings.ReplaceAll(pattern, " ", `\s+`))
}

// A create whose answer is lost (the connection resets after Mintegral
// created the audience) is looked up and adopted, not sent again.
func TestAccMintegralAudience_lostCreateAnswerCreatesOneAudience(t *testing.T) {
	srv := startSandbox(t)
	src := writeFile(t, t.TempDir(), "gaid.txt", "gaid\n38400000-8cf0-11bd-b23e-10b96e40000d\n")
	srv.AddFault(sandbox.Fault{Method: "POST", PathPrefix: sandbox.PrefixMintegral + "/api/open/v1/audience", DropResponse: true})
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: audienceConfig(src, "android-gaid", "android", "GAID"),
				Check:  checkAudienceMatchesSandbox(t, srv),
			},
			{
				Config: audienceConfig(src, "android-gaid", "android", "GAID"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
		},
	})
	if f := srv.PendingFaults(); len(f) != 0 {
		t.Fatalf("the create's answer was never dropped: %v still pending", f)
	}
	if n := srv.MintegralAudienceCalls("POST"); n != 1 {
		t.Fatalf("%d create requests, want 1 (the one whose answer was lost)", n)
	}
}

// An audience made outside Terraform is taken over with an import {}
// block: the configuration's files are recorded without a request, and
// the plan after that is empty.
func TestAccMintegralAudience_importBlockAdoptsWithoutRequests(t *testing.T) {
	srv := startSandbox(t)
	ids := seedAudiences(t, srv, "mix", "GAID", "made-in-console")
	dataPath := srv.MintegralAudiences()[0].Files[0].DataPath
	posts := srv.MintegralAudienceCalls("POST")
	config := fmt.Sprintf(`
import {
  to = audience_mintegral_audience.test
  id = "%d"
}

resource "audience_mintegral_audience" "test" {
  name     = "made-in-console"
  platform = "mix"
  files = [{
    device_type = "GAID"
    data_path   = %q
  }]
}
`, ids[0], dataPath)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(audienceAddr, plancheck.ResourceActionUpdate),
						plancheck.ExpectKnownValue(audienceAddr, tfjsonpath.New("ta_id"), knownvalue.Int64Exact(ids[0])),
						plancheck.ExpectKnownValue(audienceAddr, tfjsonpath.New("updatable_after"), knownvalue.StringRegexp(regexp.MustCompile(`Z$`))),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(audienceAddr, tfjsonpath.New("files").AtSliceIndex(0).AtMapKey("data_path"), knownvalue.StringExact(dataPath)),
				},
			},
			{
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
		},
	})
	if n := srv.MintegralAudienceCalls("PUT") + srv.MintegralAudienceCalls("POST") - posts; n != 0 {
		t.Fatalf("taking over the audience sent %d create or update requests", n)
	}
}
