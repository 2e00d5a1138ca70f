package provider

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"

	"github.com/audiencekit/terraform-provider-audience/internal/sandbox"
)

func TestListGuardJudge(t *testing.T) {
	g := defaultListGuard
	for _, tc := range []struct {
		name         string
		guard        listGuard
		prior, count int64
		want         string // "", "warning" or "error"
		phrase       string
	}{
		{"new list", g, -1, 3, "", ""},
		{"grows", g, 100, 120, "", ""},
		{"half is the limit", g, 100, 50, "", ""},
		{"past the limit warns", g, 104, 2, "warning", "holds 2 entries, and the platform holds 104 from the last upload: the list shrinks by 102 entries (98.1 %), more than list_guard.max_shrink_percent (50 %)"},
		{"error when asked", listGuard{50, onShrinkError, 1}, 104, 2, "error", "set list_guard = { max_shrink_percent = 100 }"},
		{"100 lets anything through", listGuard{100, onShrinkError, 1}, 104, 1, "", ""},
		{"0 forbids any shrink", listGuard{0, onShrinkError, 1}, 104, 103, "error", "shrinks by 1 entries"},
		{"below the minimum", listGuard{100, onShrinkWarn, 10}, 104, 9, "error", "fewer than list_guard.min_entry_count (10). The platform holds 104 entries from the last upload."},
		{"minimum on a new list", listGuard{50, onShrinkWarn, 10}, -1, 9, "error", "holds 9 entries, fewer than list_guard.min_entry_count (10)."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			diags := tc.guard.judge("audience_mintegral_file", "lists/ios.txt", tc.prior, tc.count)
			got := ""
			var d diag.Diagnostic
			switch {
			case diags.HasError():
				got, d = "error", diags.Errors()[0]
			case len(diags.Warnings()) > 0:
				got, d = "warning", diags.Warnings()[0]
			}
			if got != tc.want || len(diags) > 1 {
				t.Fatalf("got %s (%v), want %s", got, diags, tc.want)
			}
			if d != nil && !strings.Contains(d.Detail(), tc.phrase) {
				t.Fatalf("detail %q lacks %q", d.Detail(), tc.phrase)
			}
			if d != nil && !strings.Contains(d.Detail(), "audience_mintegral_file: lists/ios.txt") {
				t.Fatalf("detail %q does not name the resource type and source", d.Detail())
			}
		})
	}
}

// idLines is a one-column list of n distinct IDFAs.
func idLines(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "%08X-8246-4BA4-AE5B-76104861E7DC\n", i+1)
	}
	return b.String()
}

// The lists listGuardConfig uploads, named under the run's prefix.
var listGuardIOS, listGuardAccounts = accName("ios.txt"), accName("accounts.txt")

func listGuardConfig(dir, providerGuard, resourceGuard string) string {
	return providerBlock + fmt.Sprintf(`
provider "audience" {
  %s
}

resource "audience_mintegral_file" "ios" {
  source = "%s/%s"
  %s
}

resource "audience_tpns_account_package" "accounts" {
  source = "%s/%s"
  %s
}
`, providerGuard, dir, listGuardIOS, resourceGuard, dir, listGuardAccounts, resourceGuard)
}

// A list that collapses (an export that matched almost nobody) is shown
// in the plan with both counts; by default a warning, an error when the
// resource or the provider block asks for one, and nothing is uploaded
// until the team lets it through on purpose.
func TestAccListGuard_collapsedList(t *testing.T) {
	// One configuration uploads to both: against real accounts only when
	// both are named, each from the variables the run started with.
	if !isReal(t, tpnsPlatform) {
		skipOnRealAccount(t, mintegralPlatform, "also uploads to TPNS, which "+realAccountsEnv+" does not name")
	}
	srv := accTarget(t, mintegralPlatform)
	if srv == nil {
		for _, f := range tpnsPlatform.Settings {
			if v := startEnv[f.EnvVar]; v != "" {
				t.Setenv(f.EnvVar, v)
			}
		}
	}
	w := newCLIWorkdir(t)
	w.write(listGuardIOS, idLines(104))
	w.write(listGuardAccounts, strings.ReplaceAll(idLines(40), "-8246-4BA4-AE5B-76104861E7DC", ""))
	w.write("main.tf", listGuardConfig(w.Dir, "", ""))
	w.ok("init")
	w.ok("apply", "-auto-approve")
	for name, want := range map[string]any{"ios": float64(104)} {
		if attrs, _, _ := w.instance("audience_mintegral_file", name); attrs["entry_count"] != want {
			t.Fatalf("entry_count %v, want %v", attrs["entry_count"], want)
		}
	}
	if attrs, _, _ := w.instance("audience_tpns_account_package", "accounts"); attrs["entry_count"] != float64(40) {
		t.Fatalf("TPNS entry_count %v, want 40", attrs["entry_count"])
	}

	// The export collapses: the plan shows old -> new and warns.
	w.write(listGuardIOS, idLines(2))
	w.write(listGuardAccounts, "00000001\n")
	out := w.ok("plan")
	expectIn(t, out, "entry_count = 104 -> 2", "entry_count = 40 -> 1",
		"Warning: List shrinks from 104 to 2 entries",
		"audience_mintegral_file: "+w.Dir+"/"+listGuardIOS+" holds 2 entries, and the platform holds 104 from the last upload",
		"Warning: List shrinks from 40 to 1 entries",
		`Set list_guard.on_shrink = "error" (here or in the provider block) to make this an error.`)

	uploads := func() int {
		if srv == nil {
			return 0 // a real account's requests are not counted
		}
		return srv.Requests(sandbox.PrefixMintegral) + srv.Requests(sandbox.PrefixTPNS)
	}
	before := uploads()
	// Made an error in the provider block for every list, or on the resource.
	for _, cfg := range []string{
		listGuardConfig(w.Dir, `list_guard = { on_shrink = "error" }`, ""),
		listGuardConfig(w.Dir, "", `list_guard = { on_shrink = "error" }`),
	} {
		w.write("main.tf", cfg)
		out, _ := w.run([]int{1}, "apply", "-auto-approve")
		expectIn(t, out, "Error: List shrinks from 104 to 2 entries", "Error: List shrinks from 40 to 1 entries",
			"To upload this list on purpose, set list_guard = { max_shrink_percent = 100 } on this resource for this apply.")
	}
	// A minimum refuses whatever on_shrink says.
	w.write("main.tf", listGuardConfig(w.Dir, `list_guard = { min_entry_count = 3, max_shrink_percent = 100 }`, ""))
	out, _ = w.run([]int{1}, "plan")
	expectIn(t, out, "Error: List below its minimum", "holds 2 entries, fewer than list_guard.min_entry_count (3). The platform holds 104 entries from the last upload.")
	if n := uploads() - before; n != 0 {
		t.Fatalf("%d requests reached the platforms while the guard refused", n)
	}
	attrs, _, _ := w.instance("audience_mintegral_file", "ios")
	if attrs["entry_count"] != float64(104) {
		t.Fatalf("entry_count %v after refused applies, want 104", attrs["entry_count"])
	}

	// On purpose: the resource's own guard overrides the provider's.
	w.write("main.tf", listGuardConfig(w.Dir, `list_guard = { on_shrink = "error" }`, `list_guard = { max_shrink_percent = 100 }`))
	out = w.ok("apply", "-auto-approve")
	if strings.Contains(out, "List shrinks") {
		t.Fatalf("a shrink let through on purpose still warned:\n%s", out)
	}
	if attrs, _, _ := w.instance("audience_mintegral_file", "ios"); attrs["entry_count"] != float64(2) {
		t.Fatalf("entry_count %v, want 2", attrs["entry_count"])
	}
	// Changing the guard alone uploads nothing.
	before = uploads()
	w.write("main.tf", listGuardConfig(w.Dir, "", ""))
	w.ok("apply", "-auto-approve")
	if n := uploads() - before; n != 0 {
		t.Fatalf("changing list_guard sent %d requests", n)
	}
	w.emptyPlan()
}
