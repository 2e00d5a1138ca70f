package journey

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
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
	checked  map[string]bool            // Mintegral objects already read
	started  time.Time
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
	faults     []sandbox.Fault
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
		checked:  map[string]bool{},
		started:  time.Now(),
	}
	j.repo = j.initialRepo()
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
		line := fmt.Sprintf("#%d %s", j.n, st)
		start := time.Now()
		err := j.do(ctx, st)
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
		if err != nil {
			return j.result(), j.failure(err)
		}
		e.pruneLogs(6)
	}
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

// initialRepo is the repository the team starts from: the pipeline, and
// some of the variants.
func (j *journey) initialRepo() *repo {
	r := &repo{
		statePath:   filepath.Join(j.cfg.Dir, "state", "terraform.tfstate"),
		listDir:     pick(j.rng, "exports", "build/lists"),
		devicesPath: "audiences/android_gaid.txt",
		devicesArea: 1,
	}
	if j.rng.IntN(2) == 0 {
		r.devices = true
		r.deviceIDs = newDeviceIDs(j.rng, 20+j.rng.IntN(40))
	}
	r.crmShared = j.rng.IntN(3) == 0
	r.idfaShared = j.rng.IntN(4) == 0
	return r
}

func pick[T any](rng *rand.Rand, items ...T) T { return items[rng.IntN(len(items))] }

// weighted picks a name by weight; names with weight 0 are never picked.
func weighted(rng *rand.Rand, choices map[string]int) string {
	total := 0
	names := sortedKeys(choices)
	for _, n := range names {
		total += choices[n]
	}
	x := rng.IntN(total)
	for _, n := range names {
		if x < choices[n] {
			return n
		}
		x -= choices[n]
	}
	panic("unreachable")
}

// commit writes the repository as the team's main branch holds it now.
func (j *journey) commit() error { return j.repo.write(j.repoDir) }

// pick draws the next step. Every draw comes from the seeded generator
// and depends only on the journey's model, never on timing, so a seed
// replays the same steps with the same faults.
func (j *journey) pick() *step {
	st := &step{logLevel: pick(j.rng, "INFO", "DEBUG"), wipeCache: j.rng.IntN(5) < 2}
	if j.n == 1 || j.recover {
		st.job = "apply"
		return st
	}
	st.events = j.pickEvents()
	jobs := map[string]int{
		"apply": 30, "plan-apply": 14, "saved-plan": 8, "pr-plan": 6, "target": 6, "destroy": 4, "mistake": 4,
	}
	if j.repo.devices {
		jobs["edit-after-plan"] = 6
	}
	// Simulated time moves the audiences' stored times, which a
	// refresh-only plan rightly reports as changed outside Terraform: a
	// drift check runs only when no time passed since the last apply.
	if j.converged && !j.timePassed && len(st.events) == 0 {
		jobs["drift"] = 6
	}
	st.job = weighted(j.rng, jobs)
	switch st.job {
	case "saved-plan":
		st.variant = pick(j.rng, "carry workdir", "fresh checkout")
	case "target":
		st.target = pick(j.rng, j.repo.managed()...)
	case "destroy":
		st.variant = weighted(j.rng, map[string]int{"destroy": 3, "apply -destroy": 2, "destroy -target": 2})
		if st.variant == "destroy -target" {
			var audiences []string
			for _, a := range j.repo.managed() {
				if strings.HasPrefix(a, "audience_mintegral_audience.") {
					audiences = append(audiences, a)
				}
			}
			st.target = pick(j.rng, audiences...)
		}
	case "mistake":
		st.variant = pick(j.rng, "crm", "gzip")
	}
	switch st.job {
	case "apply", "plan-apply", "saved-plan", "target", "destroy":
		switch x := j.rng.IntN(100); {
		case x < 6:
			st.persistent = true
			st.faults = []sandbox.Fault{j.persistentFault()}
		case x < 45:
			for range 1 + j.rng.IntN(2) {
				st.faults = append(st.faults, j.transientFault())
			}
		}
	}
	return st
}

// pickEvents draws what happens between the last job and this one.
func (j *journey) pickEvents() []event {
	var evs []event
	if j.rng.IntN(100) >= 45 {
		d := []time.Duration{time.Hour, 6 * time.Hour, 13 * time.Hour, 25 * time.Hour, 72 * time.Hour}[weightedIndex(j.rng, 2, 2, 3, 3, 1)]
		evs = append(evs, event{fmt.Sprintf("+%s", shortDuration(d)), func(context.Context) error {
			j.timePassed = true
			j.e.sb.Advance(d)
			return nil
		}})
	}
	if j.rng.IntN(100) < 30 {
		evs = append(evs, j.exportChange())
	}
	if j.rng.IntN(100) < 35 {
		if ev, ok := j.repoCommit(); ok {
			evs = append(evs, ev)
		}
	}
	return evs
}

func weightedIndex(rng *rand.Rand, weights ...int) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	x := rng.IntN(total)
	for i, w := range weights {
		if x < w {
			return i
		}
		x -= w
	}
	return len(weights) - 1
}

func shortDuration(d time.Duration) string {
	return strings.TrimSuffix(strings.TrimSuffix(d.String(), "0s"), "0m")
}

// exportChange: the CRM's segment gains, loses or edits profiles.
func (j *journey) exportChange() event {
	switch j.rng.IntN(3) {
	case 0:
		k := 1 + j.rng.IntN(30)
		j.profiles += k
		n := j.profiles
		return event{fmt.Sprintf("export +%d profiles", k), func(context.Context) error {
			j.converged, j.settled = false, false
			return j.e.sb.SetAltcraftProfiles("segment", 7, n)
		}}
	case 1:
		k := 1 + j.rng.IntN(10)
		j.profiles = max(j.profiles-k, 200)
		n := j.profiles
		return event{fmt.Sprintf("export -%d profiles", k), func(context.Context) error {
			j.converged, j.settled = false, false
			return j.e.sb.SetAltcraftProfiles("segment", 7, n)
		}}
	default:
		var idx []int
		for range 1 + j.rng.IntN(5) {
			idx = append(idx, j.rng.IntN(j.profiles))
		}
		return event{fmt.Sprintf("export edits profiles %v", idx), func(context.Context) error {
			j.converged, j.settled = false, false
			for _, i := range idx {
				if err := j.e.sb.EditAltcraftProfile("segment", 7, i); err != nil {
					return err
				}
			}
			return nil
		}}
	}
}

// repoCommit draws a commit to the repository. Commits that need an
// upload clear settled; every commit clears converged.
func (j *journey) repoCommit() (event, bool) {
	r := j.repo
	choices := map[string]int{"toggle devices": 2, "toggle crm": 2, "toggle idfa backup": 2, "move lists": 1}
	if r.devices {
		choices["edit devices"] = 3
		choices["move devices"] = 2
		choices["devices area"] = 1
	}
	if len(r.imports) < 2 {
		choices["console import"] = 2
	}
	for _, im := range r.imports {
		if im.importBlock && j.console[im.taID] != nil && j.console[im.taID].adopted {
			choices["drop import blocks"] = 1
		}
	}
	c := weighted(j.rng, choices)
	needsUpload := true
	var edit func()
	switch c {
	case "toggle devices":
		if r.devices {
			edit = func() { r.devices = false }
			needsUpload = false
			c = "remove devices"
		} else {
			ids := newDeviceIDs(j.rng, 20+j.rng.IntN(40))
			area := 1 + weightedIndex(j.rng, 3, 1)
			edit = func() { r.devices, r.deviceIDs, r.devicesArea = true, ids, area }
			c = fmt.Sprintf("add devices (%d IDs, area %d)", len(ids), area)
		}
	case "toggle crm":
		on := !r.crmShared
		edit = func() { r.crmShared = on }
		needsUpload = on
		c = map[bool]string{true: "add crm uploads", false: "remove crm uploads"}[on]
	case "toggle idfa backup":
		on := !r.idfaShared
		edit = func() { r.idfaShared = on }
		needsUpload = on
		c = map[bool]string{true: "add idfa backup", false: "remove idfa backup"}[on]
	case "move lists":
		to := map[string]string{"exports": "build/lists", "build/lists": "exports"}[r.listDir]
		edit = func() { r.listDir = to }
		needsUpload = false
		c = "lists move to " + to
	case "edit devices":
		add := newDeviceIDs(j.rng, 1+j.rng.IntN(5))
		drop := j.rng.IntN(4)
		edit = func() {
			r.deviceIDs = append(r.deviceIDs[max(min(drop, len(r.deviceIDs)-5), 0):], add...)
		}
		c = fmt.Sprintf("edit devices (+%d -%d)", len(add), drop)
	case "move devices":
		// A move keeps the base name, which is the file_name Mintegral
		// sees: nothing is uploaded. A rename changes it: uploaded again.
		dir := pick(j.rng, "audiences", "lists/android", "audiences/gaid")
		if dir == filepath.Dir(r.devicesPath) {
			dir = "moved"
		}
		name := filepath.Base(r.devicesPath)
		rename := j.rng.IntN(3) == 0
		if rename {
			name = pick(j.rng, "gaid.txt", "android.txt", "android_gaid.csv")
			if name == filepath.Base(r.devicesPath) {
				name = "devices_" + name
			}
		}
		to := dir + "/" + name
		edit = func() { r.devicesPath = to }
		needsUpload = rename
		c = map[bool]string{true: "devices renamed to ", false: "devices move to "}[rename] + to
	case "devices area":
		to := 3 - r.devicesArea
		edit = func() { r.devicesArea = to }
		c = fmt.Sprintf("devices area %d", to)
	case "console import":
		// Made in the console a day ago, or a minute ago (its update
		// window still running when the configuration sends its files).
		age := pick(j.rng, 24*time.Hour, time.Minute)
		return event{fmt.Sprintf("console audience (made %s ago) imported", shortDuration(age)), func(context.Context) error {
			j.converged = false
			prefix := fmt.Sprintf("console-ios-%d-", len(j.console)+1)
			ids, err := j.e.sb.SeedMintegralAudiences(1, sandbox.MintegralSeed{NamePrefix: prefix, Platform: 2, DeviceType: 2, Age: age})
			if err != nil {
				return err
			}
			for _, a := range j.e.sb.MintegralAudiences() {
				if a.ID == ids[0] {
					j.console[a.ID] = &consoleAudience{dataPath: a.Files[0].DataPath}
					j.repo.imports = append(j.repo.imports, importedAudience{taID: a.ID, name: a.Name, importBlock: true})
				}
			}
			return j.commit()
		}}, true
	case "drop import blocks":
		edit = func() {
			for i := range r.imports {
				r.imports[i].importBlock = false
			}
		}
		needsUpload = false
	}
	// The model changes now, so the job drawn next sees the commit; the
	// repository is written when the step runs.
	edit()
	return event{c, func(context.Context) error {
		j.converged = false
		if needsUpload {
			j.settled = false
		}
		return j.commit()
	}}, true
}

var (
	faultTargets = []struct {
		method, prefix string
		kinds          []string
	}{
		{"GET", "/mintegral/api/open/v1/audience/presigned-upload-data", []string{"503", "429", "drop", "delay", "cut answer"}},
		{"PUT", "/s3/" + sandbox.BucketMintegralS3 + "/", []string{"503", "429", "reset", "drop", "delay"}},
		{"POST", "/oss/" + sandbox.BucketMintegralOSS, []string{"503", "429", "reset", "drop", "delay"}},
		{"POST", "/mintegral/api/open/v1/audience", []string{"503", "429", "drop", "delay"}},
		{"PUT", "/mintegral/api/open/v1/audience", []string{"503", "429", "drop", "delay"}},
		{"DELETE", "/mintegral/api/open/v1/audience", []string{"503", "429", "drop", "delay"}},
		{"GET", "/mintegral/api/open/v1/audience", []string{"503", "429", "drop", "delay", "cut answer"}},
		{"POST", "/tpns/v3/push/package/upload", []string{"503", "429", "reset", "drop", "delay"}},
		{"POST", "/altcraft/api/v1.1/profiles/get_all", []string{"503", "429", "drop", "delay"}},
		{"POST", "/altcraft/api/v1.1/tasks/status", []string{"503", "429", "drop", "delay"}},
		{"GET", "/altcraft/api/download/", []string{"503", "429", "drop", "delay", "cut answer"}},
		{"POST", "/futuredemand/api/v3/storage/presigned-url", []string{"503", "429", "drop", "delay"}},
		{"PUT", "/s3/" + sandbox.BucketFutureDemand + "/", []string{"503", "429", "reset", "drop", "delay"}},
		{"POST", "/openim/object/initiate_form_data", []string{"503", "429", "drop", "delay"}},
		{"POST", "/s3/" + sandbox.BucketOpenIM, []string{"503", "429", "reset", "drop", "delay"}},
		{"POST", "/openim/object/complete_form_data", []string{"503", "429", "drop", "delay"}},
	}
)

// transientFault is a fault the provider must ride out: retries and
// read-backs make the job succeed.
func (j *journey) transientFault() sandbox.Fault {
	t := faultTargets[j.rng.IntN(len(faultTargets))]
	f := sandbox.Fault{Method: t.method, PathPrefix: t.prefix}
	switch pick(j.rng, t.kinds...) {
	case "503":
		f.Status, f.Count = 503, 1+j.rng.IntN(2)
	case "429":
		f.Status, f.RetryAfter = 429, "1"
	case "reset":
		f.ResetAfterBytes = int64(1 + j.rng.IntN(100))
	case "cut answer":
		f.ResetAfterResponseBytes = int64(1 + j.rng.IntN(40))
	case "drop":
		f.DropResponse = true
	case "delay":
		f.Delay = time.Duration(200+j.rng.IntN(1800)) * time.Millisecond
	}
	return f
}

// persistentFault outlasts every retry: the job may fail, and the next
// clean run must converge.
func (j *journey) persistentFault() sandbox.Fault {
	t := faultTargets[j.rng.IntN(len(faultTargets))]
	return sandbox.Fault{Method: t.method, PathPrefix: t.prefix, Status: 503, Count: 1000}
}

// outcome is what a job left behind.
type outcome struct {
	dir     string   // checkout of the last command
	applied bool     // an apply succeeded and nothing changed after its plan
	targets []string // the apply was targeted
	failed  bool     // an expected or allowed failure
	// destroyed lists ta_ids a destroy removed from state.
	destroyed []int64
	// noUploads: the job ran with a model that needs no upload.
	noUploads bool
	// mintegralQuiet: nothing may have reached Mintegral's uploads.
	mintegralQuiet bool
	// notStored: an md5 no Mintegral object may have.
	notStored string
}

// do runs one step and checks the invariants.
func (j *journey) do(ctx context.Context, st *step) error {
	j.e.takeRequests()
	for _, ev := range st.events {
		if err := ev.apply(ctx); err != nil {
			return fmt.Errorf("event %q: %w", ev.desc, err)
		}
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
	for _, f := range st.faults {
		j.e.sb.AddFault(f)
	}
	recovering := j.recover
	j.recover = false
	o, err := j.runJob(ctx, st)
	j.e.sb.ClearFaults()
	if err != nil {
		return err
	}
	if recovering && o.failed {
		return findf("the clean run after a failed step failed too: state did not converge")
	}
	reqs := j.e.takeRequests()
	if wasSettled && !o.failed && st.job != "destroy" && st.job != "mistake" {
		if w := uploadWrites(reqs); len(w) > 0 {
			return findf("nothing new to upload since the last converged apply, yet the job sent %d upload request(s): %s", len(w), strings.Join(w, ", "))
		}
	}
	if o.mintegralQuiet {
		if w := mintegralUploads(reqs); len(w) > 0 {
			return findf("a plan that must fail before any request sent %d Mintegral upload request(s): %s", len(w), strings.Join(w, ", "))
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
		switch res.code {
		case 0:
		case 2:
			return findf("a successful apply was followed by a plan with changes:\n%s", planSummary(res.output))
		default:
			return findf("the plan after a successful apply failed: %s", errorSummary(res.output))
		}
	}
	if o.failed {
		j.recover = true
		j.converged, j.settled = false, false
	}
	return j.checkWorld(o, st)
}

// checkWorld runs the invariants on the sandbox's records and state.
func (j *journey) checkWorld(o outcome, st *step) error {
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
	if leaks := j.e.scanner.scanText("state", string(raw)); len(leaks) > 0 {
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
	check := &platformCheck{sb: sb, checkout: o.dir, unmanaged: unmanaged, console: console, state: state}
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
	if err := check.run(strict); err != nil {
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
	_ = st
	return nil
}

// cmd runs a CLI command and checks what every command must never do:
// leak a secret, panic, or blame a bug in the provider.
func (j *journey) cmd(ctx context.Context, dir, logLevel string, args ...string) (*cmdResult, error) {
	res := j.e.tf(ctx, dir, j.cache, logLevel, args...)
	if res.code == -1 {
		return res, findf("%s did not finish: %s", strings.Join(res.args, " "), tail(res.output, 5))
	}
	for _, bad := range neverInOutput {
		if bad.MatchString(res.output) {
			return res, findf("%s printed %q: %s", strings.Join(res.args, " "), bad.FindString(res.output), errorSummary(res.output))
		}
	}
	if leaks := j.e.scanner.scanText("output of "+strings.Join(res.args, " "), res.output); len(leaks) > 0 {
		return res, findf("a secret in the CLI's output: %s", leaks[0])
	}
	leaks, err := j.e.scanner.scanFile(res.log)
	if err != nil {
		return res, err
	}
	if len(leaks) > 0 {
		return res, findf("a secret in a log line (TF_LOG=%s): %s", logLevel, leaks[0])
	}
	return res, nil
}

// neverInOutput are what a provider must never make the CLI print.
var neverInOutput = []*regexp.Regexp{
	regexp.MustCompile(`(?m)^panic: `),
	regexp.MustCompile(`(?i)this is a bug in the provider`),
	regexp.MustCompile(`Provider produced inconsistent (final plan|result after apply)`),
	regexp.MustCompile(`Provider produced invalid plan`),
	regexp.MustCompile(`Plugin did not respond`),
	regexp.MustCompile(`(?i)unparseable URL`),
}

// ok insists a command succeeded.
func ok(res *cmdResult, why string) error {
	if res.code != 0 {
		return findf("%s failed (%s): %s", strings.Join(res.args, " "), why, errorSummary(res.output))
	}
	return nil
}

// mustFail insists a command failed and its errors match pattern.
func mustFail(res *cmdResult, pattern *regexp.Regexp, why string) error {
	if res.code == 0 {
		return findf("%s succeeded, but must fail: %s", strings.Join(res.args, " "), why)
	}
	if !pattern.MatchString(res.output) {
		return findf("%s failed as it must (%s), but its error does not say so (want /%s/): %s", strings.Join(res.args, " "), why, pattern, errorSummary(res.output))
	}
	return nil
}

// judge decides a command that may meet a persistent fault: success, or
// a failure that names the platform's answer.
func (j *journey) judge(res *cmdResult, st *step) (failed bool, err error) {
	if res.code == 0 {
		return false, nil
	}
	if st.persistent {
		if !strings.Contains(res.output, "503") {
			return true, findf("%s failed under a persistent 503, but not for it: %s", strings.Join(res.args, " "), errorSummary(res.output))
		}
		return true, nil
	}
	why := "no fault outlasted the retries"
	if len(st.faults) > 0 {
		why = "every injected fault was transient"
	}
	return false, ok(res, why)
}

// fresh checks out the repository at dir, as a CI runner's clone, and
// runs init.
func (j *journey) fresh(ctx context.Context, dir, logLevel string) error {
	if err := j.repo.write(dir); err != nil {
		return err
	}
	res, err := j.cmd(ctx, dir, logLevel, "init")
	if err != nil {
		return err
	}
	return ok(res, "init needs nothing but the mirror")
}

func (j *journey) ci(name string) string { return filepath.Join(j.cfg.Dir, "ci", name) }

// runJob runs the step's job.
func (j *journey) runJob(ctx context.Context, st *step) (outcome, error) {
	switch st.job {
	case "apply", "target":
		return j.jobApply(ctx, st)
	case "plan-apply":
		return j.jobPlanApply(ctx, st)
	case "edit-after-plan":
		return j.jobEditAfterPlan(ctx, st)
	case "saved-plan":
		return j.jobSavedPlan(ctx, st)
	case "pr-plan":
		return j.jobPlan(ctx, st, "plan", "-detailed-exitcode")
	case "drift":
		return j.jobPlan(ctx, st, "plan", "-refresh-only", "-detailed-exitcode")
	case "destroy":
		return j.jobDestroy(ctx, st)
	case "mistake":
		return j.jobMistake(ctx, st)
	}
	return outcome{}, fmt.Errorf("unknown job %q", st.job)
}

func (j *journey) jobApply(ctx context.Context, st *step) (outcome, error) {
	dir := j.ci("main")
	if err := j.fresh(ctx, dir, st.logLevel); err != nil {
		return outcome{}, err
	}
	args := []string{"apply", "-auto-approve"}
	var targets []string
	if st.target != "" {
		targets = []string{st.target}
		args = append(args, "-target="+st.target)
	}
	res, err := j.cmd(ctx, dir, st.logLevel, args...)
	if err != nil {
		return outcome{}, err
	}
	failed, err := j.judge(res, st)
	if err != nil || failed {
		return outcome{dir: dir, failed: failed}, err
	}
	return outcome{dir: dir, applied: true, targets: targets}, nil
}

func (j *journey) jobPlanApply(ctx context.Context, st *step) (outcome, error) {
	dir := j.ci("main")
	if err := j.fresh(ctx, dir, st.logLevel); err != nil {
		return outcome{}, err
	}
	for _, args := range [][]string{{"plan", "-out=tfplan"}, {"apply", "tfplan"}} {
		res, err := j.cmd(ctx, dir, st.logLevel, args...)
		if err != nil {
			return outcome{}, err
		}
		failed, err := j.judge(res, st)
		if err != nil || failed {
			return outcome{dir: dir, failed: failed}, err
		}
	}
	return outcome{dir: dir, applied: true}, nil
}

// plannedChanges reads a saved plan's resource changes: address ->
// actions, and each changed resource's planned source.
func (j *journey) plannedChanges(ctx context.Context, dir, logLevel string) (map[string][]string, map[string]string, error) {
	res, err := j.cmd(ctx, dir, logLevel, "show", "-json", "tfplan")
	if err != nil {
		return nil, nil, err
	}
	if err := ok(res, "show reads a saved plan"); err != nil {
		return nil, nil, err
	}
	var plan struct {
		ResourceChanges []struct {
			Address string `json:"address"`
			Mode    string `json:"mode"`
			Change  struct {
				Actions []string       `json:"actions"`
				After   map[string]any `json:"after"`
			} `json:"change"`
		} `json:"resource_changes"`
	}
	out := res.output
	if i := strings.Index(out, "{"); i > 0 {
		out = out[i:]
	}
	if err := json.Unmarshal([]byte(out), &plan); err != nil {
		return nil, nil, fmt.Errorf("show -json tfplan: %w", err)
	}
	actions, sources := map[string][]string{}, map[string]string{}
	for _, rc := range plan.ResourceChanges {
		if rc.Mode != "managed" {
			continue
		}
		actions[rc.Address] = rc.Change.Actions
		if s, ok := rc.Change.After["source"].(string); ok {
			sources[rc.Address] = s
		}
	}
	return actions, sources, nil
}

func changes(actions []string) bool {
	return slices.Contains(actions, "create") || slices.Contains(actions, "update")
}

// jobEditAfterPlan: plan -out, then a commit edits the committed device
// list in the job's checkout, then apply of the saved plan. When the plan
// uploads that file, the apply must refuse the edited content.
func (j *journey) jobEditAfterPlan(ctx context.Context, st *step) (outcome, error) {
	dir := j.ci("main")
	if err := j.fresh(ctx, dir, st.logLevel); err != nil {
		return outcome{}, err
	}
	res, err := j.cmd(ctx, dir, st.logLevel, "plan", "-out=tfplan")
	if err != nil {
		return outcome{}, err
	}
	if err := ok(res, "a plan with no fault"); err != nil {
		return outcome{}, err
	}
	actions, _, err := j.plannedChanges(ctx, dir, st.logLevel)
	if err != nil {
		return outcome{}, err
	}
	j.repo.deviceIDs = append(j.repo.deviceIDs, newDeviceIDs(j.rng, 2)...)
	j.converged, j.settled = false, false
	if err := j.commit(); err != nil {
		return outcome{}, err
	}
	edited := filepath.Join(dir, filepath.FromSlash(j.repo.devicesPath))
	if err := os.WriteFile(edited, []byte(strings.Join(j.repo.deviceIDs, "\n")+"\n"), 0o644); err != nil {
		return outcome{}, err
	}
	sum, err := md5File(edited)
	if err != nil {
		return outcome{}, err
	}
	res, err = j.cmd(ctx, dir, st.logLevel, "apply", "tfplan")
	if err != nil {
		return outcome{}, err
	}
	if changes(actions[addrGAIDFile]) {
		st.variant = "planned upload"
		if err := mustFail(res, regexp.MustCompile(`(?i)changed since (the )?plan`), "the file it uploads was edited after the plan"); err != nil {
			return outcome{}, err
		}
		return outcome{dir: dir, failed: true, notStored: sum}, nil
	}
	st.variant = "file unchanged in plan"
	// The edit is not in this plan: the apply succeeds, and the next run
	// uploads it.
	return outcome{dir: dir, notStored: sum}, ok(res, "the plan does not touch the edited file")
}

// jobSavedPlan: plan -out in one job, apply of the saved plan in another:
// with the plan job's working directory carried over (as HCP Terraform
// does) it must work; from a fresh checkout, a plan that uploads a
// generated file must fail saying why.
func (j *journey) jobSavedPlan(ctx context.Context, st *step) (outcome, error) {
	planDir, applyDir := j.ci("plan-job"), j.ci("apply-job")
	if err := j.fresh(ctx, planDir, st.logLevel); err != nil {
		return outcome{}, err
	}
	res, err := j.cmd(ctx, planDir, st.logLevel, "plan", "-out=tfplan")
	if err != nil {
		return outcome{}, err
	}
	if failed, err := j.judge(res, st); err != nil || failed {
		return outcome{dir: planDir, failed: failed}, err
	}
	actions, sources, err := j.plannedChanges(ctx, planDir, st.logLevel)
	if err != nil {
		return outcome{}, err
	}
	var generated []string
	for addr, acts := range actions {
		src := strings.TrimPrefix(sources[addr], "./")
		for _, d := range j.repo.generatedDirs() {
			if changes(acts) && strings.HasPrefix(src, d+"/") {
				generated = append(generated, addr)
			}
		}
	}
	slices.Sort(generated)
	if err := os.RemoveAll(applyDir); err != nil {
		return outcome{}, err
	}
	if st.variant == "carry workdir" {
		if err := copyTree(planDir, applyDir); err != nil {
			return outcome{}, err
		}
	} else {
		if err := j.fresh(ctx, applyDir, st.logLevel); err != nil {
			return outcome{}, err
		}
		if err := copyTree(filepath.Join(planDir, "tfplan"), filepath.Join(applyDir, "tfplan")); err != nil {
			return outcome{}, err
		}
	}
	res, err = j.cmd(ctx, applyDir, st.logLevel, "apply", "tfplan")
	if err != nil {
		return outcome{}, err
	}
	if st.variant == "fresh checkout" && len(generated) > 0 && !st.persistent {
		err := mustFail(res, regexp.MustCompile(`(?i)saved plan|plan file|working directory`),
			fmt.Sprintf("the plan uploads generated files (%s) that a fresh checkout lacks", strings.Join(generated, ", ")))
		return outcome{dir: applyDir, failed: true}, err
	}
	failed, err := j.judge(res, st)
	if err != nil || failed {
		return outcome{dir: applyDir, failed: failed}, err
	}
	return outcome{dir: applyDir, applied: true}, nil
}

// jobPlan runs a plan-only job (a pull request's plan, a drift check): it
// must succeed, and show no change when the world converged.
func (j *journey) jobPlan(ctx context.Context, st *step, args ...string) (outcome, error) {
	dir := j.ci("main")
	if err := j.fresh(ctx, dir, st.logLevel); err != nil {
		return outcome{}, err
	}
	res, err := j.cmd(ctx, dir, st.logLevel, args...)
	if err != nil {
		return outcome{}, err
	}
	switch {
	case res.code == 2 && j.converged && !(j.postponed && j.timePassed):
		return outcome{}, findf("%s shows changes though nothing changed since the last converged apply (exit 2):\n%s", strings.Join(res.args, " "), planSummary(res.output))
	case res.code == 2:
	default:
		if err := ok(res, "a plan with no fault"); err != nil {
			return outcome{}, err
		}
	}
	return outcome{dir: dir}, nil
}

// jobDestroy: destroy works at any time, whole or targeted.
func (j *journey) jobDestroy(ctx context.Context, st *step) (outcome, error) {
	for i, im := range j.repo.imports {
		// A team drops the import blocks of what it tears down; an
		// import not applied yet stays for the next apply.
		if c := j.console[im.taID]; c != nil && c.adopted {
			j.repo.imports[i].importBlock = false
		}
	}
	if err := j.commit(); err != nil {
		return outcome{}, err
	}
	before, _, err := readState(j.repo.statePath)
	if err != nil {
		return outcome{}, err
	}
	dir := j.ci("main")
	if err := j.fresh(ctx, dir, st.logLevel); err != nil {
		return outcome{}, err
	}
	var args []string
	switch st.variant {
	case "destroy":
		args = []string{"destroy", "-auto-approve"}
	case "apply -destroy":
		args = []string{"apply", "-destroy", "-auto-approve"}
	case "destroy -target":
		args = []string{"destroy", "-auto-approve", "-target=" + st.target}
	}
	res, err := j.cmd(ctx, dir, st.logLevel, args...)
	if err != nil {
		return outcome{}, err
	}
	j.converged, j.settled = false, false
	failed, err := j.judge(res, st)
	if err != nil || failed {
		return outcome{dir: dir, failed: failed}, err
	}
	after, _, err := readState(j.repo.statePath)
	if err != nil {
		return outcome{}, err
	}
	var gone []int64
	for addr, r := range before {
		if _, still := after[addr]; !still && r.Type == "audience_mintegral_audience" {
			gone = append(gone, r.num("ta_id"))
		}
	}
	if st.variant != "destroy -target" && len(after) > 0 {
		return outcome{}, findf("%s succeeded but state still holds %v", strings.Join(res.args, " "), sortedKeys(after))
	}
	if _, still := after[st.target]; st.target != "" && still {
		return outcome{}, findf("%s succeeded but state still holds %s", strings.Join(res.args, " "), st.target)
	}
	return outcome{dir: dir, destroyed: gone}, nil
}

// jobMistake: a commit sends a file to Mintegral that breaks its rules
// (the raw CRM export, a truncated gzip), next to another resource on the
// same file. Every plan and apply must refuse it, naming the file, with
// nothing sent to Mintegral; then the team reverts the commit.
func (j *journey) jobMistake(ctx context.Context, st *step) (outcome, error) {
	r := j.repo
	wasCRM := r.crmShared
	name := crmPath
	if st.variant == "crm" {
		r.mistake, r.crmShared = "crm", wasCRM || j.rng.IntN(4) > 0
	} else {
		r.mistake, r.gzipCompanion, name = "gzip", true, gzipPath
	}
	defer func() {
		r.mistake, r.gzipCompanion, r.crmShared = "", false, wasCRM
		_ = j.commit()
	}()
	if err := j.commit(); err != nil {
		return outcome{}, err
	}
	names := regexp.MustCompile(regexp.QuoteMeta(filepath.Base(name)))
	dir := j.ci("main")
	runs := [][]string{{"plan"}, {"plan"}, {"apply", "-auto-approve"}}
	for i, args := range runs {
		if i == 2 && st.variant == "gzip" {
			// The other resource on the file goes; Mintegral's must
			// still be refused.
			r.gzipCompanion = false
			if err := j.commit(); err != nil {
				return outcome{}, err
			}
		}
		if err := j.fresh(ctx, dir, st.logLevel); err != nil {
			return outcome{}, err
		}
		res, err := j.cmd(ctx, dir, st.logLevel, args...)
		if err != nil {
			return outcome{}, err
		}
		if err := mustFail(res, names, fmt.Sprintf("run %d of a Mintegral file on %s, which breaks Mintegral's rules", i+1, name)); err != nil {
			return outcome{}, err
		}
	}
	return outcome{dir: dir, mintegralQuiet: true}, nil
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
			strings.HasPrefix(p, "/openim/object/initiate_form_data"):
			out = append(out, r.Method+" "+p)
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
