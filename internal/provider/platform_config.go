package provider

import (
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
)

// configField describes one provider setting of a platform, for its schema
// and documentation.
type configField struct {
	Name        string
	EnvVar      string
	Description string
	Default     string
	Sensitive   bool
}

// platformSchema builds a platform's optional nested attribute.
func platformSchema(description string, fields ...configField) schema.SingleNestedAttribute {
	attrs := map[string]schema.Attribute{}
	for _, f := range fields {
		desc := f.Description + " Falls back to the `" + f.EnvVar + "` environment variable"
		if f.Default != "" {
			desc += "; defaults to `" + f.Default + "`"
		}
		attrs[f.Name] = schema.StringAttribute{
			Optional:            true,
			Sensitive:           f.Sensitive,
			MarkdownDescription: desc + ".",
		}
	}
	return schema.SingleNestedAttribute{
		Optional:            true,
		MarkdownDescription: description,
		Attributes:          attrs,
	}
}

// requireSettings reports every empty setting, naming both the attribute
// and the environment variable, so the user knows the two ways to fix it.
func requireSettings(platform, resourceType string, settings ...setting) diag.Diagnostics {
	var diags diag.Diagnostics
	for _, s := range settings {
		if strings.TrimSpace(s.Value) != "" {
			continue
		}
		diags.AddError(
			fmt.Sprintf("Missing %s setting %s", platform, s.Attribute),
			fmt.Sprintf("%s needs %s. Set `%s` in the provider block or the %s environment variable.", resourceType, s.Attribute, s.Attribute, s.EnvVar),
		)
	}
	return diags
}

// validate checks settings whose values are constrained, whichever way
// they were given.
func (d *providerData) validate() diag.Diagnostics {
	var diags diag.Diagnostics
	if r := d.tpns.Region; r.Value != "" {
		if _, ok := tpnsRegionEndpoints[r.Value]; !ok {
			diags.AddError("Invalid TPNS region",
				fmt.Sprintf("%s (or %s) is %q; use one of guangzhou, shanghai, hongkong, singapore, or set tpns.endpoint.", r.Attribute, r.EnvVar, r.Value))
		}
	}
	return diags
}
