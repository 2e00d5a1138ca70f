package provider

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/audiencekit/terraform-provider-audience/internal/client/transfer"
)

// floatInLog is a log field printed in exponent notation, what a number
// becomes on its way through Terraform's log pipeline.
var floatInLog = regexp.MustCompile(`\w+="?-?[0-9.]+e[+-][0-9]+"?`)

// TestAccProviderLog_exactSizes runs the provider as Terraform runs it
// (a child process whose log lines Terraform decodes and prints) with
// TF_LOG=DEBUG, over files of more than a million bytes: every size is
// printed exact, none as 2.22e+06.
func TestAccProviderLog_exactSizes(t *testing.T) {
	if os.Getenv("TF_ACC") == "" || runtime.GOOS != "linux" {
		t.Skip("needs TF_ACC=1 and Linux")
	}
	startSandbox(t)
	work := t.TempDir()
	cli := providerForCLI(t, work)
	t.Setenv("TF_LOG", "DEBUG")

	dir := mkdir(t, work, "config")
	var export strings.Builder
	export.WriteString("_pid,idfa\n")
	for i := range 40000 {
		fmt.Fprintf(&export, "%d,%08X-8246-4BA4-AE5B-76104861E7DC\n", i, i)
	}
	writeFile(t, mkdir(t, dir, "exports"), "crm.csv", export.String())
	listSize := int64(40000 * 37)
	writeFile(t, dir, "main.tf", `terraform {
  required_providers {
    audience = { source = "audiencekit/audience" }
  }
}

data "audience_id_list" "idfa" {
  source      = "${path.module}/exports/crm.csv"
  column      = "idfa"
  output_path = "${path.module}/build/idfa.txt"
}

resource "audience_mintegral_file" "idfa" {
  source = data.audience_id_list.idfa.output_path
}
`)
	cmd := exec.Command(cli, "-chdir="+dir, "apply", "-auto-approve", "-no-color", "-input=false")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	log := string(out)
	exact := `size="` + transfer.LogBytes(listSize) + `"`
	for _, line := range []string{"wrote id list", "upload source", "uploading audience file to Mintegral"} {
		found := false
		for _, l := range strings.Split(log, "\n") {
			if strings.Contains(l, line+":") && strings.Contains(l, exact) {
				found = true
			}
		}
		if !found {
			t.Errorf("no %q line with %s in the log", line, exact)
		}
	}
	if !strings.Contains(log, `bytes_total=`+fmt.Sprint(listSize)) {
		t.Errorf("the upload progress does not give bytes_total=%d", listSize)
	}
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, "provider.terraform-provider-audience") && floatInLog.MatchString(l) {
			t.Errorf("a number printed as a float: %s\n%s", floatInLog.FindString(l), l)
		}
	}
	if t.Failed() {
		t.Logf("log:\n%s", log)
	}
}
