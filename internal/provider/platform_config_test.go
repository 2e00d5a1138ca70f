package provider

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"
	"github.com/hashicorp/terraform-plugin-log/tflogtest"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/audiencekit/terraform-provider-audience/internal/sandbox"
)

var envVarName = regexp.MustCompile(`^[A-Z][A-Z0-9]*_[A-Z0-9_]+$`)

func TestPlatformDeclarations(t *testing.T) {
	envOwner := map[string]string{}
	platformNames := map[string]bool{}
	for _, p := range platforms {
		if p.Attribute == "" || p.Title == "" || p.Description == "" || len(p.Settings) == 0 {
			t.Errorf("platform %q: attribute, title, description and settings are all needed", p.Attribute)
		}
		if platformNames[p.Attribute] {
			t.Errorf("platform %q declared twice", p.Attribute)
		}
		platformNames[p.Attribute] = true
		names := map[string]bool{}
		for _, f := range p.Settings {
			attribute := p.Attribute + "." + f.Name
			if names[f.Name] {
				t.Errorf("%s declared twice", attribute)
			}
			names[f.Name] = true
			if !envVarName.MatchString(f.EnvVar) {
				t.Errorf("%s: environment variable %q is not an upper-case NAME_LIKE_THIS", attribute, f.EnvVar)
			}
			if !strings.HasPrefix(f.EnvVar, strings.ToUpper(p.Attribute)+"_") {
				t.Errorf("%s: environment variable %s does not start with %s_", attribute, f.EnvVar, strings.ToUpper(p.Attribute))
			}
			if other, dup := envOwner[f.EnvVar]; dup {
				t.Errorf("%s and %s share %s", other, attribute, f.EnvVar)
			}
			envOwner[f.EnvVar] = attribute
			if f.Description == "" {
				t.Errorf("%s has no description", attribute)
			}
			// A safety net for new settings: the URL rule applies by
			// declaration, and an endpoint must be declared one.
			if strings.HasSuffix(f.Name, "endpoint") && !f.URL {
				t.Errorf("%s is an endpoint: declare it URL: true, so a value without http(s):// fails the plan", attribute)
			}
			if f.URL && f.Default != "" {
				if err := checkEndpointURL(f.Default, ""); err != nil {
					t.Errorf("%s: the default %q fails the URL rule: %v", attribute, f.Default, err)
				}
			}
		}
	}
	if len(platformEnvVars) != len(envOwner) {
		t.Errorf("platformEnvVars has %d entries, the declarations %d", len(platformEnvVars), len(envOwner))
	}
}

// The sandbox prints exports under names it owns; every one must be a
// variable the provider reads, or `make demo` would point nothing at it.
func TestSandboxExportsAreDeclaredSettings(t *testing.T) {
	srv, err := sandbox.New(sandbox.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	declared := map[string]bool{}
	for _, k := range declaredEnvVars() {
		declared[k] = true
	}
	env := srv.Env()
	if len(env) == 0 {
		t.Fatal("the sandbox exports nothing")
	}
	for k := range env {
		if !declared[k] {
			t.Errorf("the sandbox exports %s, which no platform declares", k)
		}
	}
}

func TestResolvePrecedence(t *testing.T) {
	for _, p := range platforms {
		for _, f := range p.Settings {
			if p.Derive != nil && f.Default == "" {
				continue // derived values are covered by the platform's own tests
			}
			t.Run(p.Attribute+"."+f.Name, func(t *testing.T) {
				clearPlatformEnv(t)
				if got := p.resolve(nil).value(f.Name); got != f.Default {
					t.Fatalf("unset: %q, want the default %q", got, f.Default)
				}
				t.Setenv(f.EnvVar, "from-env")
				if got := p.resolve(nil).value(f.Name); got != "from-env" {
					t.Fatalf("env only: %q, want the environment variable", got)
				}
				block := map[string]attr.Value{f.Name: types.StringValue("from-attribute")}
				if got := p.resolve(block).value(f.Name); got != "from-attribute" {
					t.Fatalf("attribute and env: %q, want the attribute", got)
				}
				block[f.Name] = types.StringNull()
				if got := p.resolve(block).value(f.Name); got != "from-env" {
					t.Fatalf("null attribute: %q, want the environment variable", got)
				}
			})
		}
	}
}

// Every required setting that is missing is reported by the platform's
// accessor, naming the attribute and the environment variable.
func TestMissingSettingNamesAttributeAndEnvVar(t *testing.T) {
	for _, p := range platforms {
		accessor := platformAccessors[p.Attribute]
		if accessor == nil {
			t.Errorf("platform %s has no accessor in this test", p.Attribute)
			continue
		}
		t.Run(p.Attribute, func(t *testing.T) {
			clearPlatformEnv(t)
			for _, f := range p.Settings {
				// The defaults would satisfy some settings; blank them.
				if f.Default != "" {
					t.Setenv(f.EnvVar, " ")
				}
			}
			diags := accessor(&providerData{settings: resolveFromEnv()})
			if !diags.HasError() {
				t.Fatal("no error with every setting empty")
			}
			text := diagText(diags)
			for _, f := range p.Settings {
				if !f.Required {
					continue
				}
				want := fmt.Sprintf("Set `%s.%s` in the provider block or the %s environment variable.", p.Attribute, f.Name, f.EnvVar)
				if !strings.Contains(text, want) {
					t.Errorf("no error for %s.%s naming %s; got:\n%s", p.Attribute, f.Name, f.EnvVar, text)
				}
			}
			if strings.Contains(text, "bug in the provider") {
				t.Errorf("error blames the provider:\n%s", text)
			}

			// With the sandbox's values every accessor succeeds.
			startSandbox(t)
			if diags := accessor(&providerData{settings: resolveFromEnv()}); diags.HasError() {
				t.Fatalf("sandbox settings rejected:\n%s", diagText(diags))
			}
		})
	}
}

var platformAccessors = map[string]func(*providerData) diag.Diagnostics{
	"mintegral": func(d *providerData) diag.Diagnostics { _, diags := d.mintegralClient("audience_test"); return diags },
	"tpns":      func(d *providerData) diag.Diagnostics { _, diags := d.tpnsClient("audience_test"); return diags },
	"futuredemand": func(d *providerData) diag.Diagnostics {
		_, diags := d.futureDemandClient("audience_test")
		return diags
	},
	"openim":   func(d *providerData) diag.Diagnostics { _, diags := d.openIMClient("audience_test"); return diags },
	"altcraft": func(d *providerData) diag.Diagnostics { _, diags := d.altcraftClient("audience_test"); return diags },
}

// Every endpoint setting of every platform, set without its scheme (as
// MINTEGRAL_ENDPOINT=ss-api.mintegral.com), fails when the platform is
// used, naming the attribute and the environment variable.
func TestEndpointSettingsWithoutSchemeFail(t *testing.T) {
	tested := 0
	for _, p := range platforms {
		for _, f := range p.Settings {
			if !f.URL {
				continue
			}
			tested++
			t.Run(p.Attribute+"."+f.Name, func(t *testing.T) {
				startSandbox(t)
				t.Setenv(f.EnvVar, "api.example.com")
				diags := platformAccessors[p.Attribute](&providerData{settings: resolveFromEnv()})
				// A platform's own rule may explain the value first (TPNS
				// points at its regions); the rest say what the URL lacks.
				want := fmt.Sprintf("Invalid %s setting %s.%s: audience_test: %s.%s (or %s) is \"api.example.com\"; it ", p.Title, p.Attribute, f.Name, p.Attribute, f.Name, f.EnvVar)
				text := diagText(diags)
				if !strings.Contains(text, want) || !strings.Contains(text, "http") {
					t.Fatalf("want %q and the URL rule in:\n%s", want, text)
				}
				if f.Validate == nil && !strings.Contains(text, "it lacks the scheme: set it to https://api.example.com (an absolute http or https URL).") {
					t.Fatalf("the URL rule does not suggest the scheme:\n%s", text)
				}
			})
		}
	}
	if tested < len(platforms) {
		t.Fatalf("%d endpoint settings declared, want one per platform at least", tested)
	}
}

func TestCheckEndpointURL(t *testing.T) {
	for value, want := range map[string]string{
		"https://ss-api.mintegral.com":       "",
		"http://127.0.0.1:8080/api/v3":       "",
		"HTTPS://Example.com/base/":          "",
		"ss-api.mintegral.com":               "it lacks the scheme: set it to https://ss-api.mintegral.com (an absolute http or https URL)",
		"localhost:8080":                     "it lacks the scheme: set it to https://localhost:8080",
		"/api/v3":                            "it lacks the scheme: set it to an absolute http or https URL such as https://x.test",
		"ftp://files.example.com":            "its scheme is ftp, and it must be http or https, such as https://x.test",
		"https://":                           "it has no host",
		"https://api.example.com/v3?token=x": "it has a query or fragment",
		"https://api.example.com/#top":       "it has a query or fragment",
		"https://[::1":                       "it is not a valid URL (missing ']' in host)",
		"https://api example.com":            "it is not a valid URL",
	} {
		err := checkEndpointURL(value, "https://x.test")
		if (err == nil) != (want == "") || (err != nil && !strings.Contains(err.Error(), want)) {
			t.Errorf("%q: %v, want %q", value, err, want)
		}
	}
}

func TestInvalidSettingNamesSourceAndHidesSecrets(t *testing.T) {
	spec := &platformSpec{
		Attribute: "acme", Title: "Acme", Description: "test platform",
		Settings: []settingSpec{
			{Name: "region", EnvVar: "ACME_REGION", Description: "r", Required: true, Validate: func(string) error { return errors.New("use one of north, south") }},
			{Name: "key", EnvVar: "ACME_KEY", Description: "k", Sensitive: true, Required: true, Validate: func(string) error { return errors.New("it must be 32 characters") }},
		},
	}
	t.Setenv("ACME_REGION", "west")
	t.Setenv("ACME_KEY", "hunter2-secret")
	diags := spec.check("audience_acme_thing", spec.resolve(nil))
	text := diagText(diags)
	for _, want := range []string{
		`audience_acme_thing: acme.region (or ACME_REGION) is "west"; use one of north, south.`,
		`audience_acme_thing: acme.key (or ACME_KEY) is invalid; it must be 32 characters.`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("missing %q in:\n%s", want, text)
		}
	}
	if strings.Contains(text, "hunter2-secret") {
		t.Errorf("the error shows the secret:\n%s", text)
	}
}

func TestLogContextMasksDeclaredSecrets(t *testing.T) {
	clearPlatformEnv(t)
	var secrets []string
	for _, p := range platforms {
		for _, f := range p.Settings {
			if f.Sensitive {
				v := "secret-of-" + strings.ToLower(f.EnvVar)
				t.Setenv(f.EnvVar, v)
				secrets = append(secrets, v)
			}
		}
	}
	if len(secrets) == 0 {
		t.Fatal("no sensitive setting is declared")
	}
	t.Setenv("MINTEGRAL_ACCESS_KEY", "plain-access-key")
	d := &providerData{settings: resolveFromEnv()}

	var out bytes.Buffer
	ctx := d.logContext(tflogtest.RootLogger(context.Background(), &out))
	for _, s := range secrets {
		tflog.Info(ctx, "request with "+s, map[string]any{"detail": "header=" + s})
	}
	for _, name := range sensitiveSettingNames() {
		tflog.Info(ctx, "field named after a setting", map[string]any{name: "any value " + name})
	}
	tflog.Info(ctx, "not a secret: plain-access-key")

	logged := out.String()
	for _, s := range secrets {
		if strings.Contains(logged, s) {
			t.Errorf("%s appears in the log:\n%s", s, logged)
		}
	}
	for _, name := range sensitiveSettingNames() {
		if strings.Contains(logged, "any value "+name) {
			t.Errorf("field %s is not masked:\n%s", name, logged)
		}
	}
	if !strings.Contains(logged, "plain-access-key") || !strings.Contains(logged, "***") {
		t.Errorf("masking hides too much or nothing:\n%s", logged)
	}
}

func diagText(diags diag.Diagnostics) string {
	var b strings.Builder
	for _, d := range diags {
		b.WriteString(d.Summary() + ": " + d.Detail() + "\n")
	}
	return b.String()
}

// An endpoint without its scheme, from the environment or the provider
// block, fails terraform plan naming the setting and the variable, and
// nothing is sent.
func TestAccEndpointWithoutSchemeFailsThePlan(t *testing.T) {
	srv := startSandbox(t)
	src := writeFile(t, t.TempDir(), "idfa.txt", "idfa\n6D92078A-8246-4BA4-AE5B-76104861E7DC\n")
	mintegral := strings.TrimPrefix(srv.Env()["MINTEGRAL_ENDPOINT"], "http://")
	altcraft := strings.TrimPrefix(srv.Env()["ALTCRAFT_ENDPOINT"], "http://")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				PreConfig:   func() { t.Setenv("MINTEGRAL_ENDPOINT", mintegral) },
				Config:      mintegralFileConfig(src, ""),
				ExpectError: wrapped("Error running pre-apply plan", "Invalid Mintegral setting mintegral.endpoint", `audience_mintegral_file: mintegral.endpoint (or MINTEGRAL_ENDPOINT) is "`+mintegral+`"; it lacks the scheme: set it to https://`+mintegral),
			},
			{
				Config: fmt.Sprintf(`
provider "audience" {
  altcraft = { endpoint = %q }
}

data "audience_altcraft_profile_export" "test" {
  source_type = "segment"
  source_id   = 7
}
`, altcraft),
				ExpectError: wrapped("Invalid Altcraft setting altcraft.endpoint", `altcraft.endpoint (or ALTCRAFT_ENDPOINT) is "`+altcraft+`"; it lacks the scheme`),
			},
		},
	})
	for _, prefix := range []string{sandbox.PrefixMintegral, sandbox.PrefixS3, sandbox.PrefixAltcraft} {
		if n := srv.Requests(prefix); n != 0 {
			t.Errorf("%d requests reached %s with an endpoint the plan refused", n, prefix)
		}
	}
}
