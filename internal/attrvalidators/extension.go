// Package attrvalidators holds the attribute validators (terraform-plugin-framework) shared by resources, and the file-name rules they and the plan-time checks share. The file checkers themselves are in internal/filecheck.
package attrvalidators

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
)

// HasExtension reports whether name ends in one of exts (case-insensitive)
// and has something before it.
func HasExtension(name string, exts ...string) bool {
	lower := strings.ToLower(name)
	for _, ext := range exts {
		if strings.HasSuffix(lower, strings.ToLower(ext)) && len(name) > len(ext) {
			return true
		}
	}
	return false
}

// ExtensionList renders exts for messages: `.txt`, `.csv` or `.gz`.
func ExtensionList(exts ...string) string {
	quoted := make([]string, len(exts))
	for i, e := range exts {
		quoted[i] = "`" + e + "`"
	}
	if len(quoted) == 1 {
		return quoted[0]
	}
	return strings.Join(quoted[:len(quoted)-1], ", ") + " or " + quoted[len(quoted)-1]
}

// FileExtension checks that a file name ends in one of exts and is a bare
// name, not a path.
func FileExtension(exts ...string) validator.String {
	return fileExtension{exts: exts}
}

type fileExtension struct{ exts []string }

var _ validator.String = fileExtension{}

func (v fileExtension) Description(context.Context) string {
	return "must be a file name ending in " + ExtensionList(v.exts...)
}

func (v fileExtension) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (v fileExtension) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if msg := CheckFileName(req.ConfigValue.ValueString(), v.exts...); msg != "" {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid file name", fmt.Sprintf("%s Change %s to a name that does.", msg, req.Path))
	}
}

// CheckFileName returns what is wrong with name, or "" when it is
// acceptable. The caller says what to change: the name may be configured
// or come from a file's.
func CheckFileName(name string, exts ...string) string {
	if name != filepath.Base(name) || strings.ContainsAny(name, `/\`) {
		return fmt.Sprintf("%q must be a bare file name without directories.", name)
	}
	if !HasExtension(name, exts...) {
		return fmt.Sprintf("%q must end in %s.", name, ExtensionList(exts...))
	}
	return ""
}
