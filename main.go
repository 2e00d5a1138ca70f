// Command terraform-provider-audience serves the audience provider over
// plugin protocol 6.
package main

import (
	"flag"
	"log"
	"os"
	runtimedebug "runtime/debug"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"

	"github.com/audiencekit/terraform-provider-audience/internal/provider"
)

// Generate the docs/ folder from templates/ and examples/ (make generate).
//go:generate go tool tfplugindocs generate --provider-name audience

// version is set by goreleaser at release time.
var version = "dev"

// softMemoryLimit is the heap size past which the collector works harder.
const softMemoryLimit = 40 << 20

func main() {
	var debug bool
	flag.BoolVar(&debug, "debug", false, "run the provider with support for debuggers like delve")
	flag.Parse()

	if !debug {
		quietUnlessTerraformLogs(os.Getenv, os.Setenv)
	}

	// The garbage collector keeps Go's default (GOGC=100). The live heap
	// is small (files stream through fixed buffers, and the server no
	// longer lets the framework keep each request's context), so a
	// tighter setting mostly adds collections: GOGC=50 cost a no-change
	// plan of 600 resources about a second of CPU for 3 MiB of RSS. What
	// does grow is short-lived: the content checks' sets of IDs (up to
	// 16 MiB each) while many new files are checked; a soft limit makes
	// the collector return them before the heap doubles (an apply of 65
	// new files peaked at 85 MiB without it, 57 MiB with it, no slower).
	// GOMEMLIMIT still overrides it.
	if os.Getenv("GOMEMLIMIT") == "" {
		runtimedebug.SetMemoryLimit(softMemoryLimit)
	}

	// tf6server directly rather than providerserver.Serve, which links the
	// unused protocol 5 server too: a smaller binary is a smaller resident
	// set in every provider process Terraform starts.
	stopProfiles := startProfiles(os.Getenv(profileDirEnv))
	var opts []tf6server.ServeOpt
	if debug {
		opts = append(opts, tf6server.WithManagedDebug())
	}
	err := tf6server.Serve("registry.terraform.io/audiencekit/audience", provider.NewServer(version), opts...)
	stopProfiles()
	if err != nil {
		log.Fatal(err.Error())
	}
}

// terraformLogVars are the variables that make Terraform (or OpenTofu)
// show a provider's logs; the provider inherits Terraform's environment.
var terraformLogVars = []string{"TF_LOG", "TF_LOG_PROVIDER"}

// sdkLogVars set the level of each logger the plugin SDK and framework
// write through, including the provider's own (tflog).
var sdkLogVars = []string{"TF_LOG_SDK", "TF_LOG_SDK_PROTO", "TF_LOG_SDK_FRAMEWORK", "TF_LOG_PROVIDER", "TF_LOG_PROVIDER_AUDIENCE"}

// quietUnlessTerraformLogs turns the SDK's logging off when Terraform
// would discard it anyway. Without a level, the SDK logs every request at
// trace level as JSON with caller lookups (megabytes for a plan of a
// hundred resources) and Terraform parses each line only to drop it:
// about a quarter of a no-change plan's time and a MiB of memory. Any
// logging variable the user set is left alone.
func quietUnlessTerraformLogs(getenv func(string) string, setenv func(string, string) error) {
	for _, v := range terraformLogVars {
		if getenv(v) != "" {
			return
		}
	}
	for _, v := range sdkLogVars {
		if getenv(v) == "" {
			_ = setenv(v, "OFF")
		}
	}
}
