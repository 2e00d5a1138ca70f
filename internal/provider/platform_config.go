package provider

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/audiencekit/terraform-provider-audience/internal/client/transfer"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// platformSpec declares a platform's provider settings once. The provider
// schema, the environment fallback, log masking, the "missing setting"
// errors and the test suite's list of variables to clear all derive from
// it; a platform's accessor only adds the rules that span settings.
type platformSpec struct {
	Attribute   string // nested attribute in the provider block, e.g. "mintegral"
	Title       string // platform name in messages, e.g. "Mintegral"
	Description string
	Settings    []settingSpec
	// Derive, if set, fills values computed from other settings once all
	// are resolved (TPNS: the endpoint of the chosen region).
	Derive func(platformSettings)
	// Limits is the request budget of one account, shared by every
	// resource of a run; AUDIENCE_RATE_LIMITS overrides it.
	Limits transfer.Limits
}

// settingSpec is one setting of a platform.
type settingSpec struct {
	Name        string // attribute inside the platform block, e.g. "api_key"
	EnvVar      string
	Description string
	Default     string
	Sensitive   bool
	// Required settings must be non-empty when a resource of the platform
	// is used; nothing is required of a platform that is not used.
	Required bool
	// URL marks an endpoint: a non-empty value must be an absolute http(s)
	// URL, checked when the platform is used, so a value without its
	// scheme fails the plan instead of the first request.
	URL bool
	// Example is a good value to show when the URL rule fails (default:
	// Default).
	Example string
	// Validate, if set, checks a non-empty value when the platform is
	// used, before the URL rule, so it can explain a value better. Its
	// error says what is expected; the caller adds where the value came
	// from.
	Validate func(value string) error
}

// setting is one resolved provider setting, remembering where it can be
// set so a missing or invalid value can be explained.
type setting struct {
	Value     string
	Attribute string // e.g. mintegral.api_key
	EnvVar    string // e.g. MINTEGRAL_API_KEY
	Sensitive bool
}

// platformSettings are a platform's resolved settings by setting name.
type platformSettings map[string]setting

// get returns a declared setting; asking for an undeclared one is a
// programming error caught by the first test that uses the platform.
func (s platformSettings) get(name string) setting {
	v, ok := s[name]
	if !ok {
		panic("provider: setting " + name + " is not declared")
	}
	return v
}

// value is the resolved value of a declared setting.
func (s platformSettings) value(name string) string { return s.get(name).Value }

// schema builds the platform's optional nested attribute.
func (p *platformSpec) schema() schema.SingleNestedAttribute {
	attrs := make(map[string]schema.Attribute, len(p.Settings))
	for _, f := range p.Settings {
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
		MarkdownDescription: p.Description,
		Attributes:          attrs,
	}
}

// resolve gives every setting the attribute value if set, else the
// environment variable, else the default. block holds the attributes of
// the platform's block; it is empty when the block is absent.
func (p *platformSpec) resolve(block map[string]attr.Value) platformSettings {
	out := make(platformSettings, len(p.Settings))
	for _, f := range p.Settings {
		s := setting{Attribute: p.Attribute + "." + f.Name, EnvVar: f.EnvVar, Sensitive: f.Sensitive, Value: f.Default}
		if v := os.Getenv(f.EnvVar); v != "" {
			s.Value = v
		}
		if v, ok := block[f.Name].(types.String); ok && !v.IsNull() && !v.IsUnknown() && v.ValueString() != "" {
			s.Value = v.ValueString()
		}
		out[f.Name] = s
	}
	if p.Derive != nil {
		p.Derive(out)
	}
	return out
}

// readBlock returns the attributes of the platform's block in the
// provider configuration, or nil when the block is absent or unknown.
func (p *platformSpec) readBlock(ctx context.Context, cfg tfsdk.Config) (map[string]attr.Value, diag.Diagnostics) {
	var block types.Object
	diags := cfg.GetAttribute(ctx, path.Root(p.Attribute), &block)
	if diags.HasError() || block.IsNull() || block.IsUnknown() {
		return nil, diags
	}
	return block.Attributes(), diags
}

// check reports every invalid setting and every empty required one,
// naming the attribute and the environment variable, so the user knows
// the two ways to fix it. Invalid values are reported alone: a setting
// derived from an invalid one would otherwise look missing too.
func (p *platformSpec) check(resourceType string, s platformSettings) diag.Diagnostics {
	var diags diag.Diagnostics
	for _, f := range p.Settings {
		v := s.get(f.Name)
		if strings.TrimSpace(v.Value) == "" {
			continue
		}
		if err := f.validate(v.Value); err != nil {
			given := fmt.Sprintf(" is %q", v.Value)
			if f.Sensitive {
				given = " is invalid"
			}
			diags.AddError(
				fmt.Sprintf("Invalid %s setting %s", p.Title, v.Attribute),
				fmt.Sprintf("%s: %s (or %s)%s; %s.", resourceType, v.Attribute, v.EnvVar, given, err),
			)
		}
	}
	if diags.HasError() {
		return diags
	}
	for _, f := range p.Settings {
		if f.Required {
			diags.Append(missingSetting(p.Title, resourceType, s.get(f.Name))...)
		}
	}
	return diags
}

// validate applies the setting's own rule, then the URL rule.
func (f *settingSpec) validate(value string) error {
	if f.Validate != nil {
		if err := f.Validate(value); err != nil {
			return err
		}
	}
	if f.URL {
		return checkEndpointURL(value, cmp.Or(f.Example, f.Default))
	}
	return nil
}

// checkEndpointURL accepts an absolute http or https URL with a host and
// no query or fragment (API paths are appended to it). example is a good
// value to show, if known.
func checkEndpointURL(value, example string) error {
	if example == "" {
		example = "https://api.example.com"
	}
	if !strings.Contains(value, "://") {
		if value == "" || strings.HasPrefix(value, "/") || strings.ContainsAny(value, " \t") {
			return errors.New("it lacks the scheme: set it to an absolute http or https URL such as " + example)
		}
		return errors.New("it lacks the scheme: set it to https://" + value + " (an absolute http or https URL)")
	}
	u, err := url.Parse(value)
	switch {
	case err != nil:
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("it is not a valid URL (%v); use one such as %s", err, example)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("its scheme is %s, and it must be http or https, such as %s", u.Scheme, example)
	case u.Host == "":
		return errors.New("it has no host; use a URL such as " + example)
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return errors.New("it has a query or fragment, and API paths are appended to it; give the base URL alone, such as " + example)
	}
	return nil
}

// missingSetting reports s if it is empty.
func missingSetting(platform, resourceType string, s setting) diag.Diagnostics {
	var diags diag.Diagnostics
	if strings.TrimSpace(s.Value) == "" {
		diags.AddError(
			fmt.Sprintf("Missing %s setting %s", platform, s.Attribute),
			fmt.Sprintf("%s needs %s. Set `%s` in the provider block or the %s environment variable.", resourceType, s.Attribute, s.Attribute, s.EnvVar),
		)
	}
	return diags
}

// declaredEnvVars lists the environment variable of every declared
// setting of every platform.
func declaredEnvVars() []string {
	var out []string
	for _, p := range platforms {
		for _, f := range p.Settings {
			out = append(out, f.EnvVar)
		}
	}
	return out
}

// sensitiveSettingNames lists the names of sensitive settings, so log
// fields carrying them are masked whatever their value.
func sensitiveSettingNames() []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range platforms {
		for _, f := range p.Settings {
			if f.Sensitive && !seen[f.Name] {
				seen[f.Name] = true
				out = append(out, f.Name)
			}
		}
	}
	return out
}

// rateLimitsEnv overrides the platforms' request budgets, e.g.
// "mintegral=20/s,futuredemand.write=60/m".
const rateLimitsEnv = "AUDIENCE_RATE_LIMITS"

// checkRateLimits validates AUDIENCE_RATE_LIMITS against the platforms'
// names and classes.
func checkRateLimits() error {
	spec, err := transfer.ParseRateSpec(os.Getenv(rateLimitsEnv))
	if err != nil {
		return err
	}
	known := map[string]transfer.Limits{}
	for _, p := range platforms {
		known[p.Attribute] = p.Limits
	}
	return spec.Check(known)
}

// limiter is the budget of the account whose endpoint is endpoint: the
// platform's, keyed by its settings that are not secret (endpoint, partner,
// access key), so every client of that account in this process shares it.
func (d *providerData) limiter(endpoint setting) *transfer.Limiter {
	name, _, _ := strings.Cut(endpoint.Attribute, ".")
	for _, p := range platforms {
		if p.Attribute != name {
			continue
		}
		spec, _ := transfer.ParseRateSpec(os.Getenv(rateLimitsEnv)) // validated in Configure
		account := []string{name}
		for _, s := range p.Settings {
			if !s.Sensitive {
				account = append(account, d.settings[name][s.Name].Value)
			}
		}
		return transfer.SharedLimiter(strings.Join(account, "\x00"), p.Limits.For(name, spec))
	}
	return nil
}
