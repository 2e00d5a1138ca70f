package provider

import (
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"

	"github.com/audiencekit/terraform-provider-audience/internal/client/mintegral"
	"github.com/audiencekit/terraform-provider-audience/internal/client/transfer"
)

var mintegralPlatform = &platformSpec{
	Attribute:   "mintegral",
	Title:       "Mintegral",
	Description: "Mintegral Open API (audience files and audiences).",
	Settings: []settingSpec{
		{Name: "access_key", EnvVar: "MINTEGRAL_ACCESS_KEY", Description: "Mintegral access key.", Required: true},
		{Name: "api_key", EnvVar: "MINTEGRAL_API_KEY", Description: "Mintegral API key, used to compute the request token.", Sensitive: true, Required: true},
		{Name: "endpoint", EnvVar: "MINTEGRAL_ENDPOINT", Description: "Open API base URL.", Default: mintegral.DefaultEndpoint, Required: true, URL: true},
	},
	// Mintegral publishes no rate limit (none is published): a conservative
	// 10 requests a second; reads of audiences are batched anyway.
	Limits: transfer.Limits{Read: transfer.Rate{N: 10, Per: time.Second}, Write: transfer.Rate{N: 10, Per: time.Second}},
}

// mintegralClient returns a client, or an error naming each missing setting.
func (d *providerData) mintegralClient(resourceType string) (*mintegral.Client, diag.Diagnostics) {
	s, diags := d.platform(mintegralPlatform, resourceType)
	if diags.HasError() {
		return nil, diags
	}
	c := mintegral.New(s.value("endpoint"), s.value("access_key"), s.value("api_key"), d.transferOptions(s.get("endpoint")))
	c.ReadAhead = d.mintegralReads
	return c, nil
}
