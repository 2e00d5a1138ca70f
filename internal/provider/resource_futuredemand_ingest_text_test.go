package provider

import (
	"strings"
	"testing"

	acc "github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

// An events export with a long field of non-ASCII text near the 4 KiB
// mark of the check's reads (issue #27: a description holding €, umlauts
// or emoji) passes the plan-time check and is ingested as it is.
func TestAccFutureDemandIngest_longNonASCIIField(t *testing.T) {
	srv := accTarget(t, futureDemandPlatform)
	needsCRAPI(t, srv)
	line := strings.Repeat("a", 3900) + strings.Repeat("€", 300)
	content := "title,start_date_time,city,venue,capacity\n" +
		line + ",2027-03-01T20:00:00+01:00,Köln,Arena,1000\n" +
		"Zugabe 🎸 " + strings.Repeat("ü", 2100) + ",2027-03-02T20:00:00+01:00,München,Halle Süd,800\n"
	src := writeFile(t, t.TempDir(), accName("events.csv"), content)
	acc.Test(t, acc.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []acc.TestStep{{
			Config: ingestConfig(src, `kind       = "events"
  event_type = "fdlive"`),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(ingestAddr, tfjsonpath.New("file_md5"), knownvalue.StringExact(md5hex(content))),
			},
			Check: onSandbox(srv, checkIngested(srv, 1, content)),
		}},
	})
}
