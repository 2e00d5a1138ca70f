package journey

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// cmd runs a CLI command and checks what every command must never do:
// leak a secret, panic, or blame a bug in the provider.
func (j *journey) cmd(ctx context.Context, dir, logLevel string, args ...string) (*cmdResult, error) {
	res := j.e.tf(ctx, dir, j.cache, logLevel, args...)
	j.output.WriteString(res.output)
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

// mustFail insists a command failed and its errors match pattern, which
// is matched against the output with the diagnostics' line wrapping and
// box drawing undone (words separated by single spaces).
func mustFail(res *cmdResult, pattern *regexp.Regexp, why string) error {
	if res.code == 0 {
		return findf("%s succeeded, but must fail: %s", strings.Join(res.args, " "), why)
	}
	if !pattern.MatchString(unwrap(res.output)) {
		return findf("%s failed as it must (%s), but its error does not say so (want /%s/): %s", strings.Join(res.args, " "), why, pattern, errorSummary(res.output))
	}
	return nil
}

// unwrap joins the CLI's output into one line: the CLI wraps a
// diagnostic's text to its width, so a phrase may span lines.
func unwrap(out string) string {
	var words []string
	for _, l := range strings.Split(out, "\n") {
		words = append(words, strings.Fields(strings.TrimLeft(l, "│╷╵ "))...)
	}
	return strings.Join(words, " ")
}

// diagnostic is the unwrapped text of the first error diagnostic whose
// summary matches the pattern summary and that names the resource addr
// ("with addr,"; any resource when addr is ""), or "".
func diagnostic(out, summary, addr string) string {
	with := regexp.QuoteMeta(addr)
	if addr == "" {
		with = `\S+`
	}
	head := regexp.MustCompile(`^(` + summary + `) with ` + with + `,`)
	for _, d := range strings.Split(unwrap(out), "Error: ")[1:] {
		if head.MatchString(d) {
			return d
		}
	}
	return ""
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
	if lostAnswerOnVisibleWrite(st) {
		// The provider must not send it again (every row creates an event)
		// and has nothing to read back: it fails saying so, and every plan
		// stops until the team confirms or resends (settleEvents).
		if !regexp.MustCompile(`may have taken effect, so it was not sent again.*Events ingest unconfirmed`).MatchString(unwrap(res.output)) {
			return true, findf("%s failed after an events ingest's answer was lost, but not for it: %s", strings.Join(res.args, " "), errorSummary(res.output))
		}
		return true, nil
	}
	why := "no fault outlasted the retries"
	if len(st.faults) > 0 {
		why = "every injected fault was transient"
	}
	return false, ok(res, why)
}

// visibleWrites are the calls whose duplicate the platform's users see and
// that cannot be read back: after a lost answer the client does not send
// them again.
var visibleWrites = map[string]bool{"POST /futuredemand/cr/api/events/bulk_upload": true}

// lostAnswerOnVisibleWrite reports whether the step loses the answer of a
// call in visibleWrites, which the job may then fail on: an answer dropped
// or cut after the server acted, or a connection reset while the server
// read the body. The client cannot tell the last from a lost answer when
// its whole body was already written to the connection (a small file is),
// so it must not send again either; the team's look at Future Demand
// (settleEvents) then finds nothing and resends.
func lostAnswerOnVisibleWrite(st *step) bool {
	for _, f := range st.faults {
		lost := f.DropResponse || f.ResetAfterBytes > 0 || f.ResetAfterResponseBytes > 0
		if lost && visibleWrites[f.Method+" "+f.PathPrefix] {
			return true
		}
	}
	return false
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
	case "apply":
		return j.jobCommands(ctx, st, nil, []string{"apply", "-auto-approve"})
	case "target":
		return j.jobCommands(ctx, st, []string{st.target}, []string{"apply", "-auto-approve", "-target=" + st.target})
	case "plan-apply":
		return j.jobCommands(ctx, st, nil, []string{"plan", "-out=tfplan"}, []string{"apply", "tfplan"})
	case "edit-after-plan":
		return j.jobEditAfterPlan(ctx, st)
	case "saved-plan":
		return j.jobSavedPlan(ctx, st)
	case "pr-plan":
		return j.jobPlan(ctx, st, "plan", "-detailed-exitcode")
	case "drift":
		return j.jobDrift(ctx, st)
	case "destroy":
		return j.jobDestroy(ctx, st)
	case "mistake":
		return j.jobMistake(ctx, st)
	}
	return outcome{}, fmt.Errorf("unknown job %q", st.job)
}

// jobCommands runs commands one after another in a fresh checkout, the
// last of them an apply (targeted to targets, if any).
func (j *journey) jobCommands(ctx context.Context, st *step, targets []string, commands ...[]string) (outcome, error) {
	dir := j.ci("main")
	if err := j.fresh(ctx, dir, st.logLevel); err != nil {
		return outcome{}, err
	}
	for _, args := range commands {
		res, err := j.cmd(ctx, dir, st.logLevel, args...)
		if err != nil {
			return outcome{}, err
		}
		failed, err := j.judge(res, st)
		if err != nil || failed {
			return outcome{dir: dir, failed: failed}, err
		}
		if args[0] == "plan" {
			if err := j.checkPlanRestored(dir, res.output); err != nil {
				return outcome{}, err
			}
		}
	}
	return outcome{dir: dir, applied: true, targets: targets}, nil
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
	if err := json.Unmarshal([]byte(jsonPart(res.output)), &plan); err != nil {
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
	if err := j.checkPlanRestored(dir, res.output); err != nil {
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
	if err := j.checkPlanRestored(planDir, res.output); err != nil {
		return outcome{}, err
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
	if st.variant == "fresh checkout" && len(generated) > 0 {
		// The provider's own error on a generated upload, not Terraform's
		// about a stale or unreadable plan file.
		why := fmt.Sprintf("the plan uploads generated files (%s) that a fresh checkout lacks", strings.Join(generated, ", "))
		pattern := `Error: Source file not found`
		if st.persistent {
			pattern += `|503` // the fault may stop it first
		}
		err := mustFail(res, regexp.MustCompile(pattern), why)
		if err == nil && strings.Contains(unwrap(res.output), "Error: Source file not found") {
			missing := regexp.MustCompile(`does not exist in this working directory, yet the saved plan being applied was made with it`)
			found := false
			for _, addr := range generated {
				found = found || missing.MatchString(diagnostic(res.output, "Source file not found", addr))
			}
			if !found {
				err = findf("%s failed (%s), but no generated upload's error says its file is missing from this working directory (want /%s/): %s", strings.Join(res.args, " "), why, missing, errorSummary(res.output))
			}
		}
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
	case res.code == 2 && j.converged && (!j.postponed || !j.timePassed) && !j.flow.due:
		return outcome{}, findf("%s shows changes though nothing changed since the last converged apply (exit 2):\n%s", strings.Join(res.args, " "), planSummary(res.output))
	case res.code == 2:
	default:
		if err := ok(res, "a plan with no fault"); err != nil {
			return outcome{}, err
		}
	}
	if err := j.checkPlanRestored(dir, res.output); err != nil {
		return outcome{}, err
	}
	return outcome{dir: dir, planOnly: true}, nil
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

// jobMistake: a commit makes a mistake the provider must refuse at plan,
// naming it, with nothing sent: a file that breaks Mintegral's rules (the
// raw CRM export, a truncated gzip next to another resource on the same
// file, a list of e-mail addresses), a second ID list written over the
// IDFA list, or a segment that collapses under a list guard made an
// error. Every plan and apply must refuse it; then the team reverts the
// commit.
func (j *journey) jobMistake(ctx context.Context, st *step) (outcome, error) {
	r := j.repo
	wasCRM := r.crmShared
	// The refusal: its summary (a pattern), the address it is on ("": any),
	// and what its detail must say.
	var summary, addr string
	var detail *regexp.Regexp
	switch st.variant {
	case "crm":
		r.mistake, r.crmShared = "crm", wasCRM || j.rng.IntN(4) > 0
		summary, addr = regexp.QuoteMeta("Not a one-column Mintegral audience file"), addrMistakeCRM
		detail = regexp.MustCompile(regexp.QuoteMeta(filepath.Base(crmPath)) + `, line 1: the line has \d+ comma-separated columns, and the file must have a single column`)
	case "gzip":
		r.mistake, r.gzipCompanion = "gzip", true
		summary, addr = regexp.QuoteMeta("Source is not valid gzip"), addrMistakeGzip
		detail = regexp.MustCompile(regexp.QuoteMeta(filepath.Base(gzipPath)) + `: the gzip file is truncated or corrupt`)
	case "emails":
		r.mistake = "emails"
		summary, addr = regexp.QuoteMeta("Personal data in a Mintegral audience file"), addrMistakeCRM
		detail = regexp.MustCompile(regexp.QuoteMeta(filepath.Base(emailsPath)) + `, line 1: .*e-mail address`)
	case "shared output":
		r.mistake = "shared output"
		summary = regexp.QuoteMeta("Two blocks write one file")
		detail = regexp.MustCompile(`column (idfa|gaid).* column (gaid|idfa)`)
	case "collapse":
		r.mistake = "collapse"
		summary = `List shrinks from \d+ to \d+ entries`
		detail = regexp.MustCompile(`the list shrinks by \d+ entries .* more than list_guard.max_shrink_percent \(50 %\)`)
		if err := j.e.sb.SetAltcraftProfiles("segment", 7, collapsedProfiles); err != nil {
			return outcome{}, err
		}
	}
	defer func() {
		r.mistake, r.gzipCompanion, r.crmShared = "", false, wasCRM
		_ = j.commit()
		if st.variant == "collapse" {
			_ = j.e.sb.SetAltcraftProfiles("segment", 7, j.profiles)
		}
	}()
	if err := j.commit(); err != nil {
		return outcome{}, err
	}
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
		why := fmt.Sprintf("run %d of a commit with a mistake (%s)", i+1, st.variant)
		if err := mustFail(res, regexp.MustCompile("Error: "+summary), why); err != nil {
			return outcome{}, err
		}
		if d := diagnostic(res.output, summary, addr); !detail.MatchString(d) {
			return outcome{}, findf("%s failed (%s), but no /%s/ error on %q says so (want /%s/): %s", strings.Join(res.args, " "), why, summary, addr, detail, errorSummary(res.output))
		}
	}
	return outcome{dir: dir, mintegralQuiet: true, planOnly: true}, nil
}

// collapsedProfiles is what the segment shrinks to in the collapse
// mistake: a few of the IDFA list's entries and of the accounts remain.
const collapsedProfiles = 20

// jobDrift is a drift job on a workspace nothing touched since its last
// apply: the refresh-only plan finds no drift. Its exit code says so
// (0), except under Terraform 1.15 and newer, which count every data
// source in state as changed (upstream): there the plan's resource_drift,
// which drift jobs read, must be empty.
func (j *journey) jobDrift(ctx context.Context, st *step) (outcome, error) {
	dir := j.ci("main")
	if err := j.fresh(ctx, dir, st.logLevel); err != nil {
		return outcome{}, err
	}
	res, err := j.cmd(ctx, dir, st.logLevel, "plan", "-refresh-only", "-detailed-exitcode", "-out=drift.tfplan")
	if err != nil {
		return outcome{}, err
	}
	if res.code != 0 && res.code != 2 {
		return outcome{}, ok(res, "a drift job's plan with no fault")
	}
	if err := j.checkPlanRestored(dir, res.output); err != nil {
		return outcome{}, err
	}
	show, err := j.cmd(ctx, dir, st.logLevel, "show", "-json", "drift.tfplan")
	if err != nil {
		return outcome{}, err
	}
	if err := ok(show, "show reads a saved plan"); err != nil {
		return outcome{}, err
	}
	var plan struct {
		ResourceDrift []struct {
			Address string `json:"address"`
		} `json:"resource_drift"`
	}
	if err := json.Unmarshal([]byte(jsonPart(show.output)), &plan); err != nil {
		return outcome{}, fmt.Errorf("show -json drift.tfplan: %w", err)
	}
	if len(plan.ResourceDrift) > 0 {
		var addrs []string
		for _, d := range plan.ResourceDrift {
			addrs = append(addrs, d.Address)
		}
		return outcome{}, findf("a drift job finds drift in %v though nothing changed since the last apply:\n%s", addrs, planSummary(res.output))
	}
	if res.code == 2 && !j.e.dataSourcesAlwaysDrift() {
		return outcome{}, findf("%s exits 2 though its resource_drift is empty and nothing changed since the last apply:\n%s", strings.Join(res.args, " "), planSummary(res.output))
	}
	return outcome{dir: dir, planOnly: true}, nil
}

// jsonPart drops what a CLI prints before its JSON (a warning).
func jsonPart(out string) string {
	if i := strings.Index(out, "{"); i > 0 {
		return out[i:]
	}
	return out
}
