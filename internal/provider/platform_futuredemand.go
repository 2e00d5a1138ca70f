package provider

import (
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// futureDemandDefaultEndpoint is the production client API.
const futureDemandDefaultEndpoint = "https://client-api.prd.future-demand.com/api/v3"

type futureDemandConfigModel struct {
	Endpoint    types.String `tfsdk:"endpoint"`
	AccessToken types.String `tfsdk:"access_token"`
	Username    types.String `tfsdk:"username"`
	Password    types.String `tfsdk:"password"`
	PartnerID   types.String `tfsdk:"partner_id"`
}

func futureDemandConfigSchema() schema.SingleNestedAttribute {
	return platformSchema("Future Demand client API (storage uploads). Authenticate with `access_token`, or with `username` and `password`.",
		configField{Name: "endpoint", EnvVar: "FUTUREDEMAND_ENDPOINT", Description: "Client API base URL.", Default: futureDemandDefaultEndpoint},
		configField{Name: "access_token", EnvVar: "FUTUREDEMAND_ACCESS_TOKEN", Description: "Bearer access token.", Sensitive: true},
		configField{Name: "username", EnvVar: "FUTUREDEMAND_USERNAME", Description: "Account user name, exchanged for a token when no `access_token` is set."},
		configField{Name: "password", EnvVar: "FUTUREDEMAND_PASSWORD", Description: "Account password.", Sensitive: true},
		configField{Name: "partner_id", EnvVar: "FUTUREDEMAND_PARTNER_ID", Description: "Partner ID sent as `X-Preferred-Partner-Id`."},
	)
}

type futureDemandSettings struct {
	Endpoint, AccessToken, Username, Password, PartnerID setting
}

func resolveFutureDemand(m *futureDemandConfigModel) futureDemandSettings {
	if m == nil {
		m = &futureDemandConfigModel{}
	}
	return futureDemandSettings{
		Endpoint:    resolve(m.Endpoint, "futuredemand.endpoint", "FUTUREDEMAND_ENDPOINT", futureDemandDefaultEndpoint, false),
		AccessToken: resolve(m.AccessToken, "futuredemand.access_token", "FUTUREDEMAND_ACCESS_TOKEN", "", true),
		Username:    resolve(m.Username, "futuredemand.username", "FUTUREDEMAND_USERNAME", "", false),
		Password:    resolve(m.Password, "futuredemand.password", "FUTUREDEMAND_PASSWORD", "", true),
		PartnerID:   resolve(m.PartnerID, "futuredemand.partner_id", "FUTUREDEMAND_PARTNER_ID", "", false),
	}
}

func (s futureDemandSettings) settings() []setting {
	return []setting{s.Endpoint, s.AccessToken, s.Username, s.Password, s.PartnerID}
}
