// Package provider implements the audience Terraform provider: schemas,
// plans and state. Platform HTTP lives in internal/client.
package provider

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/list"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/audiencekit/terraform-provider-audience/internal/client/mintegral"
	"github.com/audiencekit/terraform-provider-audience/internal/client/transfer"
)

var (
	_ provider.Provider                  = &AudienceProvider{}
	_ provider.ProviderWithListResources = &AudienceProvider{}
)

// AudienceProvider is the provider implementation.
type AudienceProvider struct {
	version string
}

// New returns a constructor for the provider at a given version.
func New(version string) func() provider.Provider {
	return func() provider.Provider {
		return &AudienceProvider{version: version}
	}
}

// platforms are the platforms the provider talks to, each declared once in
// its platform_<name>.go. A new platform adds one line here.
var platforms = []*platformSpec{
	mintegralPlatform,
	tpnsPlatform,
	futureDemandPlatform,
	openIMPlatform,
	altcraftPlatform,
}

// Metadata implements provider.Provider.
func (p *AudienceProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "audience"
	resp.Version = p.version
}

// Schema implements provider.Provider.
func (p *AudienceProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	attrs := make(map[string]schema.Attribute, len(platforms))
	for _, pl := range platforms {
		attrs[pl.Attribute] = pl.schema()
	}
	attrs[listGuardAttribute] = providerListGuardSchema()
	resp.Schema = schema.Schema{
		MarkdownDescription: "Keeps audience lists as code: uploads device-ID, account and push-token files to ad and push platforms, " +
			"and brings profile exports back as data sources. Every setting falls back to an environment variable, so the provider block may be empty. " +
			"A missing credential is an error only when a resource of that platform is used.",
		Attributes: attrs,
	}
}

// Configure resolves every platform's settings (attribute, then
// environment variable, then default). Nothing is required here: each
// resource checks the settings of its own platform.
func (p *AudienceProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	data := &providerData{
		version:  p.version,
		http:     transfer.NewHTTPClient("terraform-provider-audience/" + p.version),
		settings: make(map[string]platformSettings, len(platforms)),

		mintegralReads: mintegral.NewReadAhead(),
	}
	for _, pl := range platforms {
		block, diags := pl.readBlock(ctx, req.Config)
		resp.Diagnostics.Append(diags...)
		data.settings[pl.Attribute] = pl.resolve(block)
	}
	guard, diags := providerListGuard(ctx, req.Config)
	resp.Diagnostics.Append(diags...)
	data.listGuard = guard
	if v := os.Getenv(apiTimeoutEnv); v != "" {
		if d, err := time.ParseDuration(v); err != nil || d <= 0 {
			resp.Diagnostics.AddError("Invalid "+apiTimeoutEnv, fmt.Sprintf("%s is %q; set it to a positive duration such as 90s or 5m, or unset it for the default of %s.", apiTimeoutEnv, v, transfer.DefaultAPITimeout))
		}
	}
	if err := checkRateLimits(); err != nil {
		resp.Diagnostics.AddError("Invalid "+rateLimitsEnv, fmt.Sprintf("%s: %s. Write comma-separated platform=N/unit entries, e.g. %s=\"mintegral=20/s,futuredemand.write=60/m\", or unset it for the defaults.", rateLimitsEnv, err, rateLimitsEnv))
	}
	if resp.Diagnostics.HasError() {
		return
	}
	resp.ResourceData = data
	resp.DataSourceData = data
	resp.ListResourceData = data
}

// Resources implements provider.Provider.
func (p *AudienceProvider) Resources(_ context.Context) []func() resource.Resource {
	return []func() resource.Resource{
		NewMintegralFileResource,
		NewMintegralAudienceResource,
		NewTPNSAccountPackageResource,
		NewFutureDemandUploadResource,
		NewFutureDemandIngestResource,
		NewFutureDemandMediaResource,
		NewOpenIMObjectResource,
		NewAltcraftProfileExportResource,
	}
}

// DataSources implements provider.Provider.
func (p *AudienceProvider) DataSources(_ context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{
		NewAltcraftProfileExportDataSource,
		NewIDListDataSource,
		NewMintegralAudiencesDataSource,
	}
}

// ListResources implements provider.ProviderWithListResources: list
// resources for terraform query (Terraform 1.14 and later). Other CLIs
// skip the schema field that carries them, so there they are simply
// absent.
func (p *AudienceProvider) ListResources(_ context.Context) []func() list.ListResource {
	return []func() list.ListResource{
		NewMintegralAudienceListResource,
	}
}

// providerData is handed to every resource and data source.
type providerData struct {
	version  string
	http     *http.Client
	settings map[string]platformSettings // by platformSpec.Attribute
	// listGuard is the provider block's list_guard over the defaults.
	listGuard listGuard
	outputs   outputPaths // local files data sources write in this run
	// mintegralReads answers this run's audience reads from one listing.
	mintegralReads *mintegral.ReadAhead
}

// platform returns p's settings for a resource of resourceType, or errors
// naming each invalid or missing one.
func (d *providerData) platform(p *platformSpec, resourceType string) (platformSettings, diag.Diagnostics) {
	s := d.settings[p.Attribute]
	return s, p.check(resourceType, s)
}

// secrets lists every sensitive value set, for log masking.
func (d *providerData) secrets() []string {
	var out []string
	for _, s := range d.settings {
		for _, v := range s {
			if v.Sensitive && v.Value != "" {
				out = append(out, v.Value)
			}
		}
	}
	return out
}

// presignedQuery matches the signing parts of presigned URLs and form
// policies (S3 SigV4, OSS, tokens in query strings).
var presignedQuery = regexp.MustCompile(`(?i)(X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token|Signature|OSSAccessKeyId|policy|token)=[^&\s"]+`)

// logContext masks every secret in log messages and fields for the rest
// of the request. Call it first in every CRUD method.
func (d *providerData) logContext(ctx context.Context) context.Context {
	if d == nil {
		return ctx
	}
	ctx = tflog.MaskFieldValuesWithFieldKeys(ctx, append(sensitiveSettingNames(), "signature", "policy", "authorization", "url")...)
	ctx = tflog.MaskMessageRegexes(ctx, presignedQuery)
	ctx = tflog.MaskAllFieldValuesRegexes(ctx, presignedQuery)
	if s := d.secrets(); len(s) > 0 {
		ctx = tflog.MaskMessageStrings(ctx, s...)
		ctx = tflog.MaskAllFieldValuesStrings(ctx, s...)
	}
	return ctx
}

// apiTimeoutEnv raises or lowers the per-request limit of API calls.
const apiTimeoutEnv = "AUDIENCE_API_TIMEOUT"

// where names the attribute and the environment variable that set s.
func (s setting) where() string {
	return fmt.Sprintf("%s (%s)", s.Attribute, s.EnvVar)
}

// transferOptions is how a platform client reaches the network: the shared
// client, the tflog bridge, the API limit, and the setting to name when
// the platform's endpoint cannot be reached.
func (d *providerData) transferOptions(endpoint setting) transfer.Options {
	limit, _ := time.ParseDuration(os.Getenv(apiTimeoutEnv)) // validated in Configure
	return transfer.Options{
		HTTP:              d.http,
		Log:               tflogLogger{},
		APITimeout:        limit,
		EndpointSetting:   endpoint.where(),
		APITimeoutSetting: fmt.Sprintf("the %s environment variable, e.g. %s=5m", apiTimeoutEnv, apiTimeoutEnv),
		Limiter:           d.limiter(endpoint),
	}
}
