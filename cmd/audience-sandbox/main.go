// Command audience-sandbox runs the local platform emulator so the provider
// can be tried without credentials. It prints the environment variables
// that point the provider at it. -fault injects faults (also possible while
// it runs, through POST /_sandbox/faults); -clock-advance lets time pass
// (POST /_sandbox/clock); -altcraft-profiles loads a CSV as an Altcraft
// database's or segment's profiles (PUT /_sandbox/altcraft/profiles/...);
// -v logs every request. What the platforms hold is kept in -dir.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/audiencekit/terraform-provider-audience/internal/sandbox"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8780", "address to listen on (port 0 picks a free one)")
	dir := flag.String("dir", "", "directory for uploaded objects and what each platform holds (Mintegral audiences, TPNS uploads, Altcraft tasks and loaded profiles,\n"+
		"Future Demand tokens, ingests and media, the clock's advance), kept across restarts (default: a new temporary directory)")
	envFile := flag.String("env-file", "", "also write the export lines to this file")
	verbose := flag.Bool("v", false, "log every request: method, path (never the query string), status, bytes in and out, duration")
	updateWindow := flag.Duration("mintegral-update-window", sandbox.MintegralUpdateWindow,
		"how long after a change a Mintegral audience refuses another update; shorter than 12h to try updates by hand (reported times shift to match)")
	idfvCodes := flag.Int("mintegral-idfv-codes", 10, "device_type numbers of IDFV / IDFV_MD5: 10 (10/11, every official page) or 12 (12/13, a newer reading; 10/11 are then refused)")
	seed := flag.Int("seed-mintegral-audiences", 0, "keep this many audiences as if made in Mintegral's console (for terraform query): a start creates those -dir does not hold yet")
	var faults faultFlags
	flag.Var(&faults, "fault", "inject a fault, e.g. 'PUT /s3/ status=503 count=2'; repeatable. Keys:\n"+faultKeyHelp)
	var advance advanceFlag
	flag.Var(&advance, "clock-advance", "at start, let this `duration` pass for everything the sandbox holds, e.g. 13h to pass Mintegral's 12-hour window\n"+
		"(every start with it moves the clock again; while running: POST "+sandbox.AdminClockPath+` {"advance":"13h"})`)
	var profiles profileFlags
	flag.Var(&profiles, "altcraft-profiles", "load a CSV as the profiles of an Altcraft database or segment: `type/id=file.csv`, e.g. segment/7=crm.csv (a header naming the fields,\n"+
		"then one profile per record; a source the panel lacks is added); repeatable. While running: PUT the CSV to "+sandbox.AdminAltcraftProfilesPath+"/segment/7")
	openIMBackend := flag.String("openim-backend", "minio", "the OpenIM server's object storage, which decides its upload form: minio, cos, oss, kodo, or aws (no form upload: initiate_form_data fails with errCode 500)")
	altcraftPanel := flag.String("altcraft-panel", "new", "the Altcraft panel's generation: new (downloads take Authorization: Bearer or ?token=) or old (only ?token=; the header alone gets 401)")
	fdChallenge := flag.String("futuredemand-auth-challenge", "", "answer Future Demand's POST /auth with this Cognito challenge (e.g. SOFTWARE_TOKEN_MFA, NEW_PASSWORD_REQUIRED) instead of tokens")
	fdCamel := flag.Bool("futuredemand-camelcase", false, "answer Future Demand's storage calls in camelCase spellings (presignedUrl, objectKey, uploadId, partNumber)")
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
	cfg := sandbox.Config{Dir: *dir, MintegralUpdateWindow: *updateWindow,
		OpenIMBackend: sandbox.OpenIMBackend(*openIMBackend), AltcraftPanel: sandbox.AltcraftPanel(*altcraftPanel),
		FutureDemandAuthChallenge: *fdChallenge, FutureDemandCamelCase: *fdCamel, MintegralIDFVCodes: *idfvCodes}
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
	if err := loadProfiles(srv, profiles); err != nil {
		log.Fatal(err)
	}
	added, err := seedConsoleAudiences(srv, *seed)
	if err != nil {
		log.Fatal(err)
	}
	if advance > 0 {
		srv.Advance(time.Duration(advance))
	}
	// Caught before anything is announced, so a Ctrl-C (or a script's
	// interrupt) right after "listening" stops the server cleanly.
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	if err := srv.Start(*addr); err != nil {
		log.Fatal(err)
	}
	exports := srv.ExportLines()
	if *envFile != "" {
		if err := os.WriteFile(*envFile, []byte(exports), 0o600); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Printf("audience sandbox listening on %s (what the platforms hold is in %s)\n", srv.URL(), *dir)
	if *updateWindow != sandbox.MintegralUpdateWindow {
		fmt.Printf("Mintegral audiences accept an update %s after the last change\n", *updateWindow)
	}
	if *seed > 0 {
		fmt.Printf("%d console-made Mintegral audiences added (%d were already in %s)\n", added, *seed-added, *dir)
	}
	for _, p := range profiles {
		fmt.Printf("Altcraft %s %d holds the profiles of %s\n", p.sourceType, p.sourceID, p.file)
	}
	if a := srv.Advanced(); a > 0 {
		fmt.Printf("the clock is %s ahead for what %s holds (its times moved that far into the past)\n", a, *dir)
	}
	for _, f := range faults {
		fmt.Printf("fault queued: %s\n", f)
	}
	fmt.Printf("faults can be added with POST %s%s, listed with GET, cleared with DELETE\n", srv.URL(), sandbox.AdminFaultsPath)
	fmt.Printf(`the clock moves with POST %s%s {"advance":"13h"}`+"\n", srv.URL(), sandbox.AdminClockPath)
	fmt.Printf("Altcraft profiles: GET %s%s lists the sources; GET, PUT (a CSV) or DELETE %[1]s%[2]s/segment/7\n", srv.URL(), sandbox.AdminAltcraftProfilesPath)
	fmt.Println("Point the provider at it with:")
	fmt.Print(exports)

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
    respell=camel               handle the request, then answer with its JSON keys respelled (camel, snake, pascal, unknown)
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

// advanceFlag is -clock-advance: a positive duration.
type advanceFlag time.Duration

func (a *advanceFlag) String() string { return time.Duration(*a).String() }

func (a *advanceFlag) Set(text string) error {
	d, err := sandbox.ParseAdvance(text)
	if err != nil {
		return err
	}
	*a = advanceFlag(d)
	return nil
}

// profileFlag is one -altcraft-profiles: which source, from which file.
type profileFlag struct {
	sourceType string
	sourceID   int64
	file       string
}

// profileFlags collects repeated -altcraft-profiles flags.
type profileFlags []profileFlag

func (p *profileFlags) String() string {
	specs := make([]string, len(*p))
	for i, f := range *p {
		specs[i] = fmt.Sprintf("%s/%d=%s", f.sourceType, f.sourceID, f.file)
	}
	return strings.Join(specs, " ")
}

func (p *profileFlags) Set(spec string) error {
	source, file, ok := strings.Cut(spec, "=")
	typ, idText, ok2 := strings.Cut(source, "/")
	id, err := strconv.ParseInt(idText, 10, 64)
	if !ok || !ok2 || err != nil || (typ != "database" && typ != "segment") || id < 1 || file == "" {
		return fmt.Errorf("%q: give database/<id>=<file.csv> or segment/<id>=<file.csv>, e.g. segment/7=crm.csv", spec)
	}
	*p = append(*p, profileFlag{typ, id, file})
	return nil
}

// loadProfiles loads each -altcraft-profiles file, streamed.
func loadProfiles(srv *sandbox.Server, profiles profileFlags) error {
	for _, p := range profiles {
		f, err := os.Open(p.file)
		if err != nil {
			return fmt.Errorf("-altcraft-profiles: %w", err)
		}
		_, err = srv.LoadAltcraftProfiles(p.sourceType, p.sourceID, f)
		_ = f.Close()
		if err != nil {
			return fmt.Errorf("-altcraft-profiles %s: %w", p.file, err)
		}
	}
	return nil
}
