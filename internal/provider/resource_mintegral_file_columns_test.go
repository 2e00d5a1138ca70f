package provider

import (
	"bytes"
	"compress/gzip"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/audiencekit/terraform-provider-audience/internal/client/mintegral"
	"github.com/audiencekit/terraform-provider-audience/internal/idlist"
	"github.com/audiencekit/terraform-provider-audience/internal/sandbox"
)

// Mintegral's "one device ID per line, a single column" is checked at plan,
// in plain and gzip files, before any request.
func TestAccMintegralFile_oneColumnRule(t *testing.T) {
	srv := accTarget(t, mintegralPlatform)
	dir := t.TempDir()
	twoColumns := "idfa,email\n6D92078A-8246-4BA4-AE5B-76104861E7DC,anna@example.com\n"
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write([]byte("idfa\n6D92078A-8246-4BA4-AE5B-76104861E7DC\nAEBE52E7-03EE-455A-B3C4-E57283966239\tx\n"))
	_ = zw.Close()
	plain := writeFile(t, dir, "two.csv", twoColumns)
	packed := writeFile(t, dir, "devices.txt.gz", gz.String())
	blankLine := writeFile(t, dir, "blank.txt", "idfa\n6D92078A-8246-4BA4-AE5B-76104861E7DC\n\nAEBE52E7-03EE-455A-B3C4-E57283966239\n")
	headerOnly := writeFile(t, dir, "nobody.csv", "idfa\n")
	quoted := writeFile(t, dir, "quoted.csv", "\"6D92078A-8246-4BA4-AE5B-76104861E7DC\"\n")
	var valid bytes.Buffer
	zw = gzip.NewWriter(&valid)
	_, _ = zw.Write([]byte("idfa\n6D92078A-8246-4BA4-AE5B-76104861E7DC\nAEBE52E7-03EE-455A-B3C4-E57283966239\n"))
	_ = zw.Close()
	truncated := writeFile(t, dir, "cut.txt.gz", valid.String()[:valid.Len()-4])
	step := func(src string, want *regexp.Regexp) resource.TestStep {
		return resource.TestStep{Config: mintegralFileConfig(src, ""), ExpectError: want}
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			step(plain, wrapped("Not a one-column Mintegral audience file",
				plain+", line 1: the line has 2 comma-separated columns, and the file must have a single column.",
				"Upload one device ID per line: extract a single column with the audience_id_list data source.",
				"Mintegral takes one device ID per line in a single column; the first row may be a header.")),
			step(packed, wrapped(packed+", line 3: the line has 2 tab-separated columns", "audience_id_list")),
			step(blankLine, wrapped(blankLine+", line 3: the line is empty", "Remove empty lines")),
			step(headerOnly, wrapped(headerOnly+": the file holds a header row and no device ID")),
			step(quoted, wrapped(quoted+", line 1: the line holds a quote")),
			step(truncated, wrapped("Source is not valid gzip", truncated+": the gzip file is truncated or corrupt", "fetch it again")),
		},
	})
	if srv == nil {
		return
	}
	if n := srv.Requests(sandbox.PrefixMintegral); n != 0 {
		t.Fatalf("%d requests reached Mintegral; the one-column rule must fail the plan first", n)
	}
}

// The finished content check tells, besides its diagnostics, how many IDs
// the file holds (the header excluded) and its irregular lines as data.
func TestMintegralContentCountsEntriesAndFindings(t *testing.T) {
	p := writeFile(t, t.TempDir(), "devices.txt", "idfa\r\n6D92078A-8246-4BA4-AE5B-76104861E7DC\r\nAEBE52E7-03EE-455A-B3C4-E57283966239\r\n6D92078A-8246-4BA4-AE5B-76104861E7DC\r\n")
	rule, _ := mintegral.DeviceTypeIDs("IDFA")
	for _, refuse := range []bool{false, true} {
		c := newMintegralContent(localSource{Path: p, Name: "devices.txt"}, rule, refuse)
		if _, err := feedSource(p, c); err != nil {
			t.Fatal(err)
		}
		d := c.Finish()
		if refuse != d.HasError() || len(d) != 1 || !strings.Contains(d[0].Detail(), p+": 4 lines end in CRLF") {
			t.Fatalf("irregular_lines error %v: %v", refuse, d)
		}
		f := c.Findings()
		if c.Entries() != 3 || len(f) != 2 || f[0].Kind != idlist.IrregularCRLF || f[1].Kind != idlist.IrregularDuplicate || f[1].Count != 1 || f[1].Lines[0] != 4 {
			t.Fatalf("entries %d, findings %+v", c.Entries(), f)
		}
	}
}
