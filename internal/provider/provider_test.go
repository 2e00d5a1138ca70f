package provider

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"

	"github.com/audiencekit/terraform-provider-audience/internal/sandbox"
)

// testAccProtoV6ProviderFactories serves the provider in-process, as
// main.go serves it, to the Terraform binary that terraform-plugin-testing
// runs.
var testAccProtoV6ProviderFactories = map[string]func() (tfprotov6.ProviderServer, error){
	"audience": func() (tfprotov6.ProviderServer, error) { return NewServer("test")(), nil },
}

// platformEnvVars are cleared before each acceptance test so a developer's
// real credentials can never be used by a test.
var platformEnvVars = declaredEnvVars()

func clearPlatformEnv(t *testing.T) {
	t.Helper()
	for _, k := range platformEnvVars {
		t.Setenv(k, "")
	}
}

// resolveFromEnv resolves every platform from environment variables and
// defaults alone, as an empty provider block does.
func resolveFromEnv() map[string]platformSettings {
	out := make(map[string]platformSettings, len(platforms))
	for _, p := range platforms {
		out[p.Attribute] = p.resolve(nil)
	}
	return out
}

// startSandbox runs a sandbox for one test and points the provider at it
// through the contract's environment variables.
func startSandbox(t *testing.T, opts ...func(*sandbox.Config)) *sandbox.Server {
	t.Helper()
	cfg := sandbox.Config{Dir: t.TempDir()}
	for _, o := range opts {
		o(&cfg)
	}
	srv, err := sandbox.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	clearPlatformEnv(t)
	for k, v := range srv.Env() {
		t.Setenv(k, v)
	}
	return srv
}

// writeFile writes a test input file and returns its path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
