package provider

import (
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

func TestResolveTPNSEndpoint(t *testing.T) {
	cases := []struct {
		name     string
		block    map[string]attr.Value
		env      map[string]string
		endpoint string
	}{
		{name: "default region", endpoint: "https://api.tpns.tencent.com"},
		{name: "region from env", env: map[string]string{"TPNS_REGION": "singapore"}, endpoint: "https://api.tpns.sgp.tencent.com"},
		{name: "region attribute wins", block: map[string]attr.Value{"region": types.StringValue("hongkong")}, env: map[string]string{"TPNS_REGION": "shanghai"}, endpoint: "https://api.tpns.hk.tencent.com"},
		{name: "endpoint overrides region", block: map[string]attr.Value{"region": types.StringValue("shanghai")}, env: map[string]string{"TPNS_ENDPOINT": "http://127.0.0.1:9/tpns"}, endpoint: "http://127.0.0.1:9/tpns"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clearPlatformEnv(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			if got := tpnsPlatform.resolve(tc.block).value("endpoint"); got != tc.endpoint {
				t.Fatalf("endpoint = %q, want %q", got, tc.endpoint)
			}
		})
	}
}

func TestTPNSClientSettings(t *testing.T) {
	clearPlatformEnv(t)
	t.Setenv("TPNS_ACCESS_ID", "1500000001")
	d := &providerData{settings: resolveFromEnv()}
	_, diags := d.tpnsClient(tpnsAccountPackageType)
	if !diags.HasError() || !strings.Contains(diags[0].Detail(), "TPNS_SECRET_KEY") || !strings.Contains(diags[0].Detail(), "tpns.secret_key") {
		t.Fatalf("missing secret: %v", diags)
	}

	t.Setenv("TPNS_SECRET_KEY", "s3cret")
	t.Setenv("TPNS_ENDPOINT", "api.tpns.tencent.com")
	d = &providerData{settings: resolveFromEnv()}
	_, diags = d.tpnsClient(tpnsAccountPackageType)
	if !diags.HasError() || !strings.Contains(diags[0].Detail(), "TPNS_ENDPOINT") {
		t.Fatalf("endpoint without scheme: %v", diags)
	}

	t.Setenv("TPNS_ENDPOINT", "")
	t.Setenv("TPNS_REGION", "shanghai")
	d = &providerData{settings: resolveFromEnv()}
	c, diags := d.tpnsClient(tpnsAccountPackageType)
	if diags.HasError() || c.Endpoint != "https://api.tpns.sh.tencent.com" || c.AccessID != "1500000001" || c.SecretKey != "s3cret" {
		t.Fatalf("client %+v, %v", c, diags)
	}
}
