package provider

import (
	"time"

	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"

	"github.com/audiencekit/terraform-provider-audience/internal/client/altcraft"
	"github.com/audiencekit/terraform-provider-audience/internal/client/transfer"
)

var altcraftPlatform = &platformSpec{
	Attribute:   "altcraft",
	Title:       "Altcraft",
	Description: "Altcraft marketing platform API v1.1 (profile exports).",
	Settings: []settingSpec{
		{Name: "endpoint", EnvVar: "ALTCRAFT_ENDPOINT", Description: "Altcraft panel URL, e.g. `https://example.com`; API paths are appended to it.", Required: true, URL: true},
		{Name: "token", EnvVar: "ALTCRAFT_TOKEN", Description: "Altcraft API token.", Sensitive: true, Required: true},
	},
	// Altcraft publishes no limit for these calls: a conservative 10 a second.
	Limits: transfer.Limits{Read: transfer.Rate{N: 10, Per: time.Second}, Write: transfer.Rate{N: 10, Per: time.Second}},
}

// altcraftClient returns a client, or an error naming each missing or
// invalid setting.
func (d *providerData) altcraftClient(typeName string) (*altcraft.Client, diag.Diagnostics) {
	s, diags := d.platform(altcraftPlatform, typeName)
	if diags.HasError() {
		return nil, diags
	}
	endpoint, token := s.get("endpoint"), s.get("token")
	c, err := altcraft.New(endpoint.Value, token.Value, d.transferOptions(endpoint))
	if err != nil {
		diags.AddError("Invalid Altcraft setting",
			fmt.Sprintf("%s: %s. Set %s (or %s) to the panel URL, e.g. https://example.com, and %s (or %s) to the API token.", typeName, err, endpoint.Attribute, endpoint.EnvVar, token.Attribute, token.EnvVar))
		return nil, diags
	}
	return c, nil
}
