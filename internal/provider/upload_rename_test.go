package provider

import (
	"compress/gzip"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/audiencekit/terraform-provider-audience/internal/sandbox"
)

func TestDefaultName(t *testing.T) {
	for _, tc := range []struct {
		config, source, prior, want string
	}{
		{"", "lists/ios.txt", "", "ios.txt"},                    // new upload: the base name
		{"", "lists/ios_idfa.txt", "ios.txt", "ios.txt"},        // renamed: the platform's name stays
		{"", "other/dir/IOS.TXT", "ios.txt", "ios.txt"},         // the kind ignores case
		{"", "lists/ios.txt.gz", "ios.txt", "ios.txt.gz"},       // compressed: a name the platform reads otherwise
		{"", "lists/ios.csv", "ios.txt", "ios.csv"},             // another extension
		{"", "lists/pkg.zip", "accounts.zip", "accounts.zip"},   // zip packages
		{"set.txt", "lists/ios_idfa.txt", "ios.txt", "set.txt"}, // set explicitly: as set
	} {
		config := types.StringNull()
		if tc.config != "" {
			config = types.StringValue(tc.config)
		}
		prior := types.StringNull()
		if tc.prior != "" {
			prior = types.StringValue(tc.prior)
		}
		if got := defaultName(config, tc.source, prior); got != tc.want {
			t.Errorf("defaultName(%q, %q, %q) = %q, want %q", tc.config, tc.source, tc.prior, got, tc.want)
		}
	}
}

// A renamed source with the same content is not new content: nothing is
// uploaded, and file_name and the data_path stay what Mintegral has. A
// rename to a name the platform reads otherwise (.txt to .txt.gz, which
// is new content too) uploads under the new name.
func TestAccUpload_renameIsNotNewContent(t *testing.T) {
	srv := startSandbox(t)
	dir := t.TempDir()
	content := "idfa\n6D92078A-8246-4BA4-AE5B-76104861E7DC\n"
	first := writeFile(t, dir, "ios.txt", content)
	renamed := filepath.Join(dir, "lists", "ios_idfa.txt")
	gzipped := filepath.Join(dir, "lists", "ios_idfa.txt.gz")
	dataPath := statecheck.CompareValue(compare.ValuesSame())
	var requests int
	noRequests := func(*terraform.State) error {
		if n := srv.Requests(sandbox.PrefixMintegral); n != requests {
			t.Errorf("the rename sent %d Mintegral requests", n-requests)
		}
		return nil
	}

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: mintegralFileConfig(first, ""),
				ConfigStateChecks: []statecheck.StateCheck{
					dataPath.AddStateValue("audience_mintegral_file.test", tfjsonpath.New("data_path")),
				},
			},
			{
				PreConfig: func() {
					if err := os.MkdirAll(filepath.Dir(renamed), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.Rename(first, renamed); err != nil {
						t.Fatal(err)
					}
					requests = srv.Requests(sandbox.PrefixMintegral)
				},
				Config: mintegralFileConfig(renamed, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction("audience_mintegral_file.test", plancheck.ResourceActionUpdate),
						plancheck.ExpectKnownValue("audience_mintegral_file.test", tfjsonpath.New("file_name"), knownvalue.StringExact("ios.txt")),
						plancheck.ExpectKnownValue("audience_mintegral_file.test", tfjsonpath.New("entry_count"), knownvalue.Int64Exact(1)),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					dataPath.AddStateValue("audience_mintegral_file.test", tfjsonpath.New("data_path")),
					statecheck.ExpectKnownValue("audience_mintegral_file.test", tfjsonpath.New("source"), knownvalue.StringExact(renamed)),
				},
				Check: noRequests,
			},
			{
				Config: mintegralFileConfig(renamed, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
			{
				PreConfig: func() {
					f, err := os.Create(gzipped)
					if err != nil {
						t.Fatal(err)
					}
					zw := gzip.NewWriter(f)
					if _, err := zw.Write([]byte(content)); err != nil {
						t.Fatal(err)
					}
					if err := zw.Close(); err != nil {
						t.Fatal(err)
					}
					if err := f.Close(); err != nil {
						t.Fatal(err)
					}
				},
				Config: mintegralFileConfig(gzipped, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectKnownValue("audience_mintegral_file.test", tfjsonpath.New("file_name"), knownvalue.StringExact("ios_idfa.txt.gz")),
						plancheck.ExpectUnknownValue("audience_mintegral_file.test", tfjsonpath.New("data_path")),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("audience_mintegral_file.test", tfjsonpath.New("data_path"), knownvalue.StringRegexp(regexp.MustCompile(`/ios_idfa\.txt\.gz$`))),
				},
			},
		},
	})
}
