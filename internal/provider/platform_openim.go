package provider

import (
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"

	"github.com/audiencekit/terraform-provider-audience/internal/client/openim"
	"github.com/audiencekit/terraform-provider-audience/internal/client/transfer"
)

var openIMPlatform = &platformSpec{
	Attribute:   "openim",
	Title:       "OpenIM",
	Description: "OpenIM server object storage API.",
	Settings: []settingSpec{
		{Name: "endpoint", EnvVar: "OPENIM_ENDPOINT", Description: "OpenIM API address (the `{API_ADDRESS}` of the OpenIM docs).", Required: true, URL: true},
		{Name: "token", EnvVar: "OPENIM_TOKEN", Description: "OpenIM token sent in the `token` header.", Sensitive: true, Required: true},
	},
	// OpenIM is self-hosted and publishes no limit: a conservative 10 a second.
	Limits: transfer.Limits{Read: transfer.Rate{N: 10, Per: time.Second}, Write: transfer.Rate{N: 10, Per: time.Second}},
}

// openIMClient returns a client, or an error naming each missing setting.
func (d *providerData) openIMClient(resourceType string) (*openim.Client, diag.Diagnostics) {
	s, diags := d.platform(openIMPlatform, resourceType)
	if diags.HasError() {
		return nil, diags
	}
	return openim.New(s.value("endpoint"), s.value("token"), d.transferOptions(s.get("endpoint"))), nil
}
