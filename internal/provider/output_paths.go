package provider

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// outputPaths remembers which data source writes each local file in this
// run, so that two writers of one file (a module used twice with the same
// output_path) fail the plan instead of overwriting each other's file and
// feeding the other's list to an upload.
//
// It lives in providerData, which Terraform configures once per provider
// process, and a process serves one run (a plan, or an apply). Keeping it
// there rather than in a package variable also keeps acceptance tests, which
// serve many runs from one test process, from seeing each other's files.
type outputPaths struct {
	mu     sync.Mutex
	byPath map[string]outputClaim // by canonical path
}

// outputWriter is one data source that writes files.
type outputWriter struct {
	// name is how an error names it: the framework gives a data source no
	// address, so it is named by its arguments.
	name string
	// args are its arguments (timeouts left out, paths made canonical).
	// The same data source may be read twice in one process; with equal
	// arguments it writes the same bytes, which is no conflict.
	args tftypes.Value
}

type outputClaim struct {
	writer outputWriter
	as     string // the path as that writer spelled it
}

// outputConflict is a file two different writers claim.
type outputConflict struct {
	path, otherSpelling string
	this, other         string
}

// claim records w as the writer of every path in paths, or, when a
// different writer already holds one of them, records nothing and returns
// the conflict.
func (o *outputPaths) claim(w outputWriter, paths ...string) *outputConflict {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.byPath == nil {
		o.byPath = map[string]outputClaim{}
	}
	keys := make([]string, len(paths))
	for i, p := range paths {
		keys[i] = canonicalPath(p)
		if prev, ok := o.byPath[keys[i]]; ok && !prev.writer.args.Equal(w.args) {
			return &outputConflict{path: p, otherSpelling: prev.as, this: w.name, other: prev.writer.name}
		}
	}
	for i, k := range keys {
		if _, ok := o.byPath[k]; !ok {
			o.byPath[k] = outputClaim{writer: w, as: paths[i]}
		}
	}
	return nil
}

// claimOutput claims paths for w and turns a conflict into an error on
// attr. A provider not configured (never the case in a real run) checks
// nothing.
func (d *providerData) claimOutput(attr path.Path, w outputWriter, paths ...string) diag.Diagnostics {
	var diags diag.Diagnostics
	if d == nil {
		return diags
	}
	c := d.outputs.claim(w, paths...)
	if c == nil {
		return diags
	}
	where := c.path
	if c.otherSpelling != c.path {
		where += " (" + c.otherSpelling + " to the other)"
	}
	diags.AddAttributeError(attr, "Two blocks write one file",
		fmt.Sprintf("%s is written by two blocks in this run:\n  - %s\n  - %s\n"+
			"Each would overwrite the other's file, so what reads it would get whichever list was written last, "+
			"and plans would flip between the two. Give each its own file: a distinct output_path for audience_id_list, "+
			"a distinct output_dir for audience_altcraft_profile_export. In a module used more than once, "+
			"build the path from a module variable (the device type, say).",
			where, c.other, c.this))
	return diags
}

// newOutputWriter names a writer and keeps its arguments from the raw
// configuration: every argument but timeouts, with the string arguments
// named in pathArgs replaced by their canonical path, so two spellings of
// one source are one writer.
func newOutputWriter(name string, config tftypes.Value, pathArgs ...string) outputWriter {
	obj, ok := config.Type().(tftypes.Object)
	var attrs map[string]tftypes.Value
	if !ok || config.As(&attrs) != nil {
		return outputWriter{name: name, args: config}
	}
	attrs = maps.Clone(attrs) // As shares the value's own map
	attrTypes := maps.Clone(obj.AttributeTypes)
	delete(attrs, "timeouts")
	delete(attrTypes, "timeouts")
	for _, a := range pathArgs {
		var p string
		if v, ok := attrs[a]; ok && v.IsKnown() && !v.IsNull() && v.As(&p) == nil {
			attrs[a] = tftypes.NewValue(tftypes.String, canonicalPath(p))
		}
	}
	return outputWriter{name: name, args: tftypes.NewValue(tftypes.Object{AttributeTypes: attrTypes}, attrs)}
}

// canonicalPath is the absolute, cleaned form of p with the symbolic links
// of its deepest existing directory resolved, so that two spellings of one
// file (relative and absolute, through a linked folder, a folder not created
// yet) compare equal. The last element is left as it is: writers replace a
// link there by renaming over it rather than writing through it.
func canonicalPath(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		return filepath.Clean(p)
	}
	dir, rest := filepath.Dir(abs), []string{filepath.Base(abs)}
	for {
		if resolved, err := filepath.EvalSymlinks(dir); err == nil {
			return filepath.Join(append([]string{resolved}, rest...)...)
		} else if !errors.Is(err, os.ErrNotExist) {
			return abs
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return abs
		}
		rest = slices.Insert(rest, 0, filepath.Base(dir))
		dir = parent
	}
}

// idListWriter names an audience_id_list by what it reads and how:
// "audience_id_list reading exports/crm.csv column idfa (case upper)".
func idListWriter(config tftypes.Value, cfg idListModel) outputWriter {
	name := "audience_id_list reading " + cfg.Source.ValueString()
	if c := cfg.Column.ValueString(); c != "" {
		name += " column " + c
	}
	var opts []string
	for _, o := range []struct {
		arg string
		val types.String
	}{{"case", cfg.Case}, {"hash", cfg.Hash}, {"format", cfg.Format}, {"invalid", cfg.Invalid}} {
		if v := o.val.ValueString(); v != "" {
			opts = append(opts, o.arg+" "+v)
		}
	}
	if cfg.AllowEmpty.ValueBool() {
		opts = append(opts, "allow_empty")
	}
	if len(opts) > 0 {
		name += " (" + strings.Join(opts, ", ") + ")"
	}
	return newOutputWriter(name, config, "source", "output_path")
}

// altcraftExportWriter names an audience_altcraft_profile_export by what
// it exports: "audience_altcraft_profile_export of segment 7 into exports
// (custom_request {"occupation":"doctor"})".
func altcraftExportWriter(config tftypes.Value, cfg altcraftProfileExportModel, custom map[string]any) outputWriter {
	name := fmt.Sprintf("%s of %s %d into %s", altcraftProfileExportType, cfg.SourceType.ValueString(), cfg.SourceID.ValueInt64(), cfg.OutputDir.ValueString())
	if len(custom) > 0 {
		if b, err := json.Marshal(custom); err == nil {
			name += " (custom_request " + string(b) + ")"
		}
	}
	return newOutputWriter(name, config, "output_dir")
}
