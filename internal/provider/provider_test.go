package provider

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

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
// real credentials can never be used by a test, unless realAccountsEnv
// names the platform.
var platformEnvVars = declaredEnvVars()

// realAccountsEnv names the platforms whose converted acceptance tests
// (accTarget) run against the account their environment variables point
// at instead of a sandbox: a comma-separated list of platform names
// (mintegral, tpns, futuredemand, openim, altcraft) or "all". Credentials
// alone never switch a test to a real account: it must be asked for.
const realAccountsEnv = "AUDIENCE_ACC_REAL"

// startEnv is the platforms' environment as the test process found it,
// read before any test clears it.
var startEnv = func() map[string]string {
	env := map[string]string{}
	for _, k := range platformEnvVars {
		if v, ok := os.LookupEnv(k); ok {
			env[k] = v
		}
	}
	return env
}()

// sweepPrefix starts the name of everything the tests create on a real
// account; the sweepers (sweep_test.go) delete what carries it.
const sweepPrefix = "tf-acc-"

// accPrefix is this run's prefix, tf-acc-<8 hex digits>, so runs that
// share an account do not meet each other's audiences, objects or files.
var accPrefix = func() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return sweepPrefix + hex.EncodeToString(b)
}()

// accName is name under this run's prefix, for audience names, object
// names and the names of the files a test uploads.
func accName(name string) string { return accPrefix + "-" + name }

// realPlatforms parses realAccountsEnv into the platforms it names, and
// checks that each one's required settings are present in the
// environment, so a missing key fails the run at once and says which.
func realPlatforms(value string, lookup func(string) string) ([]*platformSpec, error) {
	var out []*platformSpec
	for name := range strings.SplitSeq(value, ",") {
		name = strings.ToLower(strings.TrimSpace(name))
		switch name {
		case "":
			continue
		case "all":
			out = append(out, platforms...)
			continue
		}
		i := slices.IndexFunc(platforms, func(p *platformSpec) bool { return p.Attribute == name })
		if i < 0 {
			var names []string
			for _, p := range platforms {
				names = append(names, p.Attribute)
			}
			return nil, fmt.Errorf("%s names %q, which is no platform: use a comma-separated list of %s, or all", realAccountsEnv, name, strings.Join(names, ", "))
		}
		out = append(out, platforms[i])
	}
	for _, p := range out {
		for _, f := range p.Settings {
			if f.Required && f.Default == "" && strings.TrimSpace(lookup(f.EnvVar)) == "" {
				return nil, fmt.Errorf("%s names %s, but %s is not set: set the platform's variables to the account the tests may use, or leave %s out of %s",
					realAccountsEnv, p.Attribute, f.EnvVar, p.Attribute, realAccountsEnv)
			}
		}
	}
	return slices.Compact(out), nil
}

// isReal reports whether realAccountsEnv, as the process started with it,
// names platform. A bad value fails the test.
func isReal(t *testing.T, platform *platformSpec) bool {
	t.Helper()
	named, err := realPlatforms(os.Getenv(realAccountsEnv), func(k string) string { return startEnv[k] })
	if err != nil {
		t.Fatal(err)
	}
	return slices.Contains(named, platform)
}

// accTarget is where a test of platform's resources runs: a sandbox
// started for it (returned, as startSandbox does), or, when
// realAccountsEnv names the platform, the account its environment
// variables point at (nil is returned). Every other platform's variables
// are cleared either way. Tests that take a nil server give what they
// create names from accName and check the sandbox's records only through
// onSandbox; tests that need the sandbox's powers call sandboxOnly.
func accTarget(t *testing.T, platform *platformSpec, opts ...func(*sandbox.Config)) *sandbox.Server {
	t.Helper()
	if !isReal(t, platform) {
		return startSandbox(t, opts...)
	}
	clearPlatformEnv(t)
	for _, f := range platform.Settings {
		if v := startEnv[f.EnvVar]; v != "" {
			t.Setenv(f.EnvVar, v)
		}
	}
	t.Logf("%s: %s names %s: running against the account at %s, names under %s", t.Name(), realAccountsEnv, platform.Attribute,
		platform.resolve(nil).value("endpoint"), accPrefix)
	return nil
}

// sandboxOnly skips a test that needs what only the sandbox can do (why:
// "moves the clock", "injects faults", "reads the sandbox's records")
// when it runs against a real account.
func sandboxOnly(t *testing.T, srv *sandbox.Server, why string) {
	t.Helper()
	if srv == nil {
		t.Skipf("runs only against the sandbox: it %s, and %s points it at a real account", why, realAccountsEnv)
	}
}

// requireSandbox is accTarget for a test that needs the sandbox's powers
// throughout (why, as for sandboxOnly): against a real account it skips
// before starting anything.
func requireSandbox(t *testing.T, platform *platformSpec, why string, opts ...func(*sandbox.Config)) *sandbox.Server {
	t.Helper()
	skipOnRealAccount(t, platform, why)
	return startSandbox(t, opts...)
}

// skipOnRealAccount is requireSandbox's skip, for a test that starts its
// sandbox its own way (startFaultSandbox).
func skipOnRealAccount(t *testing.T, platform *platformSpec, why string) {
	t.Helper()
	if isReal(t, platform) {
		sandboxOnly(t, nil, why)
	}
}

// onSandbox is check against the sandbox, and nothing against a real
// account, whose records the test cannot read.
func onSandbox(srv *sandbox.Server, check resource.TestCheckFunc) resource.TestCheckFunc {
	if srv == nil {
		return func(*terraform.State) error { return nil }
	}
	return check
}

// skipOnReal is a step's SkipFunc for a step that needs the sandbox (it
// moves the clock or reads the sandbox's records). terraform-plugin-testing
// runs the step's PreConfig before its SkipFunc: a PreConfig that uses the
// sandbox must return early when srv is nil.
func skipOnReal(srv *sandbox.Server) func() (bool, error) {
	return func() (bool, error) { return srv == nil, nil }
}

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
