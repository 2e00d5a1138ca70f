package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-version"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

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
	srv := accTarget(t, mintegralPlatform)
	dir := t.TempDir()
	name, renamed := accName("ios-buyers"), accName("ios-buyers-2")
	file := accName("idfa.txt")
	src := writeFile(t, dir, file, "idfa\n6D92078A-8246-4BA4-AE5B-76104861E7DC\n")
	sameID := statecheck.CompareValue(compare.ValuesSame())
	newID := statecheck.CompareValue(compare.ValuesDiffer())
	var firstID int64

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: audienceConfig(src, name, "ios", "IDFA"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(audienceAddr, tfjsonpath.New("area_type"), knownvalue.Int64Exact(1)),
					statecheck.ExpectKnownValue(audienceAddr, tfjsonpath.New("device_types"), knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("IDFA")})),
					sameID.AddStateValue(audienceAddr, tfjsonpath.New("ta_id")),
					newID.AddStateValue(audienceAddr, tfjsonpath.New("ta_id")),
				},
				Check: onSandbox(srv, resource.ComposeTestCheckFunc(checkAudienceMatchesSandbox(t, srv), func(*terraform.State) error {
					firstID = onlyAudience(t, srv).ID
					return nil
				})),
			},
			{
				Config: audienceConfig(src, name, "ios", "IDFA"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
			{
				// New content → new upload → new data_path → PUT on the same
				// audience, once its 12-hour window has passed: the sandbox's
				// clock is moved, so a real account skips the step.
				SkipFunc: skipOnReal(srv),
				PreConfig: func() {
					if srv == nil {
						return // PreConfig runs before SkipFunc
					}
					srv.BackdateMintegralAudience(firstID, 13*time.Hour)
					writeFile(t, dir, file, "idfa\nAEBE52E7-03EE-455A-B3C4-E57283966239\n")
				},
				Config: audienceConfig(src, name, "ios", "IDFA"),
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
				Config: audienceConfig(src, renamed, "ios", "IDFA"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(audienceAddr, plancheck.ResourceActionDestroyBeforeCreate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					newID.AddStateValue(audienceAddr, tfjsonpath.New("ta_id")),
					statecheck.ExpectKnownValue(audienceAddr, tfjsonpath.New("name"), knownvalue.StringExact(renamed)),
				},
				Check: onSandbox(srv, checkAudienceMatchesSandbox(t, srv)),
			},
		},
		CheckDestroy: checkNoAudienceNamed(name, renamed),
	})
	if srv == nil {
		return
	}
	if n := len(srv.MintegralAudiences()); n != 0 {
		t.Fatalf("%d audiences left after destroy", n)
	}
}

// Inside the 12-hour window an update is applied as a record only: state
// takes the configured files and keeps Mintegral's times; the plans after
// it are empty until the window has passed, then the update goes out.
func TestAccMintegralAudience_updateInsideWindowIsPostponed(t *testing.T) {
	srv := requireSandbox(t, mintegralPlatform, "moves the clock past the 12-hour window, drops an answer and counts the update requests")
	dir := t.TempDir()
	src := writeFile(t, dir, "gaid.csv", "gaid\n38400000-8cf0-11bd-b23e-10b96e40000d\n")
	config := audienceConfig(src, "android-gaid", "android", "GAID")
	var firstPath string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: config, Check: func(*terraform.State) error { firstPath = onlyAudience(t, srv).Files[0].DataPath; return nil }},
			{
				PreConfig: func() { writeFile(t, dir, "gaid.csv", "gaid\n11111111-8cf0-11bd-b23e-10b96e40000d\n") },
				Config:    config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(audienceAddr, plancheck.ResourceActionUpdate),
						plancheck.ExpectUnknownValue(audienceAddr, tfjsonpath.New("files").AtSliceIndex(0).AtMapKey("data_path")),
						// Update decides by the clock at apply time.
						plancheck.ExpectUnknownValue(audienceAddr, tfjsonpath.New("updated_at")),
						plancheck.ExpectKnownValue(audienceAddr, tfjsonpath.New("device_types"), knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("GAID")})),
					},
				},
				Check: func(s *terraform.State) error {
					if n := srv.MintegralAudienceCalls("PUT"); n != 0 {
						return fmt.Errorf("%d update requests inside the window", n)
					}
					attrs := s.RootModule().Resources[audienceAddr].Primary.Attributes
					if want := onlyAudience(t, srv).Updated.UTC().Format(time.RFC3339); attrs["updated_at"] != want {
						return fmt.Errorf("updated_at %s, want Mintegral's %s", attrs["updated_at"], want)
					}
					if got := onlyAudience(t, srv).Files[0].DataPath; got != firstPath {
						return fmt.Errorf("Mintegral holds %s, want the first file %s", got, firstPath)
					}
					newPath := s.RootModule().Resources["audience_mintegral_file.devices"].Primary.Attributes["data_path"]
					if got := s.RootModule().Resources[audienceAddr].Primary.Attributes["files.0.data_path"]; got != newPath || newPath == firstPath {
						return fmt.Errorf("state files.0.data_path %s, want the new upload %s", got, newPath)
					}
					return nil
				},
			},
			// While the update waits, plans are empty.
			{Config: config, PlanOnly: true},
			{
				// After the window the update goes out; its answer is lost,
				// and reading the audience back shows it took effect.
				PreConfig: func() {
					srv.BackdateMintegralAudience(onlyAudience(t, srv).ID, 13*time.Hour)
					srv.AddFault(sandbox.Fault{Method: "PUT", PathPrefix: sandbox.PrefixMintegral + "/api/open/v1/audience", DropResponse: true})
				},
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(audienceAddr, plancheck.ResourceActionUpdate),
						plancheck.ExpectUnknownValue(audienceAddr, tfjsonpath.New("updated_at")),
						plancheck.ExpectUnknownValue(audienceAddr, tfjsonpath.New("updatable_after")),
					},
				},
				Check: resource.ComposeTestCheckFunc(checkAudienceMatchesSandbox(t, srv), func(*terraform.State) error {
					// The one that took effect, and its repeat, which the
					// 12-hour rule refused because the first had landed.
					if n := srv.MintegralAudienceCalls("PUT"); n != 2 {
						return fmt.Errorf("%d update requests after the window, want 2", n)
					}
					return nil
				}),
			},
			{Config: config, PlanOnly: true},
		},
	})
}

// planCheckFunc is a plan check written inline.
type planCheckFunc func(plancheck.CheckPlanRequest) error

func (f planCheckFunc) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	resp.Error = f(req)
}

// firstDataPath is files[0].data_path (or mintegral_files') of a plan's
// before or after value; "" when absent.
func firstDataPath(values any, attribute string) string {
	m, _ := values.(map[string]any)
	list, _ := m[attribute].([]any)
	if len(list) == 0 {
		return ""
	}
	f, _ := list[0].(map[string]any)
	dp, _ := f["data_path"].(string)
	return dp
}

// The plan that finally sends a postponed update shows it: mintegral_files
// goes from the files Mintegral holds to the ones it gets, while files,
// which state took when the update was postponed, shows no change. Plans
// inside the window stay empty.
func TestAccMintegralAudience_postponedUpdateShownWhenSent(t *testing.T) {
	srv := requireSandbox(t, mintegralPlatform, "moves the clock past the 12-hour window and counts the update requests")
	dir := t.TempDir()
	src := writeFile(t, dir, "idfa.txt", "idfa\n6D92078A-8246-4BA4-AE5B-76104861E7DC\n")
	config := audienceConfig(src, "ios-held", "ios", "IDFA")
	var firstPath, newPath string
	is := func(want *string) knownvalue.Check {
		return knownvalue.StringFunc(func(v string) error {
			if v != *want {
				return fmt.Errorf("data_path %s, want %s", v, *want)
			}
			return nil
		})
	}
	mintegralFiles := tfjsonpath.New("mintegral_files").AtSliceIndex(0).AtMapKey("data_path")
	files := tfjsonpath.New("files").AtSliceIndex(0).AtMapKey("data_path")
	sameAsFiles := statecheck.CompareValuePairs(audienceAddr, mintegralFiles, audienceAddr, files, compare.ValuesSame())
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:            config,
				ConfigStateChecks: []statecheck.StateCheck{sameAsFiles},
				Check:             func(*terraform.State) error { firstPath = onlyAudience(t, srv).Files[0].DataPath; return nil },
			},
			{
				// New content inside the window: whether it goes out is
				// decided at apply, by the clock then; it is held back.
				PreConfig: func() { writeFile(t, dir, "idfa.txt", "idfa\nAEBE52E7-03EE-455A-B3C4-E57283966239\n") },
				Config:    config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(audienceAddr, plancheck.ResourceActionUpdate),
						plancheck.ExpectUnknownValue(audienceAddr, tfjsonpath.New("mintegral_files")),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{statecheck.ExpectKnownValue(audienceAddr, mintegralFiles, is(&firstPath))},
				Check: func(s *terraform.State) error {
					newPath = s.RootModule().Resources["audience_mintegral_file.devices"].Primary.Attributes["data_path"]
					if got := s.RootModule().Resources[audienceAddr].Primary.Attributes["files.0.data_path"]; got != newPath || newPath == firstPath {
						return fmt.Errorf("state files.0.data_path %s, want the new upload %s", got, newPath)
					}
					if n := srv.MintegralAudienceCalls("PUT"); n != 0 {
						return fmt.Errorf("%d update requests inside the window", n)
					}
					return nil
				},
			},
			{
				// While it waits: nothing to plan.
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
			{
				// The window has passed: the plan sends it and shows it.
				PreConfig: func() { srv.BackdateMintegralAudience(onlyAudience(t, srv).ID, 13*time.Hour) },
				Config:    config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(audienceAddr, plancheck.ResourceActionUpdate),
						plancheck.ExpectKnownValue(audienceAddr, mintegralFiles, is(&newPath)),
						plancheck.ExpectKnownValue(audienceAddr, files, is(&newPath)),
						plancheck.ExpectUnknownValue(audienceAddr, tfjsonpath.New("updated_at")),
						planCheckFunc(func(req plancheck.CheckPlanRequest) error {
							for _, rc := range req.Plan.ResourceChanges {
								if rc.Address != audienceAddr {
									continue
								}
								if before, after := firstDataPath(rc.Change.Before, "mintegral_files"), firstDataPath(rc.Change.After, "mintegral_files"); before != firstPath || after != newPath {
									return fmt.Errorf("mintegral_files %s -> %s, want %s -> %s", before, after, firstPath, newPath)
								}
								if before := firstDataPath(rc.Change.Before, "files"); before != newPath {
									return fmt.Errorf("files before the plan %s, want the recorded %s", before, newPath)
								}
								return nil
							}
							return fmt.Errorf("no change planned for %s", audienceAddr)
						}),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{sameAsFiles},
				Check: resource.ComposeTestCheckFunc(checkAudienceMatchesSandbox(t, srv), func(*terraform.State) error {
					if n := srv.MintegralAudienceCalls("PUT"); n != 1 {
						return fmt.Errorf("%d update requests, want 1", n)
					}
					return nil
				}),
			},
			{
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
		},
	})
}

// When the platform refuses anyway (its clock is ahead of ours), its own
// message surfaces at apply.
func TestAccMintegralAudience_platformRefusalSurfacesAtApply(t *testing.T) {
	srv := requireSandbox(t, mintegralPlatform, "plays a platform whose window is 24 hours (a sandbox mode), moves its clock and expects its wording of the refusal",
		func(c *sandbox.Config) { c.MintegralUpdateWindow = 24 * time.Hour })
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
	srv := accTarget(t, mintegralPlatform)
	name := accName("ios-idfv")
	src := writeFile(t, t.TempDir(), accName("idfv.txt"), "idfv\n6D92078A-8246-4BA4-AE5B-76104861E7DC\n")
	config := audienceConfig(src, name, "ios", "IDFV")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: config},
			{
				// terraform import: everything but files and mintegral_files
				// (Mintegral does not return data paths) matches the created
				// state.
				ResourceName:            audienceAddr,
				ImportState:             true,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"files", "mintegral_files", "timeouts"},
			},
			{
				// An import {} block: the import reads what Mintegral
				// reports; the configured files, which Mintegral's list
				// cannot confirm, plan an update.
				Config:             config,
				ResourceName:       audienceAddr,
				ImportState:        true,
				ImportStateKind:    resource.ImportBlockWithID,
				ExpectNonEmptyPlan: true,
				ImportPlanChecks: resource.ImportPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectKnownValue(audienceAddr, tfjsonpath.New("device_types"), knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("IDFV")})),
						plancheck.ExpectKnownValue(audienceAddr, tfjsonpath.New("name"), knownvalue.StringExact(name)),
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
		CheckDestroy: checkNoAudienceNamed(name),
	})
	if srv == nil {
		return
	}
	if n := srv.MintegralAudienceCalls("PUT"); n != 0 {
		t.Fatalf("%d update requests, want 0", n)
	}
}

// An audience deleted or renamed in Mintegral shows in the next plan.
func TestAccMintegralAudience_driftFromOutsideTerraform(t *testing.T) {
	srv := requireSandbox(t, mintegralPlatform, "renames and changes the audience in the sandbox's console and moves the clock")
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
				// device types read back call for an update, which that
				// change's own 12-hour window postpones...
				PreConfig: func() {
					a := onlyAudience(t, srv)
					srv.BackdateMintegralAudience(a.ID, 13*time.Hour)
					err := sandboxMintegralClient(srv).UpdateAudience(context.Background(), a.ID, []mintegral.AudienceFile{{DeviceType: "IMEI_MD5", DataPath: a.Files[0].DataPath}}, a.Updated)
					if err != nil {
						t.Fatal(err)
					}
				},
				Config:   config,
				PlanOnly: true, // an empty plan: the update waits for the window
			},
			{
				// ...until it has passed; then the configured files are put back.
				PreConfig: func() { srv.BackdateMintegralAudience(onlyAudience(t, srv).ID, 13*time.Hour) },
				Config:    config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(audienceAddr, plancheck.ResourceActionUpdate),
						plancheck.ExpectUnknownValue(audienceAddr, tfjsonpath.New("device_types")),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(audienceAddr, tfjsonpath.New("device_types"), knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("IMEI")})),
				},
				Check: checkAudienceMatchesSandbox(t, srv),
			},
		},
	})
}

func TestAccMintegralAudience_planTimeValidation(t *testing.T) {
	srv := accTarget(t, mintegralPlatform)
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
	if srv == nil {
		return
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
	srv := requireSandbox(t, mintegralPlatform, "drops the answer to the create and counts the create requests")
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

// Audiences made in Mintegral's console are taken over with import {}
// blocks: one with files left out is adopted as it is, without a request;
// one whose files are written (a new upload of its list) gets them in one
// update. The plan after that is empty.
func TestAccMintegralAudience_importBlocks(t *testing.T) {
	srv := requireSandbox(t, mintegralPlatform, "seeds console-made audiences in the sandbox and reads its records")
	ids := seedConsoleAudiences(t, srv, 2, sandbox.MintegralSeed{Platform: 3, DeviceType: 3})
	src := writeFile(t, t.TempDir(), "gaid.txt", "gaid\n38400000-8cf0-11bd-b23e-10b96e40000d\n")
	config := fmt.Sprintf(`
import {
  to = audience_mintegral_audience.as_is
  id = "%d"
}

resource "audience_mintegral_audience" "as_is" {
  name     = "console-audience-0001"
  platform = "mix"
}

import {
  to = audience_mintegral_audience.managed
  id = "%d"
}

resource "audience_mintegral_file" "gaid" {
  source = %q
}

resource "audience_mintegral_audience" "managed" {
  name     = "console-audience-0002"
  platform = "mix"
  files = [{
    device_type = "GAID"
    data_path   = audience_mintegral_file.gaid.data_path
  }]
}
`, ids[0], ids[1], src)
	consoleFile := srv.MintegralAudiences()[0].Files[0]
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction("audience_mintegral_audience.as_is", plancheck.ResourceActionNoop),
						plancheck.ExpectResourceAction("audience_mintegral_audience.managed", plancheck.ResourceActionUpdate),
						plancheck.ExpectUnknownValue("audience_mintegral_audience.managed", tfjsonpath.New("updated_at")),
						// What Mintegral will hold: the files written by hand.
						plancheck.ExpectKnownValue("audience_mintegral_audience.managed", tfjsonpath.New("mintegral_files").AtSliceIndex(0).AtMapKey("device_type"), knownvalue.StringExact("GAID")),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("audience_mintegral_audience.as_is", tfjsonpath.New("files"), knownvalue.Null()),
					// Terraform does not know the files an adopted audience holds.
					statecheck.ExpectKnownValue("audience_mintegral_audience.as_is", tfjsonpath.New("mintegral_files"), knownvalue.Null()),
					statecheck.CompareValuePairs("audience_mintegral_audience.managed", tfjsonpath.New("mintegral_files"), "audience_mintegral_audience.managed", tfjsonpath.New("files"), compare.ValuesSame()),
					statecheck.ExpectKnownValue("audience_mintegral_audience.as_is", tfjsonpath.New("device_types"), knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("GAID")})),
				},
				Check: func(s *terraform.State) error {
					all := srv.MintegralAudiences()
					if all[0].Files[0] != consoleFile {
						return fmt.Errorf("the audience adopted as it is changed: %+v", all[0].Files)
					}
					if dp := s.RootModule().Resources["audience_mintegral_file.gaid"].Primary.Attributes["data_path"]; all[1].Files[0].DataPath != dp {
						return fmt.Errorf("Mintegral holds %+v for the managed audience, want %s", all[1].Files, dp)
					}
					return nil
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
	if n, m := srv.MintegralAudienceCalls("POST"), srv.MintegralAudienceCalls("PUT"); n != 0 || m != 1 {
		t.Fatalf("%d creates and %d updates, want 0 and 1", n, m)
	}
}

// windowConfig is a file → audience pipeline beside an unrelated upload,
// as CLI configuration; without the audience when withAudience is false.
// Sources are absolute: the provider served in-process runs in the
// test's directory, not Terraform's.
func windowConfig(dir string, withAudience bool) string {
	config := providerBlock + fmt.Sprintf(`
resource "audience_mintegral_file" "devices" {
  source = %q
}

resource "audience_mintegral_file" "other" {
  source = %q
}
`, filepath.Join(dir, "devices.txt"), filepath.Join(dir, "other.txt"))
	if withAudience {
		config += `
resource "audience_mintegral_audience" "a" {
  name     = "ios-buyers"
  platform = "ios"
  files = [{
    device_type = "IDFA"
    data_path   = audience_mintegral_file.devices.data_path
  }]
}
`
	}
	return config
}

// appliedRecord decodes the mintegral_applied private record of the
// audience in w's state; nil when there is none.
func appliedRecord(t *testing.T, w *cliWorkdir) map[string]any {
	t.Helper()
	_, _, private := w.instance("audience_mintegral_audience", "a")
	raw, ok := private["mintegral_applied"]
	if !ok {
		return nil
	}
	var rec map[string]any
	if err := json.Unmarshal(raw, &rec); err != nil {
		t.Fatalf("mintegral_applied %s: %v", raw, err)
	}
	return rec
}

// wantRecord asserts the record's exact shape: the files Mintegral holds
// and the pending mark.
func wantRecord(t *testing.T, w *cliWorkdir, dataPath string, pending bool) {
	t.Helper()
	got, _ := json.Marshal(appliedRecord(t, w))
	want, _ := json.Marshal(map[string]any{"files": []map[string]string{{"device_type": "IDFA", "data_path": dataPath}}, "pending": pending})
	if string(got) != string(want) {
		t.Fatalf("mintegral_applied = %s, want %s", got, want)
	}
}

// heldSinceRecord is the audience's mintegral_held_since private record;
// "" when there is none.
func heldSinceRecord(t *testing.T, w *cliWorkdir) string {
	t.Helper()
	_, _, private := w.instance("audience_mintegral_audience", "a")
	raw, ok := private["mintegral_held_since"]
	if !ok {
		return ""
	}
	var since string
	if err := json.Unmarshal(raw, &since); err != nil {
		t.Fatalf("mintegral_held_since %s: %v", raw, err)
	}
	return since
}

// dropStateAttribute removes an attribute from a resource instance in
// the local state file, as state written before the attribute existed.
func dropStateAttribute(t *testing.T, w *cliWorkdir, typ, name, attribute string) {
	t.Helper()
	file := filepath.Join(w.Dir, "terraform.tfstate")
	raw, err := os.ReadFile(file) // a small test state file
	if err != nil {
		t.Fatal(err)
	}
	var st map[string]any
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatal(err)
	}
	dropped := false
	for _, r := range st["resources"].([]any) {
		r := r.(map[string]any)
		if r["type"] != typ || r["name"] != name {
			continue
		}
		for _, in := range r["instances"].([]any) {
			attrs := in.(map[string]any)["attributes"].(map[string]any)
			_, dropped = attrs[attribute]
			delete(attrs, attribute)
		}
	}
	if !dropped {
		t.Fatalf("no %s in %s.%s to drop", attribute, typ, name)
	}
	if raw, err = json.MarshalIndent(st, "", "  "); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, raw, 0o600); err != nil {
		t.Fatal(err)
	}
}

// expectWarnings fails unless the CLI output holds exactly n warnings.
func expectWarnings(t *testing.T, out string, n int) {
	t.Helper()
	if got := strings.Count(out, "Warning: "); got != n {
		t.Fatalf("%d warnings, want %d:\n%s", got, n, out)
	}
}

func stateDataPath(t *testing.T, w *cliWorkdir, name string) string {
	t.Helper()
	attrs, _, _ := w.instance("audience_mintegral_file", name)
	return attrs["data_path"].(string)
}

// Inside the 12-hour window an update is postponed, not refused: the rest
// of the run applies, plans stay empty while it waits, the update goes
// out once the window has passed, and destroy works at any time in every
// form (destroy, apply -destroy, -target, removal from the configuration).
func TestAccMintegralAudience_updateWindowJourney(t *testing.T) {
	srv := requireSandbox(t, mintegralPlatform, "moves the clock past the 12-hour window and counts the update requests")
	w := newCLIWorkdir(t)
	w.write("main.tf", windowConfig(w.Dir, true))
	devices := func(id string) { w.write("devices.txt", "idfa\n"+id+"\n") }
	devices("6D92078A-8246-4BA4-AE5B-76104861E7DC")
	w.write("other.txt", "idfa\nAEBE52E7-03EE-455A-B3C4-E57283966239\n")
	w.ok("init")
	w.ok("apply", "-auto-approve")
	a := onlyAudience(t, srv)
	applied := stateDataPath(t, w, "devices")
	wantRecord(t, w, applied, false)
	// Terraform and OpenTofu store the identity from 1.12 on.
	if attrs, identity, _ := w.instance("audience_mintegral_audience", "a"); !w.version.LessThan(version.Must(version.NewVersion("1.12.0"))) {
		if fmt.Sprint(identity["ta_id"]) != strconv.FormatInt(a.ID, 10) || attrs["ta_id"] != identity["ta_id"] {
			t.Fatalf("identity %v, ta_id %v, sandbox %d", identity, attrs["ta_id"], a.ID)
		}
	}

	// New content inside the window, and an unrelated change in the same run.
	devices("11111111-8246-4BA4-AE5B-76104861E7DC")
	otherBefore := stateDataPath(t, w, "other")
	w.write("other.txt", "idfa\n22222222-03EE-455A-B3C4-E57283966239\n")
	attrs, _, _ := w.instance("audience_mintegral_audience", "a")
	warning := []string{
		fmt.Sprintf(`Audience "ios-buyers" (ta_id %d) was last changed at %s, and Mintegral refuses another update until %s (in 1`, a.ID, attrs["updated_at"], attrs["updatable_after"]),
		"The first plan after " + attrs["updatable_after"].(string) + " updates it."}
	// One warning in the plan, and one in the apply (Terraform plans
	// again at apply and folds that plan's warning into the first).
	out := w.ok("plan")
	expectIn(t, out, append(warning, fmt.Sprintf(`Warning: Update of Mintegral audience "ios-buyers" (ta_id %d) postponed`, a.ID), "Applied before then, this plan sends nothing for it and records the configured files in state (mintegral_files keeps what Mintegral holds); applied after, it sends them.")...)
	expectWarnings(t, out, 1)
	out = w.ok("apply", "-auto-approve")
	expectIn(t, out, append(warning, fmt.Sprintf(`Warning: Update of Mintegral audience "ios-buyers" (ta_id %d) postponed`, a.ID), "Apply complete! Resources: 0 added, 3 changed, 0 destroyed.")...)
	expectWarnings(t, out, 1)
	if n := srv.MintegralAudienceCalls("PUT"); n != 0 {
		t.Fatalf("%d updates sent inside the window", n)
	}
	if got := onlyAudience(t, srv).Files[0].DataPath; got != applied {
		t.Fatalf("Mintegral holds %s, want the previous %s", got, applied)
	}
	if other := stateDataPath(t, w, "other"); other == otherBefore {
		t.Fatal("the unrelated upload was held back too")
	}
	configured := stateDataPath(t, w, "devices")
	if attrs, _, _ := w.instance("audience_mintegral_audience", "a"); attrs["files"].([]any)[0].(map[string]any)["data_path"] != configured {
		t.Fatalf("state files %v, want the configured %s", attrs["files"], configured)
	}
	if attrs, _, _ := w.instance("audience_mintegral_audience", "a"); attrs["mintegral_files"].([]any)[0].(map[string]any)["data_path"] != applied {
		t.Fatalf("state mintegral_files %v, want what Mintegral holds: %s", attrs["mintegral_files"], applied)
	}
	wantRecord(t, w, applied, true)
	heldSince := heldSinceRecord(t, w)
	if at, err := time.Parse(time.RFC3339, heldSince); err != nil || time.Since(at) > time.Minute {
		t.Fatalf("mintegral_held_since %q (%v), want the held apply's time", heldSince, err)
	}
	// State written by the release before mintegral_files: refresh fills it.
	dropStateAttribute(t, w, "audience_mintegral_audience", "a", "mintegral_files")
	// While it waits, plans are empty and say why, once.
	out = w.emptyPlan()
	expectIn(t, out, append(warning, fmt.Sprintf(`Warning: Update of Mintegral audience "ios-buyers" (ta_id %d) postponed`, a.ID), "Until then plans are empty for it")...)
	expectWarnings(t, out, 1)

	// After the window the update is planned and sent, and the plan shows
	// what Mintegral gets and since when it waited.
	srv.BackdateMintegralAudience(a.ID, 13*time.Hour)
	out, _ = w.run([]int{2}, "plan", "-detailed-exitcode")
	expectIn(t, out, "audience_mintegral_audience.a will be updated in-place", "updated_at", "(known after apply)",
		fmt.Sprintf(`~ data_path = "%s" -> "%s"`, applied, configured),
		fmt.Sprintf(`Warning: Postponed update of Mintegral audience "ios-buyers" (ta_id %d) goes out`, a.ID),
		fmt.Sprintf(`This plan carries the update of audience "ios-buyers" (ta_id %d) held back since %s by Mintegral's 12-hour window`, a.ID, heldSince))
	expectWarnings(t, out, 1)
	w.ok("apply", "-auto-approve")
	if n := srv.MintegralAudienceCalls("PUT"); n != 1 {
		t.Fatalf("%d updates sent after the window, want 1", n)
	}
	if got := onlyAudience(t, srv).Files[0].DataPath; got != configured {
		t.Fatalf("Mintegral holds %s after the update, want %s", got, configured)
	}
	wantRecord(t, w, configured, false)
	if since := heldSinceRecord(t, w); since != "" {
		t.Fatalf("mintegral_held_since %q left after the update went out", since)
	}
	expectWarnings(t, w.emptyPlan(), 0)

	// Each form of destroy, inside the window with a change pending.
	pend := func(id string) {
		t.Helper()
		devices(id)
		out := w.ok("apply", "-auto-approve")
		expectIn(t, out, `Warning: Update of Mintegral audience "ios-buyers" (ta_id `)
		expectWarnings(t, out, 1)
		if rec := appliedRecord(t, w); rec["pending"] != true {
			t.Fatalf("no update pending: %v", rec)
		}
	}
	gone := func(how string) {
		t.Helper()
		if n := len(srv.MintegralAudiences()); n != 0 {
			t.Fatalf("%s left %d audiences", how, n)
		}
	}
	pend("33333333-8246-4BA4-AE5B-76104861E7DC")
	w.ok("destroy", "-auto-approve", "-target=audience_mintegral_audience.a")
	gone("destroy -target")
	w.ok("apply", "-auto-approve") // a new audience: its window starts now
	pend("44444444-8246-4BA4-AE5B-76104861E7DC")
	w.ok("apply", "-destroy", "-auto-approve")
	gone("apply -destroy")
	w.ok("apply", "-auto-approve")
	pend("55555555-8246-4BA4-AE5B-76104861E7DC")
	w.write("main.tf", windowConfig(w.Dir, false))
	expectIn(t, w.ok("apply", "-auto-approve"), "Resources: 0 added, 0 changed, 1 destroyed.")
	gone("removal from the configuration")
	w.write("main.tf", windowConfig(w.Dir, true))
	w.ok("apply", "-auto-approve")
	pend("66666666-8246-4BA4-AE5B-76104861E7DC")
	w.ok("destroy", "-auto-approve")
	gone("destroy")
}

// The identity (ta_id) is set by create, read, update and import, and an
// import block can name the audience by it (Terraform and OpenTofu 1.12
// and later; older CLIs never see it).
func TestAccMintegralAudience_identity(t *testing.T) {
	srv := accTarget(t, mintegralPlatform)
	dir := t.TempDir()
	name, file := accName("ios-identity"), accName("idfa.txt")
	src := writeFile(t, dir, file, "idfa\n6D92078A-8246-4BA4-AE5B-76104861E7DC\n")
	config := audienceConfig(src, name, "ios", "IDFA")
	identityIsTaID := statecheck.ExpectIdentityValueMatchesState(audienceAddr, tfjsonpath.New("ta_id"))
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_12_0)},
		Steps: []resource.TestStep{
			{
				Config: config,
				ConfigStateChecks: []statecheck.StateCheck{
					identityIsTaID,
					statecheck.ExpectIdentity(audienceAddr, map[string]knownvalue.Check{"ta_id": knownvalue.Int64Func(func(v int64) error {
						if srv == nil {
							return nil // the account's records cannot be read
						}
						if want := onlyAudience(t, srv).ID; v != want {
							return fmt.Errorf("identity ta_id %d, sandbox %d", v, want)
						}
						return nil
					})}),
				},
			},
			{
				// import { to = …, identity = { ta_id = … } }
				Config:             config,
				ResourceName:       audienceAddr,
				ImportState:        true,
				ImportStateKind:    resource.ImportBlockWithResourceIdentity,
				ExpectNonEmptyPlan: true, // the configured files are recorded
				ImportPlanChecks: resource.ImportPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectKnownValue(audienceAddr, tfjsonpath.New("name"), knownvalue.StringExact(name)),
						plancheck.ExpectKnownValue(audienceAddr, tfjsonpath.New("device_types"), knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("IDFA")})),
					},
				},
			},
			{
				// An update keeps it, and so does the refresh before it. The
				// sandbox's clock is moved, so a real account skips the step.
				SkipFunc: skipOnReal(srv),
				PreConfig: func() {
					if srv == nil {
						return // PreConfig runs before SkipFunc
					}
					srv.BackdateMintegralAudience(onlyAudience(t, srv).ID, 13*time.Hour)
					writeFile(t, dir, file, "idfa\nAEBE52E7-03EE-455A-B3C4-E57283966239\n")
				},
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(audienceAddr, plancheck.ResourceActionUpdate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{identityIsTaID},
				Check:             onSandbox(srv, checkAudienceMatchesSandbox(t, srv)),
			},
		},
		CheckDestroy: checkNoAudienceNamed(name),
	})
}

func filesList(dataPaths ...string) types.List {
	elems := make([]attr.Value, len(dataPaths))
	objType := map[string]attr.Type{"device_type": types.StringType, "data_path": types.StringType}
	for i, dp := range dataPaths {
		path := types.StringValue(dp)
		if dp == "?" {
			path = types.StringUnknown()
		}
		elems[i] = types.ObjectValueMust(objType, map[string]attr.Value{"device_type": types.StringValue("IDFA"), "data_path": path})
	}
	return types.ListValueMust(types.ObjectType{AttrTypes: objType}, elems)
}

// What Mintegral holds decides whether files are sent: the record, else
// state; an imported audience's files are unknown, so they are sent.
func TestNeedsSend(t *testing.T) {
	ctx := context.Background()
	idfa := stringList([]string{"IDFA"})
	held := &mintegralApplied{Files: []mintegralAppliedFile{{DeviceType: "IDFA", DataPath: "s3://b/old"}}}
	for _, tc := range []struct {
		name       string
		stateFiles types.List
		stateTypes types.List
		applied    *mintegralApplied
		planFiles  types.List
		want       bool
	}{
		{"unchanged", filesList("s3://b/old"), idfa, held, filesList("s3://b/old"), false},
		{"new upload, path unknown at plan", filesList("s3://b/old"), idfa, held, filesList("?"), true},
		{"new path", filesList("s3://b/old"), idfa, held, filesList("s3://b/new"), true},
		{"pending, config unchanged", filesList("s3://b/new"), idfa, &mintegralApplied{Files: held.Files, Pending: true}, filesList("s3://b/new"), true},
		{"pending, config back to what Mintegral holds", filesList("s3://b/new"), idfa, &mintegralApplied{Files: held.Files, Pending: true}, filesList("s3://b/old"), false},
		{"device types changed in the console", filesList("s3://b/old"), stringList([]string{"IDFA_MD5"}), held, filesList("s3://b/old"), true},
		{"state from before the record", filesList("s3://b/old"), idfa, nil, filesList("s3://b/old"), false},
		{"imported, files written by hand", types.ListNull(filesList().ElementType(ctx)), idfa, nil, filesList("s3://b/old"), true},
		{"imported, pending with files unknown", filesList("s3://b/old"), idfa, &mintegralApplied{Files: []mintegralAppliedFile{}, Pending: true}, filesList("s3://b/old"), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			state := mintegralAudienceModel{Files: tc.stateFiles, DeviceTypes: tc.stateTypes}
			plan := mintegralAudienceModel{Files: tc.planFiles}
			var diags diag.Diagnostics
			if got := needsSend(ctx, state, plan, plannedDeviceTypes(ctx, tc.planFiles, &diags), tc.applied); got != tc.want || diags.HasError() {
				t.Fatalf("needsSend = %v, want %v (%v)", got, tc.want, diags)
			}
		})
	}
}

func TestPostponedWarningSaysWhen(t *testing.T) {
	now := time.Date(2026, 11, 30, 7, 32, 22, 0, time.UTC)
	r := &MintegralAudienceResource{now: func() time.Time { return now }}
	state := mintegralAudienceModel{Name: types.StringValue("ios-buyers"), TaID: types.Int64Value(1148),
		UpdatedAt: types.StringValue("2026-11-30T07:30:22Z"), UpdatableAfter: types.StringValue("2026-11-30T19:30:22Z")}
	d := r.postponed(state, "Nothing is sent.")
	want := `Audience "ios-buyers" (ta_id 1148) was last changed at 2026-11-30T07:30:22Z, and Mintegral refuses another update until 2026-11-30T19:30:22Z (in 11h58m), so its update waits until then. Nothing is sent. The first plan after 2026-11-30T19:30:22Z updates it.`
	if len(d) != 1 || d[0].Severity() != diag.SeverityWarning || d[0].Summary() != `Update of Mintegral audience "ios-buyers" (ta_id 1148) postponed` || !strings.HasPrefix(d[0].Detail(), want) {
		t.Fatalf("got %v", d)
	}
	now = time.Date(2026, 11, 30, 19, 30, 0, 0, time.UTC)
	if got := r.postponed(state, "w")[0].Detail(); !strings.Contains(got, "(in under a minute)") {
		t.Fatalf("22 seconds before: %s", got)
	}
}

// adoptedConfig adopts two console audiences without files (import blocks
// kept, as generated) beside a managed audience built from a file; with
// filesFor, that adopted audience's files are written from the same file;
// an adopted audience not in keep is left out, blocks and all.
func adoptedConfig(dir string, ids []int64, keep map[int]bool, filesFor int) string {
	config := providerBlock + fmt.Sprintf(`
resource "audience_mintegral_file" "devices" {
  source = %q
}

resource "audience_mintegral_audience" "managed" {
  name     = "tf-managed"
  platform = "ios"
  files = [{
    device_type = "IDFA"
    data_path   = audience_mintegral_file.devices.data_path
  }]
}
`, filepath.Join(dir, "devices.txt"))
	for i, id := range ids {
		if !keep[i] {
			continue
		}
		files := ""
		if i == filesFor {
			files = `
  files = [{
    device_type = "IDFA"
    data_path   = audience_mintegral_file.devices.data_path
  }]`
		}
		config += fmt.Sprintf(`
import {
  to = audience_mintegral_audience.adopted_%d
  id = "%d"
}

resource "audience_mintegral_audience" "adopted_%d" {
  name     = "console-audience-%04d"
  platform = "ios"%s
}
`, i, id, i, i+1, files)
	}
	return config
}

// An audience adopted without files, then deleted in Mintegral's console,
// does not fail the root's plans: refresh warns, naming it and saying to
// delete its blocks, and the other resources plan and apply. It stays in
// state (without files it cannot be created again) until its blocks are
// deleted, and leaves it then without a request that fails; files written
// for one replace it with a new audience. A managed audience deleted
// outside leaves the state and is created again from its files, and the
// warning says so.
func TestAccMintegralAudience_adoptedAudienceDeletedInConsole(t *testing.T) {
	srv := requireSandbox(t, mintegralPlatform, "seeds console-made audiences in the sandbox and deletes them there")
	ids := seedConsoleAudiences(t, srv, 2, sandbox.MintegralSeed{Platform: 2})
	w := newCLIWorkdir(t)
	both := map[int]bool{0: true, 1: true}
	w.write("main.tf", adoptedConfig(w.Dir, ids, both, -1))
	w.write("devices.txt", "idfa\n6D92078A-8246-4BA4-AE5B-76104861E7DC\n")
	w.ok("init")
	expectIn(t, w.ok("apply", "-auto-approve"), "Apply complete! Resources: 2 imported, 2 added, 0 changed, 0 destroyed.")
	managed, _, _ := w.instance("audience_mintegral_audience", "managed")
	client := sandboxMintegralClient(srv)
	for _, id := range []int64{ids[0], ids[1], int64(managed["ta_id"].(float64))} {
		if err := client.DeleteAudience(context.Background(), id); err != nil {
			t.Fatal(err)
		}
	}
	// And an unrelated change: new content for the file.
	w.write("devices.txt", "idfa\nAEBE52E7-03EE-455A-B3C4-E57283966239\n")

	adoptedWarning := func(i int) []string {
		return []string{
			fmt.Sprintf(`Warning: Adopted Mintegral audience "console-audience-%04d" (ta_id %d) no longer exists`, i+1, ids[i]),
			fmt.Sprintf("with audience_mintegral_audience.adopted_%d", i),
			fmt.Sprintf(`Mintegral no longer lists audience "console-audience-%04d" (ta_id %d)`, i+1, ids[i]),
			"Delete its resource block, and its import block if that is still there",
		}
	}
	out, _ := w.run([]int{2}, "plan", "-detailed-exitcode")
	expectIn(t, out, append(append(adoptedWarning(0), adoptedWarning(1)...),
		fmt.Sprintf(`Warning: Mintegral audience "tf-managed" (ta_id %d) no longer exists`, int64(managed["ta_id"].(float64))), "with audience_mintegral_audience.managed",
		"It leaves the state, and this plan creates it again from its files",
		"Plan: 1 to add, 1 to change, 0 to destroy.")...)
	expectWarnings(t, out, 3)
	expectIn(t, w.ok("apply", "-auto-approve"), "Apply complete! Resources: 1 added, 1 changed, 0 destroyed.")
	if all := srv.MintegralAudiences(); len(all) != 1 || all[0].Name != "tf-managed" {
		t.Fatalf("Mintegral holds %+v, want the managed audience created again", all)
	}
	// The adopted ones stay in state, and plans leave them alone.
	expectIn(t, w.emptyPlan(), append(adoptedWarning(0), adoptedWarning(1)...)...)

	// Files written for one: it is replaced by a new audience. The
	// other's blocks deleted: it leaves the state.
	w.write("main.tf", adoptedConfig(w.Dir, ids, map[int]bool{1: true}, 1))
	out, _ = w.run([]int{2}, "plan", "-detailed-exitcode")
	expectIn(t, out, "audience_mintegral_audience.adopted_0 will be destroyed", "audience_mintegral_audience.adopted_1 must be replaced",
		"Plan: 1 to add, 0 to change, 2 to destroy.")
	expectIn(t, w.ok("apply", "-auto-approve"), "Apply complete! Resources: 1 added, 0 changed, 2 destroyed.")
	if n := len(srv.MintegralAudiences()); n != 2 {
		t.Fatalf("Mintegral holds %d audiences, want the managed one and the new adopted_1", n)
	}
	attrs, _, _ := w.instance("audience_mintegral_audience", "adopted_1")
	if attrs["ta_id"] == float64(ids[1]) {
		t.Fatalf("adopted_1 kept the deleted ta_id %d", ids[1])
	}
	expectWarnings(t, w.emptyPlan(), 0)
}

func TestHeldFilesList(t *testing.T) {
	ctx := context.Background()
	idfa := stringList([]string{"IDFA"})
	old := []mintegralAppliedFile{{DeviceType: "IDFA", DataPath: "s3://b/old"}}
	nullFiles := types.ListNull(filesList().ElementType(ctx))
	for _, tc := range []struct {
		name       string
		applied    *mintegralApplied
		stateFiles types.List
		types      types.List
		want       string // the data path, or "" for null
	}{
		{"as sent", &mintegralApplied{Files: old}, filesList("s3://b/old"), idfa, "s3://b/old"},
		{"pending: what Mintegral holds, not the configured files", &mintegralApplied{Files: old, Pending: true}, filesList("s3://b/new"), idfa, "s3://b/old"},
		{"state from before the record", nil, filesList("s3://b/old"), idfa, "s3://b/old"},
		{"imported, never sent", nil, nullFiles, idfa, ""},
		{"imported, pending with files unknown", &mintegralApplied{Files: []mintegralAppliedFile{}, Pending: true}, filesList("s3://b/new"), idfa, ""},
		{"device types changed in the console", &mintegralApplied{Files: old}, filesList("s3://b/old"), stringList([]string{"IDFA_MD5"}), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := heldFilesList(ctx, tc.applied, tc.stateFiles, tc.types)
			if tc.want == "" {
				if !got.IsNull() {
					t.Fatalf("got %s, want null", got)
				}
				return
			}
			var files []mintegralAudienceFileModel
			if diags := got.ElementsAs(ctx, &files, false); diags.HasError() || len(files) != 1 || files[0].DataPath.ValueString() != tc.want || files[0].DeviceType.ValueString() != "IDFA" {
				t.Fatalf("got %s, want %s (%v)", got, tc.want, diags)
			}
		})
	}
}

// ModifyPlan and Read write the model back only when unchanged says it
// differs: a change in any one attribute, null against unknown included,
// must count.
func TestUnchangedComparesEveryAttribute(t *testing.T) {
	files := types.ListValueMust(types.ObjectType{AttrTypes: mintegralFileAttrTypes}, []attr.Value{
		types.ObjectValueMust(mintegralFileAttrTypes, map[string]attr.Value{"device_type": types.StringValue("GAID"), "data_path": types.StringValue("s3://b/k")}),
	})
	base := mintegralAudienceModel{
		ID: types.StringValue("7"), TaID: types.Int64Value(7), Name: types.StringValue("a"), AreaType: types.Int64Value(1),
		Platform: types.StringValue("android"), Files: files, MintegralFiles: files,
		DeviceTypes: types.ListValueMust(types.StringType, []attr.Value{types.StringValue("GAID")}),
		CreatedAt:   types.StringValue("2026-01-01T00:00:00Z"), UpdatedAt: types.StringNull(), UpdatableAfter: types.StringUnknown(),
	}
	base.Timeouts.Object = types.ObjectNull(map[string]attr.Type{"create": types.StringType})
	if !unchanged(base, base) {
		t.Fatal("a model differs from itself")
	}
	changes := map[string]func(m *mintegralAudienceModel){
		"name":            func(m *mintegralAudienceModel) { m.Name = types.StringValue("b") },
		"ta_id":           func(m *mintegralAudienceModel) { m.TaID = types.Int64Value(8) },
		"updated_at":      func(m *mintegralAudienceModel) { m.UpdatedAt = types.StringUnknown() },
		"updatable_after": func(m *mintegralAudienceModel) { m.UpdatableAfter = types.StringNull() },
		"device_types":    func(m *mintegralAudienceModel) { m.DeviceTypes = types.ListUnknown(types.StringType) },
		"mintegral_files": func(m *mintegralAudienceModel) {
			m.MintegralFiles = types.ListNull(files.ElementType(context.Background()))
		},
	}
	for name, change := range changes {
		changed := base
		change(&changed)
		if unchanged(base, changed) {
			t.Errorf("a change of %s counts as unchanged", name)
		}
	}
}
