package provider

import (
	"time"

	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"

	"github.com/audiencekit/terraform-provider-audience/internal/client/tpns"
	"github.com/audiencekit/terraform-provider-audience/internal/client/transfer"
)

var tpnsPlatform = &platformSpec{
	Attribute:   "tpns",
	Title:       "TPNS",
	Description: "Tencent Cloud TPNS push notification service (account and token packages).",
	Settings: []settingSpec{
		{Name: "access_id", EnvVar: "TPNS_ACCESS_ID", Description: "TPNS application AccessID.", Required: true},
		{Name: "secret_key", EnvVar: "TPNS_SECRET_KEY", Description: "TPNS application SecretKey.", Sensitive: true, Required: true},
		{
			Name: "region", EnvVar: "TPNS_REGION", Default: tpns.DefaultRegion, Validate: validTPNSRegion,
			Description: "Service access point of the application: `guangzhou`, `shanghai`, `hongkong` or `singapore`.",
		},
		{
			Name: "endpoint", EnvVar: "TPNS_ENDPOINT", Required: true, URL: true, Example: tpns.RegionEndpoints[tpns.DefaultRegion],
			Description: "API base URL; overrides the one derived from `region`.",
		},
	},
	Derive: func(s platformSettings) {
		if ep := s.get("endpoint"); ep.Value == "" {
			// An unknown region leaves it empty; the region's Validate reports it.
			ep.Value, _ = tpns.EndpointFor(s.value("region"))
			s["endpoint"] = ep
		}
	},
	// TPNS's one-a-second limit is on package pushes, which the provider
	// does not send; other calls get a conservative 10 a second.
	Limits: transfer.Limits{Read: transfer.Rate{N: 10, Per: time.Second}, Write: transfer.Rate{N: 10, Per: time.Second}},
}

func validTPNSRegion(region string) error {
	if _, err := tpns.EndpointFor(region); err != nil {
		return fmt.Errorf("use one of %s, or set tpns.endpoint", strings.Join(tpns.Regions(), ", "))
	}
	return nil
}

// tpnsClient returns a client, or an error naming each missing or invalid
// setting.
func (d *providerData) tpnsClient(resourceType string) (*tpns.Client, diag.Diagnostics) { //nolint:unparam // same shape as the other platform hooks
	s, diags := d.platform(tpnsPlatform, resourceType)
	if diags.HasError() {
		return nil, diags
	}
	return tpns.New(s.value("endpoint"), s.value("access_id"), s.value("secret_key"), d.transferOptions(s.get("endpoint"))), nil
}
