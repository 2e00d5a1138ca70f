// Command audience-sandbox runs the local platform emulator so the provider
// can be tried without credentials. It prints the environment variables
// that point the provider at it. -fault injects faults (also possible while
// it runs, through POST /_sandbox/faults); -v logs every request.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/audiencekit/terraform-provider-audience/internal/sandbox"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8780", "address to listen on (port 0 picks a free one)")
	dir := flag.String("dir", "", "directory for uploaded objects (default: a new temporary directory)")
	envFile := flag.String("env-file", "", "also write the export lines to this file")
	verbose := flag.Bool("v", false, "log every request: method, path (never the query string), status, bytes in and out, duration")
	var faults faultFlags
	flag.Var(&faults, "fault", "inject a fault, e.g. 'PUT /s3/ status=503 count=2'; repeatable. Keys: status, retry-after, count, reset-after (request-body bytes), drop, delay")
	flag.Parse()

	if *dir == "" {
		d, err := os.MkdirTemp("", "audience-sandbox-")
		if err != nil {
			log.Fatal(err)
		}
		*dir = d
	}
	cfg := sandbox.Config{Dir: *dir}
	if *verbose {
		requests := log.New(os.Stderr, "", log.LstdFlags|log.Lmicroseconds)
		cfg.RequestLog = func(r sandbox.RequestRecord) { requests.Print(r) }
	}
	srv, err := sandbox.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	for _, f := range faults {
		srv.AddFault(f)
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
	for _, f := range faults {
		fmt.Printf("fault queued: %s\n", f)
	}
	fmt.Printf("faults can be added with POST %s%s, listed with GET, cleared with DELETE\n", srv.URL(), sandbox.AdminFaultsPath)
	fmt.Println("Point the provider at it with:")
	fmt.Print(exports)

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	<-stop
	_ = srv.Close()
}

// faultFlags collects repeated -fault flags.
type faultFlags []sandbox.Fault

func (f *faultFlags) String() string {
	specs := make([]string, len(*f))
	for i, fault := range *f {
		specs[i] = fault.String()
	}
	return strings.Join(specs, "; ")
}

func (f *faultFlags) Set(spec string) error {
	fault, err := sandbox.ParseFault(spec)
	if err != nil {
		return err
	}
	*f = append(*f, fault)
	return nil
}
