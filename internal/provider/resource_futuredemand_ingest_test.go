package provider

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	acc "github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/audiencekit/terraform-provider-audience/internal/sandbox"
)

const ingestAddr = "audience_futuredemand_ingest.test"

func ingestConfig(source, body string) string {
	return fmt.Sprintf(`
resource "audience_futuredemand_ingest" "test" {
  source = %q
  %s
}
`, source, body)
}

// workbook is an .xlsx holding the parts a workbook needs, a sheet with
// sheet as its text, and a stored entry of padding bytes.
func workbook(t *testing.T, sheet string, padding int) string {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for name, body := range map[string]string{
		"[Content_Types].xml":      `<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>`,
		"xl/workbook.xml":          `<?xml version="1.0"?><workbook/>`,
		"xl/worksheets/sheet1.xml": `<?xml version="1.0"?><worksheet>` + sheet + `</worksheet>`,
	} {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write([]byte(body))
	}
	if padding > 0 {
		w, _ := zw.CreateHeader(&zip.FileHeader{Name: "xl/media/image1.bin", Method: zip.Store})
		_, _ = w.Write(bytes.Repeat([]byte("pad"), padding/3+1))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// eventsFile is a header and n events.
func eventsFile(n int) string {
	return "title,start_date_time,city,venue,capacity\n" + lines(n, func(i int) string {
		return fmt.Sprintf("Concert %06d,2026-05-01T20:00:00Z,Berlin,Arena %d,%d", i, i%7, 100+i)
	})
}

// checkIngested asserts the sandbox's last ingest holds content under the
// state's kind and key, and that it took count ingests in all.
func checkIngested(srv *sandbox.Server, count int, content string) acc.TestCheckFunc {
	return func(s *terraform.State) error {
		attrs := s.RootModule().Resources[ingestAddr].Primary.Attributes
		ins := srv.FutureDemandIngests()
		if len(ins) != count {
			return fmt.Errorf("Future Demand took %d ingests, want %d", len(ins), count)
		}
		last := ins[len(ins)-1]
		key := last.EID
		if last.Kind == "events" {
			key = last.EventType
		}
		if last.MD5 != md5hex(content) || last.Kind+"/"+key != attrs["id"] || last.FileName != attrs["file_name"] {
			return fmt.Errorf("last ingest %+v; state id %s, md5 %s", last, attrs["id"], md5hex(content))
		}
		if _, err := time.Parse(time.RFC3339, attrs["ingested_at"]); err != nil {
			return fmt.Errorf("ingested_at %q: %v", attrs["ingested_at"], err)
		}
		return nil
	}
}

// fdRequests checks how many requests reached Future Demand since the
// last check.
func fdRequests(srv *sandbox.Server, before *int, want int) acc.TestCheckFunc {
	return func(*terraform.State) error {
		got := srv.Requests(sandbox.PrefixFutureDemand) - *before
		*before = srv.Requests(sandbox.PrefixFutureDemand)
		if got != want {
			return fmt.Errorf("%d Future Demand requests, want %d", got, want)
		}
		return nil
	}
}

// accEventID is the event a test ingests a transaction summary into:
// sandboxEID on the sandbox, which takes any; on a real account the event
// AUDIENCE_ACC_FUTUREDEMAND_EID names (one kept for tests: each run
// replaces its transaction summary), and without it the test skips.
func accEventID(t *testing.T, srv *sandbox.Server, sandboxEID string) string {
	t.Helper()
	if srv != nil {
		return sandboxEID
	}
	eid := os.Getenv("AUDIENCE_ACC_FUTUREDEMAND_EID")
	if eid == "" {
		t.Skip("a transaction summary needs an event of the account: set AUDIENCE_ACC_FUTUREDEMAND_EID to one kept for tests")
	}
	return eid
}

// needsCRAPI skips an events ingest on a real account whose CR API
// endpoint (FUTUREDEMAND_CR_API_ENDPOINT, needed by events only) is not set.
func needsCRAPI(t *testing.T, srv *sandbox.Server) {
	t.Helper()
	if srv == nil && os.Getenv("FUTUREDEMAND_CR_API_ENDPOINT") == "" {
		t.Skip("an events ingest needs the CR API: set FUTUREDEMAND_CR_API_ENDPOINT for the account")
	}
}

func TestAccSmokeFuturedemandIngest(t *testing.T) {
	srv := accTarget(t, futureDemandPlatform)
	eid := accEventID(t, srv, "evt_abc123")
	content := workbook(t, eid+" sales", 0)
	name := accName("sales.xlsx")
	src := writeFile(t, t.TempDir(), name, content)
	acc.Test(t, acc.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []acc.TestStep{{
			Config: ingestConfig(src, `kind = "transaction_summary"
  eid  = "`+eid+`"`),
			ConfigPlanChecks: acc.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectKnownValue(ingestAddr, tfjsonpath.New("id"), knownvalue.StringExact("transaction_summary/"+eid)),
				plancheck.ExpectKnownValue(ingestAddr, tfjsonpath.New("file_md5"), knownvalue.StringExact(md5hex(content))),
				plancheck.ExpectUnknownValue(ingestAddr, tfjsonpath.New("response")),
			}},
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(ingestAddr, tfjsonpath.New("file_name"), knownvalue.StringExact(name)),
				statecheck.ExpectKnownValue(ingestAddr, tfjsonpath.New("file_size"), knownvalue.Int64Exact(int64(len(content)))),
				statecheck.ExpectKnownValue(ingestAddr, tfjsonpath.New("response"), knownvalue.StringRegexp(regexp.MustCompile(`^\{.*"eid":"`+regexp.QuoteMeta(eid)+`".*\}$`))),
			},
			Check: onSandbox(srv, checkIngested(srv, 1, content)),
		}},
	})
}

func TestAccFutureDemandIngest_transactionSummaryLifecycle(t *testing.T) {
	srv := requireSandbox(t, futureDemandPlatform, "counts the requests each step sends, and ingests into two events of its own")
	root := t.TempDir()
	v1, v2 := workbook(t, "v1", 0), workbook(t, "v2 with more sales", 0)
	src := writeFile(t, mkdir(t, root, "a"), "sales.xlsx", v1)
	moved := filepath.Join(mkdir(t, root, "b"), "sales.xlsx")
	config := func(source, eid string) string {
		return ingestConfig(source, `kind = "transaction_summary"
  eid  = "`+eid+`"`)
	}
	var sent, sentBeforeDestroy int
	var ingestedAt string
	acc.Test(t, acc.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: func(*terraform.State) error {
			// Destroy only forgets: nothing is sent.
			if n := srv.Requests(sandbox.PrefixFutureDemand); n != sentBeforeDestroy {
				return fmt.Errorf("destroy sent %d requests to Future Demand", n-sentBeforeDestroy)
			}
			return nil
		},
		Steps: []acc.TestStep{
			{
				Config: config(src, "evt_1"),
				Check:  acc.ComposeTestCheckFunc(checkIngested(srv, 1, v1), fdRequests(srv, &sent, 1)),
			},
			{
				Config:           config(src, "evt_1"),
				ConfigPlanChecks: acc.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
				Check:            fdRequests(srv, &sent, 0),
			},
			{
				// New content: sent again, in place.
				PreConfig: func() { writeFile(t, filepath.Dir(src), "sales.xlsx", v2) },
				Config:    config(src, "evt_1"),
				ConfigPlanChecks: acc.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(ingestAddr, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(ingestAddr, tfjsonpath.New("file_md5"), knownvalue.StringExact(md5hex(v2))),
					plancheck.ExpectKnownValue(ingestAddr, tfjsonpath.New("id"), knownvalue.StringExact("transaction_summary/evt_1")),
					plancheck.ExpectUnknownValue(ingestAddr, tfjsonpath.New("ingested_at")),
				}},
				Check: acc.ComposeTestCheckFunc(checkIngested(srv, 2, v2), fdRequests(srv, &sent, 1)),
			},
			{
				// A new eid is an argument the platform sees: sent again.
				Config: config(src, "evt_2"),
				ConfigPlanChecks: acc.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(ingestAddr, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(ingestAddr, tfjsonpath.New("id"), knownvalue.StringExact("transaction_summary/evt_2")),
				}},
				Check: acc.ComposeTestCheckFunc(checkIngested(srv, 3, v2), fdRequests(srv, &sent, 1), func(s *terraform.State) error {
					ingestedAt = s.RootModule().Resources[ingestAddr].Primary.Attributes["ingested_at"]
					return nil
				}),
			},
			{
				// A moved file with the same content sends nothing.
				PreConfig: func() {
					if err := os.Rename(src, moved); err != nil {
						t.Fatal(err)
					}
				},
				Config: config(moved, "evt_2"),
				ConfigPlanChecks: acc.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(ingestAddr, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(ingestAddr, tfjsonpath.New("ingested_at"), knownvalue.NotNull()),
				}},
				Check: acc.ComposeTestCheckFunc(fdRequests(srv, &sent, 0), func(s *terraform.State) error {
					if got := s.RootModule().Resources[ingestAddr].Primary.Attributes["ingested_at"]; got != ingestedAt {
						return fmt.Errorf("ingested_at %q after a move, want %q kept", got, ingestedAt)
					}
					sentBeforeDestroy = srv.Requests(sandbox.PrefixFutureDemand)
					return nil
				}),
			},
		},
	})
}

func TestAccFutureDemandIngest_events(t *testing.T) {
	srv := requireSandbox(t, futureDemandPlatform, "expects the sandbox's row error codes for a bad events file")
	dir := t.TempDir()
	v1 := eventsFile(3)
	bad := v1 + "Concert 000001,next week,Köln,Arena,x\n"
	src := writeFile(t, dir, "events.csv", v1)
	config := ingestConfig(src, `kind       = "events"
  event_type = "prisma"`)
	acc.Test(t, acc.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []acc.TestStep{
			{
				Config: config,
				ConfigPlanChecks: acc.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue(ingestAddr, tfjsonpath.New("id"), knownvalue.StringExact("events/prisma")),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(ingestAddr, tfjsonpath.New("response"), knownvalue.StringExact("[200,[]]")),
				},
				Check: acc.ComposeTestCheckFunc(checkIngested(srv, 1, v1), func(*terraform.State) error {
					if rows := srv.FutureDemandIngests()[0].Rows; rows != 3 {
						return fmt.Errorf("Future Demand took %d events, want 3", rows)
					}
					return nil
				}),
			},
			{
				// HTTP 200 with row errors is a refusal: the apply fails
				// with the platform's codes, and the state keeps the last
				// ingest (the next plan still sends the new content). Only
				// the row added was sent, so ROW_1 is the file's row 4.
				PreConfig: func() { writeFile(t, dir, "events.csv", bad) },
				Config:    config,
				ExpectError: wrapped("Future Demand refused the events file", "refused events.csv:", "ROW_1_INVALID_DATE, ROW_1_INVALID_CAPACITY",
					"Only the 1 row added since the last ingest went", "ROW_1 is row 4 of the file", "Fix "+src),
			},
			{
				Config:             config,
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
				ConfigPlanChecks: acc.ConfigPlanChecks{PostApplyPreRefresh: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(ingestAddr, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(ingestAddr, tfjsonpath.New("file_md5"), knownvalue.StringExact(md5hex(bad))),
					planAssert(func() error {
						if n := len(srv.FutureDemandIngests()); n != 1 {
							return fmt.Errorf("%d ingests, want only the first", n)
						}
						return nil
					}),
				}},
			},
		},
	})
}

// Every local mistake fails the plan, naming the file, the line and the
// rule, and nothing reaches Future Demand.
func TestAccFutureDemandIngest_planTimeRefusals(t *testing.T) {
	srv := accTarget(t, futureDemandPlatform)
	dir := t.TempDir()
	xlsx := writeFile(t, dir, "sales.xlsx", workbook(t, "s", 0))
	renamed := writeFile(t, dir, "renamed.xlsx", "eid,tickets\nevt_1,20\n")
	csvSales := writeFile(t, dir, "sales.csv", "eid,tickets\nevt_1,20\n")
	txt := writeFile(t, dir, "events.txt", eventsFile(1))
	latin1 := writeFile(t, dir, "latin1.csv", "title,city\nConcert,Berlin\nPlay,K\xf6ln\n")
	noHeader := writeFile(t, dir, "noheader.csv", "Concert,2026-05-01T20:00:00Z,Berlin,Arena\n")
	events := writeFile(t, dir, "events.csv", eventsFile(2))
	ts := func(src string) string {
		return ingestConfig(src, `kind = "transaction_summary"
  eid  = "evt_1"`)
	}
	ev := func(src string) string {
		return ingestConfig(src, `kind = "events"
  event_type = "fdlive"`)
	}
	steps := []acc.TestStep{
		{Config: ts(renamed), ExpectError: wrapped(renamed+": the file is text, not a zip archive (a CSV renamed to .xlsx?)", "rule: a transaction summary is an Excel workbook")},
		{Config: ts(csvSales), ExpectError: wrapped(`kind = "transaction_summary" takes a .xlsx file`, `"sales.csv", does not end in .xlsx`, `Rename the file, or set file_name to the name Future Demand should receive, such as sales.xlsx.`)},
		{Config: ev(latin1), ExpectError: wrapped(latin1+", line 3, column 7: the bytes here are not UTF-8", "rule: an events file is UTF-8")},
		{Config: ev(noHeader), ExpectError: wrapped(noHeader+", line 1, column 9:", `"2026-05-01T20:00:00Z" in column 2`, "the header row is missing", "rule: an events file starts with a header row")},
		{Config: ev(txt), ExpectError: wrapped(`kind = "events" takes a .csv or .xlsx file`, `"events.txt", does not end in .csv or .xlsx`)},
		// A workbook is an events file too, whose first sheet lists events.
		{Config: ev(xlsx), ExpectError: wrapped(xlsx+`, zip entry "xl/worksheets/sheet1.xml": the first sheet has 0 rows with values`, "rule: an events file lists at least one event")},
		{Config: ingestConfig(xlsx, `kind = "transaction_summary"`), ExpectError: wrapped(`kind = "transaction_summary" needs eid`)},
		{Config: ingestConfig(events, `kind = "events"
  event_type = "prisma"
  eid        = "evt_1"`), ExpectError: wrapped(`kind = "events" takes event_type, not eid; remove eid`)},
		{Config: ingestConfig(events, `kind = "events"
  event_type = "concerts"`), ExpectError: regexp.MustCompile(`(?s)event_type.*value must be one of:.*"prisma".*"fdlive"`)},
		{Config: ingestConfig(xlsx, `kind = "transaction_summary"
  eid  = " evt_1"`), ExpectError: wrapped(`eid " evt_1" starts or ends with a space`)},
		{
			// The CR API's endpoint is needed by events ingests only.
			PreConfig: func() { t.Setenv("FUTUREDEMAND_CR_API_ENDPOINT", "") },
			Config:    ev(events),
			ExpectError: wrapped("Missing Future Demand setting futuredemand.cr_api_endpoint",
				`audience_futuredemand_ingest with kind = "events" needs futuredemand.cr_api_endpoint`, "FUTUREDEMAND_CR_API_ENDPOINT"),
		},
	}
	for i := range steps {
		steps[i].PlanOnly = true
	}
	acc.Test(t, acc.TestCase{ProtoV6ProviderFactories: testAccProtoV6ProviderFactories, Steps: steps})
	if srv == nil {
		return
	}
	if n := srv.Requests(sandbox.PrefixFutureDemand); n != 0 {
		t.Fatalf("%d requests reached Future Demand from plans that failed", n)
	}
}

// Destroy forgets the upload and warns that it stays on Future Demand.
func TestFutureDemandDirectDestroyWarns(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		r    resource.Resource
		id   string
		want string
	}{
		{NewFutureDemandIngestResource(), "transaction_summary/evt_1", "transaction_summary/evt_1 (from sales.xlsx) was removed from Terraform state only and stays on Future Demand"},
		{NewFutureDemandMediaResource(), "partners/42/ab/banner.png", "partners/42/ab/banner.png (from banner.png) was removed from Terraform state only and stays on Future Demand"},
	} {
		var sr resource.SchemaResponse
		tc.r.Schema(ctx, resource.SchemaRequest{}, &sr)
		typ := sr.Schema.Type().TerraformType(ctx).(tftypes.Object)
		vals := map[string]tftypes.Value{}
		for name, at := range typ.AttributeTypes {
			vals[name] = tftypes.NewValue(at, nil)
		}
		source := "sales.xlsx"
		if strings.Contains(tc.id, "banner") {
			source = "banner.png"
		}
		vals["id"] = tftypes.NewValue(tftypes.String, tc.id)
		vals["source"] = tftypes.NewValue(tftypes.String, source)
		state := tfsdk.State{Schema: sr.Schema, Raw: tftypes.NewValue(typ, vals)}
		var resp resource.DeleteResponse
		tc.r.Delete(ctx, resource.DeleteRequest{State: state}, &resp)
		if resp.Diagnostics.HasError() || resp.Diagnostics.WarningsCount() != 1 || !strings.Contains(resp.Diagnostics.Warnings()[0].Detail(), tc.want) {
			t.Errorf("%T: diagnostics %v", tc.r, resp.Diagnostics)
		}
	}
}

// planAssert is a plan check that asserts something outside the plan.
type planAssert func() error

func (a planAssert) CheckPlan(_ context.Context, _ plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	resp.Error = a()
}
