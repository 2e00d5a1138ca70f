package provider

import (
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/audiencekit/terraform-provider-audience/internal/client/altcraft"
)

type altcraftConfigModel struct {
	Endpoint types.String `tfsdk:"endpoint"`
	Token    types.String `tfsdk:"token"`
}

func altcraftConfigSchema() schema.SingleNestedAttribute {
	return platformSchema("Altcraft marketing platform API v1.1 (profile exports).",
		configField{Name: "endpoint", EnvVar: "ALTCRAFT_ENDPOINT", Description: "Altcraft panel URL, e.g. `https://example.com`; API paths are appended to it."},
		configField{Name: "token", EnvVar: "ALTCRAFT_TOKEN", Description: "Altcraft API token.", Sensitive: true},
	)
}

type altcraftSettings struct {
	Endpoint, Token setting
}

func resolveAltcraft(m *altcraftConfigModel) altcraftSettings {
	if m == nil {
		m = &altcraftConfigModel{}
	}
	return altcraftSettings{
		Endpoint: resolve(m.Endpoint, "altcraft.endpoint", "ALTCRAFT_ENDPOINT", "", false),
		Token:    resolve(m.Token, "altcraft.token", "ALTCRAFT_TOKEN", "", true),
	}
}

func (s altcraftSettings) settings() []setting { return []setting{s.Endpoint, s.Token} }

// altcraftClient returns a client, or an error naming each missing or
// invalid setting.
func (d *providerData) altcraftClient(typeName string) (*altcraft.Client, diag.Diagnostics) {
	s := d.altcraft
	if diags := requireSettings("Altcraft", typeName, s.Endpoint, s.Token); diags.HasError() {
		return nil, diags
	}
	c, err := altcraft.New(s.Endpoint.Value, s.Token.Value, d.transferOptions(s.Endpoint))
	if err != nil {
		var diags diag.Diagnostics
		diags.AddError("Invalid Altcraft setting",
			fmt.Sprintf("%s: %s. Set %s (or %s) to the panel URL, e.g. https://example.com, and %s (or %s) to the API token.", typeName, err, s.Endpoint.Attribute, s.Endpoint.EnvVar, s.Token.Attribute, s.Token.EnvVar))
		return nil, diags
	}
	return c, nil
}
