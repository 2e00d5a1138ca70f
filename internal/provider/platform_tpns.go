package provider

import (
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

type tpnsConfigModel struct {
	AccessID  types.String `tfsdk:"access_id"`
	SecretKey types.String `tfsdk:"secret_key"`
	Region    types.String `tfsdk:"region"`
	Endpoint  types.String `tfsdk:"endpoint"`
}

// tpnsRegionEndpoints maps each TPNS service access point to its API host.
var tpnsRegionEndpoints = map[string]string{
	"guangzhou": "https://api.tpns.tencent.com",
	"shanghai":  "https://api.tpns.sh.tencent.com",
	"hongkong":  "https://api.tpns.hk.tencent.com",
	"singapore": "https://api.tpns.sgp.tencent.com",
}

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
		Region:    resolve(m.Region, "tpns.region", "TPNS_REGION", "guangzhou", false),
		Endpoint:  resolve(m.Endpoint, "tpns.endpoint", "TPNS_ENDPOINT", "", false),
	}
	if s.Endpoint.Value == "" {
		s.Endpoint.Value = tpnsRegionEndpoints[s.Region.Value]
	}
	return s
}

func (s tpnsSettings) settings() []setting {
	return []setting{s.AccessID, s.SecretKey, s.Region, s.Endpoint}
}
