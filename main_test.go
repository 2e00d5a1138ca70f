package main

import (
	"maps"
	"slices"
	"testing"
)

func TestQuietUnlessTerraformLogs(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want map[string]string
	}{
		{
			name: "Terraform logs nothing: every SDK logger is off",
			env:  map[string]string{},
			want: map[string]string{"TF_LOG_SDK": "OFF", "TF_LOG_SDK_PROTO": "OFF", "TF_LOG_SDK_FRAMEWORK": "OFF", "TF_LOG_PROVIDER": "OFF", "TF_LOG_PROVIDER_AUDIENCE": "OFF"},
		},
		{
			name: "TF_LOG set: untouched",
			env:  map[string]string{"TF_LOG": "INFO"},
			want: map[string]string{"TF_LOG": "INFO"},
		},
		{
			name: "TF_LOG_PROVIDER set: untouched",
			env:  map[string]string{"TF_LOG_PROVIDER": "DEBUG"},
			want: map[string]string{"TF_LOG_PROVIDER": "DEBUG"},
		},
		{
			name: "a level the user chose is kept",
			env:  map[string]string{"TF_LOG_SDK_PROTO": "TRACE"},
			want: map[string]string{"TF_LOG_SDK": "OFF", "TF_LOG_SDK_PROTO": "TRACE", "TF_LOG_SDK_FRAMEWORK": "OFF", "TF_LOG_PROVIDER": "OFF", "TF_LOG_PROVIDER_AUDIENCE": "OFF"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := maps.Clone(tc.env)
			quietUnlessTerraformLogs(func(k string) string { return env[k] }, func(k, v string) error { env[k] = v; return nil })
			if !maps.Equal(env, tc.want) {
				t.Fatalf("environment %v, want %v", env, tc.want)
			}
		})
	}
	if !slices.Contains(sdkLogVars, "TF_LOG_PROVIDER_AUDIENCE") {
		t.Fatal("the provider's own logger (tflog, TF_LOG_PROVIDER_AUDIENCE) must be covered")
	}
}
