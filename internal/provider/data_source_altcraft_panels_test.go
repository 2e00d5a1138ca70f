package provider

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/audiencekit/terraform-provider-audience/internal/sandbox"
)

// output_dir downloads work against both panel generations: a new panel
// takes the Authorization header, an old one only ?token=.
func TestAccAltcraftProfileExport_panelGenerations(t *testing.T) {
	for _, panel := range []sandbox.AltcraftPanel{sandbox.AltcraftPanelNew, sandbox.AltcraftPanelOld} {
		t.Run(string(panel), func(t *testing.T) {
			requireSandbox(t, altcraftPlatform, "plays each panel generation (a sandbox mode)", func(c *sandbox.Config) { c.AltcraftPanel = panel })
			dir := t.TempDir()
			want := altcraftSandboxExport(t, "segment", 7, nil)
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config: altcraftExportConfig(fmt.Sprintf("source_type = \"segment\"\nsource_id = 7\noutput_dir = %q", dir)),
					ConfigStateChecks: []statecheck.StateCheck{
						statecheck.ExpectKnownValue(altcraftExportAddr, tfjsonpath.New("files").AtSliceIndex(0).AtMapKey("sha256"), knownvalue.StringExact(altcraftSHA256(want))),
						statecheck.ExpectKnownValue(altcraftExportAddr, tfjsonpath.New("files").AtSliceIndex(0).AtMapKey("url"), knownvalue.StringRegexp(regexp.MustCompile(`^http://[^?]+/7_segment_export\.csv$`))),
					},
					Check: func(*terraform.State) error {
						got, err := os.ReadFile(filepath.Join(dir, "7_segment_export.csv"))
						if err != nil || !bytes.Equal(got, want) {
							return fmt.Errorf("downloaded file differs from the export (%d vs %d bytes, %v)", len(got), len(want), err)
						}
						return nil
					},
				}},
			})
		})
	}
}

// Terraform's DEBUG log of an apply that falls back to ?token= on an old
// panel never holds the token.
func TestAccAltcraftProfileExport_oldPanelLogHoldsNoToken(t *testing.T) {
	if os.Getenv("TF_ACC") == "" || runtime.GOOS != "linux" {
		t.Skip("needs TF_ACC=1 and Linux")
	}
	srv := requireSandbox(t, altcraftPlatform, "plays an older panel (a sandbox mode)", func(c *sandbox.Config) { c.AltcraftPanel = sandbox.AltcraftPanelOld })
	token := srv.Env()["ALTCRAFT_TOKEN"]
	work := t.TempDir()
	cli := providerForCLI(t, work)
	t.Setenv("TF_LOG", "DEBUG")
	dir := mkdir(t, work, "config")
	writeFile(t, dir, "main.tf", `terraform {
  required_providers {
    audience = { source = "audiencekit/audience" }
  }
}

data "audience_altcraft_profile_export" "crm" {
  source_type = "segment"
  source_id   = 7
  output_dir  = "${path.module}/exports"
}

output "files" { value = data.audience_altcraft_profile_export.crm.files }
`)
	out, err := exec.Command(cli, "-chdir="+dir, "apply", "-auto-approve", "-no-color", "-input=false").CombinedOutput()
	if err != nil {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	log := string(out)
	if !strings.Contains(log, "sending the token in the URL") {
		t.Errorf("the fallback to ?token= is not in the log")
	}
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, token) {
			t.Errorf("the token is in a log line: %s", l)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "exports", "7_segment_export.csv")); err != nil {
		t.Errorf("export not downloaded: %v", err)
	}
}
