package provider

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/audiencekit/terraform-provider-audience/internal/filestate"
	"github.com/audiencekit/terraform-provider-audience/internal/sandbox"
)

// mintegralRequests counts every request that reached Mintegral: its API
// and both storage clusters.
func mintegralRequests(srv *sandbox.Server) int {
	return srv.Requests(sandbox.PrefixMintegral) + srv.Requests(sandbox.PrefixS3+"/"+sandbox.BucketMintegralS3) + srv.Requests(sandbox.PrefixOSS)
}

// A file that another upload resource accepts is still checked against
// Mintegral's rules, on every plan and apply: a check passed under one
// platform's rules says nothing of another's. Both resources upload the
// same file under the same name, so before the fix the Mintegral plan
// trusted the other resource's pending plan from the second plan on.
func TestAccUpload_everyResourceChecksItsOwnRules(t *testing.T) {
	others := map[string]string{
		"futuredemand": `resource "audience_futuredemand_upload" "other" { source = %q }`,
		"openim":       `resource "audience_openim_object" "other" { source = %q }`,
	}
	for name, other := range others {
		t.Run(name, func(t *testing.T) {
			srv := startSandbox(t)
			dir := t.TempDir()
			// A CRM export: a second column holding e-mail addresses.
			export := writeFile(t, dir, "crm.csv", "idfa,email\n6D92078A-8246-4BA4-AE5B-76104861E7DC,user1@example.com\nAEBE52E7-03EE-455A-B3C4-E57283966239,user2@example.com\n")
			// One device ID a line, but the gzip stream stops half way.
			var gz bytes.Buffer
			zw := gzip.NewWriter(&gz)
			_, _ = zw.Write(bytes.Repeat([]byte("6D92078A-8246-4BA4-AE5B-76104861E7DC\n"), 2000))
			_ = zw.Close()
			truncated := writeFile(t, dir, "devices.txt.gz", gz.String()[:gz.Len()/2])

			both := func(src string) string {
				return fmt.Sprintf(other, src) + mintegralFileConfig(src, "")
			}
			columns := regexp.MustCompile(`Not a one-column Mintegral audience file[\s\S]*crm\.csv,\s+line\s+1:\s+the\s+line\s+has\s+2\s+comma-separated\s+columns`)
			gzipBroken := regexp.MustCompile(`Source is not valid gzip[\s\S]*devices\.txt\.gz[\s\S]*the gzip file is truncated or corrupt`)
			good := writeFile(t, dir, "ids.txt", "idfa\n6D92078A-8246-4BA4-AE5B-76104861E7DC\n")
			steps := []resource.TestStep{
				// The other resource already holds the export.
				{Config: fmt.Sprintf(other, export)},
			}
			for _, c := range []struct {
				src  string
				want *regexp.Regexp
			}{{export, columns}, {truncated, gzipBroken}} {
				steps = append(steps,
					resource.TestStep{Config: both(c.src), PlanOnly: true, ExpectError: c.want}, // plan 1
					resource.TestStep{Config: both(c.src), PlanOnly: true, ExpectError: c.want}, // plan 2
					resource.TestStep{Config: both(c.src), ExpectError: c.want},                 // apply
					resource.TestStep{Config: both(c.src), ExpectError: c.want},                 // and again
					// The other resource removed: its plans vouch for nothing.
					resource.TestStep{Config: mintegralFileConfig(c.src, ""), PlanOnly: true, ExpectError: c.want},
					resource.TestStep{Config: mintegralFileConfig(c.src, ""), ExpectError: c.want},
				)
			}
			// A one-column file both accept: shared, it uploads to both.
			steps = append(steps, resource.TestStep{
				PreConfig: func() {
					if n := mintegralRequests(srv); n != 0 {
						t.Fatalf("%d requests reached Mintegral; its content rules must refuse the file at plan", n)
					}
				},
				Config: both(good),
				Check:  checkStoredObject(srv, "idfa\n6D92078A-8246-4BA4-AE5B-76104861E7DC\n"),
			})
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps:                    steps,
			})
		})
	}
}

// emptyCache gives the provider an empty source cache until the test ends,
// as a CI runner's fresh clone has.
func emptyCache(t *testing.T) {
	t.Helper()
	orig := sourceCache
	c := filestate.OpenCache(t.TempDir())
	sourceCache = func() *filestate.Cache { return c }
	t.Cleanup(func() { sourceCache = orig })
}

// A list written just before its apply (a generated file) is too recent
// for its times to vouch for its bytes, but what was uploaded is known:
// private state keeps its MD5 and fingerprint, so the no-change plan of a
// fresh clone (new inode and times, empty cache) costs a fingerprint pass,
// not MD5.
func TestAccUpload_freshCloneAfterJustWrittenFileCostsAFingerprint(t *testing.T) {
	srv := startSandbox(t)
	reads := countSourceReads(t)
	dir := t.TempDir()
	content := "idfa\n6D92078A-8246-4BA4-AE5B-76104861E7DC\nAEBE52E7-03EE-455A-B3C4-E57283966239\n"
	src := filepath.Join(dir, "devices.txt")
	freshClone := func() {
		if err := os.Remove(src); err != nil {
			t.Fatal(err)
		}
		writeFile(t, dir, "devices.txt", content)
		emptyCache(t)
		reads.reset()
	}
	var sent int
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				// Written, then applied at once.
				PreConfig: func() {
					writeFile(t, dir, "devices.txt", content)
					reads.reset()
				},
				Config: mintegralFileConfig(src, ""),
				Check:  resource.ComposeTestCheckFunc(reads.expect(1, 0), requestsSince(srv, &sent, 1), checkStoredObject(srv, content)),
			},
			{
				PreConfig: freshClone,
				Config:    mintegralFileConfig(src, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: resource.ComposeTestCheckFunc(reads.expect(0, 1), requestsSince(srv, &sent, 0)),
			},
			{
				// The same again, right after a write: never a stat alone,
				// since the new inode's times are as recent as the write.
				PreConfig: freshClone,
				Config:    mintegralFileConfig(src, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: resource.ComposeTestCheckFunc(reads.expect(0, 1), requestsSince(srv, &sent, 0)),
			},
			{
				// New content written just now is still seen.
				PreConfig: func() {
					writeFile(t, dir, "devices.txt", content+"F7A1C2D3-03EE-455A-B3C4-E57283966239\n")
					emptyCache(t)
				},
				Config: mintegralFileConfig(src, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(mfAddr, plancheck.ResourceActionUpdate),
						plancheck.ExpectKnownValue(mfAddr, tfjsonpath.New("file_md5"), knownvalue.StringExact(md5hex(content+"F7A1C2D3-03EE-455A-B3C4-E57283966239\n"))),
					},
				},
				Check: checkStoredObject(srv, content+"F7A1C2D3-03EE-455A-B3C4-E57283966239\n"),
			},
		},
	})
}

// The pipeline's files for the two-job tests: a committed CRM export, a
// committed static list, and a configuration that extracts the export's
// idfa column into a generated (git-ignored) folder for Mintegral. State
// lives in a backend outside every checkout.
func pipelineRepo(t *testing.T, stateDir string) string {
	t.Helper()
	repo := t.TempDir()
	writeFile(t, repo, "main.tf", fmt.Sprintf(`terraform {
  required_providers {
    audience = { source = "audiencekit/audience" }
  }
  backend "local" { path = %q }
}

data "audience_id_list" "idfa" {
  source      = "${path.module}/crm.csv"
  column      = "idfa"
  output_path = "${path.module}/out/idfa.txt"
}

resource "audience_mintegral_file" "generated" {
  source = data.audience_id_list.idfa.output_path
}

resource "audience_mintegral_file" "static" {
  source = "${path.module}/static.txt"
}
`, filepath.Join(stateDir, "terraform.tfstate")))
	writeFile(t, repo, "crm.csv", "idfa,email\n6D92078A-8246-4BA4-AE5B-76104861E7DC,user1@example.com\nAEBE52E7-03EE-455A-B3C4-E57283966239,user2@example.com\n")
	writeFile(t, repo, "static.txt", "gaid\n38400000-8cf0-11bd-b23e-10b96e40000d\n")
	return repo
}

// storedMD5s lists the MD5 of every object Mintegral's S3 cluster holds.
func storedMD5s(t *testing.T, srv *sandbox.Server) map[string]bool {
	t.Helper()
	objects, err := srv.Store().List(sandbox.BucketMintegralS3)
	if err != nil {
		t.Fatal(err)
	}
	md5s := map[string]bool{}
	for _, o := range objects {
		md5s[o.MD5] = true
	}
	return md5s
}

// Plan and apply in separate CI jobs: the plan job's generated list is not
// in the apply job's checkout, and Terraform does not read data sources
// again for a saved plan. The apply says so and what to do; carrying the
// plan, the lock file and the generated lists, as documented, works (the
// raw export stays behind), and leaves private state that spares the next
// fresh clone an MD5 pass.
func TestAccUpload_savedPlanAppliedInAnotherCheckout(t *testing.T) {
	srv := startSandbox(t)
	tf := newCLIRun(t)
	repo := pipelineRepo(t, t.TempDir())
	generated := md5hex("6D92078A-8246-4BA4-AE5B-76104861E7DC\nAEBE52E7-03EE-455A-B3C4-E57283966239\n")
	// A job's checkout: a fresh clone, generated folders absent (the
	// output directory is made here, as the repository's CI script does).
	checkout := func() string {
		dir := filepath.Join(t.TempDir(), "checkout")
		copyTree(t, repo, dir)
		tf.run(dir, true, "init")
		return dir
	}

	planJob := checkout()
	mkdir(t, planJob, "out")
	tf.run(planJob, true, "plan", "-out=tfplan")

	// The apply job gets the plan file alone, on another runner.
	tf.newRunner()
	applyJob := checkout()
	copyTree(t, planJob, applyJob, "out", ".terraform", "main.tf", "crm.csv", "static.txt", ".terraform.lock.hcl")
	out := tf.run(applyJob, false, "apply", "tfplan")
	expectOutput(t, out, "Error: Source file not found", "out/idfa.txt does not exist in this working directory, yet the saved plan being applied was made with it",
		"Terraform does not read data sources again when it applies a saved plan",
		"Carry the saved plan, .terraform.lock.hcl and the generated lists from the plan job to the apply job, but not a raw export")
	if strings.Contains(out, "inconsistent") || strings.Contains(out, "bug in the provider") {
		t.Fatalf("the apply blames the provider:\n%s", out)
	}
	if storedMD5s(t, srv)[generated] {
		t.Fatal("the generated list was uploaded although its apply failed")
	}

	// As documented: plan, then carry the plan, the lock file and the
	// generated lists to a fresh checkout.
	tf.newRunner()
	planJob = checkout()
	mkdir(t, planJob, "out")
	expectOutput(t, tf.run(planJob, true, "plan", "-out=tfplan"), "audience_mintegral_file.generated will be created")
	tf.newRunner()
	applyJob = checkout() // its init wrote the same .terraform.lock.hcl
	for _, carried := range []string{"tfplan", "out"} {
		copyTree(t, filepath.Join(planJob, carried), filepath.Join(applyJob, carried))
	}
	tf.run(applyJob, true, "apply", "tfplan")
	if !storedMD5s(t, srv)[generated] {
		t.Fatal("the generated list is not on Mintegral after the apply")
	}

	// The list was written moments before that apply, yet the upload's
	// record is in private state: MD5 and fingerprint, no stat identity.
	rec := privateSourceRecord(t, tf, applyJob, "audience_mintegral_file.generated")
	if rec.MD5 != generated || rec.Fingerprint == "" {
		t.Fatalf("private state holds %+v, want the uploaded content's md5 %s and its fingerprint", rec, generated)
	}

	// The next day's fresh clone on another runner plans no change.
	tf.newRunner()
	next := checkout()
	mkdir(t, next, "out")
	expectOutput(t, tf.run(next, true, "plan", "-detailed-exitcode"), "No changes.")
}

// privateSourceRecord reads the source record a resource keeps in private
// state, through terraform state pull.
func privateSourceRecord(t *testing.T, tf *cliRun, dir, addr string) filestate.Record {
	t.Helper()
	var st struct {
		Resources []struct {
			Type, Name string
			Instances  []struct {
				Private []byte `json:"private"`
			}
		}
	}
	cmd := exec.Command(tf.cli, "-chdir="+dir, "state", "pull")
	cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+tf.cache)
	raw, err := cmd.Output()
	if err != nil {
		t.Fatalf("state pull: %v", err)
	}
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatal(err)
	}
	for _, r := range st.Resources {
		if r.Type+"."+r.Name != addr || len(r.Instances) != 1 {
			continue
		}
		if len(r.Instances[0].Private) == 0 {
			t.Fatalf("%s has no private state: the upload's record was withheld", addr)
		}
		// The framework's private state: a JSON object of base64 values.
		var keys map[string][]byte
		if err := json.Unmarshal(r.Instances[0].Private, &keys); err != nil {
			t.Fatalf("%s: private state %q: %v", addr, r.Instances[0].Private, err)
		}
		var rec filestate.Record
		if err := json.Unmarshal(keys[privateSourceKey], &rec); err != nil {
			t.Fatalf("%s: source record %q: %v", addr, keys[privateSourceKey], err)
		}
		return rec
	}
	t.Fatalf("%s not in state", addr)
	return filestate.Record{}
}

// A content check that reads the file itself (the content was known
// without a hashing pass to ride on) vouches only for the content planning
// hashed: a file rewritten in between fails the plan, and nothing is
// recorded as passed.
func TestCheckSourceSeesTheContentPlanned(t *testing.T) {
	emptyCache(t)
	dir := t.TempDir()
	good := "idfa\n6D92078A-8246-4BA4-AE5B-76104861E7DC\n"
	p := writeFile(t, dir, "devices.txt", good)
	rec, err := filestate.Hash(p, true)
	if err != nil {
		t.Fatal(err)
	}
	spec := uploadSpec{Content: checkMintegralColumns}
	src := localSource{Path: p, Abs: p, Name: "devices.txt", MD5: rec.MD5, rules: "audience_mintegral_file\x00devices.txt"}

	writeFile(t, dir, "devices.txt", "idfa\nAEBE52E7-03EE-455A-B3C4-E57283966239\n")
	diags := checkSource(spec, &src, rec, nil)
	if !diags.HasError() || !strings.Contains(diagText(diags), "changed while it was planned") {
		t.Fatalf("a file rewritten between hash and check: %v", diags)
	}
	if sourceCache().HasPassed(p, src.rules, rec) {
		t.Fatal("a check of other bytes was recorded as passed")
	}

	writeFile(t, dir, "devices.txt", good)
	if diags := checkSource(spec, &src, rec, nil); diags.HasError() {
		t.Fatalf("the planned content: %v", diags)
	}
	if !sourceCache().HasPassed(p, src.rules, rec) || sourceCache().HasPassed(p, "audience_futuredemand_upload\x00devices.txt", rec) {
		t.Fatal("a pass is recorded under its own rules only")
	}
}
