// Package provider implements the audience Terraform provider: schemas,
// plans and state. Platform HTTP lives in internal/client.
package provider

import (
	"context"
	"net"
	"net/http"
	"os"
	"regexp"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
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

// providerModel is the provider block. Each platform is an optional nested
// attribute; every field falls back to an environment variable.
type providerModel struct {
	Mintegral    *mintegralConfigModel    `tfsdk:"mintegral"`
	TPNS         *tpnsConfigModel         `tfsdk:"tpns"`
	FutureDemand *futureDemandConfigModel `tfsdk:"futuredemand"`
	OpenIM       *openIMConfigModel       `tfsdk:"openim"`
	Altcraft     *altcraftConfigModel     `tfsdk:"altcraft"`
}

// Metadata implements provider.Provider.
func (p *AudienceProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "audience"
	resp.Version = p.version
}

// Schema implements provider.Provider.
func (p *AudienceProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Keeps audience lists as code: uploads device-ID, account and push-token files to ad and push platforms, " +
			"and brings profile exports back as data sources. Every setting falls back to an environment variable, so the provider block may be empty. " +
			"A missing credential is an error only when a resource of that platform is used.",
		Attributes: map[string]schema.Attribute{
			"mintegral":    mintegralConfigSchema(),
			"tpns":         tpnsConfigSchema(),
			"futuredemand": futureDemandConfigSchema(),
			"openim":       openIMConfigSchema(),
			"altcraft":     altcraftConfigSchema(),
		},
	}
}

// Configure resolves every platform's settings (attribute, then
// environment variable, then default). Nothing is required here: each
// resource checks the settings of its own platform.
func (p *AudienceProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var cfg providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	data := &providerData{
		version:      p.version,
		http:         newHTTPClient(p.version),
		mintegral:    resolveMintegral(cfg.Mintegral),
		tpns:         resolveTPNS(cfg.TPNS),
		futuredemand: resolveFutureDemand(cfg.FutureDemand),
		openim:       resolveOpenIM(cfg.OpenIM),
		altcraft:     resolveAltcraft(cfg.Altcraft),
	}
	resp.Diagnostics.Append(data.validate()...)
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
		NewIDListDataSource,
	}
}

// setting is one resolved provider setting, remembering where it can be
// set so a missing value can be explained.
type setting struct {
	Value     string
	Attribute string // e.g. mintegral.api_key
	EnvVar    string // e.g. MINTEGRAL_API_KEY
	Sensitive bool
}

// resolve picks the attribute value if set, else the environment
// variable, else def.
func resolve(attr types.String, attribute, env, def string, sensitive bool) setting {
	s := setting{Attribute: attribute, EnvVar: env, Sensitive: sensitive}
	switch {
	case !attr.IsNull() && !attr.IsUnknown() && attr.ValueString() != "":
		s.Value = attr.ValueString()
	case os.Getenv(env) != "":
		s.Value = os.Getenv(env)
	default:
		s.Value = def
	}
	return s
}

// providerData is handed to every resource and data source.
type providerData struct {
	version      string
	http         *http.Client
	mintegral    mintegralSettings
	tpns         tpnsSettings
	futuredemand futureDemandSettings
	openim       openIMSettings
	altcraft     altcraftSettings
}

// secrets lists every sensitive value set, for log masking.
func (d *providerData) secrets() []string {
	var out []string
	for _, s := range d.allSettings() {
		if s.Sensitive && s.Value != "" {
			out = append(out, s.Value)
		}
	}
	return out
}

func (d *providerData) allSettings() []setting {
	var all []setting
	all = append(all, d.mintegral.settings()...)
	all = append(all, d.tpns.settings()...)
	all = append(all, d.futuredemand.settings()...)
	all = append(all, d.openim.settings()...)
	all = append(all, d.altcraft.settings()...)
	return all
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
	ctx = tflog.MaskFieldValuesWithFieldKeys(ctx, "token", "api_key", "secret_key", "password", "access_token", "signature", "policy", "authorization", "url")
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
