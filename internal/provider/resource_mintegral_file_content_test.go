package provider

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/audiencekit/terraform-provider-audience/internal/sandbox"
)

const (
	idfaA = "6D92078A-8246-4BA4-AE5B-76104861E7DC"
	idfaB = "AEBE52E7-03EE-455A-B3C4-E57283966239"
	idfaC = "F7A1C2D3-03EE-455A-B3C4-E57283966239"
)

func gzipString(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// sandboxRequests counts every request that reached Mintegral or the
// storage behind it.
func sandboxRequests(srv *sandbox.Server) int {
	return srv.Requests(sandbox.PrefixMintegral) + srv.Requests(sandbox.PrefixS3) + srv.Requests(sandbox.PrefixOSS)
}

// A list of e-mail addresses, phone numbers or names never reaches
// Mintegral, whatever device_type says: the plan fails with the file and
// the line, and nothing is sent.
func TestAccMintegralFile_personalDataRefusedAtPlan(t *testing.T) {
	srv := accTarget(t, mintegralPlatform)
	dir := t.TempDir()
	emails := writeFile(t, dir, "idfa.txt", "email\n"+strings.Repeat(idfaA+"\n", 15)+"anna.ivanova@example.com\n")
	onlyEmails := writeFile(t, dir, "crm.txt", "boris@example.com\nclara@example.com\n")
	phones := writeFile(t, dir, "phones.csv", "idfa\n"+idfaA+"\n+49 170 1234567\n")
	names := writeFile(t, dir, "names.txt.gz", gzipString(t, "idfa\n"+idfaA+"\nAnna Ivanova\n"))
	personal := func(src, extra, where, what string) resource.TestStep {
		return resource.TestStep{
			Config:   mintegralFileConfig(src, extra),
			PlanOnly: true,
			ExpectError: wrapped("Personal data in a Mintegral audience file", src+", "+where+": the line "+what,
				"; no personal data may reach an ad platform. Upload device IDs only: extract the device ID column with the audience_id_list data source"),
		}
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			personal(emails, "", "line 17", `looks like an e-mail address ("a********a@example.com")`),
			personal(emails, `device_type = "IDFA"`, "line 17", "looks like an e-mail address"),
			// The case: a file of addresses given as IDFAs.
			personal(onlyEmails, `device_type = "IDFA"`, "line 1", `looks like an e-mail address ("b***s@example.com")`),
			personal(phones, "", "line 3", "looks like a phone number"),
			personal(names, `device_type = "GAID"`, "line 3", "holds words separated by spaces, as a name or an address does"),
		},
	})
	if srv == nil {
		return
	}
	if n := sandboxRequests(srv); n != 0 {
		t.Fatalf("%d requests reached the sandbox; personal data must fail the plan before anything is sent", n)
	}
}

// device_type checks each line: IDs of another type fail the plan with
// the file and the line; IDFAs given as GAIDs fail by their case. A file
// of the right type uploads, and a change of device_type alone sends
// nothing.
func TestAccMintegralFile_deviceType(t *testing.T) {
	srv := accTarget(t, mintegralPlatform)
	dir := t.TempDir()
	idfas := "idfa\n" + idfaA + "\n" + idfaB + "\n"
	src := writeFile(t, dir, accName("devices.txt"), idfas)
	lower := writeFile(t, dir, "lower.txt", strings.ToLower(idfas))
	refused := func(src, deviceType string, want ...string) resource.TestStep {
		return resource.TestStep{
			Config:      mintegralFileConfig(src, fmt.Sprintf("device_type = %q", deviceType)),
			PlanOnly:    true,
			ExpectError: wrapped(append([]string{"Device IDs of another type"}, want...)...),
		}
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			refused(src, "GAID", src+": every ID with letters (2, from line 2) is in uppercase, and GAIDs are written in lowercase: the file seems to hold another type of device ID",
				`if these are GAIDs written in uppercase, rewrite them with the audience_id_list data source and case = "lower"`, `device_type is "GAID": set it to the type of the IDs in the file`),
			refused(lower, "IDFA", lower+": every ID with letters (2, from line 2) is in lowercase, and IDFAs are written in uppercase"),
			refused(src, "IMEI", src+", line 2: the line is not an IMEI: an IMEI is 14 to 16 digits", "it is a UUID, as IDFAs, IDFVs and GAIDs are"),
			refused(src, "IDFA_MD5", src+", line 2: the line is not an IDFA_MD5: an IDFA_MD5 is an MD5 digest (32 hexadecimal digits"),
			{
				Config:      mintegralFileConfig(src, `device_type = "IDFB"`),
				PlanOnly:    true,
				ExpectError: wrapped("device_type", "IDFA", "GAID", "IDFV_MD5"),
			},
		},
	})
	if srv != nil {
		if n := sandboxRequests(srv); n != 0 {
			t.Fatalf("%d requests reached the sandbox; a wrong device type must fail the plan first", n)
		}
	}
	var sent int
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: mintegralFileConfig(src, `device_type = "IDFA"`),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("audience_mintegral_file.test", tfjsonpath.New("device_type"), knownvalue.StringExact("IDFA")),
				},
				Check: onSandbox(srv, resource.ComposeAggregateTestCheckFunc(checkStoredObject(srv, idfas), func(*terraform.State) error {
					sent = sandboxRequests(srv)
					return nil
				})),
			},
			{
				// IDFVs are uppercase UUIDs too; the type is not sent with
				// the file, so nothing is uploaded again.
				Config: mintegralFileConfig(src, `device_type = "IDFV"`),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction("audience_mintegral_file.test", plancheck.ResourceActionUpdate),
						plancheck.ExpectKnownValue("audience_mintegral_file.test", tfjsonpath.New("file_md5"), knownvalue.StringExact(md5hex(idfas))),
					},
				},
				Check: onSandbox(srv, func(*terraform.State) error {
					if n := sandboxRequests(srv) - sent; n != 0 {
						return fmt.Errorf("%d requests for a change of device_type alone", n)
					}
					return nil
				}),
			},
		},
	})
}

// A byte order mark, CRLF line ends, IDs in the other case and repeats
// are uploaded as they are, with a warning in every plan that uploads
// them; irregular_lines = "error" refuses them.
func TestAccMintegralFile_irregularLines(t *testing.T) {
	srv := accTarget(t, mintegralPlatform)
	w := newCLIWorkdir(t)
	file := accName("devices.txt")
	config := func(extra string) string {
		return providerBlock + fmt.Sprintf(`
resource "audience_mintegral_file" "devices" {
  source      = %q
  device_type = "IDFA"
  %s
}
`, filepath.Join(w.Dir, file), extra)
	}
	w.write("main.tf", config(""))
	irregular := "\xEF\xBB\xBFidfa\r\n" + idfaA + "\r\n" + idfaB + "\r\n" + idfaA + "\r\n" + strings.ToLower(idfaC) + "\r\n"
	w.write(file, irregular)
	w.ok("init")
	found := []string{
		"Warning: Irregular lines in a Mintegral audience file",
		filepath.Join(w.Dir, file) + `: a UTF-8 byte order mark (EF BB BF) before line 1; 5 lines end in CRLF (\r\n) rather than \n (lines 1, 2, 3, 4, 5); ` +
			"1 ID holds lowercase letters, while IDFAs are written in uppercase (line 5); 1 ID repeats an earlier line (line 4).",
		"Mintegral is sent the file byte for byte (it is told the file's MD5), so these lines reach it as they are.",
		`To send a clean list, write it with the audience_id_list data source and point source at its output_path: it writes one trimmed ID per line ending in \n, without a byte order mark; case = "upper" writes IDFAs in uppercase; dedupe = true drops repeated IDs.`,
		`Set irregular_lines = "error" to refuse such files.`,
	}
	expectIn(t, w.ok("plan"), found...)
	// The apply plans again and warns again: a plan that trusts the check
	// passed before shows the warnings that check recorded.
	expectIn(t, w.ok("apply", "-auto-approve"), append(found, "Apply complete! Resources: 1 added")...)
	if srv != nil {
		attrs, _, _ := w.instance("audience_mintegral_file", "devices")
		if err := checkStoredPath(srv, attrs["data_path"].(string), irregular); err != nil {
			t.Fatal(err)
		}
	}
	// Unchanged content plans nothing and warns of nothing.
	if out := w.emptyPlan(); strings.Contains(out, "Irregular") {
		t.Fatalf("an unchanged file warned again:\n%s", out)
	}

	// Refused: new content with a repeat, under irregular_lines = "error".
	var sent int
	if srv != nil {
		sent = sandboxRequests(srv)
	}
	w.write("main.tf", config(`irregular_lines = "error"`))
	w.write(file, "idfa\n"+idfaA+"\n"+idfaB+"\n"+idfaB+"\n")
	out, _ := w.run([]int{1}, "plan")
	expectIn(t, out, "Error: Irregular lines in a Mintegral audience file", "1 ID repeats an earlier line (line 4)", "dedupe = true drops repeated IDs",
		`irregular_lines = "error" refuses such a file.`)
	if srv == nil {
		return
	}
	if n := sandboxRequests(srv) - sent; n != 0 {
		t.Fatalf("%d requests for a refused file", n)
	}
}
