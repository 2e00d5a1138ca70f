package provider

import (
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/audiencekit/terraform-provider-audience/internal/client/openim"
)

type openIMConfigModel struct {
	Endpoint types.String `tfsdk:"endpoint"`
	Token    types.String `tfsdk:"token"`
}

func openIMConfigSchema() schema.SingleNestedAttribute {
	return platformSchema("OpenIM server object storage API.",
		configField{Name: "endpoint", EnvVar: "OPENIM_ENDPOINT", Description: "OpenIM API address (the `{API_ADDRESS}` of the OpenIM docs)."},
		configField{Name: "token", EnvVar: "OPENIM_TOKEN", Description: "OpenIM token sent in the `token` header.", Sensitive: true},
	)
}

type openIMSettings struct {
	Endpoint, Token setting
}

func resolveOpenIM(m *openIMConfigModel) openIMSettings {
	if m == nil {
		m = &openIMConfigModel{}
	}
	return openIMSettings{
		Endpoint: resolve(m.Endpoint, "openim.endpoint", "OPENIM_ENDPOINT", "", false),
		Token:    resolve(m.Token, "openim.token", "OPENIM_TOKEN", "", true),
	}
}

func (s openIMSettings) settings() []setting { return []setting{s.Endpoint, s.Token} }

// openIMClient returns a client, or an error naming each missing setting.
func (d *providerData) openIMClient(resourceType string) (*openim.Client, diag.Diagnostics) {
	s := d.openim
	if diags := requireSettings("OpenIM", resourceType, s.Endpoint, s.Token); diags.HasError() {
		return nil, diags
	}
	return openim.New(s.Endpoint.Value, s.Token.Value, d.transferOptions(s.Endpoint)), nil
}
