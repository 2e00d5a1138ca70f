package provider

import (
	"compress/gzip"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/audiencekit/terraform-provider-audience/internal/sandbox"
)

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

func mintegralFileConfig(source string, extra string) string {
	return fmt.Sprintf(`
resource "audience_mintegral_file" "test" {
  source = %q
  %s
}
`, source, extra)
}

// checkStoredObject asserts the sandbox holds the uploaded bytes under the
// data_path recorded in state.
func checkStoredObject(srv *sandbox.Server, wantContent string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		rs := s.RootModule().Resources["audience_mintegral_file.test"]
		return checkStoredPath(srv, rs.Primary.Attributes["data_path"], wantContent)
	}
}

// checkStoredPath asserts the sandbox holds wantContent under dataPath.
func checkStoredPath(srv *sandbox.Server, dataPath, wantContent string) error {
	var bucket, key string
	for _, scheme := range []string{"s3://", "oss://"} {
		if rest, ok := strings.CutPrefix(dataPath, scheme); ok {
			bucket, key, _ = strings.Cut(rest, "/")
		}
	}
	obj, err := srv.Store().Get(bucket, key)
	if err != nil {
		return fmt.Errorf("object %q not in sandbox store: %w", dataPath, err)
	}
	if obj.MD5 != md5hex(wantContent) || obj.Size != int64(len(wantContent)) {
		return fmt.Errorf("stored object md5 %s size %d, want md5 %s size %d", obj.MD5, obj.Size, md5hex(wantContent), len(wantContent))
	}
	return nil
}

func TestAccSmokeMintegralFile_area1LifecycleAndReplace(t *testing.T) {
	srv := accTarget(t, mintegralPlatform)
	dir := t.TempDir()
	v1 := "idfa\n6D92078A-8246-4BA4-AE5B-76104861E7DC\n"
	v2 := v1 + "AEBE52E7-03EE-455A-B3C4-E57283966239\n"
	file, renamed := accName("devices.txt"), accName("renamed.csv")
	src := writeFile(t, dir, file, v1)

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: mintegralFileConfig(src, ""),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("audience_mintegral_file.test", tfjsonpath.New("file_md5"), knownvalue.StringExact(md5hex(v1))),
					statecheck.ExpectKnownValue("audience_mintegral_file.test", tfjsonpath.New("file_size"), knownvalue.Int64Exact(int64(len(v1)))),
					statecheck.ExpectKnownValue("audience_mintegral_file.test", tfjsonpath.New("file_name"), knownvalue.StringExact(file)),
					statecheck.ExpectKnownValue("audience_mintegral_file.test", tfjsonpath.New("area_type"), knownvalue.Int64Exact(1)),
					statecheck.ExpectKnownValue("audience_mintegral_file.test", tfjsonpath.New("data_path"), knownvalue.StringRegexp(regexp.MustCompile(`^s3://mintegral-audience/audience/.+/`+regexp.QuoteMeta(file)+`$`))),
					statecheck.CompareValuePairs("audience_mintegral_file.test", tfjsonpath.New("id"), "audience_mintegral_file.test", tfjsonpath.New("data_path"), compare.ValuesSame()),
				},
				Check: onSandbox(srv, checkStoredObject(srv, v1)),
			},
			{
				// Same file, same config: nothing to do.
				Config: mintegralFileConfig(src, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
			{
				// New content under the same path: uploaded again, in place.
				PreConfig: func() { writeFile(t, dir, file, v2) },
				Config:    mintegralFileConfig(src, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction("audience_mintegral_file.test", plancheck.ResourceActionUpdate),
						plancheck.ExpectKnownValue("audience_mintegral_file.test", tfjsonpath.New("file_md5"), knownvalue.StringExact(md5hex(v2))),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("audience_mintegral_file.test", tfjsonpath.New("file_md5"), knownvalue.StringExact(md5hex(v2))),
				},
				Check: onSandbox(srv, checkStoredObject(srv, v2)),
			},
			{
				// Changing an argument the platform sees uploads again, in place.
				Config: mintegralFileConfig(src, `file_name = "`+renamed+`"`),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("audience_mintegral_file.test", plancheck.ResourceActionUpdate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("audience_mintegral_file.test", tfjsonpath.New("data_path"), knownvalue.StringRegexp(regexp.MustCompile(`/`+regexp.QuoteMeta(renamed)+`$`))),
				},
			},
		},
	})
}

func TestAccMintegralFile_area2OSS(t *testing.T) {
	srv := accTarget(t, mintegralPlatform)
	dir := t.TempDir()
	var gz strings.Builder
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write([]byte("gaid\n38400000-8cf0-11bd-b23e-10b96e40000d\n"))
	_ = zw.Close()
	content := gz.String()
	file := accName("cn_devices.csv.gz")
	src := writeFile(t, dir, file, content)

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: mintegralFileConfig(src, "area_type = 2"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("audience_mintegral_file.test", tfjsonpath.New("data_path"), knownvalue.StringRegexp(regexp.MustCompile(`^oss://mintegral-cn/audience/.+/`+regexp.QuoteMeta(file)+`$`))),
					statecheck.ExpectKnownValue("audience_mintegral_file.test", tfjsonpath.New("file_md5"), knownvalue.StringExact(md5hex(content))),
				},
				Check: onSandbox(srv, checkStoredObject(srv, content)),
			},
			{
				Config: mintegralFileConfig(src, "area_type = 2"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
			{
				Config: mintegralFileConfig(src, "area_type = 1"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("audience_mintegral_file.test", plancheck.ResourceActionUpdate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("audience_mintegral_file.test", tfjsonpath.New("data_path"), knownvalue.StringRegexp(regexp.MustCompile(`^s3://`))),
				},
			},
		},
	})
}

// Every local mistake fails the plan before any request reaches Mintegral.
func TestAccMintegralFile_planTimeValidation(t *testing.T) {
	srv := accTarget(t, mintegralPlatform)
	dir := t.TempDir()
	good := writeFile(t, dir, "ok.txt", "id\n1\n")
	cases := []struct {
		name, config string
		want         *regexp.Regexp
	}{
		{"bad extension from source", mintegralFileConfig(writeFile(t, dir, "devices.json", "[1]"), ""), regexp.MustCompile(`"devices\.json" must end in\s+` + "`.txt`" + `[\s\S]*Rename\s+the\s+file,\s+or\s+set\s+file_name\s+to\s+the\s+name\s+Mintegral\s+should\s+receive,\s+such\s+as\s+devices\.txt`)},
		{"bad file_name", mintegralFileConfig(good, `file_name = "list.xlsx"`), regexp.MustCompile(`"list\.xlsx" must end in[\s\S]*\.csv\.gz` + "`" + `\.\s+Change\s+file_name\s+to\s+a\s+name\s+that\s+does\.`)},
		// Known only at apply, so the plan-time check (not the validator)
		// finds it; file_name is set, so it is what to change.
		{"bad file_name known at apply", mintegralFileConfig(good, `file_name = terraform_data.name.output`) + `
resource "terraform_data" "name" { input = "list.xlsx" }
`, regexp.MustCompile(`"list\.xlsx" must end in[\s\S]*\.csv\.gz` + "`" + `\.\s+Change\s+file_name\s+to\s+a\s+name\s+that\s+does\.`)},
		{"file_name with a directory", mintegralFileConfig(good, `file_name = "a/b.txt"`), regexp.MustCompile(`bare file name`)},
		{"fake gzip", mintegralFileConfig(writeFile(t, dir, "fake.txt.gz", "not gzip at all"), ""), regexp.MustCompile(`(?s)fake\.txt\.gz.*gzip header`)},
		{"empty file", mintegralFileConfig(writeFile(t, dir, "empty.csv", ""), ""), regexp.MustCompile(`(?s)empty\.csv is\s+empty`)},
		{"missing file", mintegralFileConfig(filepath.Join(dir, "nope.txt"), ""), regexp.MustCompile(`(?s)nope\.txt does not\s+exist`)},
		{"directory", mintegralFileConfig(dir, ""), regexp.MustCompile(`not a regular file`)},
		{"bad area", mintegralFileConfig(good, "area_type = 3"), regexp.MustCompile(`area_type`)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config: tc.config,
					// A value known only at apply needs the apply.
					PlanOnly:    !strings.Contains(tc.config, "terraform_data"),
					ExpectError: tc.want,
				}},
			})
		})
	}
	if srv == nil {
		return
	}
	if n := srv.Requests(sandbox.PrefixMintegral) + srv.Requests(sandbox.PrefixS3) + srv.Requests(sandbox.PrefixOSS); n != 0 {
		t.Fatalf("%d requests reached the sandbox; plan-time validation must send nothing", n)
	}
}

func TestAccMintegralFile_platformErrorSurfaced(t *testing.T) {
	requireSandbox(t, mintegralPlatform, "expects the sandbox's code and wording of a refused API key")
	t.Setenv("MINTEGRAL_API_KEY", "wrong-key")
	src := writeFile(t, t.TempDir(), "ok.txt", "id\n1\n")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config:      mintegralFileConfig(src, ""),
			ExpectError: regexp.MustCompile(`(?s)Mintegral API error 10003: token verification failed.*mintegral\.api_key`),
		}},
	})
}

func TestAccMintegralFile_missingCredentialNamesAttributeAndVariable(t *testing.T) {
	srv := requireSandbox(t, mintegralPlatform, "sets the sandbox's own API key in the provider block and counts its requests")
	t.Setenv("MINTEGRAL_API_KEY", "")
	src := writeFile(t, t.TempDir(), "ok.txt", "id\n1\n")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      mintegralFileConfig(src, ""),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)mintegral\.api_key.*MINTEGRAL_API_KEY`),
			},
			{
				// The attribute works as well as the variable.
				Config: fmt.Sprintf(`
provider "audience" {
  mintegral = {
    api_key = %q
  }
}
`, sandbox.DefaultCredentials().MintegralAPIKey) + mintegralFileConfig(src, ""),
			},
		},
	})
	if srv.Requests(sandbox.PrefixMintegral) != 1 {
		t.Fatalf("want exactly one presign request, got %d", srv.Requests(sandbox.PrefixMintegral))
	}
}

// A source known only at apply (from another resource) is hashed then,
// with no inconsistent-plan error.
func TestAccMintegralFile_unknownSourceAtPlan(t *testing.T) {
	srv := accTarget(t, mintegralPlatform)
	content := "oaid\n0a1b2c3d\n"
	file := accName("later.txt")
	src := writeFile(t, t.TempDir(), file, content)
	config := fmt.Sprintf(`
resource "terraform_data" "path" {
  input = %q
}

resource "audience_mintegral_file" "test" {
  source = terraform_data.path.output
}
`, src)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectUnknownValue("audience_mintegral_file.test", tfjsonpath.New("file_md5")),
						plancheck.ExpectUnknownValue("audience_mintegral_file.test", tfjsonpath.New("file_name")),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("audience_mintegral_file.test", tfjsonpath.New("file_md5"), knownvalue.StringExact(md5hex(content))),
					statecheck.ExpectKnownValue("audience_mintegral_file.test", tfjsonpath.New("file_name"), knownvalue.StringExact(file)),
				},
				Check: onSandbox(srv, checkStoredObject(srv, content)),
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
