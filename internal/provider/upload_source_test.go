package provider

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

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
			gzipBroken := regexp.MustCompile(`Not a one-column Mintegral audience file[\s\S]*devices\.txt\.gz[\s\S]*(unexpected\s+EOF|truncated)`)
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
