package provider

import (
	"encoding/base64"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/audiencekit/terraform-provider-audience/internal/sandbox"
)

// traceLine matches one wire trace line of the provider's DEBUG log and
// captures its message ("Mintegral API call").
var traceLine = regexp.MustCompile(`provider\.terraform-provider-audience.*: (\w+ (?:API|storage) call):`)

// TestAccWireTrace runs a Mintegral file and audience and a TPNS package
// with TF_LOG_PROVIDER=DEBUG: every call logs one trace line with its
// method, URL, status, request id, duration and the answer's shape, and
// no credential, token, signature or presigned query is in the log.
func TestAccWireTrace(t *testing.T) {
	if os.Getenv("TF_ACC") == "" || runtime.GOOS != "linux" {
		t.Skip("needs TF_ACC=1 and Linux")
	}
	srv := startSandbox(t)
	work := t.TempDir()
	cli := providerForCLI(t, work)
	t.Setenv("TF_LOG_PROVIDER", "DEBUG")
	dir := mkdir(t, work, "config")
	writeFile(t, dir, "gaid.txt", "gaid\n38400000-8cf0-11bd-b23e-10b96e40000d\n")
	writeFile(t, dir, "accounts.txt", "alice-account\nbob-account\n")
	writeFile(t, dir, "main.tf", `terraform {
  required_providers {
    audience = { source = "audiencekit/audience" }
  }
}
resource "audience_mintegral_file" "gaid" { source = "${path.module}/gaid.txt" }
resource "audience_mintegral_audience" "a" {
  name     = "traced"
  platform = "android"
  files    = [{ device_type = "GAID", data_path = audience_mintegral_file.gaid.data_path }]
}
resource "audience_tpns_account_package" "p" { source = "${path.module}/accounts.txt" }
`)
	before := map[string]int{}
	for _, p := range []string{sandbox.PrefixMintegral, sandbox.PrefixS3, sandbox.PrefixTPNS} {
		before[p] = srv.Requests(p)
	}
	out, err := exec.Command(cli, "-chdir="+dir, "apply", "-auto-approve", "-no-color", "-input=false").CombinedOutput()
	if err != nil {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	log := string(out)

	count := map[string]int{}
	for _, l := range strings.Split(log, "\n") {
		m := traceLine.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		count[m[1]]++
		for _, field := range []string{`http_method=`, `http_url=`, `http_status=`, `request_id=`, `duration=`, `attempt=`, `answer_bytes=`} {
			if !strings.Contains(l, field) {
				t.Errorf("trace line lacks %s: %s", field, l)
			}
		}
		if !regexp.MustCompile(`http_url="?http://127\.0\.0\.1:`).MatchString(l) {
			t.Errorf("trace line without the sandbox's URL: %s", l)
		}
		if strings.Contains(m[1], "API") && !regexp.MustCompile(`answer="?\{`).MatchString(l) {
			t.Errorf("API trace line without the answer's JSON shape: %s", l)
		}
	}
	// One line per request the sandbox saw.
	for msg, prefix := range map[string]string{"Mintegral API call": sandbox.PrefixMintegral, "Mintegral storage call": sandbox.PrefixS3, "TPNS API call": sandbox.PrefixTPNS} {
		if want := srv.Requests(prefix) - before[prefix]; want == 0 || count[msg] != want {
			t.Errorf("%d %q lines, want %d (one per request)", count[msg], msg, want)
		}
	}
	// The shapes name keys and types, never values.
	for _, want := range []string{"answer=" + strconv.Quote(`{"code": number, "data": {"area_type": number, "file_md5": string, "file_name": string, "s3": {"data_path": string, "method": string, "url": string}, "ttl": number}, "message": string}`)} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %s", want)
		}
	}
	creds := sandbox.DefaultCredentials()
	for _, secret := range []string{creds.MintegralAPIKey, creds.TPNSSecretKey,
		base64.StdEncoding.EncodeToString([]byte(creds.TPNSAccessID + ":" + creds.TPNSSecretKey)),
		"alice-account", "38400000-8cf0-11bd-b23e-10b96e40000d"} {
		if strings.Contains(log, secret) {
			t.Errorf("the log holds %q", secret)
		}
	}
	if m := regexp.MustCompile(`(?i)[?&](X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token|Signature|token|file_name|ta_name)=[^*&\s"]`).FindString(log); m != "" {
		t.Errorf("the log holds a query value: %s", m)
	}
	if t.Failed() {
		t.Logf("log:\n%s", log)
	}
}
