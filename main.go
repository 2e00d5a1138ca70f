// Command terraform-provider-audience serves the audience provider over
// plugin protocol 6.
package main

import (
	"context"
	"flag"
	"log"
	"os"
	runtimedebug "runtime/debug"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/audiencekit/terraform-provider-audience/internal/provider"
)

// Generate the docs/ folder from templates/ and examples/ (make generate).
//go:generate go tool tfplugindocs generate --provider-name audience

// version is set by goreleaser at release time.
var version = "dev"

func main() {
	var debug bool
	flag.BoolVar(&debug, "debug", false, "run the provider with support for debuggers like delve")
	flag.Parse()

	// Terraform runs one provider process per plan or apply, next to its
	// own; a tighter garbage collector keeps it small. The provider's live
	// heap is small (files stream through fixed buffers), so collecting
	// more often costs little. GOGC still overrides it.
	if os.Getenv("GOGC") == "" {
		runtimedebug.SetGCPercent(50)
	}

	err := providerserver.Serve(context.Background(), provider.New(version), providerserver.ServeOpts{
		Address:         "registry.terraform.io/audiencekit/audience",
		Debug:           debug,
		ProtocolVersion: 6,
	})
	if err != nil {
		log.Fatal(err.Error())
	}
}
