package provider

import (
	"archive/zip"
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"

	acc "github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/audiencekit/terraform-provider-audience/internal/sandbox"
)

// What the first apply against a real Future Demand account found (issue
// #24): the sandbox and the client were written from the same documents,
// so these tests hold what the documents left out.

// eventsWorkbook is an .xlsx as Excel writes it: the first sheet found
// through the workbook's relationships, a header row and n events.
func eventsWorkbook(t *testing.T, n int) string {
	t.Helper()
	var rows strings.Builder
	rows.WriteString(`<row r="1"><c t="inlineStr"><is><t>title</t></is></c><c t="inlineStr"><is><t>start_date_time</t></is></c><c t="inlineStr"><is><t>city</t></is></c><c t="inlineStr"><is><t>venue</t></is></c></row>`)
	for i := range n {
		fmt.Fprintf(&rows, `<row r="%d"><c t="inlineStr"><is><t>Concert %d</t></is></c><c t="inlineStr"><is><t>2026-05-01T20:00:00Z</t></is></c><c t="inlineStr"><is><t>Berlin</t></is></c><c t="inlineStr"><is><t>Arena</t></is></c></row>`, i+2, i)
	}
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, e := range []struct{ name, body string }{
		{"[Content_Types].xml", `<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>`},
		{"xl/workbook.xml", `<?xml version="1.0"?><workbook xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Events" sheetId="1" r:id="rId1"/></sheets></workbook>`},
		{"xl/_rels/workbook.xml.rels", `<?xml version="1.0"?><Relationships><Relationship Id="rId1" Target="worksheets/sheet1.xml"/></Relationships>`},
		{"xl/worksheets/sheet1.xml", `<?xml version="1.0"?><worksheet><sheetData>` + rows.String() + `</sheetData></worksheet>`},
	} {
		w, err := zw.Create(e.name)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write([]byte(e.body))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// An events workbook is checked at plan, counted, and sent with the
// spreadsheet content type (the sandbox's CR API refuses any other for an
// .xlsx); unchanged it plans nothing, and an edit of it is refused at
// plan: a workbook's new rows cannot be sent on their own.
func TestAccFutureDemandRealAPI_eventsWorkbook(t *testing.T) {
	srv := accTarget(t, futureDemandPlatform)
	needsCRAPI(t, srv)
	dir := t.TempDir()
	v1 := eventsWorkbook(t, 3)
	name := accName("events.xlsx")
	src := writeFile(t, dir, name, v1)
	cfg := eventsConfig(src, "")
	acc.Test(t, acc.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []acc.TestStep{
			{
				Config: cfg,
				ConfigPlanChecks: acc.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue(ingestAddr, tfjsonpath.New("ingested_rows"), knownvalue.Int64Exact(3)),
					plancheck.ExpectKnownValue(ingestAddr, tfjsonpath.New("sent_rows"), knownvalue.Int64Exact(3)),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(ingestAddr, tfjsonpath.New("file_name"), knownvalue.StringExact(name)),
					statecheck.ExpectKnownValue(ingestAddr, tfjsonpath.New("ingest_status"), knownvalue.StringExact("ingested")),
				},
				Check: onSandbox(srv, checks(lastIngest(srv, v1, name), func() error {
					ins := srv.FutureDemandIngests()
					if len(ins) != 1 || ins[0].Kind != "events" || ins[0].Rows != 3 {
						return fmt.Errorf("ingests %+v, want one events upload of 3 rows", ins)
					}
					return nil
				})),
			},
			{Config: cfg, PlanOnly: true},
			{
				PreConfig:   func() { writeFile(t, dir, name, eventsWorkbook(t, 4)) },
				Config:      cfg,
				PlanOnly:    true,
				ExpectError: wrapped("Events file edited after it was ingested", `the file sent, "`+name+`", is not a CSV, whose rows could be sent on their own`, "run taint on this resource, then apply"),
			},
			{
				// Nothing more reached Future Demand.
				PreConfig: func() { writeFile(t, dir, name, v1) },
				Config:    cfg,
				PlanOnly:  true,
			},
		},
		CheckDestroy: onSandbox(srv, func(*terraform.State) error {
			if n := len(srv.FutureDemandIngests()); n != 1 {
				return fmt.Errorf("Future Demand took %d uploads, want 1", n)
			}
			return nil
		}),
	})
}

// A login answered with a challenge (MFA, a new password) fails naming
// the account and what to do, never showing the challenge's session, and
// nothing is uploaded.
func TestAccFutureDemandRealAPI_authChallenge(t *testing.T) {
	for challenge, what := range map[string]string{
		"SOFTWARE_TOKEN_MFA":    "multi-factor authentication",
		"NEW_PASSWORD_REQUIRED": "a new password",
	} {
		webApp := map[string]string{"NEW_PASSWORD_REQUIRED": "sign in once to Future Demand's web app as"}
		t.Run(challenge, func(t *testing.T) {
			srv := requireSandbox(t, futureDemandPlatform, "answers the login with a challenge (a sandbox mode)", func(c *sandbox.Config) { c.FutureDemandAuthChallenge = challenge })
			c := sandbox.DefaultCredentials()
			t.Setenv("FUTUREDEMAND_ACCESS_TOKEN", "")
			t.Setenv("FUTUREDEMAND_USERNAME", c.FutureDemandUsername)
			t.Setenv("FUTUREDEMAND_PASSWORD", c.FutureDemandPassword)
			src := writeFile(t, t.TempDir(), "list.csv", "id\n1\n")
			acc.Test(t, acc.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []acc.TestStep{{
					Config: futureDemandUploadConfig(src, ""),
					ExpectError: wrapped("POST /auth", fmt.Sprintf("the account %q is asked for %s (challenge %s)", c.FutureDemandUsername, what, challenge),
						"Use a service account without multi-factor authentication", "futuredemand.access_token", "FUTUREDEMAND_ACCESS_TOKEN", webApp[challenge]),
				}},
			})
			if objs, _ := srv.Store().List(sandbox.BucketFutureDemand); len(objs) != 0 {
				t.Fatalf("an object was stored: %+v", objs)
			}
		})
	}
}

// Storage calls answered in camelCase (presignedUrl, objectKey, uploadId,
// presignedUrls[].partNumber) still upload, single and multipart.
func TestAccFutureDemandRealAPI_camelCaseStorage(t *testing.T) {
	srv := requireSandbox(t, futureDemandPlatform, "answers the storage calls in camelCase (a sandbox mode)", func(c *sandbox.Config) { c.FutureDemandCamelCase = true })
	dir := t.TempDir()
	small := "id\n1\n"
	src := writeFile(t, dir, "list.csv", small)
	big, bigMD5 := writeRandomFile(t, dir, "big.csv", 11<<20, 7)
	acc.Test(t, acc.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []acc.TestStep{
			{
				Config: futureDemandUploadConfig(src, ""),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(fdRes, tfjsonpath.New("upload_method"), knownvalue.StringExact("presigned")),
					statecheck.ExpectKnownValue(fdRes, tfjsonpath.New("object_key"), knownvalue.StringRegexp(regexp.MustCompile(`^partners/42/audience_csv/[0-9a-f]+/list\.csv$`))),
				},
				Check: checkFutureDemandObject(srv, md5hex(small), int64(len(small))),
			},
			{
				Config: futureDemandUploadConfig(big, multipartSmall),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(fdRes, tfjsonpath.New("upload_method"), knownvalue.StringExact("multipart")),
				},
				Check: checkFutureDemandObject(srv, bigMD5, 11<<20),
			},
		},
	})
}
