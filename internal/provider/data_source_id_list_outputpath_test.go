package provider

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
)

// A CRM export with one iOS and two Android devices.
const outputPathExport = "_pid,idfa,gaid\n" +
	"1,AEBE52E7-03EE-455A-B3C4-E57283966239,\n" +
	"2,,38400000-8cf0-11bd-b23e-10b96e40000d\n" +
	"3,,6d92078a-8246-4ba4-ae5b-76104861e7dc\n"

const (
	outputPathIDFAs = "AEBE52E7-03EE-455A-B3C4-E57283966239\n"
	outputPathGAIDs = "38400000-8cf0-11bd-b23e-10b96e40000d\n6d92078a-8246-4ba4-ae5b-76104861e7dc\n"
)

// words matches s with any run of white space (Terraform wraps long
// diagnostics) between its words.
func words(s string) string {
	w := strings.Fields(s)
	for i := range w {
		w[i] = regexp.QuoteMeta(w[i])
	}
	return strings.Join(w, `\s+`)
}

// conflictError matches the plan error naming both writers, in either order
// (independent reads run in parallel).
func conflictError(a, b string) *regexp.Regexp {
	return regexp.MustCompile(`(?s)Two blocks write one file.*(` + words(a) + `.*` + words(b) + `|` + words(b) + `.*` + words(a) + `)`)
}

// The finding of issue #23: a module used twice (iOS IDFA, Android GAID)
// with one output_path. Both reads wrote the same file, and the iOS
// audience was built from GAIDs. Now the plan fails naming both; distinct
// paths pass; the same list read twice with the same arguments is no
// conflict. count stands in for the module (one block, several
// instances): terraform-plugin-testing reads no state with modules or
// for_each.
func TestAccIDList_oneOutputPathOneWriter(t *testing.T) {
	dir := t.TempDir()
	src := writeFile(t, dir, "crm.csv", outputPathExport)
	// Each instance is {source, column, output_path}.
	lists := func(instances ...[3]string) string {
		var b strings.Builder
		b.WriteString("locals {\n  lists = [\n")
		for _, in := range instances {
			fmt.Fprintf(&b, "    { source = %q, column = %q, output_path = %q },\n", in[0], in[1], in[2])
		}
		b.WriteString(`  ]
}

data "audience_id_list" "device" {
  count       = length(local.lists)
  source      = local.lists[count.index].source
  column      = local.lists[count.index].column
  output_path = local.lists[count.index].output_path
  format      = "uuid"
  invalid     = "skip"
}
`)
		return b.String()
	}
	shared := filepath.Join(dir, "lists", "ads.txt")
	// The same file through a linked folder is the same file.
	if err := os.Mkdir(filepath.Join(dir, "lists"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "lists"), filepath.Join(dir, "linked")); err != nil {
		t.Fatal(err)
	}
	sharedViaLink := filepath.Join(dir, "linked", "ads.txt")
	ios := "audience_id_list reading " + src + " column idfa (format uuid, invalid skip)"
	android := "audience_id_list reading " + src + " column gaid (format uuid, invalid skip)"

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      lists([3]string{src, "idfa", shared}, [3]string{src, "gaid", shared}),
				ExpectError: conflictError(ios, android),
			},
			{
				// One of the two wrote its whole list; the other wrote
				// nothing.
				PreConfig: func() {
					got, err := os.ReadFile(shared)
					if err != nil {
						t.Fatal(err)
					}
					if s := string(got); s != outputPathIDFAs && s != outputPathGAIDs {
						t.Fatalf("%s holds %q: not one writer's list", shared, s)
					}
				},
				Config:      lists([3]string{src, "idfa", shared}, [3]string{src, "gaid", sharedViaLink}),
				ExpectError: conflictError(ios, android),
			},
			{
				Config: lists([3]string{src, "idfa", filepath.Join(dir, "lists", "ios.txt")}, [3]string{src, "gaid", filepath.Join(dir, "lists", "android.txt")}),
				Check: resource.ComposeAggregateTestCheckFunc(
					checkFileContent(filepath.Join(dir, "lists", "ios.txt"), false, outputPathIDFAs),
					checkFileContent(filepath.Join(dir, "lists", "android.txt"), false, outputPathGAIDs),
				),
			},
			{
				// The same list twice, the second time under other
				// spellings of the source and the output: one writer,
				// through plan, apply and the plan after it.
				Config: lists([3]string{src, "idfa", shared}, [3]string{dir + "/./crm.csv", "idfa", sharedViaLink}),
				Check:  checkFileContent(shared, false, outputPathIDFAs),
			},
		},
	})
}

// An export's files count too: an audience_id_list writing the file an
// export downloads, or two exports of one segment with other filters into
// one output_dir, fail the plan naming both. The same export twice does not.
func TestAccAltcraftProfileExport_oneOutputFileOneWriter(t *testing.T) {
	startSandbox(t)
	dir := t.TempDir()
	other := writeFile(t, t.TempDir(), "crm.csv", outputPathExport)
	export := func(name, occupation string) string {
		return fmt.Sprintf(`
data "audience_altcraft_profile_export" %q {
  source_type    = "segment"
  source_id      = 7
  custom_request = { occupation = %q }
  output_dir     = %q
}
`, name, occupation, dir)
	}
	doctors := `audience_altcraft_profile_export of segment 7 into ` + dir + ` (custom_request {"occupation":"doctor"})`
	nurses := `audience_altcraft_profile_export of segment 7 into ` + dir + ` (custom_request {"occupation":"nurse"})`
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: export("doctors", "doctor") + fmt.Sprintf(`
data "audience_id_list" "over_the_export" {
  source      = %q
  column      = "idfa"
  output_path = %q
}
`, other, filepath.Join(dir, "7_segment_export.csv")),
				ExpectError: conflictError(doctors, "audience_id_list reading "+other+" column idfa"),
			},
			{
				Config:      export("doctors", "doctor") + export("nurses", "nurse"),
				ExpectError: conflictError(doctors, nurses),
			},
			{
				Config: export("doctors", "doctor") + export("doctors_again", "doctor") + fmt.Sprintf(`
data "audience_id_list" "beside_the_export" {
  source      = data.audience_altcraft_profile_export.doctors.files[0].path
  column      = "idfa"
  output_path = %q
  format      = "uuid"
  invalid     = "skip"
}
`, filepath.Join(dir, "idfa.txt")),
			},
		},
	})
}
