package provider

import (
	"archive/zip"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
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

func tpnsPackageConfig(name, source, extra string) string {
	return fmt.Sprintf(`
resource "audience_tpns_account_package" %q {
  source = %q
  %s
}
`, name, source, extra)
}

// zipFile builds a zip of the given name/content pairs.
func zipFile(t *testing.T, entries ...[2]string) string {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, e := range entries {
		w, err := zw.Create(e[0])
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write([]byte(e[1]))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// checkTPNSUploaded asserts that TPNS holds the content under the upload
// id in state, and that id is that upload id.
func checkTPNSUploaded(srv *sandbox.Server, address, wantContent string, wantEntries int64) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		rs, ok := s.RootModule().Resources[address]
		if !ok {
			return fmt.Errorf("%s not in state", address)
		}
		id := rs.Primary.Attributes["upload_id"]
		if rs.Primary.ID != id {
			return fmt.Errorf("id %q differs from upload_id %q", rs.Primary.ID, id)
		}
		for _, u := range srv.TPNSUploads() {
			if strconv.FormatInt(u.UploadID, 10) != id {
				continue
			}
			if u.MD5 != md5hex(wantContent) || u.Size != int64(len(wantContent)) || u.Entries != wantEntries {
				return fmt.Errorf("TPNS upload %s holds md5 %s, %d bytes, %d entries; want %s, %d, %d", id, u.MD5, u.Size, u.Entries, md5hex(wantContent), len(wantContent), wantEntries)
			}
			return nil
		}
		return fmt.Errorf("upload id %s is not one TPNS returned (%+v)", id, srv.TPNSUploads())
	}
}

const tpnsAddr = "audience_tpns_account_package.test"

// wrapped matches the fragments in order in Terraform's output, which
// wraps long diagnostics at any space.
func wrapped(fragments ...string) *regexp.Regexp {
	parts := make([]string, len(fragments))
	for i, f := range fragments {
		words := strings.Fields(f)
		for j, w := range words {
			words[j] = regexp.QuoteMeta(w)
		}
		parts[i] = strings.Join(words, `\s+`)
	}
	return regexp.MustCompile(`(?s)` + strings.Join(parts, ".*"))
}

func TestAccSmokeTpnsAccountPackage_txtLifecycleAndReplace(t *testing.T) {
	srv := accTarget(t, tpnsPlatform)
	dir := t.TempDir()
	v1 := "alice@example.com\nbob@example.com\ncarol@example.com\n"
	v2 := v1 + "dave@example.com\n"
	file, renamed := accName("vip.txt"), accName("vip_2026.csv")
	src := writeFile(t, dir, file, v1)
	uploadID := statecheck.CompareValue(compare.ValuesDiffer())
	sameID := statecheck.CompareValue(compare.ValuesSame())
	var uploadsBeforeDestroy int

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: onSandbox(srv, func(*terraform.State) error {
			// Destroy only forgets: nothing is sent, the package stays.
			if n := srv.Requests(sandbox.PrefixTPNS); n != uploadsBeforeDestroy {
				return fmt.Errorf("destroy sent %d requests to TPNS", n-uploadsBeforeDestroy)
			}
			return nil
		}),
		Steps: []resource.TestStep{
			{
				Config: tpnsPackageConfig("test", src, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(tpnsAddr, plancheck.ResourceActionCreate),
						// Counted and hashed at plan, before anything is sent.
						plancheck.ExpectKnownValue(tpnsAddr, tfjsonpath.New("entry_count"), knownvalue.Int64Exact(3)),
						plancheck.ExpectKnownValue(tpnsAddr, tfjsonpath.New("file_md5"), knownvalue.StringExact(md5hex(v1))),
						plancheck.ExpectUnknownValue(tpnsAddr, tfjsonpath.New("upload_id")),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(tpnsAddr, tfjsonpath.New("file_md5"), knownvalue.StringExact(md5hex(v1))),
					statecheck.ExpectKnownValue(tpnsAddr, tfjsonpath.New("file_size"), knownvalue.Int64Exact(int64(len(v1)))),
					statecheck.ExpectKnownValue(tpnsAddr, tfjsonpath.New("file_name"), knownvalue.StringExact(file)),
					statecheck.ExpectKnownValue(tpnsAddr, tfjsonpath.New("package_type"), knownvalue.StringExact("account")),
					statecheck.ExpectKnownValue(tpnsAddr, tfjsonpath.New("entry_count"), knownvalue.Int64Exact(3)),
					statecheck.ExpectKnownValue(tpnsAddr, tfjsonpath.New("upload_id"), knownvalue.Int64Func(func(v int64) error {
						if v <= 0 {
							return fmt.Errorf("upload_id %d is not positive", v)
						}
						return nil
					})),
					uploadID.AddStateValue(tpnsAddr, tfjsonpath.New("upload_id")),
					sameID.AddStateValue(tpnsAddr, tfjsonpath.New("upload_id")),
				},
				Check: onSandbox(srv, checkTPNSUploaded(srv, tpnsAddr, v1, 3)),
			},
			{
				// Same file, same config: nothing to do, nothing sent.
				Config: tpnsPackageConfig("test", src, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{sameID.AddStateValue(tpnsAddr, tfjsonpath.New("upload_id"))},
				Check: onSandbox(srv, func(*terraform.State) error {
					if n := srv.Requests(sandbox.PrefixTPNS); n != 1 {
						return fmt.Errorf("%d requests reached TPNS, want 1", n)
					}
					return nil
				}),
			},
			{
				// New content under the same path: uploaded again, in place.
				PreConfig: func() { writeFile(t, dir, file, v2) },
				Config:    tpnsPackageConfig("test", src, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(tpnsAddr, plancheck.ResourceActionUpdate),
						plancheck.ExpectKnownValue(tpnsAddr, tfjsonpath.New("file_md5"), knownvalue.StringExact(md5hex(v2))),
						plancheck.ExpectKnownValue(tpnsAddr, tfjsonpath.New("entry_count"), knownvalue.Int64Exact(4)),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					uploadID.AddStateValue(tpnsAddr, tfjsonpath.New("upload_id")),
				},
				Check: onSandbox(srv, checkTPNSUploaded(srv, tpnsAddr, v2, 4)),
			},
			{
				// Changing an argument the platform sees uploads again, in place.
				Config: tpnsPackageConfig("test", src, `file_name = "`+renamed+`"`),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(tpnsAddr, plancheck.ResourceActionUpdate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					uploadID.AddStateValue(tpnsAddr, tfjsonpath.New("upload_id")),
					statecheck.ExpectKnownValue(tpnsAddr, tfjsonpath.New("file_name"), knownvalue.StringExact(renamed)),
				},
				Check: onSandbox(srv, resource.ComposeAggregateTestCheckFunc(
					checkTPNSUploaded(srv, tpnsAddr, v2, 4),
					func(*terraform.State) error {
						ups := srv.TPNSUploads()
						if last := ups[len(ups)-1]; last.FileName != renamed {
							return fmt.Errorf("TPNS received file name %q", last.FileName)
						}
						uploadsBeforeDestroy = srv.Requests(sandbox.PrefixTPNS)
						return nil
					},
				)),
			},
		},
	})
}

func TestAccTPNSAccountPackage_csvZipAndToken(t *testing.T) {
	srv := accTarget(t, tpnsPlatform)
	dir := t.TempDir()
	csv := "alice\n\"smith, john\"\n\"say \"\"hi\"\"\"\n"
	inner := "u1001\nu1002\nu1003\nu1004\nu1005\n"
	zipped := zipFile(t, [2]string{"accounts.txt", inner})
	tokens := strings.Repeat("0", 36) + "\r\n" + "ea5d35e1-3a3f-4a9e-9b25-5e7b4f4a1c2d" + "\r\n"
	csvPath := writeFile(t, dir, accName("accounts.csv"), csv)
	zipPath := writeFile(t, dir, accName("accounts.zip"), zipped)
	tokenPath := writeFile(t, dir, accName("tokens.txt"), tokens)
	config := func(tokenType string) string {
		return tpnsPackageConfig("csv", csvPath, "") +
			tpnsPackageConfig("zip", zipPath, "") +
			tpnsPackageConfig("token", tokenPath, `package_type = "`+tokenType+`"`)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: config("token"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("audience_tpns_account_package.csv", tfjsonpath.New("entry_count"), knownvalue.Int64Exact(3)),
					statecheck.ExpectKnownValue("audience_tpns_account_package.zip", tfjsonpath.New("entry_count"), knownvalue.Int64Exact(5)),
					statecheck.ExpectKnownValue("audience_tpns_account_package.zip", tfjsonpath.New("file_md5"), knownvalue.StringExact(md5hex(zipped))),
					statecheck.ExpectKnownValue("audience_tpns_account_package.token", tfjsonpath.New("entry_count"), knownvalue.Int64Exact(2)),
					statecheck.ExpectKnownValue("audience_tpns_account_package.token", tfjsonpath.New("package_type"), knownvalue.StringExact("token")),
				},
				Check: onSandbox(srv, resource.ComposeAggregateTestCheckFunc(
					checkTPNSUploaded(srv, "audience_tpns_account_package.csv", csv, 3),
					checkTPNSUploaded(srv, "audience_tpns_account_package.zip", zipped, 5),
					checkTPNSUploaded(srv, "audience_tpns_account_package.token", tokens, 2),
				)),
			},
			{
				Config: config("token"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
			{
				// The package type is an argument: changing it is a new upload.
				Config: config("account"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction("audience_tpns_account_package.token", plancheck.ResourceActionUpdate),
						plancheck.ExpectResourceAction("audience_tpns_account_package.csv", plancheck.ResourceActionNoop),
						plancheck.ExpectResourceAction("audience_tpns_account_package.zip", plancheck.ResourceActionNoop),
					},
				},
			},
		},
	})
}

// Every invalid package fails the plan, and nothing reaches TPNS.
func TestAccTPNSAccountPackage_planTimeValidation(t *testing.T) {
	srv := accTarget(t, tpnsPlatform)
	dir := t.TempDir()
	good := writeFile(t, dir, "ok.txt", "alice\nbob\n")
	big := filepath.Join(dir, "big.txt")
	if f, err := os.Create(big); err != nil {
		t.Fatal(err)
	} else {
		// Sparse: 100 MiB + 1 without using the disk.
		if err := f.Truncate(100<<20 + 1); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	cases := []struct {
		name, config string
		want         *regexp.Regexp
	}{
		{"extension from source", tpnsPackageConfig("test", writeFile(t, dir, "list.xlsx", "alice\n"), ""), wrapped(`list.xlsx: file name "list.xlsx" does not end in .zip, .txt or .csv`, `Rename the file, or set file_name to the name TPNS should receive, such as list.txt.`)},
		{"bad file_name", tpnsPackageConfig("test", good, `file_name = "list.json"`), wrapped(`"list.json" must end in`)},
		{"file_name with a folder", tpnsPackageConfig("test", good, `file_name = "dir/list.txt"`), wrapped(`bare file name`)},
		{"file_name too long", tpnsPackageConfig("test", good, fmt.Sprintf("file_name = %q", strings.Repeat("n", 97)+".txt")), wrapped(`is 101 characters long`, `rule: the file name is 1-100 characters`, `Change file_name to a name that does.`)},
		{"empty file", tpnsPackageConfig("test", writeFile(t, dir, "empty.txt", ""), ""), wrapped(`empty.txt is empty`)},
		{"too large", tpnsPackageConfig("test", big, ""), wrapped(`big.txt is 100.0 MiB (104857601 bytes)`, `at most 100.0 MiB`)},
		{"missing file", tpnsPackageConfig("test", filepath.Join(dir, "nope.txt"), ""), wrapped(`nope.txt does not exist`)},
		{"short account", tpnsPackageConfig("test", writeFile(t, dir, "short.txt", "alice\nb\ncarol\n"), ""), wrapped(`short.txt, line 2: the account is 1 character long (rule: an account is 2-100 characters)`)},
		{"long account", tpnsPackageConfig("test", writeFile(t, dir, "long.txt", "alice\n"+strings.Repeat("x", 101)+"\n"), ""), wrapped(`long.txt, line 2: the account is 101 characters long`)},
		{"blank row", tpnsPackageConfig("test", writeFile(t, dir, "blank.txt", "alice\n\nbob\n"), ""), wrapped(`blank.txt, line 2: the row is blank (rule: one entry per row)`)},
		{"not utf-8", tpnsPackageConfig("test", writeFile(t, dir, "latin1.txt", "alice\ncaf\xe9s\n"), ""), wrapped(`latin1.txt, line 2: the row is not valid UTF-8`, `Save the file as UTF-8`)},
		{"two csv columns", tpnsPackageConfig("test", writeFile(t, dir, "two.csv", "alice\nbob,42\n"), ""), wrapped(`two.csv, line 2: the row has 2 columns (rule: a csv has a single column)`)},
		{"zip with two files", tpnsPackageConfig("test", writeFile(t, dir, "two.zip", zipFile(t, [2]string{"a.txt", "alice\n"}, [2]string{"b.txt", "bob\n"})), ""), wrapped(`two.zip: the zip holds 2 entries ("a.txt", "b.txt")`, `rule: a zip holds exactly one .txt or .csv file and no folders`)},
		{"zip with a folder", tpnsPackageConfig("test", writeFile(t, dir, "dir.zip", zipFile(t, [2]string{"lists/", ""}, [2]string{"lists/a.txt", "alice\n"})), ""), wrapped(`dir.zip, zip entry "lists/": the entry is a folder`)},
		{"zip with a spreadsheet", tpnsPackageConfig("test", writeFile(t, dir, "xls.zip", zipFile(t, [2]string{"a.xlsx", "alice\n"})), ""), wrapped(`xls.zip, zip entry "a.xlsx": the entry is not a .txt or .csv file`)},
		{"bad row inside zip", tpnsPackageConfig("test", writeFile(t, dir, "row.zip", zipFile(t, [2]string{"a.csv", "alice\nbob,1\n"})), ""), wrapped(`row.zip, zip entry "a.csv", line 2: the row has 2 columns`)},
		{"not a zip", tpnsPackageConfig("test", writeFile(t, dir, "fake.zip", "alice\nbob\n"), ""), wrapped(`fake.zip: the file is not a zip archive`)},
		{"empty zip entry", tpnsPackageConfig("test", writeFile(t, dir, "hollow.zip", zipFile(t, [2]string{"a.txt", ""})), ""), wrapped(`hollow.zip, zip entry "a.txt": the package holds no entries`)},
		{"token length", tpnsPackageConfig("test", writeFile(t, dir, "tok.txt", strings.Repeat("a", 36)+"\n"+strings.Repeat("b", 32)+"\n"), `package_type = "token"`), wrapped(`tok.txt, line 2: the token is 32 characters long (rule: a device token is exactly 36 characters)`)},
		{"bad package_type", tpnsPackageConfig("test", good, `package_type = "tokens"`), wrapped(`package_type`, `"tokens"`)},
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
	if srv == nil {
		return
	}
	if n := srv.Requests(sandbox.PrefixTPNS); n != 0 {
		t.Fatalf("%d requests reached TPNS; plan-time validation must send nothing", n)
	}
}

func TestAccTPNSAccountPackage_wrongCredentials(t *testing.T) {
	cases := []struct {
		name, env, value string
		want             *regexp.Regexp
	}{
		{"unknown access id", "TPNS_ACCESS_ID", "1500009999", regexp.MustCompile(`(?s)TPNS retCode 1008003: authentication failed.*check\s+tpns\.access_id\s+and\s+tpns\.secret_key\s+\(TPNS_ACCESS_ID,\s+TPNS_SECRET_KEY\)`)},
		{"wrong secret", "TPNS_SECRET_KEY", "not-the-secret", regexp.MustCompile(`(?s)TPNS retCode 10030002: AccessID and SecretKey do not match.*tpns\.secret_key`)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := requireSandbox(t, tpnsPlatform, "expects the sandbox's retCodes and messages for an unknown access id and a wrong secret")
			t.Setenv(tc.env, tc.value)
			src := writeFile(t, t.TempDir(), "ok.txt", "alice\nbob\n")
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config:      tpnsPackageConfig("test", src, ""),
					ExpectError: tc.want,
				}},
			})
			if n := len(srv.TPNSUploads()); n != 0 {
				t.Fatalf("%d packages accepted with wrong credentials", n)
			}
		})
	}
}

func TestAccTPNSAccountPackage_missingCredentialNamesAttributeAndVariable(t *testing.T) {
	srv := accTarget(t, tpnsPlatform)
	secret := sandbox.DefaultCredentials().TPNSSecretKey
	if srv == nil {
		secret = startEnv["TPNS_SECRET_KEY"]
	}
	t.Setenv("TPNS_SECRET_KEY", "")
	src := writeFile(t, t.TempDir(), accName("ok.txt"), "alice\nbob\n")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      tpnsPackageConfig("test", src, ""),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)tpns\.secret_key.*TPNS_SECRET_KEY`),
			},
			{
				// The attribute works as well as the variable.
				Config: fmt.Sprintf(`
provider "audience" {
  tpns = {
    secret_key = %q
  }
}
`, secret) + tpnsPackageConfig("test", src, ""),
				Check: onSandbox(srv, checkTPNSUploaded(srv, tpnsAddr, "alice\nbob\n", 2)),
			},
		},
	})
	if srv == nil {
		return
	}
	if n := srv.Requests(sandbox.PrefixTPNS); n != 1 {
		t.Fatalf("want exactly one upload request, got %d", n)
	}
}

// A source known only at apply (from another resource) is validated and
// counted then.
func TestAccTPNSAccountPackage_unknownSourceAtPlan(t *testing.T) {
	srv := accTarget(t, tpnsPlatform)
	content := "alice\nbob\n"
	name := accName("later.csv")
	src := writeFile(t, t.TempDir(), name, content)
	config := fmt.Sprintf(`
resource "terraform_data" "path" {
  input = %q
}

resource "audience_tpns_account_package" "test" {
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
						plancheck.ExpectUnknownValue(tpnsAddr, tfjsonpath.New("entry_count")),
						plancheck.ExpectUnknownValue(tpnsAddr, tfjsonpath.New("file_md5")),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(tpnsAddr, tfjsonpath.New("entry_count"), knownvalue.Int64Exact(2)),
					statecheck.ExpectKnownValue(tpnsAddr, tfjsonpath.New("file_name"), knownvalue.StringExact(name)),
				},
				Check: onSandbox(srv, checkTPNSUploaded(srv, tpnsAddr, content, 2)),
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
