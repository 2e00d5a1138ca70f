package provider

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/audiencekit/terraform-provider-audience/internal/sandbox"
)

// Each OpenIM storage backend issues its own form (MinIO a V4 POST policy,
// COS q-sign fields, OSS an OSSAccessKeyId policy, Kodo an upload token);
// the object uploads and confirms through every one.
func TestAccOpenimObject_eachStorageBackend(t *testing.T) {
	for _, b := range []sandbox.OpenIMBackend{sandbox.OpenIMBackendMinIO, sandbox.OpenIMBackendCOS, sandbox.OpenIMBackendOSS, sandbox.OpenIMBackendKodo} {
		t.Run(string(b), func(t *testing.T) {
			srv := requireSandbox(t, openIMPlatform, "plays each storage backend (a sandbox mode)", func(c *sandbox.Config) { c.OpenIMBackend = b })
			content := "user_id\nu-1001\n"
			src := writeFile(t, t.TempDir(), "vip.csv", content)
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config: openIMObjectConfig(src, `name = "audiences/vip.csv"`),
					ConfigStateChecks: []statecheck.StateCheck{
						statecheck.ExpectKnownValue("audience_openim_object.test", tfjsonpath.New("file_md5"), knownvalue.StringExact(md5hex(content))),
						statecheck.ExpectKnownValue("audience_openim_object.test", tfjsonpath.New("url"), knownvalue.StringExact(srv.URL()+sandbox.PrefixOpenIM+"/object/audiences/vip.csv")),
					},
					Check: checkOpenIMBytes(srv, content),
				}},
			})
		})
	}
}

// checkOpenIMBytes asserts one confirmed object holds exactly content.
func checkOpenIMBytes(srv *sandbox.Server, content string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		objs := srv.OpenIMObjects()
		if len(objs) != 1 {
			return fmt.Errorf("confirmed objects %+v; want one", objs)
		}
		obj, err := srv.Store().Get(objs[0].Bucket, objs[0].Key)
		if err != nil {
			return err
		}
		if obj.MD5 != md5hex(content) {
			return fmt.Errorf("stored md5 %s; want %s", obj.MD5, md5hex(content))
		}
		return nil
	}
}

// A server on the AWS backend cannot take form uploads: the apply says so
// and what to do, after exactly one initiate_form_data (no retries).
func TestAccOpenimObject_awsBackendHasNoFormUpload(t *testing.T) {
	srv := requireSandbox(t, openIMPlatform, "plays a server on the AWS backend (a sandbox mode)", func(c *sandbox.Config) { c.OpenIMBackend = sandbox.OpenIMBackendAWS })
	src := writeFile(t, t.TempDir(), "vip.csv", "user_id\nu-1001\n")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config:      openIMObjectConfig(src, ""),
			ExpectError: regexp.MustCompile(`(?s)object/initiate_form_data failed: errCode 500.*aws does not currently support form data.*cannot take form uploads.*MinIO \(the default\),\s+COS or OSS`),
		}},
		CheckDestroy: func(*terraform.State) error {
			if n := srv.Requests(sandbox.PrefixOpenIM); n != 1 {
				return fmt.Errorf("%d OpenIM API requests; want exactly one initiate_form_data", n)
			}
			if n := len(srv.OpenIMObjects()); n != 0 {
				return fmt.Errorf("%d objects confirmed", n)
			}
			return nil
		},
	})
}
