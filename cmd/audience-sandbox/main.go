// Command audience-sandbox runs the local platform emulator so the provider
// can be tried without credentials. It prints the environment variables
// that point the provider at it.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/audiencekit/terraform-provider-audience/internal/sandbox"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8780", "address to listen on (port 0 picks a free one)")
	dir := flag.String("dir", "", "directory for uploaded objects (default: a new temporary directory)")
	envFile := flag.String("env-file", "", "also write the export lines to this file")
	flag.Parse()

	if *dir == "" {
		d, err := os.MkdirTemp("", "audience-sandbox-")
		if err != nil {
			log.Fatal(err)
		}
		*dir = d
	}
	srv, err := sandbox.New(sandbox.Config{Dir: *dir})
	if err != nil {
		log.Fatal(err)
	}
	if err := srv.Start(*addr); err != nil {
		log.Fatal(err)
	}
	exports := srv.ExportLines()
	if *envFile != "" {
		if err := os.WriteFile(*envFile, []byte(exports), 0o600); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Printf("audience sandbox listening on %s (objects in %s)\n", srv.URL(), *dir)
	fmt.Println("Point the provider at it with:")
	fmt.Print(exports)

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	<-stop
	_ = srv.Close()
}
