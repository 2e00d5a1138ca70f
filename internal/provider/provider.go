// Package provider implements the audience Terraform provider: schemas,
// plans and state. Platform HTTP lives in internal/client.
package provider

import (
	"context"
	"net"
	"net/http"
	"regexp"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-log/tflog"
)

var _ provider.Provider = &AudienceProvider{}

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
		http:     newHTTPClient(p.version),
		settings: make(map[string]platformSettings, len(platforms)),
	}
	for _, pl := range platforms {
		block, diags := pl.readBlock(ctx, req.Config)
		resp.Diagnostics.Append(diags...)
		data.settings[pl.Attribute] = pl.resolve(block)
	}
	if resp.Diagnostics.HasError() {
		return
	}
	resp.ResourceData = data
	resp.DataSourceData = data
}

// Resources implements provider.Provider.
func (p *AudienceProvider) Resources(_ context.Context) []func() resource.Resource {
	return []func() resource.Resource{
		NewMintegralFileResource,
		NewTPNSAccountPackageResource,
		NewFutureDemandUploadResource,
		NewOpenIMObjectResource,
	}
}

// DataSources implements provider.Provider.
func (p *AudienceProvider) DataSources(_ context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{
		NewAltcraftProfileExportDataSource,
	}
}

// providerData is handed to every resource and data source.
type providerData struct {
	version  string
	http     *http.Client
	settings map[string]platformSettings // by platformSpec.Attribute
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

// newHTTPClient builds the client shared by every platform. There is no
// overall timeout: long transfers are bounded by the resource timeouts
// through the context.
func newHTTPClient(version string) *http.Client {
	t := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          32,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   15 * time.Second,
		ExpectContinueTimeout: 1 * time.Second,
		ResponseHeaderTimeout: 5 * time.Minute,
	}
	return &http.Client{Transport: &userAgentTransport{next: t, ua: "terraform-provider-audience/" + version}}
}

type userAgentTransport struct {
	next http.RoundTripper
	ua   string
}

func (u *userAgentTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Header.Get("User-Agent") == "" {
		r = r.Clone(r.Context())
		r.Header.Set("User-Agent", u.ua)
	}
	return u.next.RoundTrip(r)
}
