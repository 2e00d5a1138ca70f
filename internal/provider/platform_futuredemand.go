package provider

import (
	"time"

	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"

	"github.com/audiencekit/terraform-provider-audience/internal/client/futuredemand"
	"github.com/audiencekit/terraform-provider-audience/internal/client/transfer"
)

var futureDemandPlatform = &platformSpec{
	Attribute:   "futuredemand",
	Title:       "Future Demand",
	Description: "Future Demand client API (storage uploads, ingests, creative media). Authenticate with `access_token`, or with `username` and `password`.",
	Settings: []settingSpec{
		{Name: "endpoint", EnvVar: "FUTUREDEMAND_ENDPOINT", Description: "Client API base URL.", Default: futuredemand.DefaultEndpoint, Required: true, URL: true},
		{Name: "access_token", EnvVar: "FUTUREDEMAND_ACCESS_TOKEN", Description: "Bearer access token.", Sensitive: true},
		{Name: "username", EnvVar: "FUTUREDEMAND_USERNAME", Description: "Account user name, exchanged for a token when no `access_token` is set."},
		{Name: "password", EnvVar: "FUTUREDEMAND_PASSWORD", Description: "Account password.", Sensitive: true},
		{Name: "partner_id", EnvVar: "FUTUREDEMAND_PARTNER_ID", Description: "Partner ID sent as `X-Preferred-Partner-Id`.", Required: true},
		{Name: "cr_api_endpoint", EnvVar: "FUTUREDEMAND_CR_API_ENDPOINT", Description: "Base URL of the CR API, e.g. `https://cr.client-api.prd.future-demand.com/api`; needed only by `audience_futuredemand_ingest` with `kind = \"events\"`, with the same credentials as the main API.", URL: true},
		{Name: "media_endpoint", EnvVar: "FUTUREDEMAND_MEDIA_ENDPOINT", Description: "Base URL of `POST /media`; by default `endpoint` without its `/v3` segment (`…/api/v3` → `…/api`).", URL: true},
	},
	// Future Demand's published budget, per partner: about 600 reads and
	// 120 writes a minute, and about 10 a minute on /auth* (published per partner).
	Limits: transfer.Limits{
		Read: transfer.Rate{N: 600, Per: time.Minute}, Write: transfer.Rate{N: 120, Per: time.Minute},
		Segments: map[string]transfer.Rate{"auth": {N: 10, Per: time.Minute}},
	},
}

// futureDemandCRAPI reports a missing cr_api_endpoint: events ingests
// need it, nothing else does.
func (d *providerData) futureDemandCRAPI(resourceType string) diag.Diagnostics {
	return missingSetting(futureDemandPlatform.Title, resourceType, d.settings[futureDemandPlatform.Attribute].get("cr_api_endpoint"))
}

// futureDemandClient returns a client, or an error naming each missing
// setting. Authentication is access_token, or username and password.
func (d *providerData) futureDemandClient(resourceType string) (*futuredemand.Client, diag.Diagnostics) {
	s, diags := d.platform(futureDemandPlatform, resourceType)
	token, user, pass := s.get("access_token"), s.get("username"), s.get("password")
	if token.Value == "" {
		switch {
		case user.Value == "" && pass.Value == "":
			diags.AddError(
				"Missing Future Demand credentials",
				fmt.Sprintf("%s needs %s, or %s and %s. Set them in the provider block or the %s, or %s and %s environment variables.",
					resourceType, token.Attribute, user.Attribute, pass.Attribute, token.EnvVar, user.EnvVar, pass.EnvVar),
			)
		default:
			diags.Append(missingSetting(futureDemandPlatform.Title, resourceType, user)...)
			diags.Append(missingSetting(futureDemandPlatform.Title, resourceType, pass)...)
		}
	}
	if diags.HasError() {
		return nil, diags
	}
	return futuredemand.New(futuredemand.Settings{
		Endpoint:    s.value("endpoint"),
		AccessToken: token.Value,
		Username:    user.Value,
		Password:    pass.Value,
		PartnerID:   s.value("partner_id"),
		// Both bases passed the URL rule above; only events ingests need the CR
		// API, and futureDemandCRAPI says so when it is missing.
		CRAPIEndpoint:        s.value("cr_api_endpoint"),
		MediaEndpoint:        s.value("media_endpoint"),
		CRAPIEndpointSetting: s.get("cr_api_endpoint").where(),
		MediaEndpointSetting: s.get("media_endpoint").where(),
	}, d.transferOptions(s.get("endpoint"))), nil
}
