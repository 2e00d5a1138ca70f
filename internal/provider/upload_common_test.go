package provider

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/audiencekit/terraform-provider-audience/internal/filestate"
	"github.com/audiencekit/terraform-provider-audience/internal/sandbox"
)

const mfAddr = "audience_mintegral_file.test"

// sourceReads counts the provider's reads of source files: full passes
// computing MD5, passes computing only the fingerprint, and reads by a
// content check alone (the hashing pass feeds the check when it runs).
type sourceReads struct {
	mu                 sync.Mutex
	md5, fpOnly, check int
}

func countSourceReads(t *testing.T) *sourceReads {
	t.Helper()
	c := &sourceReads{}
	orig := hashSource
	hashSource = func(p string, withMD5 bool, also ...io.Writer) (filestate.Record, error) {
		c.mu.Lock()
		if withMD5 {
			c.md5++
		} else {
			c.fpOnly++
		}
		c.mu.Unlock()
		return orig(p, withMD5, also...)
	}
	origFeed := feedSource
	feedSource = func(abs string, w io.Writer) (filestate.Record, error) {
		c.mu.Lock()
		c.check++
		c.mu.Unlock()
		return origFeed(abs, w)
	}
	t.Cleanup(func() { hashSource, feedSource = orig, origFeed })
	return c
}

func (c *sourceReads) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.md5, c.fpOnly, c.check = 0, 0, 0
}

// expect checks the reads since the last reset; no read may be a content
// check's alone.
func (c *sourceReads) expect(md5, fpOnly int) resource.TestCheckFunc {
	return c.expectChecks(md5, fpOnly, 0)
}

func (c *sourceReads) expectChecks(md5, fpOnly, check int) resource.TestCheckFunc {
	return func(*terraform.State) error {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.md5 != md5 || c.fpOnly != fpOnly || c.check != check {
			return fmt.Errorf("source reads: %d with MD5, %d fingerprint only and %d by a content check alone; want %d, %d and %d", c.md5, c.fpOnly, c.check, md5, fpOnly, check)
		}
		return nil
	}
}

// agedFile writes content and waits until a hash taken now is older than
// the racy window, as a file checked out a while ago would be.
func agedFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := writeFile(t, dir, name, content)
	time.Sleep(1100 * time.Millisecond)
	return p
}

// requestsSince checks how many Mintegral API requests a step sent.
func requestsSince(srv *sandbox.Server, before *int, want int) resource.TestCheckFunc {
	return func(*terraform.State) error {
		got := srv.Requests(sandbox.PrefixMintegral) - *before
		*before = srv.Requests(sandbox.PrefixMintegral)
		if got != want {
			return fmt.Errorf("%d Mintegral requests, want %d", got, want)
		}
		return nil
	}
}

// mutateBeforeApply runs between terraform plan -out and terraform apply
// PLAN, as an edit after plan would.
type mutateBeforeApply func()

func (m mutateBeforeApply) CheckPlan(context.Context, plancheck.CheckPlanRequest, *plancheck.CheckPlanResponse) {
	m()
}

func TestAccUpload_unchangedPlanCostsAStat(t *testing.T) {
	srv := startSandbox(t)
	reads := countSourceReads(t)
	dir := t.TempDir()
	v1 := "idfa\n6D92078A-8246-4BA4-AE5B-76104861E7DC\n"
	same := "idfa\n6D92078A-8246-4BA4-AE5B-76104861E7DD\n" // same size
	src := agedFile(t, dir, "devices.txt", v1)
	var sent int
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				PreConfig: reads.reset,
				Config:    mintegralFileConfig(src, ""),
				// plan, and the apply's final plan, read once (both hashes).
				Check: resource.ComposeTestCheckFunc(reads.expect(1, 0), requestsSince(srv, &sent, 1)),
			},
			{
				PreConfig: reads.reset,
				Config:    mintegralFileConfig(src, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: reads.expect(0, 0),
			},
			{
				// touch: times move, content does not; the fingerprint says so.
				PreConfig: func() {
					now := time.Now().Add(-time.Hour)
					if err := os.Chtimes(src, now, now); err != nil {
						t.Fatal(err)
					}
					time.Sleep(1100 * time.Millisecond)
					reads.reset()
				},
				Config: mintegralFileConfig(src, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: resource.ComposeTestCheckFunc(reads.expect(0, 1), requestsSince(srv, &sent, 0)),
			},
			{
				// A fresh checkout: a new inode and new times, same bytes.
				PreConfig: func() {
					if err := os.Remove(src); err != nil {
						t.Fatal(err)
					}
					agedFile(t, dir, "devices.txt", v1)
					reads.reset()
				},
				Config: mintegralFileConfig(src, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: reads.expect(0, 1),
			},
			{
				// Same size, modification time put back (touch -r): the
				// change time still moves, so the edit is seen.
				PreConfig: func() {
					fi, err := os.Stat(src)
					if err != nil {
						t.Fatal(err)
					}
					writeFile(t, dir, "devices.txt", same)
					if err := os.Chtimes(src, fi.ModTime(), fi.ModTime()); err != nil {
						t.Fatal(err)
					}
				},
				Config: mintegralFileConfig(src, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(mfAddr, plancheck.ResourceActionUpdate),
						plancheck.ExpectKnownValue(mfAddr, tfjsonpath.New("file_md5"), knownvalue.StringExact(md5hex(same))),
						plancheck.ExpectUnknownValue(mfAddr, tfjsonpath.New("data_path")),
						plancheck.ExpectUnknownValue(mfAddr, tfjsonpath.New("id")),
					},
				},
				Check: checkStoredObject(srv, same),
			},
		},
	})
}

func TestAccUpload_movedSourceUploadsNothing(t *testing.T) {
	srv := startSandbox(t)
	root := t.TempDir()
	content := "gaid\n38400000-8cf0-11bd-b23e-10b96e40000d\n"
	oldPath := writeFile(t, mkdir(t, root, "old"), "devices.txt", content)
	newPath := filepath.Join(mkdir(t, root, "new"), "devices.txt")
	var sent int
	var dataPath string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: mintegralFileConfig(oldPath, ""),
				Check: resource.ComposeTestCheckFunc(requestsSince(srv, &sent, 1), func(s *terraform.State) error {
					dataPath = s.RootModule().Resources[mfAddr].Primary.Attributes["data_path"]
					return nil
				}),
			},
			{
				PreConfig: func() {
					if err := os.Rename(oldPath, newPath); err != nil {
						t.Fatal(err)
					}
				},
				Config: mintegralFileConfig(newPath, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(mfAddr, plancheck.ResourceActionUpdate),
						plancheck.ExpectKnownValue(mfAddr, tfjsonpath.New("file_md5"), knownvalue.StringExact(md5hex(content))),
						plancheck.ExpectKnownValue(mfAddr, tfjsonpath.New("source"), knownvalue.StringExact(newPath)),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(mfAddr, tfjsonpath.New("source"), knownvalue.StringExact(newPath)),
				},
				Check: resource.ComposeTestCheckFunc(requestsSince(srv, &sent, 0), func(s *terraform.State) error {
					if got := s.RootModule().Resources[mfAddr].Primary.Attributes["data_path"]; got != dataPath {
						return fmt.Errorf("data_path %q after a move, want %q kept", got, dataPath)
					}
					return nil
				}),
			},
		},
	})
}

func mkdir(t *testing.T, parent, name string) string {
	t.Helper()
	p := filepath.Join(parent, name)
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

var changedSincePlan = regexp.MustCompile(`source\s+changed\s+since\s+plan:\s+planned\s+md5\s+[0-9a-f]{32},\s+now\s+[0-9a-f]{32};\s+run\s+plan\s+again`)

func TestAccUpload_editedBetweenPlanAndApply(t *testing.T) {
	srv := startSandbox(t)
	dir := t.TempDir()
	v1 := "idfa\n6D92078A-8246-4BA4-AE5B-76104861E7DC\n"
	v2 := v1 + "AEBE52E7-03EE-455A-B3C4-E57283966239\n"
	v3 := v2 + "F7A1C2D3-03EE-455A-B3C4-E57283966239\n"
	src := writeFile(t, dir, "devices.txt", v1)
	edit := func(content string) mutateBeforeApply {
		return func() { writeFile(t, dir, "devices.txt", content) }
	}
	var sent int
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				// A new resource: nothing is uploaded, nothing enters state.
				Config: mintegralFileConfig(src, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{edit(v2)},
				},
				ExpectError: changedSincePlan,
			},
			{
				Config: mintegralFileConfig(src, ""),
				Check:  resource.ComposeTestCheckFunc(checkStoredObject(srv, v2), func(*terraform.State) error { sent = srv.Requests(sandbox.PrefixMintegral); return nil }),
			},
			{
				// An update: the plan wants v1, the file holds v3 at apply.
				PreConfig: func() { writeFile(t, dir, "devices.txt", v1) },
				Config:    mintegralFileConfig(src, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{edit(v3)},
				},
				ExpectError: changedSincePlan,
			},
			{
				// The state entry survived with v2, and nothing was sent.
				PreConfig: func() { writeFile(t, dir, "devices.txt", v2) },
				Config:    mintegralFileConfig(src, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: requestsSince(srv, &sent, 0),
			},
		},
	})
}

func TestAccUpload_writerChangesSourceDuringApply(t *testing.T) {
	startSandbox(t)
	dir := t.TempDir()
	src := writeFile(t, dir, "devices.txt", "idfa\n6D92078A-8246-4BA4-AE5B-76104861E7DC\n")
	config := fmt.Sprintf(`
resource "terraform_data" "writer" {
  input = "v2"
  provisioner "local-exec" {
    command = "printf 'idfa\\nAEBE52E7-03EE-455A-B3C4-E57283966239\\n' > %s"
  }
}

resource "audience_mintegral_file" "test" {
  source     = %q
  depends_on = [terraform_data.writer]
}
`, src, src)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: config, ExpectError: changedSincePlan},
		},
	})
}

func TestAccUpload_missingSource(t *testing.T) {
	startSandbox(t)
	dir := t.TempDir()
	content := "idfa\n6D92078A-8246-4BA4-AE5B-76104861E7DC\n"
	src := writeFile(t, dir, "devices.txt", content)
	gone := func() {
		if err := os.Remove(src); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: mintegralFileConfig(src, "")},
			{
				// The plan names the file and plans no silent no-op; the
				// apply fails naming it, and the state entry stays.
				PreConfig:   gone,
				Config:      mintegralFileConfig(src, ""),
				ExpectError: regexp.MustCompile(`Source file not found[\s\S]*devices\.txt\s+does\s+not\s+exist`),
			},
			{
				// Destroy, with refresh, works without the file; the test
				// framework's destroy after the last step checks it too.
				PreConfig: gone,
				Config:    mintegralFileConfig(src, ""),
				Destroy:   true,
			},
		},
		CheckDestroy: func(s *terraform.State) error {
			if _, ok := s.RootModule().Resources[mfAddr]; ok {
				return fmt.Errorf("%s still in state after destroy", mfAddr)
			}
			return nil
		},
	})
}

func TestAccUpload_importExplainsWhy(t *testing.T) {
	startSandbox(t)
	src := writeFile(t, t.TempDir(), "devices.txt", "idfa\n6D92078A-8246-4BA4-AE5B-76104861E7DC\n")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:        mintegralFileConfig(src, ""),
				ResourceName:  mfAddr,
				ImportState:   true,
				ImportStateId: "s3://mintegral-audience/audience/x/devices.txt",
				ExpectError:   regexp.MustCompile(`Mintegral\s+cannot\s+read\s+an\s+uploaded\s+file\s+back[\s\S]*use\s+state\s+rm`),
			},
		},
	})
}

// State written before records were kept has only file_md5: the first plan
// reads the file once, and unchanged content plans nothing.
func TestSourceRecordFromStateWithoutRecord(t *testing.T) {
	reads := countSourceReads(t)
	content := "idfa\n6D92078A-8246-4BA4-AE5B-76104861E7DC\n"
	src := writeFile(t, t.TempDir(), "devices.txt", content)
	abs, _ := filepath.Abs(src)
	id, _, err := filestate.Stat(abs)
	if err != nil {
		t.Fatal(err)
	}
	legacy := filestate.Record{MD5: md5hex(content), Identity: filestate.Identity{Size: -1}}
	rec, read, fed, err := sourceRecord(abs, id, legacy, true, "", uploadSpec{Content: checkMintegralColumns}.newCheck(localSource{Path: src, Name: "devices.txt"}))
	if err != nil {
		t.Fatal(err)
	}
	if !read || fed == nil || rec.MD5 != md5hex(content) || rec.Fingerprint == "" {
		t.Fatalf("got %+v (read %v, content check fed: %v)", rec, read, fed != nil)
	}
	// The pass that hashed the content checked it too.
	if d := fed.Finish(); d.HasError() {
		t.Fatalf("content check of a one-column file: %v", d)
	}
	if err := reads.expect(1, 0)(nil); err != nil {
		t.Fatal(err)
	}
}

func TestAccUpload_failedUploadKeepsStateEntry(t *testing.T) {
	srv := startSandbox(t)
	dir := t.TempDir()
	v1 := "idfa\n6D92078A-8246-4BA4-AE5B-76104861E7DC\n"
	v2 := v1 + "AEBE52E7-03EE-455A-B3C4-E57283966239\n"
	src := writeFile(t, dir, "devices.txt", v1)
	var dataPath string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: mintegralFileConfig(src, ""),
				Check: func(s *terraform.State) error {
					dataPath = s.RootModule().Resources[mfAddr].Primary.Attributes["data_path"]
					return nil
				},
			},
			{
				PreConfig: func() {
					writeFile(t, dir, "devices.txt", v2)
					srv.InjectFault(http.MethodPut, sandbox.PrefixS3+"/", 1, http.StatusForbidden,
						"<Error><Code>AccessDenied</Code><Message>Injected refusal</Message></Error>")
				},
				Config:      mintegralFileConfig(src, ""),
				ExpectError: regexp.MustCompile(`Mintegral upload failed[\s\S]*Injected\s+refusal`),
			},
			{
				// The entry is still the v1 upload: the plan updates it.
				Config: mintegralFileConfig(src, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(mfAddr, plancheck.ResourceActionUpdate),
						plancheck.ExpectKnownValue(mfAddr, tfjsonpath.New("file_md5"), knownvalue.StringExact(md5hex(v2))),
					},
				},
				Check: resource.ComposeTestCheckFunc(checkStoredObject(srv, v2), func(s *terraform.State) error {
					if got := s.RootModule().Resources[mfAddr].Primary.Attributes["data_path"]; got == dataPath {
						return fmt.Errorf("data_path %q unchanged after uploading new content", got)
					}
					return nil
				}),
			},
		},
	})
}
