package provider

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/audiencekit/terraform-provider-audience/internal/sandbox"
)

// TestAccUpload_terraformCommands runs the provider as Terraform runs it in
// production, a child process per walk, so the behaviour that depends on
// the command (apply of a saved plan, destroy) is checked end to end.
func TestAccUpload_terraformCommands(t *testing.T) {
	if os.Getenv("TF_ACC") == "" || runtime.GOOS != "linux" {
		t.Skip("needs TF_ACC=1 and Linux")
	}
	srv := startSandbox(t)
	work := t.TempDir()
	cli := providerForCLI(t, work)
	dir := mkdir(t, work, "config")
	writeFile(t, dir, "main.tf", `terraform {
  required_providers {
    audience = { source = "audiencekit/audience" }
  }
}
resource "audience_mintegral_file" "f" { source = "${path.module}/devices.txt" }
`)
	content := func(n string) { writeFile(t, dir, "devices.txt", "idfa\n"+n+"\n") }
	tf := func(wantOK bool, args ...string) string {
		t.Helper()
		full := append([]string{"-chdir=" + dir, args[0], "-no-color", "-input=false"}, args[1:]...)
		cmd := exec.Command(cli, full...)
		out, err := cmd.CombinedOutput()
		if (err == nil) != wantOK {
			t.Fatalf("%s %s: err %v, want ok=%v\n%s", cli, strings.Join(args, " "), err, wantOK, out)
		}
		return string(out)
	}
	expect := func(out string, phrases ...string) {
		t.Helper()
		flat := strings.Join(strings.Fields(out), " ")
		for _, p := range phrases {
			if !strings.Contains(flat, p) {
				t.Fatalf("output lacks %q:\n%s", p, out)
			}
		}
	}

	content("1")
	tf(true, "apply", "-auto-approve")
	uploads := srv.Requests(sandbox.PrefixS3)

	// plan -out, edit, apply PLAN: the provider's error, nothing sent.
	content("2")
	tf(true, "plan", "-out=tfplan")
	content("3")
	expect(tf(false, "apply", "tfplan"), "source changed since plan: planned md5 "+md5hex("idfa\n2\n")+", now "+md5hex("idfa\n3\n")+"; run "+joinCLI(cliOf([]string{cli}), "plan")+" again")
	if n := srv.Requests(sandbox.PrefixS3); n != uploads {
		t.Fatalf("%d uploads after a refused apply", n-uploads)
	}

	// plan, edit, plan: a new plan, not a refused apply.
	content("4")
	tf(true, "plan")
	content("5")
	expect(tf(true, "plan"), "update in-place", md5hex("idfa\n5\n"))
	tf(true, "apply", "-auto-approve")

	// A plan that only moves the source uploads nothing, and still the
	// apply of that plan refuses content edited after it (found by the
	// journey, seed 1002).
	config := func(source string) {
		writeFile(t, dir, "main.tf", `terraform {
  required_providers {
    audience = { source = "audiencekit/audience" }
  }
}
resource "audience_mintegral_file" "f" { source = "${path.module}/`+source+`" }
`)
	}
	writeFile(t, mkdir(t, dir, "lists"), "devices.txt", "idfa\n5\n")
	config("lists/devices.txt")
	expect(tf(true, "plan", "-out=tfplan"), `~ source = "./devices.txt" -> "./lists/devices.txt"`)
	writeFile(t, dir, "lists/devices.txt", "idfa\n6\n")
	uploads = srv.Requests(sandbox.PrefixS3)
	expect(tf(false, "apply", "tfplan"), "source changed since plan: planned md5 "+md5hex("idfa\n5\n")+", now "+md5hex("idfa\n6\n"))
	if n := srv.Requests(sandbox.PrefixS3); n != uploads {
		t.Fatalf("%d uploads after a refused apply", n-uploads)
	}
	config("devices.txt")

	// A missing source fails plan naming the file; destroy works and warns.
	if err := os.Remove(filepath.Join(dir, "devices.txt")); err != nil {
		t.Fatal(err)
	}
	expect(tf(false, "plan"), "Source file not found", "devices.txt does not exist", "Restore the file, or remove the resource from the configuration")
	expect(tf(false, "apply", "-auto-approve"), "Source file not found", "devices.txt does not exist")
	expect(tf(true, "plan", "-destroy"), "audience_mintegral_file.f will be destroyed")
	expect(tf(true, "destroy", "-auto-approve"), "Mintegral upload stays on the platform", "Destroy complete! Resources: 1 destroyed.")
}
