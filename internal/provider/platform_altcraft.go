package provider

import (
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
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
