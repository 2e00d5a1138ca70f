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
	dir := flag.String("dir", "", "directory for uploaded objects and Mintegral audiences, kept across restarts (default: a new temporary directory)")
	envFile := flag.String("env-file", "", "also write the export lines to this file")
	verbose := flag.Bool("v", false, "log every request: method, path (never the query string), status, bytes in and out, duration")
	updateWindow := flag.Duration("mintegral-update-window", sandbox.MintegralUpdateWindow,
		"how long after a change a Mintegral audience refuses another update; shorter than 12h to try updates by hand (reported times shift to match)")
	seed := flag.Int("seed-mintegral-audiences", 0, "keep this many audiences as if made in Mintegral's console (for terraform query): a start creates those -dir does not hold yet")
	var faults faultFlags
	flag.Var(&faults, "fault", "inject a fault, e.g. 'PUT /s3/ status=503 count=2'; repeatable. Keys:\n"+faultKeyHelp)
	flag.Parse()
	if *updateWindow <= 0 {
		log.Fatalf("-mintegral-update-window %s: give a positive duration, e.g. 2m", *updateWindow)
	}

	if *dir == "" {
		d, err := os.MkdirTemp("", "audience-sandbox-")
		if err != nil {
			log.Fatal(err)
		}
		*dir = d
	}
	cfg := sandbox.Config{Dir: *dir, MintegralUpdateWindow: *updateWindow}
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
	added, err := seedConsoleAudiences(srv, *seed)
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
	fmt.Printf("audience sandbox listening on %s (objects and Mintegral audiences in %s)\n", srv.URL(), *dir)
	if *updateWindow != sandbox.MintegralUpdateWindow {
		fmt.Printf("Mintegral audiences accept an update %s after the last change\n", *updateWindow)
	}
	if *seed > 0 {
		fmt.Printf("%d console-made Mintegral audiences added (%d were already in %s)\n", added, *seed-added, *dir)
	}
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

// seedConsoleAudiences makes sure n console-made audiences exist, creating
// only the ones a previous start on the same directory did not, and
// returns how many it created.
func seedConsoleAudiences(srv *sandbox.Server, n int) (int, error) {
	if n <= 0 {
		return 0, nil
	}
	ids, err := srv.SeedMintegralAudiences(n, sandbox.MintegralSeed{SkipExisting: true})
	return len(ids), err
}

// faultKeyHelp lists every key sandbox.ParseFault reads (main_test.go
// checks the two agree).
const faultKeyHelp = `    suffix=/a.txt               the path must also end with this (an object key's file name)
    query=file_name=a.txt       the request's query parameter must have exactly this value
    status=503                  answer with this HTTP status instead of handling the request
    retry-after=2               with status: the Retry-After header (seconds, or a quoted HTTP date)
    count=2                     how many matching requests it hits (default 1)
    reset-after=4096            read this many request-body bytes, then reset the connection
    reset-response-after=4096   handle the request, send this many bytes of the answer, then reset
    drop                        handle the request (it takes effect), then reset instead of answering
    delay=1.5s                  wait before acting; alone, a slow but normal answer`

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
