package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	pschema "github.com/hashicorp/terraform-plugin-framework/provider/schema"
	rschema "github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
)

// The list guard stands between an export that collapsed and a live
// audience: a list upload counts its entries at plan and compares them
// with what the platform received last (entry_count in state). A list
// below its minimum is refused; one that shrinks past the limit is
// announced, or refused when the team asks for that. Settable once in
// the provider block and per resource, field by field.

const listGuardAttribute = "list_guard"

// What a shrink past the limit does.
const (
	onShrinkWarn  = "warn"
	onShrinkError = "error"
)

// listGuard is a resolved guard.
type listGuard struct {
	MaxShrinkPercent int64
	OnShrink         string
	MinEntryCount    int64
}

// defaultListGuard protects without surprising: a plan that halves a list
// says so, and only a list with no entry is refused.
var defaultListGuard = listGuard{MaxShrinkPercent: 50, OnShrink: onShrinkWarn, MinEntryCount: 1}

type listGuardModel struct {
	MaxShrinkPercent types.Int64  `tfsdk:"max_shrink_percent"`
	OnShrink         types.String `tfsdk:"on_shrink"`
	MinEntryCount    types.Int64  `tfsdk:"min_entry_count"`
}

const (
	maxShrinkDescription = "How far, in percent of the entries the platform received last, a list may shrink in one upload before the plan warns or fails (`on_shrink`). Defaults to `50`; `100` lets any shrink through."
	onShrinkDescription  = "What a shrink past `max_shrink_percent` does at plan: `warn` (the default: the plan shows both counts in a warning) or `error` (the plan fails, naming both counts)."
	minEntryDescription  = "The fewest entries a list may hold; fewer fail the plan whatever `on_shrink` says. Defaults to `1`."
)

func listGuardValidators() (maxShrink []validator.Int64, onShrink []validator.String, minEntries []validator.Int64) {
	return []validator.Int64{int64validator.Between(0, 100)},
		[]validator.String{stringvalidator.OneOf(onShrinkWarn, onShrinkError)},
		[]validator.Int64{int64validator.AtLeast(1)}
}

// providerListGuardSchema is the provider block's list_guard, the default
// of every list upload.
func providerListGuardSchema() pschema.SingleNestedAttribute {
	maxShrink, onShrink, minEntries := listGuardValidators()
	return pschema.SingleNestedAttribute{
		Optional: true,
		MarkdownDescription: "Defaults of every list upload's guard (`audience_mintegral_file`, `audience_tpns_account_package`): how far a list may shrink against what the platform received last, and the fewest entries it may hold. " +
			"A resource's own `list_guard` overrides these field by field.",
		Attributes: map[string]pschema.Attribute{
			"max_shrink_percent": pschema.Int64Attribute{Optional: true, MarkdownDescription: maxShrinkDescription, Validators: maxShrink},
			"on_shrink":          pschema.StringAttribute{Optional: true, MarkdownDescription: onShrinkDescription, Validators: onShrink},
			"min_entry_count":    pschema.Int64Attribute{Optional: true, MarkdownDescription: minEntryDescription, Validators: minEntries},
		},
	}
}

// resourceListGuardSchema is a list upload's own list_guard.
func resourceListGuardSchema() rschema.SingleNestedAttribute {
	maxShrink, onShrink, minEntries := listGuardValidators()
	return rschema.SingleNestedAttribute{
		Optional: true,
		MarkdownDescription: "Guards the audience against a list that collapsed (an export that matched almost nobody): `entry_count` is compared at plan with the count the platform received last. " +
			"Fields left out take the provider block's `list_guard`, then the defaults (warn beyond a 50 % shrink; refuse an empty list). Changing it uploads nothing.",
		Attributes: map[string]rschema.Attribute{
			"max_shrink_percent": rschema.Int64Attribute{Optional: true, MarkdownDescription: maxShrinkDescription, Validators: maxShrink},
			"on_shrink":          rschema.StringAttribute{Optional: true, MarkdownDescription: onShrinkDescription, Validators: onShrink},
			"min_entry_count":    rschema.Int64Attribute{Optional: true, MarkdownDescription: minEntryDescription, Validators: minEntries},
		},
	}
}

func entryCountSchema(what string) rschema.Int64Attribute {
	return rschema.Int64Attribute{
		Computed: true,
		MarkdownDescription: "Number of " + what + " in the file (a header row excluded), counted at plan time by the checks that read new content, so the diff of an update reads `old -> new`. " +
			"Kept from state while the content is unchanged.",
	}
}

// readListGuard reads a list_guard attribute from a configuration or plan.
func readListGuard(ctx context.Context, get func(context.Context, path.Path, any) diag.Diagnostics) (*listGuardModel, diag.Diagnostics) {
	var obj types.Object
	diags := get(ctx, path.Root(listGuardAttribute), &obj)
	if diags.HasError() || obj.IsNull() || obj.IsUnknown() {
		return nil, diags
	}
	var m listGuardModel
	diags.Append(obj.As(ctx, &m, basetypes.ObjectAsOptions{})...)
	return &m, diags
}

// providerListGuard resolves the provider block's list_guard over the
// defaults.
func providerListGuard(ctx context.Context, cfg tfsdk.Config) (listGuard, diag.Diagnostics) {
	m, diags := readListGuard(ctx, cfg.GetAttribute)
	return m.over(defaultListGuard), diags
}

// over gives each field of m that is set precedence over base.
func (m *listGuardModel) over(base listGuard) listGuard {
	g := base
	if m == nil {
		return g
	}
	if v := m.MaxShrinkPercent; !v.IsNull() && !v.IsUnknown() {
		g.MaxShrinkPercent = v.ValueInt64()
	}
	if v := m.OnShrink; !v.IsNull() && !v.IsUnknown() {
		g.OnShrink = v.ValueString()
	}
	if v := m.MinEntryCount; !v.IsNull() && !v.IsUnknown() {
		g.MinEntryCount = v.ValueInt64()
	}
	return g
}

// judge checks a list of count entries about to replace one of prior
// entries (prior < 0: the platform's count is not known, as for a new
// upload) from source, for resource type typeName.
func (g listGuard) judge(typeName, source string, prior, count int64) diag.Diagnostics {
	var diags diag.Diagnostics
	at := path.Root("source")
	was := ""
	if prior >= 0 {
		was = fmt.Sprintf(" The platform holds %d entries from the last upload.", prior)
	}
	if count < g.MinEntryCount {
		diags.AddAttributeError(at, "List below its minimum",
			fmt.Sprintf("%s: %s holds %d entries, fewer than list_guard.min_entry_count (%d).%s An export that matched almost nobody must not replace a live audience: check the export and its filter. "+
				"To upload this list on purpose, lower list_guard.min_entry_count on this resource.", typeName, source, count, g.MinEntryCount, was))
		return diags
	}
	if prior <= 0 || count >= prior {
		return diags
	}
	dropped := prior - count
	if dropped*100 <= g.MaxShrinkPercent*prior {
		return diags
	}
	pct := float64(dropped) * 100 / float64(prior)
	detail := fmt.Sprintf("%s: %s holds %d entries, and the platform holds %d from the last upload: the list shrinks by %d entries (%.1f %%), more than list_guard.max_shrink_percent (%d %%). "+
		"If the export collapsed, fix it before applying: once uploaded, the smaller list is what the audience gets. "+
		"To upload this list on purpose, set list_guard = { max_shrink_percent = 100 } on this resource for this apply.",
		typeName, source, count, prior, dropped, pct, g.MaxShrinkPercent)
	if g.OnShrink == onShrinkError {
		diags.AddAttributeError(at, fmt.Sprintf("List shrinks from %d to %d entries", prior, count), detail)
		return diags
	}
	diags.AddAttributeWarning(at, fmt.Sprintf("List shrinks from %d to %d entries", prior, count),
		detail+" Set list_guard.on_shrink = \"error\" (here or in the provider block) to make this an error.")
	return diags
}
