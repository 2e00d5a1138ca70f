package provider

import (
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/audiencekit/terraform-provider-audience/internal/sandbox"
)

// Mintegral behaviours the vendor's pages do not settle, run against the
// sandbox set up as an account that behaves the other way.

// An account that numbers IDFV 12 (the newer, unofficial reading) refuses
// the official 10 the provider sends; the error says what was sent for
// which name, both numberings, and where to report it. Nothing is created.
func TestAccMintegralVariants_idfvNewerNumbering(t *testing.T) {
	srv := requireSandbox(t, mintegralPlatform, "plays an account that numbers IDFV 12 (a sandbox mode)", func(c *sandbox.Config) { c.MintegralIDFVCodes = 12 })
	src := writeFile(t, t.TempDir(), "idfv.txt", "idfv\nE621E1F8-C36C-495A-93FC-0C247A3E6E5F\n")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: audienceConfig(src, "ios-idfv", "ios", "IDFV"),
			ExpectError: wrapped(`Mintegral refused to create audience "ios-idfv"`, "device_type 10 is not a valid device type",
				"device_type was sent as 10 for IDFV", "numbers IDFV 10 and IDFV_MD5 11", "unofficial reading says 12 and 13",
				"If your account refuses 10/11, it follows that newer reading", "Report it at "+issuesURL),
		}},
	})
	if n := len(srv.MintegralAudiences()); n != 0 {
		t.Fatalf("%d audiences created", n)
	}
}

// The same account takes every other device type as numbered officially.
func TestAccMintegralVariants_idfvNewerNumberingOtherTypes(t *testing.T) {
	srv := requireSandbox(t, mintegralPlatform, "plays an account that numbers IDFV 12 (a sandbox mode)", func(c *sandbox.Config) { c.MintegralIDFVCodes = 12 })
	src := writeFile(t, t.TempDir(), "idfa.txt", "idfa\nE621E1F8-C36C-495A-93FC-0C247A3E6E5F\n")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: audienceConfig(src, "ios-idfa", "ios", "IDFA"),
			Check:  checkAudienceMatchesSandbox(t, srv),
		}},
	})
}

// An account limited to area 1 refuses area_type 2: the error says area_type
// 2 was sent, that the help center lists only area 1, and what to do.
func TestAccMintegralVariants_areaTwoRefused(t *testing.T) {
	srv := requireSandbox(t, mintegralPlatform, "plays an account limited to area 1 (a sandbox mode)", func(c *sandbox.Config) { c.MintegralAreaOneOnly = true })
	src := writeFile(t, t.TempDir(), "gaid.txt", "gaid\n38400000-8cf0-11bd-b23e-10b96e40000d\n")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: mintegralFileConfig(src, "area_type = 2"),
			ExpectError: wrapped("Mintegral API error 400: area_type must be 1",
				"area_type 2 (mainland China, Aliyun OSS) was sent", "Mintegral's current help center lists only area_type 1 (outside mainland China)",
				"Use area_type 1 (the default), or ask Mintegral whether your account can store audiences in mainland China"),
		}},
	})
	if n := srv.Requests(sandbox.PrefixOSS); n != 0 {
		t.Fatalf("%d requests reached OSS", n)
	}
}

// An endpoint with a wrong path answers the first call 404: the error
// names the endpoint setting and its variable, as a wrong host does.
func TestAccMintegralVariants_wrongEndpointPath(t *testing.T) {
	srv := requireSandbox(t, mintegralPlatform, "points the endpoint at a path the sandbox does not serve and expects the URL in the error")
	t.Setenv("MINTEGRAL_ENDPOINT", srv.URL()+"/wrong")
	src := writeFile(t, t.TempDir(), "gaid.txt", "gaid\n38400000-8cf0-11bd-b23e-10b96e40000d\n")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: mintegralFileConfig(src, ""),
			ExpectError: wrapped("Mintegral API answered HTTP 404 to GET "+srv.URL()+"/wrong/api/open/v1/audience/presigned-upload-data",
				"the endpoint has no such API path: check mintegral.endpoint (MINTEGRAL_ENDPOINT)"),
		}},
	})
}
