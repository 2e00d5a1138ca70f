package provider

import (
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/audiencekit/terraform-provider-audience/internal/client/mintegral"
)

type mintegralConfigModel struct {
	AccessKey types.String `tfsdk:"access_key"`
	APIKey    types.String `tfsdk:"api_key"`
	Endpoint  types.String `tfsdk:"endpoint"`
}

func mintegralConfigSchema() schema.SingleNestedAttribute {
	return platformSchema("Mintegral Open API (audience files and audiences).",
		configField{Name: "access_key", EnvVar: "MINTEGRAL_ACCESS_KEY", Description: "Mintegral access key."},
		configField{Name: "api_key", EnvVar: "MINTEGRAL_API_KEY", Description: "Mintegral API key, used to compute the request token.", Sensitive: true},
		configField{Name: "endpoint", EnvVar: "MINTEGRAL_ENDPOINT", Description: "Open API base URL.", Default: mintegral.DefaultEndpoint},
	)
}

type mintegralSettings struct {
	AccessKey, APIKey, Endpoint setting
}

func resolveMintegral(m *mintegralConfigModel) mintegralSettings {
	if m == nil {
		m = &mintegralConfigModel{}
	}
	return mintegralSettings{
		AccessKey: resolve(m.AccessKey, "mintegral.access_key", "MINTEGRAL_ACCESS_KEY", "", false),
		APIKey:    resolve(m.APIKey, "mintegral.api_key", "MINTEGRAL_API_KEY", "", true),
		Endpoint:  resolve(m.Endpoint, "mintegral.endpoint", "MINTEGRAL_ENDPOINT", mintegral.DefaultEndpoint, false),
	}
}

func (s mintegralSettings) settings() []setting {
	return []setting{s.AccessKey, s.APIKey, s.Endpoint}
}

// mintegralClient returns a client, or an error naming each missing setting.
func (d *providerData) mintegralClient(resourceType string) (*mintegral.Client, diag.Diagnostics) {
	s := d.mintegral
	if diags := requireSettings("Mintegral", resourceType, s.AccessKey, s.APIKey, s.Endpoint); diags.HasError() {
		return nil, diags
	}
	return mintegral.New(s.Endpoint.Value, s.AccessKey.Value, s.APIKey.Value, d.transferOptions(s.Endpoint)), nil
}
