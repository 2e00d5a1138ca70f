package provider

import (
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/audiencekit/terraform-provider-audience/internal/client/futuredemand"
)

// futureDemandDefaultEndpoint is the production client API.
const futureDemandDefaultEndpoint = futuredemand.DefaultEndpoint

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

// futureDemandClient returns a client, or an error naming each missing
// setting. Authentication is access_token, or username and password.
func (d *providerData) futureDemandClient(resourceType string) (*futuredemand.Client, diag.Diagnostics) {
	s := d.futuredemand
	diags := requireSettings("Future Demand", resourceType, s.Endpoint, s.PartnerID)
	if s.AccessToken.Value == "" {
		switch {
		case s.Username.Value == "" && s.Password.Value == "":
			diags.AddError(
				"Missing Future Demand credentials",
				fmt.Sprintf("%s needs %s, or %s and %s. Set them in the provider block or the %s, or %s and %s environment variables.",
					resourceType, s.AccessToken.Attribute, s.Username.Attribute, s.Password.Attribute, s.AccessToken.EnvVar, s.Username.EnvVar, s.Password.EnvVar),
			)
		default:
			diags.Append(requireSettings("Future Demand", resourceType, s.Username, s.Password)...)
		}
	}
	if diags.HasError() {
		return nil, diags
	}
	return futuredemand.New(futuredemand.Settings{
		Endpoint:    s.Endpoint.Value,
		AccessToken: s.AccessToken.Value,
		Username:    s.Username.Value,
		Password:    s.Password.Value,
		PartnerID:   s.PartnerID.Value,
	}, d.transferOptions(s.Endpoint)), nil
}
