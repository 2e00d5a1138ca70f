package provider

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	acc "github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/audiencekit/terraform-provider-audience/internal/sandbox"
)

// Events are never ingested twice: these tests assert on the events the
// sandbox's CR API created, one per row it received.

const eventsHeader = "title,start_date_time,city,venue,capacity\n"

// eventRows is rows from..to-1 of eventsFile's numbering, without header.
func eventRows(from, to int) string {
	return strings.TrimPrefix(eventsFile(to), eventsFile(from))
}

func eventsConfig(src, more string) string {
	return eventsConfigOf(src, "prisma", more)
}

func eventsConfigOf(src, eventType, more string) string {
	return ingestConfig(src, `kind       = "events"
  event_type = "`+eventType+`"
  `+more)
}

// checkEvents asserts the sandbox created, under prisma, exactly the
// events of content's rows, each once, and that it took ingests uploads.
func checkEvents(srv *sandbox.Server, ingests int, content string) func() error {
	return func() error {
		if n := len(srv.FutureDemandIngests()); n != ingests {
			return fmt.Errorf("Future Demand took %d events uploads, want %d", n, ingests)
		}
		seen := map[string]int{}
		for _, e := range srv.FutureDemandEvents("prisma") {
			seen[e.Title+"|"+e.StartDateTime+"|"+e.City+"|"+e.Venue]++
		}
		rows := strings.Split(strings.TrimSuffix(strings.TrimPrefix(content, eventsHeader), "\n"), "\n")
		for _, row := range rows {
			f := strings.Split(row, ",")
			key := strings.Join(f[:4], "|")
			if seen[key] != 1 {
				return fmt.Errorf("Future Demand holds %d events of row %q, want 1 (events: %v)", seen[key], row, seen)
			}
			delete(seen, key)
		}
		if len(seen) > 0 {
			return fmt.Errorf("Future Demand holds events of no row of the file: %v", seen)
		}
		return nil
	}
}

// lastIngest asserts the last upload carried body, file name included.
func lastIngest(srv *sandbox.Server, body, fileName string) func() error {
	return func() error {
		ins := srv.FutureDemandIngests()
		last := ins[len(ins)-1]
		if last.MD5 != md5hex(body) || last.Size != int64(len(body)) || last.FileName != fileName {
			return fmt.Errorf("last upload %s (%d bytes, md5 %s), want %s of %d bytes: %q", last.FileName, last.Size, last.MD5, fileName, len(body), body)
		}
		return nil
	}
}

func checks(fs ...func() error) acc.TestCheckFunc {
	return func(*terraform.State) error {
		for _, f := range fs {
			if err := f(); err != nil {
				return err
			}
		}
		return nil
	}
}

func rowCounts(ingested, sent int64) []plancheck.PlanCheck {
	return []plancheck.PlanCheck{
		plancheck.ExpectKnownValue(ingestAddr, tfjsonpath.New("ingested_rows"), knownvalue.Int64Exact(ingested)),
		plancheck.ExpectKnownValue(ingestAddr, tfjsonpath.New("sent_rows"), knownvalue.Int64Exact(sent)),
		plancheck.ExpectKnownValue(ingestAddr, tfjsonpath.New("ingest_status"), knownvalue.StringExact("ingested")),
	}
}

// A file that grew sends its header and the new rows; the plan shows the
// counts. A rename sends nothing. An edit is refused at plan, naming the
// reason and terraform taint, which then sends the whole file once.
func TestAccFutureDemandIngest_eventsAppend(t *testing.T) {
	srv := requireSandbox(t, futureDemandPlatform, "reads the events the sandbox took to prove each apply sent only the new rows")
	dir := t.TempDir()
	v4, v5, v7 := eventsFile(4), eventsFile(5), eventsFile(7)
	src := writeFile(t, dir, "events.csv", v4)
	edited := strings.Replace(v7, "Concert 000002,2026-05-01T20:00:00Z,Berlin", "Concert 000002,2026-05-01T20:00:00Z,Bremen", 1)
	shorter := strings.Replace(v7, eventRows(2, 3), "", 1)
	// Every row changed (new titles): sent whole after taint, it creates
	// no event twice.
	renamed := strings.ReplaceAll(v7, "Concert ", "Recital ")
	write := func(content string) func() { return func() { writeFile(t, dir, "events.csv", content) } }
	acc.Test(t, acc.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []acc.TestStep{
			{
				Config:           eventsConfig(src, ""),
				ConfigPlanChecks: acc.ConfigPlanChecks{PreApply: rowCounts(4, 4)},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(ingestAddr, tfjsonpath.New("unconfirmed_ingest"), knownvalue.Null()),
				},
				Check: checks(checkEvents(srv, 1, v4), lastIngest(srv, v4, "events.csv")),
			},
			{
				// One row added: only it is sent, after the header row.
				PreConfig: write(v5),
				Config:    eventsConfig(src, ""),
				ConfigPlanChecks: acc.ConfigPlanChecks{PreApply: append(rowCounts(5, 1),
					plancheck.ExpectResourceAction(ingestAddr, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(ingestAddr, tfjsonpath.New("file_md5"), knownvalue.StringExact(md5hex(v5))),
					plancheck.ExpectUnknownValue(ingestAddr, tfjsonpath.New("ingested_at")),
				)},
				Check: checks(checkEvents(srv, 2, v5), lastIngest(srv, eventsHeader+eventRows(4, 5), "events.csv")),
			},
			{
				// Two more, under a new file name: the two rows only.
				PreConfig:        write(v7),
				Config:           eventsConfig(src, `file_name = "tour.csv"`),
				ConfigPlanChecks: acc.ConfigPlanChecks{PreApply: rowCounts(7, 2)},
				Check:            checks(checkEvents(srv, 3, v7), lastIngest(srv, eventsHeader+eventRows(5, 7), "tour.csv")),
			},
			{
				// file_name left out again: the name Future Demand has
				// stays (a rename is not new content), and nothing is sent.
				Config:           eventsConfig(src, ""),
				ConfigPlanChecks: acc.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(ingestAddr, tfjsonpath.New("file_name"), knownvalue.StringExact("tour.csv")),
				},
				Check: checks(checkEvents(srv, 3, v7)),
			},
			{
				PreConfig: write(edited),
				Config:    eventsConfig(src, ""),
				PlanOnly:  true,
				ExpectError: wrapped("Events file edited after it was ingested", "Future Demand holds the first", "bytes of "+src,
					"(its header row and 7 events)", "no longer hash to", "so a row was changed, removed or reordered, or the header changed",
					"none can be taken back", "run taint on this resource, then apply", "(apply -replace cannot do it"),
			},
			{
				PreConfig:   write(shorter),
				Config:      eventsConfig(src, ""),
				PlanOnly:    true,
				ExpectError: wrapped("Events file edited after it was ingested", "it is shorter", "run taint on this resource"),
			},
			{
				PreConfig: write(v7 + "\n"),
				Config:    eventsConfigOf(src, "fdlive", ""),
				PlanOnly:  true,
				ExpectError: wrapped("Events already ingested under another event_type", `under event_type "prisma"`,
					`sending the file under "fdlive" would create all of them again`, "run taint on this resource"),
			},
			{
				// Only a line break added: the same events, nothing sent.
				Config:           eventsConfig(src, ""),
				ConfigPlanChecks: acc.ConfigPlanChecks{PreApply: rowCounts(7, 2)},
				Check:            checks(checkEvents(srv, 3, v7)),
			},
			{
				// Sending the whole file on purpose: taint, then apply.
				PreConfig: write(renamed),
				Taint:     []string{ingestAddr},
				Config:    eventsConfig(src, ""),
				ConfigPlanChecks: acc.ConfigPlanChecks{PreApply: append(rowCounts(7, 7),
					plancheck.ExpectResourceAction(ingestAddr, plancheck.ResourceActionDestroyBeforeCreate),
				)},
				Check: checks(lastIngest(srv, renamed, "events.csv"), func() error {
					if n := len(srv.FutureDemandEvents("prisma")); n != 14 {
						return fmt.Errorf("%d events, want the 7 of the first file and the 7 of the second", n)
					}
					return nil
				}),
			},
		},
	})
}

// lostAnswerClock fixes the time an unconfirmed attempt is stamped with,
// so the test knows its token.
func lostAnswerClock(t *testing.T) string {
	at := time.Date(2026, 5, 1, 20, 0, 0, 0, time.UTC)
	attemptClock = func() time.Time { return at }
	t.Cleanup(func() { attemptClock = time.Now })
	return at.Format(time.RFC3339)
}

// A create whose answer was lost after Future Demand acted: the apply
// fails, every plan stops with what to check, confirming records without
// sending (through the replacement Terraform plans of the tainted
// object), and later rows are appended to what was confirmed.
func TestAccFutureDemandIngest_eventsLostAnswerConfirmed(t *testing.T) {
	skipOnRealAccount(t, futureDemandPlatform, "drops the answer to an events upload")
	srv, _ := startFaultSandbox(t)
	sentAt := lostAnswerClock(t)
	dir := t.TempDir()
	v3, v4 := eventsFile(3), eventsFile(4)
	src := writeFile(t, dir, "events.csv", v3)
	token := md5hex(v3) + "@" + sentAt
	acc.Test(t, acc.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []acc.TestStep{
			{
				PreConfig: func() {
					srv.AddFault(sandbox.Fault{Method: http.MethodPost, PathPrefix: fdEventsUpload, DropResponse: true})
				},
				Config: eventsConfig(src, ""),
				ExpectError: wrapped("sent in full and may have taken effect, so it was not sent again",
					"Events ingest unconfirmed", `ingest_status = "unconfirmed"`, "md5 "+md5hex(v3), "the whole file (3 event rows)",
					`confirm_unconfirmed_ingest = "`+token+`"`, `resend_unconfirmed_ingest = "`+token+`"`),
			},
			{
				// Terraform tainted the object and would create it again:
				// the plan (with refresh, as terraform plan makes it; a
				// PlanOnly step plans without) stops instead.
				Config: eventsConfig(src, ""),
				ExpectError: wrapped("Events ingest unconfirmed", "The events ingest of "+src+" sent at "+sentAt, `event_type "prisma"`, "md5 "+md5hex(v3),
					"carried the whole file (3 event rows)", "Terraform marked the resource tainted", "Check Future Demand's prisma event list", "created around "+sentAt,
					`confirm_unconfirmed_ingest = "`+token+`" records them as ingested without sending anything`,
					`resend_unconfirmed_ingest = "`+token+`" sends those rows once more`),
			},
			{
				// A token of another attempt settles nothing.
				Config:      eventsConfig(src, `confirm_unconfirmed_ingest = "`+md5hex(v4)+"@"+sentAt+`"`),
				ExpectError: wrapped("Events ingest unconfirmed", `confirm_unconfirmed_ingest = "`+md5hex(v4)+"@"+sentAt+`" names another attempt`),
			},
			{
				Config: eventsConfig(src, `confirm_unconfirmed_ingest = "`+token+`"`),
				ConfigPlanChecks: acc.ConfigPlanChecks{PreApply: append(rowCounts(3, 3),
					plancheck.ExpectKnownValue(ingestAddr, tfjsonpath.New("ingested_at"), knownvalue.StringExact(sentAt)),
					plancheck.ExpectKnownValue(ingestAddr, tfjsonpath.New("file_md5"), knownvalue.StringExact(md5hex(v3))),
				)},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(ingestAddr, tfjsonpath.New("unconfirmed_ingest"), knownvalue.Null()),
					statecheck.ExpectKnownValue(ingestAddr, tfjsonpath.New("response"), knownvalue.Null()),
				},
				Check: checks(checkEvents(srv, 1, v3)),
			},
			{
				// The confirmed rows are held: a new row is sent alone, and
				// the token left in the configuration does nothing more.
				PreConfig:        func() { writeFile(t, dir, "events.csv", v4) },
				Config:           eventsConfig(src, `confirm_unconfirmed_ingest = "`+token+`"`),
				ConfigPlanChecks: acc.ConfigPlanChecks{PreApply: rowCounts(4, 1)},
				Check:            checks(checkEvents(srv, 2, v4), lastIngest(srv, eventsHeader+eventRows(3, 4), "events.csv")),
			},
		},
	})
}

// A lost answer of an append, where Future Demand did not act (a 502 to a
// request it must not repeat): the update fails and keeps what Future
// Demand surely holds; the plan stops; resending sends the new row once.
// Then a lost answer of a create, resent the same way.
func TestAccFutureDemandIngest_eventsLostAnswerResent(t *testing.T) {
	skipOnRealAccount(t, futureDemandPlatform, "fails the answer to an events upload")
	srv, rec := startFaultSandbox(t)
	sentAt := lostAnswerClock(t)
	dir := t.TempDir()
	v3, v4 := eventsFile(3), eventsFile(4)
	src := writeFile(t, dir, "events.csv", v3)
	token := md5hex(v4) + "@" + sentAt
	refuse := func() {
		srv.AddFault(sandbox.Fault{Method: http.MethodPost, PathPrefix: fdEventsUpload, Status: http.StatusBadGateway})
	}
	acc.Test(t, acc.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []acc.TestStep{
			{Config: eventsConfig(src, ""), Check: checks(checkEvents(srv, 1, v3))},
			{
				PreConfig:   func() { writeFile(t, dir, "events.csv", v4); refuse() },
				Config:      eventsConfig(src, ""),
				ExpectError: wrapped("502", "may have taken effect, so it was not sent again", "Events ingest unconfirmed", "its header row and the 1 row after the 3 Future Demand held (rows 4 to 4 of the file)"),
			},
			{
				// The update was not tainted: the state names what Future
				// Demand surely holds, and the plan stops.
				Config:      eventsConfig(src, ""),
				PlanOnly:    true,
				ExpectError: wrapped("Events ingest unconfirmed", "md5 "+md5hex(v4), `resend_unconfirmed_ingest = "`+token+`"`),
			},
			{
				Config:           eventsConfig(src, `resend_unconfirmed_ingest = "`+token+`"`),
				ConfigPlanChecks: acc.ConfigPlanChecks{PreApply: append(rowCounts(4, 1), plancheck.ExpectResourceAction(ingestAddr, plancheck.ResourceActionUpdate))},
				Check:            checks(checkEvents(srv, 2, v4), lastIngest(srv, eventsHeader+eventRows(3, 4), "events.csv")),
			},
		},
	})
	if n := rec.hitCount(); n != 1 {
		t.Errorf("the fault hit %d requests, want 1", n)
	}

	// A create, tainted by its failure, resent whole once.
	srv2, _ := startFaultSandbox(t)
	src2 := writeFile(t, t.TempDir(), "events.csv", v3)
	token2 := md5hex(v3) + "@" + sentAt
	acc.Test(t, acc.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []acc.TestStep{
			{
				PreConfig: func() {
					srv2.AddFault(sandbox.Fault{Method: http.MethodPost, PathPrefix: fdEventsUpload, Status: http.StatusBadGateway})
				},
				Config:      eventsConfig(src2, ""),
				ExpectError: wrapped("Events ingest unconfirmed"),
			},
			{
				Config:      eventsConfig(src2, ""),
				ExpectError: wrapped("Events ingest unconfirmed", "Terraform marked the resource tainted"),
			},
			{
				Config: eventsConfig(src2, `resend_unconfirmed_ingest = "`+token2+`"`),
				ConfigPlanChecks: acc.ConfigPlanChecks{PreApply: append(rowCounts(3, 3),
					plancheck.ExpectResourceAction(ingestAddr, plancheck.ResourceActionDestroyBeforeCreate))},
				Check: checks(checkEvents(srv2, 1, v3)),
			},
		},
	})
}

// A plan made without refresh does not see the tainted object: the apply
// stops at its removal, sends nothing, and keeps it.
func TestAccFutureDemandIngest_eventsLostAnswerNoRefresh(t *testing.T) {
	skipOnRealAccount(t, futureDemandPlatform, "drops the answer to an events upload")
	srv, _ := startFaultSandbox(t)
	lostAnswerClock(t)
	src := writeFile(t, t.TempDir(), "events.csv", eventsFile(3))
	acc.Test(t, acc.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		AdditionalCLIOptions:     &acc.AdditionalCLIOptions{Plan: acc.PlanOptions{NoRefresh: true}},
		Steps: []acc.TestStep{
			{
				PreConfig: func() {
					srv.AddFault(sandbox.Fault{Method: http.MethodPost, PathPrefix: fdEventsUpload, DropResponse: true})
				},
				Config:      eventsConfig(src, ""),
				ExpectError: wrapped("Events ingest unconfirmed"),
			},
			{
				Config:      eventsConfig(src, ""),
				ExpectError: wrapped("Events ingest unconfirmed", "with a plan that did not see it (made with -refresh=false", "Nothing was sent", "Run plan (with refresh)"),
			},
		},
	})
	if err := checkEvents(srv, 1, eventsFile(3))(); err != nil {
		t.Fatal(err)
	}
}

// A lost answer of an append where Future Demand acted: confirming it
// while the file grew once more sends only the rows added since.
func TestAccFutureDemandIngest_eventsLostAppendConfirmed(t *testing.T) {
	skipOnRealAccount(t, futureDemandPlatform, "drops the answer to an events upload")
	srv, _ := startFaultSandbox(t)
	sentAt := lostAnswerClock(t)
	dir := t.TempDir()
	v3, v4, v5 := eventsFile(3), eventsFile(4), eventsFile(5)
	src := writeFile(t, dir, "events.csv", v3)
	token := md5hex(v4) + "@" + sentAt
	acc.Test(t, acc.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []acc.TestStep{
			{Config: eventsConfig(src, ""), Check: checks(checkEvents(srv, 1, v3))},
			{
				PreConfig: func() {
					writeFile(t, dir, "events.csv", v4)
					srv.AddFault(sandbox.Fault{Method: http.MethodPost, PathPrefix: fdEventsUpload, DropResponse: true})
				},
				Config:      eventsConfig(src, ""),
				ExpectError: wrapped("may have taken effect, so it was not sent again", "Events ingest unconfirmed", "rows 4 to 4 of the file"),
			},
			{
				Config:      eventsConfig(src, ""),
				PlanOnly:    true,
				ExpectError: wrapped("Events ingest unconfirmed", "md5 "+md5hex(v4), `confirm_unconfirmed_ingest = "`+token+`"`),
			},
			{
				PreConfig:        func() { writeFile(t, dir, "events.csv", v5) },
				Config:           eventsConfig(src, `confirm_unconfirmed_ingest = "`+token+`"`),
				ConfigPlanChecks: acc.ConfigPlanChecks{PreApply: append(rowCounts(5, 1), plancheck.ExpectResourceAction(ingestAddr, plancheck.ResourceActionUpdate))},
				Check:            checks(checkEvents(srv, 3, v5), lastIngest(srv, eventsHeader+eventRows(4, 5), "events.csv")),
			},
		},
	})
}
