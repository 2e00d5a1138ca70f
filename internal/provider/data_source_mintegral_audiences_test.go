package provider

import (
	"context"
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/audiencekit/terraform-provider-audience/internal/client/mintegral"
	"github.com/audiencekit/terraform-provider-audience/internal/sandbox"
)

// seedAudiences creates audiences through the API, as another team would,
// all from one uploaded file, and returns their IDs.
func seedAudiences(t *testing.T, srv *sandbox.Server, platform, deviceType string, names ...string) []int64 {
	t.Helper()
	return createAudiences(t, sandboxMintegralClient(srv), platform, deviceType, names...)
}

// createAudiences uploads one small file and makes an audience of it under
// each name, through client.
func createAudiences(t *testing.T, client *mintegral.Client, platform, deviceType string, names ...string) []int64 {
	t.Helper()
	ctx := context.Background()
	name := accName("seed.txt") // on a real account the upload stays: it carries the run's prefix
	src := writeFile(t, t.TempDir(), name, "id\n1\n")
	up, err := client.Upload(ctx, mintegral.UploadRequest{Path: src, FileName: name, AreaType: 1, FileMD5: md5hex("id\n1\n")})
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]int64, len(names))
	for i, name := range names {
		ids[i], err = client.CreateAudience(ctx, mintegral.AudienceSpec{Name: name, AreaType: 1, Platform: platform, Files: []mintegral.AudienceFile{{DeviceType: deviceType, DataPath: up.DataPath}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	return ids
}

var rfc3339 = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)

// 501 audiences match: Mintegral returns at most 500 a page, so all of
// them can only come back by following the pages.
func TestAccSmokeDataMintegralAudiences_everyPageAndFilters(t *testing.T) {
	srv := accTarget(t, mintegralPlatform)
	sandboxOnly(t, srv, "seeds 503 audiences and expects to find only those")
	bulk := make([]string, mintegral.MaxListLimit+1) // one more than a page
	for i := range bulk {
		bulk[i] = fmt.Sprintf("bulk-%04d", i)
	}
	bulkIDs := seedAudiences(t, srv, "android", "GAID_MD5", bulk...)
	iosIDs := seedAudiences(t, srv, "ios", "IDFA", "ios-one", "ios-two")

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: `data "audience_mintegral_audiences" "bulk" {
  name = "bulk-"
}`,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.audience_mintegral_audiences.bulk", tfjsonpath.New("audiences"), knownvalue.ListSizeExact(len(bulk))),
					statecheck.ExpectKnownValue("data.audience_mintegral_audiences.bulk", tfjsonpath.New("audiences").AtSliceIndex(len(bulk)-1), knownvalue.ObjectExact(map[string]knownvalue.Check{
						"id":           knownvalue.Int64Exact(bulkIDs[len(bulkIDs)-1]),
						"name":         knownvalue.StringExact(bulk[len(bulk)-1]),
						"platform":     knownvalue.StringExact("android"),
						"area_type":    knownvalue.Int64Exact(1),
						"device_types": knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("GAID_MD5")}),
						"created_at":   knownvalue.StringRegexp(rfc3339),
						"updated_at":   knownvalue.StringRegexp(rfc3339),
					})),
				},
			},
			{
				Config: fmt.Sprintf(`data "audience_mintegral_audiences" "some" {
  ids      = [%d, %d, %d]
  platform = "ios"
}`, bulkIDs[0], iosIDs[0], iosIDs[1]),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.audience_mintegral_audiences.some", tfjsonpath.New("audiences"), knownvalue.ListExact([]knownvalue.Check{
						knownvalue.ObjectPartial(map[string]knownvalue.Check{"id": knownvalue.Int64Exact(iosIDs[0]), "name": knownvalue.StringExact("ios-one")}),
						knownvalue.ObjectPartial(map[string]knownvalue.Check{"id": knownvalue.Int64Exact(iosIDs[1]), "name": knownvalue.StringExact("ios-two")}),
					})),
				},
			},
			{
				Config: `data "audience_mintegral_audiences" "none" {
  name = "no-such-audience"
}`,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.audience_mintegral_audiences.none", tfjsonpath.New("audiences"), knownvalue.ListSizeExact(0)),
				},
			},
		},
	})
}
