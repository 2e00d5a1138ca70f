package provider

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/audiencekit/terraform-provider-audience/internal/sandbox"
)

const idListCRMExport = "\xEF\xBB\xBF_pid,email,first_name,idfa\r\n" +
	"1, Anna.Ivanova@Example.com ,Anna,6d92078a-8246-4ba4-ae5b-76104861e7dc\r\n" +
	"2,\"boris, jr@example.com\",\"Boris\nBorisovich\",\r\n" +
	"3,clara@example.com,Clara,00000000-0000-0000-0000-000000000000\r\n" +
	"4,dmitri@example.com,\"Dmitri \"\"D\"\"\",AEBE52E7-03EE-455A-B3C4-E57283966239\r\n"

func hexSHA256(s string) string { sum := sha256.Sum256([]byte(s)); return hex.EncodeToString(sum[:]) }

// idListColumn is what audience_id_list must write for an export's column:
// trimmed, upper-cased UUIDs, blanks and the all-zero ID left out.
func idListColumn(t *testing.T, export []byte, column string) (string, int64) {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(export)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	idx := -1
	for i, name := range rows[0] {
		if name == column {
			idx = i
		}
	}
	if idx < 0 {
		t.Fatalf("export has no column %q", column)
	}
	var b strings.Builder
	var n int64
	for _, r := range rows[1:] {
		v := strings.ToUpper(strings.TrimSpace(r[idx]))
		if v == "" || v == "00000000-0000-0000-0000-000000000000" {
			continue
		}
		b.WriteString(v + "\n")
		n++
	}
	return b.String(), n
}

// checkFileContent asserts a written file holds want, gunzipping it first
// when gz.
func checkFileContent(p string, gz bool, want string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		var r io.Reader = f
		if gz {
			zr, err := gzip.NewReader(f)
			if err != nil {
				return err
			}
			r = zr
		}
		var got bytes.Buffer
		if _, err := io.Copy(&got, r); err != nil {
			return err
		}
		if got.String() != want {
			return fmt.Errorf("%s holds %q, want %q", p, got.String(), want)
		}
		return nil
	}
}

func idListState(name, attr string, v knownvalue.Check) statecheck.StateCheck {
	return statecheck.ExpectKnownValue("data.audience_id_list."+name, tfjsonpath.New(attr), v)
}

// Every argument through real Terraform: the written files, the counts and
// the hashes in state.
func TestAccSmokeDataIdList_arguments(t *testing.T) {
	dir := t.TempDir()
	src := writeFile(t, dir, "export.csv", idListCRMExport)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write([]byte(idListCRMExport))
	_ = zw.Close()
	srcGz := writeFile(t, dir, "export.csv.gz", gz.String())
	imeis := writeFile(t, dir, "imei.txt", "358240051111110\n\n 35824005111111 \n490154203237518\n")
	headerOnly := writeFile(t, dir, "nobody.csv", "_pid,idfa\n")
	out := func(name string) string { return filepath.Join(dir, name) }

	idfas := "6D92078A-8246-4BA4-AE5B-76104861E7DC\nAEBE52E7-03EE-455A-B3C4-E57283966239\n"
	md5s := md5hex("6D92078A-8246-4BA4-AE5B-76104861E7DC") + "\n" + md5hex("AEBE52E7-03EE-455A-B3C4-E57283966239") + "\n"
	emails := hexSHA256("anna.ivanova@example.com") + "\n" + hexSHA256("boris, jr@example.com") + "\n" + hexSHA256("clara@example.com") + "\n" + hexSHA256("dmitri@example.com") + "\n"
	kept := "6d92078a-8246-4ba4-ae5b-76104861e7dc\n00000000-0000-0000-0000-000000000000\nAEBE52E7-03EE-455A-B3C4-E57283966239\n"
	config := fmt.Sprintf(`
data "audience_id_list" "idfa" {
  source      = %[1]q
  column      = "idfa"
  output_path = %[3]q
  case        = "upper"
  format      = "uuid"
  invalid     = "skip"
}

data "audience_id_list" "idfa_md5_gz" {
  source      = %[2]q
  column      = "idfa"
  output_path = %[4]q
  case        = "upper"
  format      = "uuid"
  invalid     = "skip"
  hash        = "md5"
}

data "audience_id_list" "email_sha256" {
  source      = %[1]q
  column      = "email"
  output_path = %[5]q
  case        = "lower"
  hash        = "sha256"
}

data "audience_id_list" "kept" {
  source      = %[1]q
  column      = "idfa"
  output_path = %[6]q
}

data "audience_id_list" "imei" {
  source      = %[7]q
  output_path = %[8]q
  format      = "imei"
}

data "audience_id_list" "nobody" {
  source      = %[9]q
  column      = "idfa"
  output_path = %[10]q
  allow_empty = true
}
`, src, srcGz, out("idfa.txt"), out("idfa_md5.txt.gz"), out("email.txt"), out("kept.txt"), imeis, out("imei_out.txt"), headerOnly, out("nobody.txt"))

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: config,
				ConfigStateChecks: []statecheck.StateCheck{
					idListState("idfa", "id", knownvalue.StringExact(out("idfa.txt"))),
					idListState("idfa", "entry_count", knownvalue.Int64Exact(2)),
					idListState("idfa", "skipped_count", knownvalue.Int64Exact(2)), // a blank and the all-zero IDFA
					idListState("idfa", "file_md5", knownvalue.StringExact(md5hex(idfas))),
					idListState("idfa", "file_size", knownvalue.Int64Exact(int64(len(idfas)))),
					idListState("idfa_md5_gz", "entry_count", knownvalue.Int64Exact(2)),
					idListState("email_sha256", "entry_count", knownvalue.Int64Exact(4)),
					idListState("email_sha256", "skipped_count", knownvalue.Int64Exact(0)),
					idListState("email_sha256", "file_md5", knownvalue.StringExact(md5hex(emails))),
					idListState("kept", "entry_count", knownvalue.Int64Exact(3)),
					idListState("kept", "skipped_count", knownvalue.Int64Exact(1)),
					idListState("imei", "entry_count", knownvalue.Int64Exact(3)),
					idListState("imei", "skipped_count", knownvalue.Int64Exact(1)),
					idListState("nobody", "entry_count", knownvalue.Int64Exact(0)),
					idListState("nobody", "file_size", knownvalue.Int64Exact(0)),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkFileContent(out("idfa.txt"), false, idfas),
					checkFileContent(out("idfa_md5.txt.gz"), true, md5s),
					checkFileContent(out("email.txt"), false, emails),
					checkFileContent(out("kept.txt"), false, kept),
					checkFileContent(out("imei_out.txt"), false, "358240051111110\n35824005111111\n490154203237518\n"),
					checkFileContent(out("nobody.txt"), false, ""),
				),
			},
			{
				// A second run reads again and gives the same bytes.
				Config: config,
				ConfigStateChecks: []statecheck.StateCheck{
					idListState("idfa", "file_md5", knownvalue.StringExact(md5hex(idfas))),
					idListState("email_sha256", "file_md5", knownvalue.StringExact(md5hex(emails))),
				},
			},
		},
	})
}

// Every mistake fails the plan with the file, the line and what to do.
func TestAccIDList_errors(t *testing.T) {
	dir := t.TempDir()
	src := writeFile(t, dir, "export.csv", idListCRMExport)
	malformed := writeFile(t, dir, "malformed.csv", "_pid,idfa\n1,\"6D92078A\n2,x\n")
	headerOnly := writeFile(t, dir, "nobody.csv", "_pid,idfa\n")
	out := filepath.Join(dir, "out.txt")
	step := func(body string, want *regexp.Regexp) resource.TestStep {
		return resource.TestStep{
			Config:      fmt.Sprintf("data \"audience_id_list\" \"test\" {\n%s\n}\n", body),
			ExpectError: want,
		}
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			step(fmt.Sprintf("source = %q\noutput_path = %q", src, out),
				wrapped(src+", line 1: the file has 4 columns", `Set column`, `"_pid", "email", "first_name", "idfa"`)),
			step(fmt.Sprintf("source = %q\noutput_path = %q\ncolumn = \"gaid\"", src, out),
				wrapped(`line 1: the header has no column "gaid"`, `one of: "_pid", "email", "first_name", "idfa"`)),
			step(fmt.Sprintf("source = %q\noutput_path = %q\ncolumn = \"email\"\nformat = \"uuid\"", src, out),
				wrapped(`line 2: invalid value "A********a@Example.com" in column "email"`, "not a UUID", `invalid = "skip"`)),
			step(fmt.Sprintf("source = %q\noutput_path = %q\ncolumn = \"idfa\"\nformat = \"uuid\"", src, out),
				wrapped(`line 5: invalid value "00000000-0000-0000-0000-000000000000"`, "ad tracking is limited")),
			step(fmt.Sprintf("source = %q\noutput_path = %q\ncolumn = \"email\"", src, out),
				wrapped("line 3: invalid value", "comma, semicolon, tab or quote")),
			step(fmt.Sprintf("source = %q\noutput_path = %q\ncolumn = \"idfa\"", malformed, out),
				wrapped(malformed+", line 2: a quoted value is not closed before the end of the file", "RFC 4180")),
			step(fmt.Sprintf("source = %q\noutput_path = %q\ncolumn = \"idfa\"", headerOnly, out),
				wrapped(`no value to write from column "idfa" (0 rows read, 0 skipped`, "allow_empty = true")),
			step(fmt.Sprintf("source = %q\noutput_path = %q\ncase = \"title\"", src, out), wrapped("case", `value must be one of`)),
			step(fmt.Sprintf("source = %q\noutput_path = %q\nhash = \"sha1\"", src, out), wrapped("hash", `value must be one of`)),
			step(fmt.Sprintf("source = %q\noutput_path = %q\nformat = \"email\"", src, out), wrapped("format", `value must be one of`)),
			step(fmt.Sprintf("source = %q\noutput_path = %q\ninvalid = \"drop\"", src, out), wrapped("invalid", `value must be one of`)),
			step(fmt.Sprintf("source = %q\noutput_path = %q", src, src), wrapped("output_path is the source")),
			step(fmt.Sprintf("source = %q\noutput_path = %q", filepath.Join(dir, "missing.csv"), out), wrapped("Source file not found", "missing.csv does not exist")),
			step(fmt.Sprintf("source = %q\noutput_path = %q\ncolumn = \"idfa\"\ntimeouts = { read = \"1ns\" }", src, out), wrapped("Building the ID list timed out", "within timeouts.read (1ns)")),
		},
	})
	if _, err := os.Stat(out); err == nil {
		t.Fatalf("%s was written although every read failed", out)
	}
}

// A CI run starts from a fresh clone: the generated folders of output_path
// are absent, and the lists are written anyway (paths relative to the
// configuration, as the docs' example spells them). The next run, in
// another fresh clone, writes the same bytes and uploads nothing.
func TestAccIDList_freshCloneCreatesOutputDirectories(t *testing.T) {
	srv := accTarget(t, mintegralPlatform)
	clone := t.TempDir()
	iosList := accName("ios_idfa.txt") // the name Mintegral is sent
	// The provider resolves relative paths against its working directory,
	// the configuration's directory when Terraform starts it.
	t.Chdir(clone)
	writeFile(t, mkdir(t, clone, "exports"), "crm_export.csv", idListCRMExport)
	idfas, count := idListColumn(t, []byte(idListCRMExport), "idfa")
	config := `
data "audience_id_list" "ios" {
  source      = "${path.module}/exports/crm_export.csv"
  column      = "idfa"
  output_path = "${path.module}/build/` + iosList + `"
  case        = "upper"
  format      = "uuid"
  invalid     = "skip"
}

data "audience_id_list" "out" {
  source      = "${path.module}/exports/crm_export.csv"
  column      = "idfa"
  output_path = "${path.module}/out/nested/idfa.txt.gz"
  case        = "upper"
  format      = "uuid"
  invalid     = "skip"
}

resource "audience_mintegral_file" "test" {
  source = data.audience_id_list.ios.output_path
}
`
	freshClone := func() {
		for _, generated := range []string{"build", "out"} {
			if err := os.RemoveAll(filepath.Join(clone, generated)); err != nil {
				t.Fatal(err)
			}
		}
	}
	var uploads int
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: config,
				ConfigStateChecks: []statecheck.StateCheck{
					idListState("ios", "entry_count", knownvalue.Int64Exact(count)),
					idListState("ios", "file_md5", knownvalue.StringExact(md5hex(idfas))),
					statecheck.ExpectKnownValue("audience_mintegral_file.test", tfjsonpath.New("file_md5"), knownvalue.StringExact(md5hex(idfas))),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkFileContent(filepath.Join(clone, "build", iosList), false, idfas),
					checkFileContent(filepath.Join(clone, "out", "nested", "idfa.txt.gz"), true, idfas),
					onSandbox(srv, checkStoredObject(srv, idfas)),
				),
			},
			{
				// The next run: a fresh clone, state from the backend.
				PreConfig: func() {
					freshClone()
					if srv != nil {
						uploads = srv.Requests(sandbox.PrefixMintegral)
					}
				},
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkFileContent(filepath.Join(clone, "build", iosList), false, idfas),
					onSandbox(srv, func(*terraform.State) error {
						if n := srv.Requests(sandbox.PrefixMintegral) - uploads; n != 0 {
							return fmt.Errorf("%d requests reached Mintegral for unchanged content", n)
						}
						return nil
					}),
				),
			},
		},
	})
}

// An output_path that cannot take the list fails naming output_path,
// before the export is read: the export here is malformed, so reading it
// would fail with another error.
func TestAccIDList_outputPathRefusedBeforeReading(t *testing.T) {
	dir := t.TempDir()
	export := "idfa\n6D92078A-8246-4BA4-AE5B-76104861E7DC\n\"unclosed\n"
	src := writeFile(t, mkdir(t, dir, "exports"), "crm_export.csv", export)
	build := mkdir(t, dir, "build")
	link := filepath.Join(dir, "exports", "latest.csv")
	if err := os.Symlink(src, link); err != nil {
		t.Fatal(err)
	}
	plain := writeFile(t, dir, "plain", "x")
	step := func(source, output string, want *regexp.Regexp) resource.TestStep {
		return resource.TestStep{
			Config:      fmt.Sprintf("data \"audience_id_list\" \"test\" {\n  source = %q\n  column = \"idfa\"\n  output_path = %q\n}\n", source, output),
			ExpectError: want,
		}
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			step(src, build, wrapped("Invalid output_path", build+": it is a directory.", "Name the file to write, such as "+filepath.Join(build, "ids.txt"))),
			step(src, build+"/lists/", wrapped("Invalid output_path", "the path ends in a separator, so it names a directory")),
			step(src, link, wrapped("Invalid output_path", link+": it is the source file "+src, "the export is read, never overwritten")),
			step(link, src, wrapped("Invalid output_path", src+": it is the source file "+link)),
			step(src, filepath.Join(dir, "exports", "..", "build", "..", "exports", "crm_export.csv"), wrapped("output_path is the source")),
			step(src, filepath.Join(plain, "ids.txt"), wrapped("Invalid output_path", "cannot create its directory", "a part of it may be a file")),
			// The same export with a good output_path is read, and its
			// mistake reported: the steps above did not get that far.
			step(src, filepath.Join(build, "ids.txt"), wrapped("Cannot build the ID list", src+", line 3: a quoted value is not closed")),
		},
	})
	if _, err := os.Stat(filepath.Join(build, "lists")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a refused output_path created a directory: %v", err)
	}
	if b, err := os.ReadFile(src); err != nil || string(b) != export {
		t.Fatalf("the export changed: %q, %v", b, err)
	}
}

// A truncated .gz export fails naming the file and the damage, not with
// a bare "unexpected EOF".
func TestAccIDList_truncatedGzip(t *testing.T) {
	dir := t.TempDir()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write([]byte(idListCRMExport))
	_ = zw.Close()
	cut := writeFile(t, dir, "export.csv.gz", gz.String()[:gz.Len()/2])
	out := filepath.Join(dir, "idfa.txt")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: fmt.Sprintf("data \"audience_id_list\" \"test\" {\n  source = %q\n  column = \"idfa\"\n  output_path = %q\n}\n", cut, out),
			ExpectError: wrapped("Cannot build the ID list", cut+": the gzip file is truncated or corrupt (it ends before its compressed data does)",
				"fetch it again if a copy or download was cut short"),
		}},
	})
	if _, err := os.Stat(out); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("%s written from a truncated export: %v", out, err)
	}
}

// From CRM to ad network: the raw Altcraft export is refused by Mintegral at
// plan; through audience_id_list its idfa column is uploaded to Mintegral
// and its _pid column to TPNS as accounts. The next plan is empty, and a
// new segment content uploads new lists.
func TestAccIDList_pipelineAltcraftToMintegralAndTPNS(t *testing.T) {
	srv := requireSandbox(t, mintegralPlatform, "exports profiles seeded into the sandbox's Altcraft panel, moves the clock and reads the sandbox's records")
	out := t.TempDir()
	doctors := altcraftSandboxExport(t, "segment", 7, map[string]any{"occupation": "doctor"})
	nurses := altcraftSandboxExport(t, "segment", 7, map[string]any{"occupation": "nurse"})
	doctorIDs, doctorCount := idListColumn(t, doctors, "idfa")
	nurseIDs, _ := idListColumn(t, nurses, "idfa")
	doctorPIDs, doctorPIDCount := idListColumn(t, doctors, "_pid")
	export := func(occupation string) string {
		return fmt.Sprintf(`
data "audience_altcraft_profile_export" "test" {
  source_type    = "segment"
  source_id      = 7
  custom_request = { occupation = %q }
  output_dir     = %q
}
`, occupation, out)
	}
	pipeline := func(occupation string) string {
		return export(occupation) + fmt.Sprintf(`
data "audience_id_list" "idfa" {
  source      = data.audience_altcraft_profile_export.test.files[0].path
  column      = "idfa"
  output_path = "%[1]s/idfa.txt"
  case        = "upper"
  format      = "uuid"
  invalid     = "skip"
}

data "audience_id_list" "accounts" {
  source      = data.audience_altcraft_profile_export.test.files[0].path
  column      = "_pid"
  output_path = "%[1]s/accounts.txt"
}

resource "audience_mintegral_file" "test" {
  source = data.audience_id_list.idfa.output_path
}

resource "audience_tpns_account_package" "test" {
  source = data.audience_id_list.accounts.output_path
}

resource "audience_mintegral_audience" "test" {
  name     = "crm-segment-ios"
  platform = "ios"
  files = [{
    device_type = "IDFA"
    data_path   = audience_mintegral_file.test.data_path
  }]
}
`, out)
	}
	var before int
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				// The raw export: personal data in eight columns, refused
				// before any request to Mintegral.
				Config: export("doctor") + `
resource "audience_mintegral_file" "test" {
  source = data.audience_altcraft_profile_export.test.files[0].path
}
`,
				ExpectError: wrapped("Not a one-column Mintegral audience file", "7_segment_export.csv, line 1: the line has 10 comma-separated columns", "audience_id_list"),
			},
			{
				PreConfig: func() {
					if n := srv.Requests(sandbox.PrefixMintegral); n != 0 {
						t.Fatalf("%d requests reached Mintegral with the raw export", n)
					}
				},
				Config: pipeline("doctor"),
				ConfigStateChecks: []statecheck.StateCheck{
					idListState("idfa", "entry_count", knownvalue.Int64Exact(doctorCount)),
					statecheck.ExpectKnownValue("audience_mintegral_file.test", tfjsonpath.New("file_md5"), knownvalue.StringExact(md5hex(doctorIDs))),
					statecheck.ExpectKnownValue("audience_mintegral_file.test", tfjsonpath.New("file_name"), knownvalue.StringExact("idfa.txt")),
					statecheck.ExpectKnownValue("audience_tpns_account_package.test", tfjsonpath.New("entry_count"), knownvalue.Int64Exact(doctorPIDCount)),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkStoredObject(srv, doctorIDs),
					checkTPNSUploaded(srv, "audience_tpns_account_package.test", doctorPIDs, doctorPIDCount),
					checkPipelineAudience(t, srv),
				),
			},
			{
				// The export and the lists run again, give the same bytes,
				// and nothing is uploaded.
				PreConfig: func() { before = srv.Requests(sandbox.PrefixAltcraft) },
				Config:    pipeline("doctor"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: func(*terraform.State) error {
					if srv.Requests(sandbox.PrefixAltcraft) <= before {
						return fmt.Errorf("the plan did not run the export again")
					}
					return nil
				},
			},
			{
				// Other profiles, other IDs: a new upload, and the audience
				// takes the new data_path in place once its 12-hour window
				// has passed.
				PreConfig: func() { srv.BackdateMintegralAudience(onlyAudience(t, srv).ID, 13*time.Hour) },
				Config:    pipeline("nurse"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectNonEmptyPlan(),
						plancheck.ExpectKnownValue("audience_mintegral_file.test", tfjsonpath.New("file_md5"), knownvalue.StringExact(md5hex(nurseIDs))),
					},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkStoredObject(srv, nurseIDs),
					checkPipelineAudience(t, srv),
				),
			},
		},
	})
}

// checkPipelineAudience asserts the one audience in the sandbox targets the
// data_path the Mintegral upload holds in state, under the ta_id in state.
func checkPipelineAudience(t *testing.T, srv *sandbox.Server) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		a := onlyAudience(t, srv)
		file := s.RootModule().Resources["audience_mintegral_file.test"].Primary.Attributes
		aud := s.RootModule().Resources["audience_mintegral_audience.test"].Primary.Attributes
		if got := aud["ta_id"]; got != fmt.Sprint(a.ID) {
			return fmt.Errorf("state ta_id %s, sandbox audience %d", got, a.ID)
		}
		if len(a.Files) != 1 || a.Files[0].DataPath != file["data_path"] {
			return fmt.Errorf("sandbox audience files %+v, want the upload's data_path %s", a.Files, file["data_path"])
		}
		return nil
	}
}

// An export with a byte order mark, CRLF line ends, IDs in both cases and
// repeats becomes, through audience_id_list with case and dedupe, a clean
// list that uploads under irregular_lines = "error"; without dedupe the
// repeats stay, and the upload refuses them.
func TestAccIDList_dedupeWritesACleanList(t *testing.T) {
	srv := accTarget(t, mintegralPlatform)
	dir := t.TempDir()
	export := writeFile(t, dir, "crm.csv", "\xEF\xBB\xBF_pid,email,idfa\r\n"+
		"1,anna@example.com,"+strings.ToLower(idfaA)+"\r\n"+
		"2,boris@example.com,"+idfaB+"\r\n"+
		"3,clara@example.com, "+idfaA+" \r\n"+
		"4,dmitri@example.com,"+idfaB+"\r\n"+
		"5,elena@example.com,"+idfaC+"\r\n")
	out := filepath.Join(dir, "build", accName("idfa.txt"))
	config := func(dedupe bool) string {
		return fmt.Sprintf(`
data "audience_id_list" "ios" {
  source      = %q
  column      = "idfa"
  output_path = %q
  case        = "upper"
  dedupe      = %t
}

resource "audience_mintegral_file" "test" {
  source          = data.audience_id_list.ios.output_path
  device_type     = "IDFA"
  irregular_lines = "error"
}
`, export, out, dedupe)
	}
	clean := idfaA + "\n" + idfaB + "\n" + idfaC + "\n"
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      config(false),
				ExpectError: wrapped("Irregular lines in a Mintegral audience file", out+": 2 IDs repeat an earlier line (lines 3, 4)", "dedupe = true drops repeated IDs"),
			},
			{
				Config: config(true),
				ConfigStateChecks: []statecheck.StateCheck{
					idListState("ios", "entry_count", knownvalue.Int64Exact(3)),
					idListState("ios", "duplicate_count", knownvalue.Int64Exact(2)),
					idListState("ios", "file_md5", knownvalue.StringExact(md5hex(clean))),
					statecheck.ExpectKnownValue("audience_mintegral_file.test", tfjsonpath.New("file_md5"), knownvalue.StringExact(md5hex(clean))),
				},
				Check: resource.ComposeAggregateTestCheckFunc(checkFileContent(out, false, clean), onSandbox(srv, checkStoredObject(srv, clean))),
			},
		},
	})
}
