package provider

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

func writerArgs(source, column string) tftypes.Value {
	typ := tftypes.Object{AttributeTypes: map[string]tftypes.Type{"source": tftypes.String, "column": tftypes.String, "timeouts": tftypes.Object{}}}
	return tftypes.NewValue(typ, map[string]tftypes.Value{
		"source":   tftypes.NewValue(tftypes.String, source),
		"column":   tftypes.NewValue(tftypes.String, column),
		"timeouts": tftypes.NewValue(tftypes.Object{}, nil),
	})
}

func TestCanonicalPathSpellings(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "real"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "real"), filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	want := canonicalPath(filepath.Join(dir, "real", "a.txt"))
	for _, p := range []string{"real/a.txt", "./real/../real/a.txt", filepath.Join(dir, "link", "a.txt"), "link/a.txt"} {
		if got := canonicalPath(p); got != want {
			t.Errorf("canonicalPath(%q) = %q, want %q", p, got, want)
		}
	}
	// Folders not created yet resolve through the deepest existing one.
	if a, b := canonicalPath("link/new/deeper/a.txt"), canonicalPath(filepath.Join(dir, "real", "new", "deeper", "a.txt")); a != b {
		t.Errorf("a missing folder under a link: %q and %q differ", a, b)
	}
	// The file itself is not resolved: writers rename over a link.
	if err := os.Symlink(filepath.Join(dir, "real", "a.txt"), filepath.Join(dir, "real", "b.txt")); err != nil {
		t.Fatal(err)
	}
	if canonicalPath("real/b.txt") == want {
		t.Error("a link to a file was taken for that file")
	}
}

func TestOutputPathsClaim(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	var o outputPaths
	ios := newOutputWriter("ios", writerArgs("crm.csv", "idfa"), "source")
	if c := o.claim(ios, "lists/ads.txt"); c != nil {
		t.Fatalf("a first claim conflicts: %+v", c)
	}
	// The same data source read again (and the same arguments with the
	// source spelled otherwise, other timeouts) is the same writer.
	again := newOutputWriter("ios again", writerArgs(filepath.Join(dir, "crm.csv"), "idfa"), "source")
	if c := o.claim(again, filepath.Join(dir, "lists", "ads.txt")); c != nil {
		t.Fatalf("the same writer again conflicts: %+v", c)
	}
	android := newOutputWriter("android", writerArgs("crm.csv", "gaid"), "source")
	c := o.claim(android, "other.txt", "./lists/ads.txt")
	if c == nil || c.this != "android" || c.other != "ios" || c.path != "./lists/ads.txt" || c.otherSpelling != "lists/ads.txt" {
		t.Fatalf("conflict = %+v, want android against ios on ./lists/ads.txt", c)
	}
	// A refused claim records none of its paths.
	if c := o.claim(ios, "other.txt"); c != nil {
		t.Fatalf("a refused claim kept a path: %+v", c)
	}

	d := &providerData{}
	d.outputs.claim(ios, "lists/ads.txt")
	diags := d.claimOutput(path.Root("output_path"), android, "lists/ads.txt")
	if !diags.HasError() {
		t.Fatal("no error")
	}
	detail := diags[0].Detail()
	for _, want := range []string{"lists/ads.txt is written by two blocks", "  - ios\n", "  - android\n", "output_path"} {
		if !strings.Contains(detail, want) {
			t.Errorf("detail lacks %q:\n%s", want, detail)
		}
	}
	if diags := (*providerData)(nil).claimOutput(path.Root("output_path"), android, "lists/ads.txt"); diags.HasError() {
		t.Error("an unconfigured provider refused a claim")
	}
}
