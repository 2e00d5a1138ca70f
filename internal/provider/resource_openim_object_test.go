package provider

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/audiencekit/terraform-provider-audience/internal/sandbox"
)

func openIMObjectConfig(source, extra string) string {
	return fmt.Sprintf(`
resource "audience_openim_object" "test" {
  source = %q
  %s
}
`, source, extra)
}

// checkOpenIMStored asserts the sandbox confirmed an object under the name
// in state, whose stored bytes are wantContent, with the planned type.
func checkOpenIMStored(srv *sandbox.Server, wantContent string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		attrs := s.RootModule().Resources["audience_openim_object.test"].Primary.Attributes
		for _, o := range srv.OpenIMObjects() {
			if o.Name != attrs["name"] || o.Size != int64(len(wantContent)) {
				continue
			}
			obj, err := srv.Store().Get(o.Bucket, o.Key)
			if err != nil {
				return err
			}
			if obj.MD5 == md5hex(wantContent) && obj.ContentType == attrs["content_type"] && o.Group == attrs["group"] {
				return nil
			}
		}
		return fmt.Errorf("no confirmed OpenIM object %q with md5 %s, type %s and group %q; have %+v", attrs["name"], md5hex(wantContent), attrs["content_type"], attrs["group"], srv.OpenIMObjects())
	}
}

func TestAccSmokeOpenimObject_uploadConfirmAndReplace(t *testing.T) {
	srv := accTarget(t, openIMPlatform)
	dir := t.TempDir()
	v1 := "user_id\nu-1001\nu-1002\n"
	v2 := v1 + "u-1003\n"
	file, renamed := accName("vip.csv"), accName("audiences/vip-list.txt")
	src := writeFile(t, dir, file, v1)
	addr := "audience_openim_object.test"

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: openIMObjectConfig(src, ""),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("name"), knownvalue.StringExact(file)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("content_type"), knownvalue.StringExact("text/csv")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("file_md5"), knownvalue.StringExact(md5hex(v1))),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("file_size"), knownvalue.Int64Exact(int64(len(v1)))),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("url"), knownvalue.StringRegexp(regexp.MustCompile(`^https?://.+/object/`+regexp.QuoteMeta(file)+`$`))),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("id"), knownvalue.StringRegexp(regexp.MustCompile(`^[A-Za-z0-9+/]{20,}$`))),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("group"), knownvalue.Null()),
				},
				Check: onSandbox(srv, checkOpenIMStored(srv, v1)),
			},
			{
				// Same file, same config: nothing to do.
				Config: openIMObjectConfig(src, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
			{
				// New content under the same path: uploaded again, in place.
				PreConfig: func() { writeFile(t, dir, file, v2) },
				Config:    openIMObjectConfig(src, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
						plancheck.ExpectKnownValue(addr, tfjsonpath.New("file_md5"), knownvalue.StringExact(md5hex(v2))),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("file_md5"), knownvalue.StringExact(md5hex(v2))),
				},
				Check: onSandbox(srv, checkOpenIMStored(srv, v2)),
			},
			{
				// Each argument the platform sees uploads again: name, content_type, group.
				Config: openIMObjectConfig(src, `
  name         = "`+renamed+`"
  content_type = "text/plain; charset=utf-8"
  group        = "audience"`),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("url"), knownvalue.StringRegexp(regexp.MustCompile(`/object/`+regexp.QuoteMeta(renamed)+`$`))),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("content_type"), knownvalue.StringExact("text/plain; charset=utf-8")),
				},
				Check: onSandbox(srv, checkOpenIMStored(srv, v2)),
			},
			{
				Config: openIMObjectConfig(src, `
  name         = "`+renamed+`"
  content_type = "text/plain; charset=utf-8"
  group        = "audience"`),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
			{
				// Dropping content_type goes back to the guess from the
				// name's extension, which differs: uploaded again.
				Config: openIMObjectConfig(src, `
  name  = "`+renamed+`"
  group = "audience"`),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
						plancheck.ExpectKnownValue(addr, tfjsonpath.New("content_type"), knownvalue.StringExact("text/plain")),
					},
				},
				Check: onSandbox(srv, checkOpenIMStored(srv, v2)),
			},
		},
	})
}

func TestAccOpenIMObject_bodyLevelErrorSurfaced(t *testing.T) {
	srv := requireSandbox(t, openIMPlatform, "expects the sandbox's errCode and text for a token the server did not issue, and reads its storage")
	t.Setenv("OPENIM_TOKEN", "expired-or-foreign-token")
	src := writeFile(t, t.TempDir(), "a.csv", "id\n1\n")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config:      openIMObjectConfig(src, ""),
			ExpectError: wrappedText(`errCode 1507 TokenNotExistError: token is not valid for this server`, `openim.token (OPENIM_TOKEN)`),
		}},
	})
	if srv.Requests(sandbox.PrefixS3) != 0 || len(srv.OpenIMObjects()) != 0 {
		t.Fatal("a refused initiate must not lead to an upload")
	}
}

func TestAccOpenIMObject_storageRefusalNotConfirmed(t *testing.T) {
	srv := requireSandbox(t, openIMPlatform, "injects a storage refusal")
	srv.InjectFault("POST", sandbox.PrefixS3+"/"+sandbox.BucketOpenIM, 1, 403,
		`<Error><Code>AccessDenied</Code><Message>Invalid according to Policy: Extra input fields: x-amz-meta-owner</Message></Error>`)
	src := writeFile(t, t.TempDir(), "a.csv", "id\n1\n")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config:      openIMObjectConfig(src, ""),
			ExpectError: wrappedText(`OpenIM storage answered HTTP 403 to POST`, `AccessDenied: Invalid according to Policy: Extra input fields`),
		}},
	})
	if len(srv.OpenIMObjects()) != 0 {
		t.Fatal("an upload the storage refused was confirmed")
	}
}

// Every local mistake fails the plan before any request reaches OpenIM.
func TestAccOpenIMObject_planTimeValidation(t *testing.T) {
	srv := accTarget(t, openIMPlatform)
	dir := t.TempDir()
	good := writeFile(t, dir, "ok.csv", "id\n1\n")
	cases := []struct {
		name, config string
		want         *regexp.Regexp
	}{
		{"absolute name", openIMObjectConfig(good, `name = "/abs.csv"`), regexp.MustCompile(`starts with /`)},
		{"dot-dot name", openIMObjectConfig(good, `name = "a/../b.csv"`), regexp.MustCompile(`path segment`)},
		{"bad content type", openIMObjectConfig(good, `content_type = "csv"`), regexp.MustCompile(`"csv" is not a MIME type`)},
		{"empty file", openIMObjectConfig(writeFile(t, dir, "empty.csv", ""), ""), regexp.MustCompile(`(?s)empty\.csv is empty`)},
		{"missing file", openIMObjectConfig(filepath.Join(dir, "nope.csv"), ""), regexp.MustCompile(`(?s)nope\.csv does not\s+exist`)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config:      tc.config,
					PlanOnly:    true,
					ExpectError: tc.want,
				}},
			})
		})
	}
	t.Run("missing token", func(t *testing.T) {
		t.Setenv("OPENIM_TOKEN", "")
		resource.Test(t, resource.TestCase{
			ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
			Steps: []resource.TestStep{{
				Config:      openIMObjectConfig(good, ""),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)openim\.token.*OPENIM_TOKEN`),
			}},
		})
	})
	if srv == nil {
		return
	}
	if n := srv.Requests(sandbox.PrefixOpenIM) + srv.Requests(sandbox.PrefixOpenIMStorage) + srv.Requests(sandbox.PrefixS3); n != 0 {
		t.Fatalf("%d requests reached the sandbox; plan-time validation must send nothing", n)
	}
}

// wrappedText matches phrases in order in Terraform's output, which wraps
// long diagnostics at any space.
func wrappedText(phrases ...string) *regexp.Regexp {
	quoted := make([]string, len(phrases))
	for i, p := range phrases {
		quoted[i] = strings.Join(strings.Fields(regexp.QuoteMeta(p)), `\s+`)
	}
	return regexp.MustCompile(`(?s)` + strings.Join(quoted, ".*"))
}

// A source known only at apply (from another resource) is hashed then, and
// the content type guessed then, with no inconsistent-plan error.
func TestAccOpenIMObject_unknownSourceAtPlan(t *testing.T) {
	srv := accTarget(t, openIMPlatform)
	content := "id\nlater\n"
	name := accName("later.json")
	src := writeFile(t, t.TempDir(), name, content)
	config := fmt.Sprintf(`
resource "terraform_data" "path" {
  input = %q
}

resource "audience_openim_object" "test" {
  source = terraform_data.path.output
}
`, src)
	addr := "audience_openim_object.test"
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectUnknownValue(addr, tfjsonpath.New("file_md5")),
						plancheck.ExpectUnknownValue(addr, tfjsonpath.New("content_type")),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("name"), knownvalue.StringExact(name)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("content_type"), knownvalue.StringExact("application/json")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("file_md5"), knownvalue.StringExact(md5hex(content))),
				},
				Check: onSandbox(srv, checkOpenIMStored(srv, content)),
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
