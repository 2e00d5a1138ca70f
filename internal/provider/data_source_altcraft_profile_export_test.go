package provider

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/audiencekit/terraform-provider-audience/internal/sandbox"
)

const altcraftExportAddr = "data.audience_altcraft_profile_export.test"

func altcraftExportConfig(body string) string {
	return fmt.Sprintf(`
data "audience_altcraft_profile_export" "test" {
%s
}
`, body)
}

// altcraftSandboxExport is the CSV the sandbox produces for a source and filter.
func altcraftSandboxExport(t *testing.T, sourceType string, id int64, filter map[string]any) []byte {
	t.Helper()
	var b bytes.Buffer
	if _, err := sandbox.AltcraftExport(&b, sourceType, id, filter); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func altcraftSHA256(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// altcraftMentions matches phrases in order, whatever line wrapping Terraform
// applies to the diagnostic.
func altcraftMentions(phrases ...string) *regexp.Regexp {
	parts := make([]string, len(phrases))
	for i, p := range phrases {
		parts[i] = strings.ReplaceAll(regexp.QuoteMeta(p), " ", `\s+`)
	}
	return regexp.MustCompile(`(?s)` + strings.Join(parts, ".*"))
}

// checkAltcraftExportedFile compares the file on disk with the expected export and
// checks every row matches the filter.
func checkAltcraftExportedFile(path string, want []byte, column int, value string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		got, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if !bytes.Equal(got, want) {
			return fmt.Errorf("%s: %d bytes differ from the %d-byte export", path, len(got), len(want))
		}
		rows, err := csv.NewReader(bytes.NewReader(got)).ReadAll()
		if err != nil {
			return err
		}
		for _, r := range rows[1:] {
			if r[column] != value {
				return fmt.Errorf("row %v does not match the filter", r)
			}
		}
		return nil
	}
}

// checkAltcraftTokenNotInState fails if the token shows up in any attribute.
func checkAltcraftTokenNotInState(addr, secret string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		rs, ok := s.RootModule().Resources[addr]
		if !ok {
			return fmt.Errorf("%s not in state", addr)
		}
		for k, v := range rs.Primary.Attributes {
			if strings.Contains(v, secret) {
				return fmt.Errorf("%s.%s holds the API token", addr, k)
			}
		}
		return nil
	}
}

func TestAccSmokeDataAltcraftProfileExport_downloadsFilteredProfiles(t *testing.T) {
	srv := accTarget(t, altcraftPlatform)
	sandboxOnly(t, srv, "exports profiles loaded into the sandbox's panel and compares them with the sandbox's own export")
	logDir := t.TempDir()
	t.Setenv("TF_LOG", "INFO")
	t.Setenv("TF_LOG_PATH_MASK", filepath.Join(logDir, "%s.log"))
	out := filepath.Join(t.TempDir(), "exports")
	token := sandbox.DefaultCredentials().AltcraftToken

	doctors := altcraftSandboxExport(t, "segment", 7, map[string]any{"occupation": "doctor"})
	doctorRows := int64(bytes.Count(doctors, []byte("\n")) - 1)
	typed := map[string]any{"occupation": "doctor", "age": 30, "vip": false}
	typedRows := int64(bytes.Count(altcraftSandboxExport(t, "database", 1, typed), []byte("\n")) - 1)
	if doctorRows == 0 || typedRows == 0 {
		t.Fatalf("the sandbox sources give %d and %d rows; the test needs some", doctorRows, typedRows)
	}
	file := filepath.Join(out, "7_segment_export.csv")
	downloadURL := regexp.MustCompile(`^http://127\.0\.0\.1:\d+/altcraft/api/download/[0-9a-f-]{36}/7_segment_export\.csv$`)

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: altcraftExportConfig(fmt.Sprintf(`
  source_type    = "segment"
  source_id      = 7
  custom_request = { occupation = "doctor" }
  output_dir     = %q
`, out)),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(altcraftExportAddr, tfjsonpath.New("task_id"), knownvalue.StringRegexp(regexp.MustCompile(`^task_[0-9a-f-]{36}$`))),
					statecheck.CompareValuePairs(altcraftExportAddr, tfjsonpath.New("id"), altcraftExportAddr, tfjsonpath.New("task_id"), compare.ValuesSame()),
					statecheck.ExpectKnownValue(altcraftExportAddr, tfjsonpath.New("status"), knownvalue.StringExact("completed")),
					statecheck.ExpectKnownValue(altcraftExportAddr, tfjsonpath.New("file_format"), knownvalue.StringExact("csv")),
					statecheck.ExpectKnownValue(altcraftExportAddr, tfjsonpath.New("total"), knownvalue.Int64Exact(doctorRows)),
					statecheck.ExpectKnownValue(altcraftExportAddr, tfjsonpath.New("errors"), knownvalue.ListExact([]knownvalue.Check{})),
					statecheck.ExpectKnownValue(altcraftExportAddr, tfjsonpath.New("urls"), knownvalue.ListExact([]knownvalue.Check{knownvalue.StringRegexp(downloadURL)})),
					statecheck.ExpectKnownValue(altcraftExportAddr, tfjsonpath.New("files"), knownvalue.ListExact([]knownvalue.Check{
						knownvalue.ObjectExact(map[string]knownvalue.Check{
							"url":    knownvalue.StringRegexp(downloadURL),
							"path":   knownvalue.StringExact(file),
							"size":   knownvalue.Int64Exact(int64(len(doctors))),
							"sha256": knownvalue.StringExact(altcraftSHA256(doctors)),
						}),
					})),
					statecheck.CompareValuePairs(altcraftExportAddr, tfjsonpath.New("urls").AtSliceIndex(0), altcraftExportAddr, tfjsonpath.New("files").AtSliceIndex(0).AtMapKey("url"), compare.ValuesSame()),
				},
				Check: resource.ComposeTestCheckFunc(
					checkAltcraftExportedFile(file, doctors, 5, "doctor"),
					checkAltcraftTokenNotInState(altcraftExportAddr, token),
				),
			},
			{
				// Numbers and booleans reach the platform as such (the
				// sandbox rejects "30" for a number field); without
				// output_dir nothing is downloaded.
				Config: altcraftExportConfig(`
  source_type    = "database"
  source_id      = 1
  custom_request = { occupation = "doctor", age = 30, vip = false }
`),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(altcraftExportAddr, tfjsonpath.New("total"), knownvalue.Int64Exact(typedRows)),
					statecheck.ExpectKnownValue(altcraftExportAddr, tfjsonpath.New("urls"), knownvalue.ListSizeExact(1)),
					statecheck.ExpectKnownValue(altcraftExportAddr, tfjsonpath.New("files"), knownvalue.ListExact([]knownvalue.Check{})),
				},
			},
		},
	})
	if srv.Requests(sandbox.PrefixAltcraft) == 0 {
		t.Fatal("no request reached the Altcraft sandbox")
	}

	// TF_LOG=INFO shows the task's progress, and never the token.
	logs, err := os.ReadFile(filepath.Join(logDir, t.Name()+".log"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Altcraft export task in progress", "progress=40", "progress=100"} {
		if !bytes.Contains(logs, []byte(want)) {
			t.Errorf("the INFO log does not contain %q", want)
		}
	}
	if bytes.Contains(logs, []byte(token)) {
		t.Error("the API token appears in the provider log")
	}
}

func TestAccAltcraftProfileExport_platformErrors(t *testing.T) {
	cases := []struct {
		name   string
		setup  func(*testing.T, *sandbox.Server)
		config string
		want   *regexp.Regexp
	}{
		{
			name:   "bad token",
			setup:  func(t *testing.T, _ *sandbox.Server) { t.Setenv("ALTCRAFT_TOKEN", "not-the-token") },
			config: `source_type = "database"` + "\n" + `source_id = 1`,
			want:   altcraftMentions("Altcraft rejected the export", "error 401: Invalid token", "altcraft.token"),
		},
		{
			name:   "unknown source",
			config: `source_type = "segment"` + "\n" + `source_id = 99`,
			want:   altcraftMentions("Exporting segment 99", "error 400: Bad request: segment 99 not found", "check source_type"),
		},
		{
			name:   "unknown profile field",
			config: `source_type = "database"` + "\n" + `source_id = 1` + "\n" + `custom_request = { shoe_size = 42 }`,
			want:   altcraftMentions("error 400", `unknown profile field "shoe_size"`),
		},
		{
			name:   "failed task",
			setup:  func(_ *testing.T, s *sandbox.Server) { s.FailAltcraftTasks("profile storage unavailable") },
			config: `source_type = "database"` + "\n" + `source_id = 2`,
			want:   altcraftMentions("Altcraft export task failed", `ended with status "error"`, "profile storage unavailable"),
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := requireSandbox(t, altcraftPlatform, "expects the sandbox's error texts for a bad token and unknown sources, and fails a task on purpose")
			if tc.setup != nil {
				tc.setup(t, srv)
			}
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config:      altcraftExportConfig(tc.config),
					ExpectError: tc.want,
				}},
			})
		})
	}
}

func TestAccAltcraftProfileExport_timeout(t *testing.T) {
	srv := requireSandbox(t, altcraftPlatform, "holds the export task at 40% until the read times out")
	srv.HoldAltcraftTasks(40)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: altcraftExportConfig(`
  source_type = "database"
  source_id   = 1
  timeouts    = { read = "2s" }
`),
			ExpectError: regexp.MustCompile(`(?s)Altcraft export timed out.*task_[0-9a-f-]{36}\s+did\s+not\s+finish.*progress\s+40%.*timeouts\.read\s+\(now\s+2s\)`),
		}},
	})
}

// Every local mistake fails the plan before any request reaches Altcraft.
func TestAccAltcraftProfileExport_planTimeValidation(t *testing.T) {
	srv := accTarget(t, altcraftPlatform)
	notADir := writeFile(t, t.TempDir(), "plain.txt", "x")
	cases := []struct {
		name, config string
		env          map[string]string
		want         *regexp.Regexp
	}{
		{name: "source_type", config: `source_type = "table"` + "\n" + `source_id = 1`, want: altcraftMentions("source_type", `"database"`)},
		{name: "source_id", config: `source_type = "database"` + "\n" + `source_id = 0`, want: altcraftMentions("source_id", "at least 1")},
		{name: "file_format", config: `source_type = "database"` + "\n" + `source_id = 1` + "\n" + `file_format = "xlsx"`, want: altcraftMentions("file_format", `"csv"`)},
		{name: "nested custom_request", config: `source_type = "database"` + "\n" + `source_id = 1` + "\n" + `custom_request = { address = { city = "Riga" } }`, want: altcraftMentions("custom_request.address is an object", "string, a number or a boolean")},
		{name: "list custom_request", config: `source_type = "database"` + "\n" + `source_id = 1` + "\n" + `custom_request = ["doctor"]`, want: altcraftMentions("custom_request must be an object", "got a list")},
		{name: "null value", config: `source_type = "database"` + "\n" + `source_id = 1` + "\n" + `custom_request = { city = null }`, want: altcraftMentions("custom_request.city is null")},
		{name: "output_dir is a file", config: `source_type = "database"` + "\n" + `source_id = 1` + "\n" + fmt.Sprintf(`output_dir = %q`, notADir), want: altcraftMentions("output_dir is not a directory", notADir)},
		{name: "missing token", env: map[string]string{"ALTCRAFT_TOKEN": ""}, config: `source_type = "database"` + "\n" + `source_id = 1`, want: altcraftMentions("altcraft.token", "ALTCRAFT_TOKEN")},
		{name: "bad endpoint", env: map[string]string{"ALTCRAFT_ENDPOINT": "panel.example.com"}, config: `source_type = "database"` + "\n" + `source_id = 1`, want: altcraftMentions("Invalid Altcraft setting", "altcraft.endpoint", "ALTCRAFT_ENDPOINT")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config:      altcraftExportConfig(tc.config),
					PlanOnly:    true,
					ExpectError: tc.want,
				}},
			})
		})
	}
	if srv == nil {
		return
	}
	if n := srv.Requests(sandbox.PrefixAltcraft); n != 0 {
		t.Fatalf("%d requests reached the Altcraft sandbox; plan-time validation must send nothing", n)
	}
}
