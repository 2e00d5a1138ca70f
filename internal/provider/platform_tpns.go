package provider

import (
	"fmt"
	"net/url"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/audiencekit/terraform-provider-audience/internal/client/tpns"
)

type tpnsConfigModel struct {
	AccessID  types.String `tfsdk:"access_id"`
	SecretKey types.String `tfsdk:"secret_key"`
	Region    types.String `tfsdk:"region"`
	Endpoint  types.String `tfsdk:"endpoint"`
}

// tpnsRegionEndpoints maps each TPNS service access point to its API host;
// the client package owns the table.
var tpnsRegionEndpoints = tpns.RegionEndpoints

func tpnsConfigSchema() schema.SingleNestedAttribute {
	return platformSchema("Tencent Cloud TPNS push notification service (account and token packages).",
		configField{Name: "access_id", EnvVar: "TPNS_ACCESS_ID", Description: "TPNS application AccessID."},
		configField{Name: "secret_key", EnvVar: "TPNS_SECRET_KEY", Description: "TPNS application SecretKey.", Sensitive: true},
		configField{Name: "region", EnvVar: "TPNS_REGION", Description: "Service access point of the application: `guangzhou`, `shanghai`, `hongkong` or `singapore`.", Default: "guangzhou"},
		configField{Name: "endpoint", EnvVar: "TPNS_ENDPOINT", Description: "API base URL; overrides the one derived from `region`."},
	)
}

type tpnsSettings struct {
	AccessID, SecretKey, Region, Endpoint setting
}

func resolveTPNS(m *tpnsConfigModel) tpnsSettings {
	if m == nil {
		m = &tpnsConfigModel{}
	}
	s := tpnsSettings{
		AccessID:  resolve(m.AccessID, "tpns.access_id", "TPNS_ACCESS_ID", "", false),
		SecretKey: resolve(m.SecretKey, "tpns.secret_key", "TPNS_SECRET_KEY", "", true),
		Region:    resolve(m.Region, "tpns.region", "TPNS_REGION", tpns.DefaultRegion, false),
		Endpoint:  resolve(m.Endpoint, "tpns.endpoint", "TPNS_ENDPOINT", "", false),
	}
	if s.Endpoint.Value == "" {
		// An unknown region leaves it empty; providerData.validate reports it.
		s.Endpoint.Value, _ = tpns.EndpointFor(s.Region.Value)
	}
	return s
}

func (s tpnsSettings) settings() []setting {
	return []setting{s.AccessID, s.SecretKey, s.Region, s.Endpoint}
}

// tpnsClient returns a client, or an error naming each missing setting.
func (d *providerData) tpnsClient(resourceType string) (*tpns.Client, diag.Diagnostics) { //nolint:unparam // same shape as the other platform hooks
	s := d.tpns
	if diags := requireSettings("TPNS", resourceType, s.AccessID, s.SecretKey, s.Endpoint); diags.HasError() {
		return nil, diags
	}
	var diags diag.Diagnostics
	if u, err := url.Parse(s.Endpoint.Value); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		diags.AddError("Invalid TPNS endpoint",
			fmt.Sprintf("%s (or %s) must be an http(s) URL such as %s; or unset it and choose tpns.region.", s.Endpoint.Attribute, s.Endpoint.EnvVar, tpns.RegionEndpoints[tpns.DefaultRegion]))
		return nil, diags
	}
	return tpns.New(s.Endpoint.Value, s.AccessID.Value, s.SecretKey.Value, d.transferOptions(s.Endpoint)), nil
}
