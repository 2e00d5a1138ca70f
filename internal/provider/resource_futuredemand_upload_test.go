package provider

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
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

const fdRes = "audience_futuredemand_upload.test"

func futureDemandUploadConfig(source, extra string) string {
	return fmt.Sprintf(`
resource "audience_futuredemand_upload" "test" {
  source = %q
  %s
}
`, source, extra)
}

// multipartSmall makes the multipart path reachable with small test files:
// 5 MiB (S3's minimum) threshold and parts.
const multipartSmall = `
  multipart_threshold = 5242880
  part_size           = 5242880
  concurrency         = 2
`

// writeRandomFile writes size pseudo-random bytes (seeded) and returns the
// path and md5.
func writeRandomFile(t *testing.T, dir, name string, size int64, seed byte) (string, string) {
	t.Helper()
	p := filepath.Join(dir, name)
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	h := md5.New()
	if _, err := io.CopyN(io.MultiWriter(f, h), rand.NewChaCha8([32]byte{seed}), size); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return p, hex.EncodeToString(h.Sum(nil))
}

// checkFutureDemandObject asserts the sandbox holds the bytes under the
// object_key recorded in state, and no multipart upload is left open.
func checkFutureDemandObject(srv *sandbox.Server, wantMD5 string, wantSize int64) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		key := s.RootModule().Resources[fdRes].Primary.Attributes["object_key"]
		obj, err := srv.Store().Get(sandbox.BucketFutureDemand, key)
		if err != nil {
			return fmt.Errorf("object %q not in sandbox store: %w", key, err)
		}
		if obj.MD5 != wantMD5 || obj.Size != wantSize {
			return fmt.Errorf("stored object md5 %s size %d, want md5 %s size %d", obj.MD5, obj.Size, wantMD5, wantSize)
		}
		if n := srv.PendingMultipartUploads(); n != 0 {
			return fmt.Errorf("%d multipart uploads left open", n)
		}
		return nil
	}
}

func TestAccSmokeFuturedemandUpload_presignedLifecycleAndReplace(t *testing.T) {
	srv := accTarget(t, futureDemandPlatform)
	dir := t.TempDir()
	v1 := "email_sha256\n2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae\n"
	v2 := v1 + "fcde2b2edba56bf408601fb721fe9b5c338d10ee429ea04fae5511b68fbf8fb9\n"
	name, renamed := accName("audience.csv"), accName("renamed.csv")
	src := writeFile(t, dir, name, v1)

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: futureDemandUploadConfig(src, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					// The method is known at plan time.
					PreApply: []plancheck.PlanCheck{plancheck.ExpectKnownValue(fdRes, tfjsonpath.New("upload_method"), knownvalue.StringExact("presigned"))},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(fdRes, tfjsonpath.New("upload_method"), knownvalue.StringExact("presigned")),
					statecheck.ExpectKnownValue(fdRes, tfjsonpath.New("file_md5"), knownvalue.StringExact(md5hex(v1))),
					statecheck.ExpectKnownValue(fdRes, tfjsonpath.New("file_size"), knownvalue.Int64Exact(int64(len(v1)))),
					statecheck.ExpectKnownValue(fdRes, tfjsonpath.New("file_name"), knownvalue.StringExact(name)),
					statecheck.ExpectKnownValue(fdRes, tfjsonpath.New("upload_type"), knownvalue.StringExact("audience_csv")),
					statecheck.ExpectKnownValue(fdRes, tfjsonpath.New("multipart_threshold"), knownvalue.Int64Exact(50<<20)),
					statecheck.ExpectKnownValue(fdRes, tfjsonpath.New("part_size"), knownvalue.Int64Exact(16<<20)),
					statecheck.ExpectKnownValue(fdRes, tfjsonpath.New("concurrency"), knownvalue.Int64Exact(4)),
					statecheck.ExpectKnownValue(fdRes, tfjsonpath.New("object_key"), knownvalue.StringRegexp(regexp.MustCompile(`^partners/[^/]+/audience_csv/[0-9a-f]+/`+regexp.QuoteMeta(name)+`$`))),
					statecheck.CompareValuePairs(fdRes, tfjsonpath.New("id"), fdRes, tfjsonpath.New("object_key"), compare.ValuesSame()),
				},
				Check: onSandbox(srv, checkFutureDemandObject(srv, md5hex(v1), int64(len(v1)))),
			},
			{
				Config: futureDemandUploadConfig(src, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
			{
				PreConfig: func() { writeFile(t, dir, name, v2) },
				Config:    futureDemandUploadConfig(src, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(fdRes, plancheck.ResourceActionUpdate),
						plancheck.ExpectKnownValue(fdRes, tfjsonpath.New("file_md5"), knownvalue.StringExact(md5hex(v2))),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(fdRes, tfjsonpath.New("file_md5"), knownvalue.StringExact(md5hex(v2))),
				},
				Check: onSandbox(srv, checkFutureDemandObject(srv, md5hex(v2), int64(len(v2)))),
			},
			{
				// Changing an argument the platform sees uploads again, in place.
				Config: futureDemandUploadConfig(src, fmt.Sprintf("file_name = %q", renamed)),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(fdRes, plancheck.ResourceActionUpdate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(fdRes, tfjsonpath.New("object_key"), knownvalue.StringRegexp(regexp.MustCompile(`/`+regexp.QuoteMeta(renamed)+`$`))),
				},
			},
		},
	})
}

func TestAccFutureDemandUpload_multipartLargeFile(t *testing.T) {
	srv := accTarget(t, futureDemandPlatform)
	dir := t.TempDir()
	size := int64(2<<20*5 + 777) // 10 MiB + 777 bytes: three parts of 5 MiB
	name := accName("large.csv")
	src, sum := writeRandomFile(t, dir, name, size, 1)

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: futureDemandUploadConfig(src, multipartSmall),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectKnownValue(fdRes, tfjsonpath.New("upload_method"), knownvalue.StringExact("multipart"))},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(fdRes, tfjsonpath.New("upload_method"), knownvalue.StringExact("multipart")),
					statecheck.ExpectKnownValue(fdRes, tfjsonpath.New("file_md5"), knownvalue.StringExact(sum)),
					statecheck.ExpectKnownValue(fdRes, tfjsonpath.New("file_size"), knownvalue.Int64Exact(size)),
				},
				Check: onSandbox(srv, checkFutureDemandObject(srv, sum, size)),
			},
			{
				Config: futureDemandUploadConfig(src, multipartSmall),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
			{
				// New content: uploaded by multipart again, in place.
				PreConfig: func() { writeRandomFile(t, dir, name, size, 2) },
				Config:    futureDemandUploadConfig(src, multipartSmall),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(fdRes, plancheck.ResourceActionUpdate)},
				},
				Check: onSandbox(srv, func(s *terraform.State) error {
					_, sum2 := writeRandomFile(t, t.TempDir(), "same.csv", size, 2)
					return checkFutureDemandObject(srv, sum2, size)(s)
				}),
			},
		},
	})
	if srv != nil && srv.AbortedMultipartUploads() != 0 {
		t.Fatalf("%d uploads aborted in a clean run", srv.AbortedMultipartUploads())
	}
}

func TestAccFutureDemandUpload_partFailureAborts(t *testing.T) {
	srv := requireSandbox(t, futureDemandPlatform, "injects a storage fault and reads the sandbox's open and aborted multipart uploads")
	src, _ := writeRandomFile(t, t.TempDir(), "large.csv", 6<<20, 3)
	// The storage refuses one part for good (a permanent 403, not retried).
	srv.InjectFault(http.MethodPut, "/s3/"+sandbox.BucketFutureDemand+"/", 1, http.StatusForbidden,
		"<Error><Code>AccessDenied</Code><Message>Injected part failure</Message></Error>")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config:      futureDemandUploadConfig(src, multipartSmall),
			ExpectError: regexp.MustCompile(`(?s)Future Demand upload failed.*AccessDenied:\s+Injected\s+part\s+failure.*multipart\s+upload\s+\S+\s+was\s+aborted`),
		}},
	})
	if srv.AbortedMultipartUploads() != 1 || srv.PendingMultipartUploads() != 0 {
		t.Fatalf("aborted %d pending %d, want 1 and 0", srv.AbortedMultipartUploads(), srv.PendingMultipartUploads())
	}
	if objs, _ := srv.Store().List(sandbox.BucketFutureDemand); len(objs) != 0 {
		t.Fatalf("an object was stored: %+v", objs)
	}
}

// Login with username and password instead of a static token.
func TestAccFutureDemandUpload_usernamePassword(t *testing.T) {
	srv := accTarget(t, futureDemandPlatform)
	c := sandbox.DefaultCredentials()
	if srv == nil {
		c.FutureDemandUsername, c.FutureDemandPassword = startEnv["FUTUREDEMAND_USERNAME"], startEnv["FUTUREDEMAND_PASSWORD"]
		if c.FutureDemandUsername == "" || c.FutureDemandPassword == "" {
			t.Skip("the real account is set by access token: set FUTUREDEMAND_USERNAME and FUTUREDEMAND_PASSWORD too to test the login")
		}
	}
	t.Setenv("FUTUREDEMAND_ACCESS_TOKEN", "")
	t.Setenv("FUTUREDEMAND_USERNAME", c.FutureDemandUsername)
	t.Setenv("FUTUREDEMAND_PASSWORD", c.FutureDemandPassword)
	content := "id\n1\n"
	src := writeFile(t, t.TempDir(), accName("list.csv"), content)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: futureDemandUploadConfig(src, ""),
			Check:  onSandbox(srv, checkFutureDemandObject(srv, md5hex(content), int64(len(content)))),
		}},
	})
}

func TestAccFutureDemandUpload_platformErrorSurfaced(t *testing.T) {
	requireSandbox(t, futureDemandPlatform, "expects the sandbox's wording of a refusal for a partner the account is not a member of")
	t.Setenv("FUTUREDEMAND_PARTNER_ID", "7")
	src := writeFile(t, t.TempDir(), "list.csv", "id\n1\n")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config:      futureDemandUploadConfig(src, ""),
			ExpectError: regexp.MustCompile(`(?s)HTTP 403: You\s+are\s+not\s+a\s+member\s+of\s+partner\s+"7".*futuredemand\.partner_id`),
		}},
	})
}

// Every local mistake fails the plan before any request is sent.
func TestAccFutureDemandUpload_planTimeValidation(t *testing.T) {
	srv := accTarget(t, futureDemandPlatform)
	dir := t.TempDir()
	good := writeFile(t, dir, "ok.csv", "id\n1\n")
	cases := []struct {
		name, config string
		want         *regexp.Regexp
	}{
		{"part_size below 5 MiB", futureDemandUploadConfig(good, "part_size = 1048576"), regexp.MustCompile(`part_size`)},
		{"threshold above 5 GiB", futureDemandUploadConfig(good, "multipart_threshold = 6442450944"), regexp.MustCompile(`multipart_threshold`)},
		{"concurrency 0", futureDemandUploadConfig(good, "concurrency = 0"), regexp.MustCompile(`concurrency`)},
		{"bad upload_type", futureDemandUploadConfig(good, `upload_type = "Audience CSV"`), regexp.MustCompile(`upload_type`)},
		{"file_name with a directory", futureDemandUploadConfig(good, `file_name = "a/b.csv"`), regexp.MustCompile(`path separator`)},
		{"empty file", futureDemandUploadConfig(writeFile(t, dir, "empty.csv", ""), ""), regexp.MustCompile(`(?s)empty\.csv\s+is\s+empty`)},
		{"missing file", futureDemandUploadConfig(filepath.Join(dir, "nope.csv"), ""), regexp.MustCompile(`(?s)nope\.csv\s+does\s+not\s+exist`)},
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
	if n := srv.Requests(sandbox.PrefixFutureDemand) + srv.Requests(sandbox.PrefixS3); n != 0 {
		t.Fatalf("%d requests reached the sandbox; plan-time validation must send nothing", n)
	}
}

func TestAccFutureDemandUpload_missingCredentialNamesAttributeAndVariable(t *testing.T) {
	srv := requireSandbox(t, futureDemandPlatform, "counts the API requests the run sends")
	t.Setenv("FUTUREDEMAND_ACCESS_TOKEN", "")
	src := writeFile(t, t.TempDir(), "ok.csv", "id\n1\n")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      futureDemandUploadConfig(src, ""),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)futuredemand\.access_token.*futuredemand\.username.*futuredemand\.password.*FUTUREDEMAND_ACCESS_TOKEN`),
			},
			{
				Config: fmt.Sprintf(`
provider "audience" {
  futuredemand = {
    access_token = %q
  }
}
`, sandbox.DefaultCredentials().FutureDemandAccessToken) + futureDemandUploadConfig(src, ""),
			},
		},
	})
	if srv.Requests(sandbox.PrefixFutureDemand) != 1 {
		t.Fatalf("want exactly one API request, got %d", srv.Requests(sandbox.PrefixFutureDemand))
	}
}

// part_size, concurrency and multipart_threshold change how bytes travel,
// not the stored object: changing them uploads nothing.
func TestAccFutureDemandUpload_transferSettingsUploadNothing(t *testing.T) {
	srv := accTarget(t, futureDemandPlatform)
	src, sum := writeRandomFile(t, t.TempDir(), accName("large.csv"), 6<<20, 4)
	var objectKey string
	var requests int
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: futureDemandUploadConfig(src, multipartSmall),
				Check: resource.ComposeTestCheckFunc(onSandbox(srv, checkFutureDemandObject(srv, sum, 6<<20)), func(s *terraform.State) error {
					objectKey = s.RootModule().Resources[fdRes].Primary.Attributes["object_key"]
					if srv != nil {
						requests = srv.Requests(sandbox.PrefixFutureDemand) + srv.Requests(sandbox.PrefixS3)
					}
					return nil
				}),
			},
			{
				Config: futureDemandUploadConfig(src, `
  multipart_threshold = 5242880
  part_size           = 6291456
  concurrency         = 3
`),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(fdRes, plancheck.ResourceActionUpdate),
						plancheck.ExpectKnownValue(fdRes, tfjsonpath.New("object_key"), knownvalue.NotNull()),
						plancheck.ExpectKnownValue(fdRes, tfjsonpath.New("upload_method"), knownvalue.StringExact("multipart")),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(fdRes, tfjsonpath.New("part_size"), knownvalue.Int64Exact(6291456)),
				},
				Check: func(s *terraform.State) error {
					if got := s.RootModule().Resources[fdRes].Primary.Attributes["object_key"]; got != objectKey {
						return fmt.Errorf("object_key %q, want %q kept", got, objectKey)
					}
					if srv == nil {
						return nil
					}
					if got := srv.Requests(sandbox.PrefixFutureDemand) + srv.Requests(sandbox.PrefixS3); got != requests {
						return fmt.Errorf("%d requests sent for a transfer-settings change", got-requests)
					}
					return nil
				},
			},
		},
	})
}
