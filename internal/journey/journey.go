package journey

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/audiencekit/terraform-provider-audience/internal/sandbox"
)

// Config says which journey to walk.
type Config struct {
	Seed       uint64
	Steps      int
	CLI        string        // terraform or tofu binary
	Dir        string        // the run's directory (created)
	ModuleRoot string        // the provider's module, built once
	MaxTime    time.Duration // stop after the step that passes it; 0: no limit
	Logf       func(format string, args ...any)
}

// Result is how far a journey went.
type Result struct {
	Steps   []string // one line per step, with its outcome
	CLI     string
	Elapsed time.Duration
}

// journey is one walk: the repository, what the generator knows of the
// world, and the harness.
type journey struct {
	cfg     Config
	e       *env
	rng     *rand.Rand
	repo    *repo
	repoDir string
	cache   string // XDG_CACHE_HOME of every command

	n       int
	history []string

	// converged: the last full apply was followed by an empty plan and
	// nothing changed since but time.
	converged bool
	// settled: every file the configuration names is uploaded as state
	// records; a job now must upload nothing.
	settled bool
	// recover: the last step failed; this one is a clean apply.
	recover bool
	// timePassed: simulated time passed since the last converged apply.
	timePassed bool
	// postponed: the last converged apply left an audience update waiting
	// for the 12-hour window, which a later plan may find due.
	postponed bool

	console  map[int64]*consoleAudience // made in Mintegral's console
	profiles int                        // Altcraft segment 7's profiles
	loyal    int                        // Altcraft database 1's profiles (export.go)
	flow     exportFlow                 // the loyalty export's period (export.go)
	checked  map[string]bool            // Mintegral objects already read
	started  time.Time

	// What the content guards compare a step with (guards.go).
	prevState    map[string]stateResource // state before the step
	eventsBefore int                      // events Future Demand held before it
	eventLives   int                      // times the ingest resource entered state
	output       strings.Builder          // every command's output in the step
}

type consoleAudience struct {
	dataPath string
	adopted  bool // state has named it since
}

// step is what the generator picked: what happens before the job, the
// job, and the faults during it.
type step struct {
	events     []event
	job        string
	variant    string
	target     string
	faults     []stepFault
	persistent bool // a fault outlasts every retry: the job may fail
	wipeCache  bool
	logLevel   string
}

type event struct {
	desc  string
	apply func(ctx context.Context) error
}

func (s *step) String() string {
	var parts []string
	for _, e := range s.events {
		parts = append(parts, e.desc)
	}
	job := s.job
	if s.variant != "" {
		job += "(" + s.variant + ")"
	}
	if s.target != "" {
		job += " -target=" + s.target
	}
	parts = append(parts, "job="+job)
	if s.wipeCache {
		parts = append(parts, "cache wiped")
	}
	for _, f := range s.faults {
		parts = append(parts, "fault["+f.String()+"]")
	}
	return strings.Join(parts, "; ")
}

// Run walks a journey. A broken invariant returns a *Failure.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, err
	}
	pipeline, err := loadPipeline(cfg.ModuleRoot)
	if err != nil {
		return nil, err
	}
	e, err := setupEnv(ctx, cfg.Dir, cfg.CLI, cfg.ModuleRoot)
	if err != nil {
		return nil, err
	}
	defer e.close()
	j := &journey{
		cfg:      cfg,
		e:        e,
		rng:      rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)),
		repoDir:  filepath.Join(cfg.Dir, "repo"),
		cache:    filepath.Join(cfg.Dir, "cache"),
		console:  map[int64]*consoleAudience{},
		profiles: 240,
		loyal:    loyalProfiles,
		checked:  map[string]bool{},
		started:  time.Now(),
	}
	j.repo = j.initialRepo()
	j.repo.pipeline = pipeline
	if err := j.commit(); err != nil {
		return nil, err
	}
	cfg.Logf("journey seed %d, %d steps, %s, in %s", cfg.Seed, cfg.Steps, e.cliName, cfg.Dir)
	for j.n = 1; j.n <= cfg.Steps; j.n++ {
		if cfg.MaxTime > 0 && time.Since(j.started) > cfg.MaxTime {
			cfg.Logf("time limit %s reached after %d steps", cfg.MaxTime, j.n-1)
			break
		}
		st := j.pick()
		start := time.Now()
		err := j.do(ctx, st)
		line := fmt.Sprintf("#%d %s", j.n, st) // with the faults as bound
		outcome := "ok"
		switch {
		case err != nil:
			outcome = "FAILED"
		case j.recover:
			outcome = "failed as allowed"
		}
		line += fmt.Sprintf(" => %s (%s)", outcome, time.Since(start).Round(100*time.Millisecond))
		j.history = append(j.history, line)
		cfg.Logf("%s", line)
		j.logExportPeriods()
		if err != nil {
			return j.result(), j.failure(err)
		}
		e.pruneLogs(6)
	}
	j.closeExportPeriod()
	j.logExportPeriods()
	return j.result(), nil
}

func (j *journey) result() *Result {
	return &Result{Steps: j.history, CLI: j.e.cliName, Elapsed: time.Since(j.started)}
}

// Failure is a journey that broke an invariant: everything needed to
// replay and inspect it.
type Failure struct {
	Seed    uint64
	Step    int
	CLI     string
	Steps   []string
	Err     error
	Last    string // the last command and its output
	Dir     string
	Replay  string
	Elapsed time.Duration
}

func (f *Failure) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "journey seed %d failed at step %d under %s after %s:\n  %v\n\nsteps:\n", f.Seed, f.Step, f.CLI, f.Elapsed.Round(time.Second), f.Err)
	for _, s := range f.Steps {
		fmt.Fprintf(&b, "  %s\n", s)
	}
	if f.Last != "" {
		fmt.Fprintf(&b, "\nlast command: %s\n", f.Last)
	}
	fmt.Fprintf(&b, "\nrun directory (kept): %s\nreplay: %s\n", f.Dir, f.Replay)
	return b.String()
}

func (j *journey) failure(err error) *Failure {
	f := &Failure{
		Seed: j.cfg.Seed, Step: j.n, CLI: j.e.cliName, Steps: j.history, Err: err, Dir: j.cfg.Dir,
		Replay:  fmt.Sprintf("make journey SEED=%d STEPS=%d TF=%s", j.cfg.Seed, j.n, j.cfg.CLI),
		Elapsed: time.Since(j.started),
	}
	if l := j.e.last; l != nil {
		f.Last = l.String() + "\n" + tail(l.output, 80) + "\n(TF_LOG: " + l.log + ")"
	}
	return f
}

// outcome is what a job left behind.
type outcome struct {
	dir     string   // checkout of the last command
	applied bool     // an apply succeeded and nothing changed after its plan
	targets []string // the apply was targeted
	failed  bool     // an expected or allowed failure
	// destroyed lists ta_ids a destroy removed from state.
	destroyed []int64
	// mintegralQuiet: nothing may have reached Mintegral's uploads.
	mintegralQuiet bool
	// planOnly: the job only planned, so it wrote nothing anywhere.
	planOnly bool
	// notStored: an md5 no Mintegral object may have.
	notStored string
}

// do runs one step and checks the invariants. The step after a failed one
// is a clean apply with no fault: any finding in it means the failed step
// left state the next run does not converge from.
func (j *journey) do(ctx context.Context, st *step) error {
	recovering := j.recover
	j.recover = false
	err := j.doStep(ctx, st)
	var f *finding
	if recovering && errors.As(err, &f) {
		return findf("the clean run after a failed step did not converge: %v", err)
	}
	return err
}

func (j *journey) doStep(ctx context.Context, st *step) error {
	j.e.takeRequests()
	if err := j.beforeStep(); err != nil {
		return err
	}
	for _, ev := range st.events {
		if err := ev.apply(ctx); err != nil {
			return fmt.Errorf("event %q: %w", ev.desc, err)
		}
	}
	if err := j.startExportFlow(); err != nil {
		return err
	}
	if st.wipeCache {
		if err := os.RemoveAll(j.cache); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(j.cache, 0o755); err != nil {
		return err
	}
	wasSettled := j.settled
	if err := j.bindFaults(st); err != nil {
		return err
	}
	for _, f := range st.faults {
		j.e.sb.AddFault(f.Fault)
	}
	o, err := j.runJob(ctx, st)
	j.e.sb.ClearFaults()
	if err != nil {
		return err
	}
	reqs := j.e.takeRequests()
	exports := j.exportsStarted()
	if err := j.scanArtifacts(); err != nil {
		return err
	}
	// A new export of a database that changed since the last one is a new
	// list, which its upload sends.
	newList := j.flow.due && j.flow.stale
	if wasSettled && !newList && !o.failed && st.job != "destroy" && st.job != "mistake" {
		if w := uploadWrites(reqs); len(w) > 0 {
			return findf("nothing new to upload since the last converged apply, yet the job sent %d upload request(s): %s", len(w), strings.Join(w, ", "))
		}
	}
	if o.mintegralQuiet {
		if w := mintegralUploads(reqs); len(w) > 0 {
			return findf("a Mintegral file its plan must refuse before any request, yet the job sent %d Mintegral upload request(s): %s", len(w), strings.Join(w, ", "))
		}
	}
	if o.planOnly {
		if w := append(uploadWrites(reqs), audienceWrites(reqs)...); len(w) > 0 {
			return findf("a job that only planned (or whose every command failed at plan) sent %d write request(s), which only an apply may: %s", len(w), strings.Join(w, ", "))
		}
	}
	if o.applied {
		args := []string{"plan", "-detailed-exitcode"}
		for _, t := range o.targets {
			args = append(args, "-target="+t)
		}
		res, err := j.cmd(ctx, o.dir, st.logLevel, args...)
		if err != nil {
			return err
		}
		switch {
		case res.code == 0:
		case res.code == 2 && len(o.targets) > 0 && j.e.openTofu() && !targetChanges(res.output, o.targets):
			// OpenTofu (1.12) plans the pending change of a target's
			// dependency when the target itself has none, then leaves it
			// out of the apply ("0 changed"): an upstream quirk, not the
			// provider's. The next full apply makes the change.
		case res.code == 2:
			return findf("a successful apply was followed by a plan with changes:\n%s", planSummary(res.output))
		default:
			return findf("the plan after a successful apply failed: %s", errorSummary(res.output))
		}
		if n := j.exportsStarted() - exports; n != 0 {
			return findf("the plan after a successful apply started %d export(s) of %s %d", n, loyalSourceType, loyalSourceID)
		}
	}
	if o.failed {
		j.recover = true
		j.converged, j.settled = false, false
	}
	if err := j.checkWorld(o, audienceWrites(reqs)); err != nil {
		return err
	}
	if err := j.checkExportFlow(st, o, exports, lostGetAll(reqs)); err != nil {
		return err
	}
	return j.settleEvents(ctx)
}

// checkWorld runs the invariants on the sandbox's records and state.
func (j *journey) checkWorld(o outcome, writes []string) error {
	sb := j.e.sb
	if err := checkMintegralContent(sb, j.checked); err != nil {
		return err
	}
	if err := checkNoDuplicateAudiences(sb); err != nil {
		return err
	}
	if o.notStored != "" {
		objs, err := sb.MintegralStoredFiles()
		if err != nil {
			return err
		}
		for _, ob := range objs {
			if ob.MD5 == o.notStored {
				return findf("a file edited after its plan reached Mintegral anyway: %s/%s md5 %s", ob.Bucket, ob.Key, ob.MD5)
			}
		}
	}
	state, raw, err := readState(j.repo.statePath)
	if err != nil {
		return findf("%v", err)
	}
	if leaks := j.e.scanner.scanDecoded("state", raw, 3); len(leaks) > 0 {
		return findf("a secret is in state: %s", leaks[0])
	}
	for _, r := range state {
		if r.Type != "audience_mintegral_audience" {
			continue
		}
		if c := j.console[r.num("ta_id")]; c != nil {
			c.adopted = true
		}
	}
	for _, id := range o.destroyed {
		for _, a := range sb.MintegralAudiences() {
			if a.ID == id {
				return findf("destroy removed audience %d from state, but Mintegral still holds it", id)
			}
		}
	}
	strict := o.applied && len(o.targets) == 0
	unmanaged := map[int64]bool{}
	console := map[int64]string{}
	for id, c := range j.console {
		console[id] = c.dataPath
		if !c.adopted {
			unmanaged[id] = true
		}
	}
	check := &platformCheck{sb: sb, strict: strict, checkout: o.dir, unmanaged: unmanaged, console: console, state: state}
	if !o.applied {
		check.checkout = "" // a failed or plan-only job's files are not what state holds
	}
	if len(o.targets) > 0 {
		// Only the targets (and what they depend on, which the local
		// check cannot tell) were applied.
		check.only = map[string]bool{}
		for _, t := range o.targets {
			check.only[t] = true
		}
	}
	if err := check.run(); err != nil {
		return err
	}
	if err := j.checkGuards(state, writes); err != nil {
		return err
	}
	if strict {
		want := j.repo.managed()
		slices.Sort(want)
		have := sortedKeys(state)
		if !slices.Equal(want, have) {
			return findf("after a successful apply, state holds %v; the configuration names %v", have, want)
		}
		j.converged, j.settled, j.timePassed = true, true, false
		j.postponed = false
		for _, r := range state {
			var applied appliedFiles
			if raw, ok := r.Private[appliedKey]; ok && json.Unmarshal(raw, &applied) == nil && applied.Pending {
				j.postponed = true
			}
		}
	}
	return nil
}

// scanArtifacts looks for secrets in what the commands left on disk
// besides their output, logs and state: saved plans in the checkouts, and
// the provider's cache directories (XDG_CACHE_HOME, and each checkout's
// .terraform/audience-sources when that one is used).
func (j *journey) scanArtifacts() error {
	var files []string
	collect := func(root string, keep func(path string) bool) error {
		err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			switch {
			case err != nil:
				return err
			case d.IsDir() && d.Name() == "providers" && filepath.Base(filepath.Dir(p)) == ".terraform":
				return filepath.SkipDir // the provider and CLI binaries
			case d.Type().IsRegular() && keep(p):
				files = append(files, p)
			}
			return nil
		})
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	if err := collect(j.cache, func(string) bool { return true }); err != nil {
		return err
	}
	sources := string(filepath.Separator) + filepath.Join(".terraform", "audience-sources") + string(filepath.Separator)
	if err := collect(filepath.Join(j.cfg.Dir, "ci"), func(p string) bool {
		return isPlanFile(p) || strings.Contains(p, sources)
	}); err != nil {
		return err
	}
	for _, f := range files {
		leaks, err := j.e.scanner.scanArtifact(f)
		if err != nil {
			return err
		}
		if len(leaks) > 0 {
			return findf("a secret in a file the CLI or provider left: %s", leaks[0])
		}
	}
	return nil
}

// bindFaults gives each aimed fault of the step what tells its resource's
// requests apart: a Mintegral file's file name; an audience's ta_id when
// state has it (reads by ta_ids), else its name (the look-up before a
// create).
func (j *journey) bindFaults(st *step) error {
	state, _, err := readState(j.repo.statePath)
	if err != nil {
		return err
	}
	for i, f := range st.faults {
		switch f.aim {
		case aimFileName:
			f.Query = "file_name=" + j.repo.fileName(f.on)
		case aimKeySuffix:
			f.PathSuffix = "/" + j.repo.fileName(f.on)
		case aimAudience:
			if r, ok := state[f.on]; ok {
				f.Query = fmt.Sprintf("ta_ids=%d", r.num("ta_id"))
			} else {
				f.Query = "ta_name=" + j.repo.audienceName(f.on)
			}
		}
		st.faults[i] = f
	}
	return nil
}

// uploadWrites lists the requests that upload content (or open an upload
// session) on any platform; audience calls and the Altcraft export are
// not uploads.
func uploadWrites(reqs []sandbox.RequestRecord) []string {
	var out []string
	for _, r := range reqs {
		p := r.Path
		switch {
		case strings.HasPrefix(p, "/mintegral/api/open/v1/audience/presigned-upload-data"),
			r.Method != "GET" && (strings.HasPrefix(p, "/s3/") || strings.HasPrefix(p, "/oss/")),
			strings.HasPrefix(p, "/tpns/"),
			strings.HasPrefix(p, "/futuredemand/api/v3/storage/"),
			strings.HasPrefix(p, "/futuredemand/api/v3/ingest/"),
			strings.HasPrefix(p, "/futuredemand/cr/api/"),
			strings.HasPrefix(p, "/futuredemand/api/media"),
			strings.HasPrefix(p, "/openim/object/initiate_form_data"):
			out = append(out, r.Method+" "+p)
		}
	}
	return out
}

// audienceWrites lists the requests that create, update or delete a
// Mintegral audience.
func audienceWrites(reqs []sandbox.RequestRecord) []string {
	var out []string
	for _, r := range reqs {
		if r.Path == "/mintegral/api/open/v1/audience" && r.Method != "GET" {
			out = append(out, r.Method+" "+r.Path)
		}
	}
	return out
}

// mintegralUploads lists the requests that ask for or send a Mintegral
// upload.
func mintegralUploads(reqs []sandbox.RequestRecord) []string {
	var out []string
	for _, r := range reqs {
		p := r.Path
		if strings.HasPrefix(p, "/mintegral/api/open/v1/audience/presigned-upload-data") ||
			strings.HasPrefix(p, "/s3/"+sandbox.BucketMintegralS3) || strings.HasPrefix(p, "/oss/") {
			out = append(out, r.Method+" "+p)
		}
	}
	return out
}

// planSummary keeps the lines of a plan that say what changes.
func planSummary(out string) string {
	var keep []string
	for _, l := range strings.Split(out, "\n") {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "#") || strings.HasPrefix(t, "~") || strings.HasPrefix(t, "+") || strings.HasPrefix(t, "-") ||
			strings.HasPrefix(t, "Plan:") || strings.Contains(t, "Warning:") || strings.Contains(t, "Error:") {
			keep = append(keep, l)
		}
	}
	if len(keep) == 0 {
		return tail(out, 40)
	}
	return tail(strings.Join(keep, "\n"), 80)
}

// targetChanges reports whether a plan's output changes one of targets
// itself.
func targetChanges(out string, targets []string) bool {
	for _, t := range targets {
		if strings.Contains(out, "# "+t+" ") {
			return true
		}
	}
	return false
}
