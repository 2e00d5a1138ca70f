package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
)

// cliConfig is a configuration with every resource and data source of the
// provider, as a team writes it: an Altcraft export turned into ID lists,
// uploaded to Mintegral and TPNS, an audience built on the upload, and the
// other platforms' uploads. Keys are "resource TYPE" and "data TYPE";
// TestCLIConfigHasEveryType keeps it complete.
var cliConfig = map[string]string{
	"data audience_altcraft_profile_export": `
data "audience_altcraft_profile_export" "crm" {
  source_type    = "segment"
  source_id      = 7
  custom_request = { occupation = "doctor" }
  output_dir     = "${path.module}/exports"
}
`,
	"resource audience_altcraft_profile_export": `
# The same CRM's whole database, exported once a day whatever the number
# of jobs.
resource "audience_altcraft_profile_export" "daily" {
  source_type = "database"
  source_id   = 2
  output_dir  = "${path.module}/daily"
  max_age     = "24h"
}

output "daily_profiles" {
  value = audience_altcraft_profile_export.daily.total
}
`,
	"data audience_id_list": `
data "audience_id_list" "idfa" {
  source      = data.audience_altcraft_profile_export.crm.files[0].path
  column      = "idfa"
  output_path = "${path.module}/idfa.txt"
  case        = "upper"
  format      = "uuid"
  invalid     = "skip"
}

data "audience_id_list" "accounts" {
  source      = data.audience_altcraft_profile_export.crm.files[0].path
  column      = "_pid"
  output_path = "${path.module}/accounts.txt"
}

# A number a data source read, as an output (the documented pipeline has
# one): refresh-only compares it too.
output "devices" {
  value = data.audience_id_list.idfa.entry_count
}
`,
	"resource audience_mintegral_file": `
resource "audience_mintegral_file" "ios" {
  source = data.audience_id_list.idfa.output_path
}
`,
	"resource audience_mintegral_audience": `
resource "audience_mintegral_audience" "ios" {
  name     = "cli-ios-doctors"
  platform = "ios"
  files = [{
    device_type = "IDFA"
    data_path   = audience_mintegral_file.ios.data_path
  }]
}

output "ta_id" {
  value = audience_mintegral_audience.ios.ta_id
}
`,
	"data audience_mintegral_audiences": `
data "audience_mintegral_audiences" "ios" {
  platform = "ios"
}
`,
	"resource audience_tpns_account_package": `
resource "audience_tpns_account_package" "doctors" {
  source = data.audience_id_list.accounts.output_path
}
`,
	"resource audience_futuredemand_upload": `
resource "audience_futuredemand_upload" "newsletter" {
  source = "${path.module}/newsletter.csv"
}
`,
	"resource audience_futuredemand_ingest": `
resource "audience_futuredemand_ingest" "sales" {
  source = "${path.module}/sales.xlsx"
  kind   = "transaction_summary"
  eid    = "evt_cli"
}
`,
	"resource audience_futuredemand_media": `
resource "audience_futuredemand_media" "banner" {
  source = "${path.module}/banner.png"
}
`,
	"resource audience_openim_object": `
resource "audience_openim_object" "vip" {
  source = "${path.module}/vip_users.csv"
  group  = "audience"
}
`,
}

// cliFiles are the local files cliConfig reads besides the export.
var cliFiles = map[string]string{
	"newsletter.csv": "email_sha256\n" + strings.Repeat("a", 64) + "\n" + strings.Repeat("b", 64) + "\n",
	"vip_users.csv":  "user_id\nu-1001\nu-1002\n",
}

// The configuration of the CLI test must use every type the provider
// serves: a type added without a block here is a type no CLI is checked to
// plan cleanly with.
func TestCLIConfigHasEveryType(t *testing.T) {
	resp, err := NewServer("test")().GetProviderSchema(context.Background(), &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for name := range resp.ResourceSchemas {
		want["resource "+name] = true
	}
	for name := range resp.DataSourceSchemas {
		want["data "+name] = true
	}
	for _, key := range slices.Sorted(maps.Keys(want)) {
		if _, ok := cliConfig[key]; !ok {
			t.Errorf("cliConfig (cli_acc_test.go) has no %s: add a block that uses it as a team would", key)
		}
	}
	for _, key := range slices.Sorted(maps.Keys(cliConfig)) {
		if !want[key] {
			t.Errorf("cliConfig has a block for %s, which the provider does not serve", key)
		}
		kind, typeName, _ := strings.Cut(key, " ")
		if !regexp.MustCompile(`(?m)^` + kind + ` "` + typeName + `" `).MatchString(cliConfig[key]) {
			t.Errorf("cliConfig[%q] declares no %s", key, key)
		}
	}
}

// TestAccCLI_plansCleanlyAndRefreshOnlyExitCodes runs the CLI of this run
// (TF_ACC_TERRAFORM_PATH, or terraform on PATH) as a pipeline does, with the
// provider built as released: make test runs it under the Terraform on
// PATH, the pinned Terraform and the pinned OpenTofu.
//
// The configuration of every type plans cleanly (no warning but the
// development override's), applies, and plans empty. Then a drift job:
// `plan -refresh-only -detailed-exitcode` exits 0 when nothing changed and
// 2 when an audience was renamed in Mintegral's console, and the saved
// plan's resource_drift names what changed. Where the CLI has `terraform
// query`, the list examples run too; elsewhere they are ignored.
func TestAccCLI_plansCleanlyAndRefreshOnlyExitCodes(t *testing.T) {
	if os.Getenv("TF_ACC") == "" {
		t.Skip("needs TF_ACC=1")
	}
	srv := startSandbox(t)
	work := t.TempDir()
	cli := providerForCLI(t, work)
	dir := mkdir(t, work, "config")
	writeConfig := func(blocks map[string]string) {
		config := `terraform {
  required_providers {
    audience = { source = "audiencekit/audience" }
  }
}
`
		for _, key := range slices.Sorted(maps.Keys(blocks)) {
			config += blocks[key]
		}
		writeFile(t, dir, "main.tf", config)
	}
	writeConfig(cliConfig)
	for name, content := range cliFiles {
		writeFile(t, dir, name, content)
	}
	writeFile(t, dir, "sales.xlsx", workbook(t, "tickets", 0))
	writeFile(t, dir, "banner.png", pngCreative(512, 'b'))
	queries, err := filepath.Glob("../../examples/list-resources/*/*.tfquery.hcl")
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range queries {
		// Copied as they are: list files beside the configuration, which
		// CLIs without list resources must ignore.
		content, err := os.ReadFile(q) // a small example from the repository
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, dir, filepath.Base(filepath.Dir(q))+"."+filepath.Base(q), string(content))
	}
	tf := cliRunner{t: t, cli: cli, dir: dir}
	name, version := tf.version()
	t.Logf("%s %s", name, version)

	tf.run(0, "validate")
	tf.noWarnings(tf.run(2, "plan", "-detailed-exitcode"))
	tf.run(0, "apply", "-auto-approve")
	audiences := srv.MintegralAudiences()
	if len(audiences) != 1 {
		t.Fatalf("%d audiences in Mintegral after the apply, want 1", len(audiences))
	}
	tf.noWarnings(tf.run(0, "plan", "-detailed-exitcode"))
	if len(queries) > 0 && tf.has("query") {
		tf.run(0, "query")
	}

	// A drift job on a workspace nothing touched. Terraform 1.15 and 1.16
	// count every data source in state as changed by a refresh (its stored
	// JSON is compared byte for byte with the new, compact one), so their
	// exit code is 2 whenever the configuration has a data source; the
	// plan's resource_drift, which the README tells drift jobs to read, is
	// empty under every CLI.
	want := 0
	if name == "Terraform" && versionAtLeast(version, 1, 15) {
		want = 2
	}
	if drift := tf.refreshOnly(want); len(drift) != 0 {
		t.Fatalf("resource_drift %v, nothing changed", drift)
	}

	// The same resources without data sources, reading the files the lists
	// wrote: nothing changes, and the apply drops the data sources from
	// state. Then the exit code says it all under every CLI.
	resources := map[string]string{}
	for key, block := range cliConfig {
		if strings.HasPrefix(key, "resource ") {
			resources[key] = block
		}
	}
	resources["resource audience_mintegral_file"] = strings.ReplaceAll(resources["resource audience_mintegral_file"], "data.audience_id_list.idfa.output_path", `"${path.module}/idfa.txt"`)
	resources["resource audience_tpns_account_package"] = strings.ReplaceAll(resources["resource audience_tpns_account_package"], "data.audience_id_list.accounts.output_path", `"${path.module}/accounts.txt"`)
	writeConfig(resources)
	// Only the data source's output goes.
	if out := tf.run(2, "plan", "-detailed-exitcode"); !strings.Contains(out, "Changes to Outputs") || strings.Contains(out, "will be ") {
		t.Fatalf("the plan without data sources changes more than their output:\n%s", out)
	}
	tf.run(0, "apply", "-auto-approve")
	if drift := tf.refreshOnly(0); len(drift) != 0 {
		t.Fatalf("resource_drift %v, nothing changed", drift)
	}

	// Renamed in the console: the drift job alerts and names the change.
	srv.RenameMintegralAudience(audiences[0].ID, "renamed-in-console")
	if drift := tf.refreshOnly(2); !slices.Equal(drift, []string{"audience_mintegral_audience.ios"}) {
		t.Fatalf("resource_drift %v, want the renamed audience", drift)
	}
	tf.contains(tf.run(2, "plan", "-refresh-only", "-detailed-exitcode"), `"cli-ios-doctors" -> "renamed-in-console"`)
	// Accepting the drift records it; the configuration's name then
	// replaces the audience, and the workspace is clean again.
	tf.run(0, "apply", "-refresh-only", "-auto-approve")
	tf.refreshOnly(0)
	tf.contains(tf.run(2, "plan", "-detailed-exitcode"), "must be replaced")
	tf.run(0, "apply", "-auto-approve")
	tf.run(0, "plan", "-detailed-exitcode")
	tf.refreshOnly(0)

	tf.run(0, "destroy", "-auto-approve")
	if n := len(srv.MintegralAudiences()); n != 0 {
		t.Fatalf("%d audiences left in Mintegral after destroy", n)
	}
}

// providerForCLI builds the provider as it is released into work and
// points the CLI of this run at it through dev_overrides (the unqualified
// address, which both Terraform and OpenTofu resolve), so the CLI starts it
// as a child process per command, as in production. It returns the CLI:
// TF_ACC_TERRAFORM_PATH (OpenTofu under make testacc-tofu), or terraform.
func providerForCLI(t *testing.T, work string) string {
	t.Helper()
	bin := mkdir(t, work, "bin")
	buildProvider(t, filepath.Join(bin, "terraform-provider-audience"))
	writeFile(t, work, "terraformrc", `provider_installation {
  dev_overrides { "audiencekit/audience" = "`+bin+`" }
  direct {}
}
`)
	t.Setenv("TF_CLI_CONFIG_FILE", filepath.Join(work, "terraformrc"))
	t.Setenv("XDG_CACHE_HOME", mkdir(t, work, "cache"))
	t.Setenv("TF_REATTACH_PROVIDERS", "")
	t.Setenv("CHECKPOINT_DISABLE", "1")
	t.Setenv("TF_IN_AUTOMATION", "1")
	if cli := os.Getenv("TF_ACC_TERRAFORM_PATH"); cli != "" {
		return cli
	}
	return "terraform"
}

// cliRunner runs one CLI in one configuration directory.
type cliRunner struct {
	t        *testing.T
	cli, dir string
}

// run runs a command and fails the test unless it exits with want; it
// returns the combined output.
func (r cliRunner) run(want int, args ...string) string {
	r.t.Helper()
	full := []string{"-chdir=" + r.dir, args[0], "-no-color"}
	switch args[0] {
	case "plan", "apply", "destroy":
		full = append(full, "-input=false")
	case "version":
		full = full[:2]
	}
	full = append(full, args[1:]...)
	out, err := exec.Command(r.cli, full...).CombinedOutput()
	code := 0
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		r.t.Fatalf("%s: %v", r.cli, err)
	}
	if code != want {
		r.t.Fatalf("%s %s: exit %d, want %d\n%s", filepath.Base(r.cli), strings.Join(args, " "), code, want, out)
	}
	return string(out)
}

// version returns the CLI's name (Terraform or OpenTofu) and version.
func (r cliRunner) version() (string, string) {
	r.t.Helper()
	out := r.run(0, "version")
	m := regexp.MustCompile(`(?m)^(Terraform|OpenTofu) v(\d+\.\d+\.\d+)`).FindStringSubmatch(out)
	if m == nil {
		r.t.Fatalf("%s version: no version in %q", r.cli, out)
	}
	return m[1], m[2]
}

// versionAtLeast reports whether version (1.2.3) is major.minor or newer.
func versionAtLeast(version string, major, minor int) bool {
	var gotMajor, gotMinor, gotPatch int
	if _, err := fmt.Sscanf(version, "%d.%d.%d", &gotMajor, &gotMinor, &gotPatch); err != nil {
		return false
	}
	return gotMajor > major || gotMajor == major && gotMinor >= minor
}

// refreshOnly runs a drift job's plan, `plan -refresh-only
// -detailed-exitcode -out`, fails the test unless it exits with want and
// prints no warning, and returns the addresses in the saved plan's
// resource_drift.
func (r cliRunner) refreshOnly(want int) []string {
	r.t.Helper()
	r.noWarnings(r.run(want, "plan", "-refresh-only", "-detailed-exitcode", "-out=drift.tfplan"))
	var plan struct {
		ResourceDrift []struct {
			Address string `json:"address"`
		} `json:"resource_drift"`
	}
	out := r.run(0, "show", "-json", "drift.tfplan")
	if err := json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &plan); err != nil {
		r.t.Fatalf("show -json: %v\n%s", err, out)
	}
	var addrs []string
	for _, d := range plan.ResourceDrift {
		addrs = append(addrs, d.Address)
	}
	return addrs
}

// has reports whether the CLI knows a subcommand.
func (r cliRunner) has(subcommand string) bool {
	return exec.Command(r.cli, subcommand, "-help").Run() == nil
}

// contains fails the test unless out holds phrase, whatever the wrapping.
func (r cliRunner) contains(out, phrase string) {
	r.t.Helper()
	if !strings.Contains(strings.Join(strings.Fields(out), " "), phrase) {
		r.t.Fatalf("output lacks %q:\n%s", phrase, out)
	}
}

// noWarnings fails the test on any warning but the one every command with
// dev_overrides prints.
func (r cliRunner) noWarnings(out string) {
	r.t.Helper()
	for _, m := range regexp.MustCompile(`(?m)^[│ ]*Warning: (.*)$`).FindAllStringSubmatch(out, -1) {
		if !strings.Contains(m[1], "Provider development overrides are in effect") {
			r.t.Errorf("unexpected warning %q:\n%s", m[1], out)
		}
	}
}

// buildProvider builds the provider binary at path, for tests that run a
// real CLI starting it as a child process, as in production.
func buildProvider(t *testing.T, path string) {
	t.Helper()
	build := exec.Command("go", "build", "-o", path, "../..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
}
