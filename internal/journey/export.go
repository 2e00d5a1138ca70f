package journey

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/audiencekit/terraform-provider-audience/internal/sandbox"
)

// The export-per-period flow: audience_altcraft_profile_export on a
// source of its own (database 1, the loyalty programme), feeding an ID
// list and a TPNS package. Whatever the jobs (plan, apply of the saved
// plan, drift check, reruns after a failure), one period starts exactly
// one export of the source when a new one is due (the export is older
// than max_age, a trigger changed, the platform no longer serves the
// result, or state has none) and none otherwise. The count is the
// sandbox's, per source; the only extra exports allowed are the retries
// after a get_all whose answer a fault lost once the task had started,
// and the attempts of steps that failed before the new task reached
// state.

const (
	loyalSourceType = "database"
	loyalSourceID   = 1
	// loyalProfiles is how many profiles database 1 starts with.
	loyalProfiles = 1343
	// dueMargin: an export whose age is this close below max_age or the
	// result's lifetime may or may not have passed it by the time the
	// provider plans (real time passes too); the journey then expects
	// either.
	dueMargin = 10 * time.Minute
)

// exportFlow is what the journey expects of the step's jobs for the
// loyalty export, decided after the step's events.
type exportFlow struct {
	due       bool
	why       string // why an export is due, or why not
	uncertain bool   // the age is within dueMargin of a limit
	before    int    // the source's exports started before the step
	task      string // the task state named before the step
	// stale: database 1 changed since the export state names was made, so
	// a new export brings a new list (and a TPNS upload).
	stale bool

	// The current period: the life of one export task in state.
	period   *exportPeriod
	attempts int      // exports of failed steps since the last task reached state
	logs     []string // ended periods, not logged yet
}

type exportPeriod struct {
	task     string
	from, to int
	jobs     []string
	exports  int // started by the steps of the period, failed attempts before it included
	attempts int
	lost     int
}

// startExportFlow decides, after the step's events, whether the loyalty
// export is due, from state and the sandbox's record of its task.
func (j *journey) startExportFlow() error {
	f := &j.flow
	f.before = j.e.sb.AltcraftExportsStartedFor(loyalSourceType, loyalSourceID)
	f.due, f.uncertain, f.task = true, false, ""
	r, ok := j.prevState[addrLoyalExport]
	if !ok {
		f.why = "state has no export"
		return nil
	}
	f.task = r.str("task_id")
	task, ok := j.e.sb.AltcraftTask(f.task)
	switch {
	case !ok:
		return findf("%s: state names task %q, which Altcraft never started", addrLoyalExport, f.task)
	case task.SourceType != loyalSourceType || task.SourceID != loyalSourceID:
		return findf("%s: state names task %s, an export of %s %d", addrLoyalExport, f.task, task.SourceType, task.SourceID)
	}
	triggers, _ := r.Attrs["triggers"].(map[string]any)
	maxAge, err := time.ParseDuration(j.repo.exportMaxAge)
	if err != nil {
		return err
	}
	// The sandbox's clock moves exported_at back, so the provider's age
	// (its last check's time minus exported_at) is the age on the sandbox
	// clock, a few real minutes apart, even where a refresh within the
	// max_age in state kept the last check's time.
	near := func(age, limit time.Duration) bool { return age < limit && limit-age < dueMargin }
	f.uncertain = near(task.Age, maxAge) || near(task.Age, sandbox.AltcraftResultLifetime)
	switch {
	case triggers["campaign"] != fmt.Sprintf("spring-%d", j.repo.exportCampaign):
		f.why = fmt.Sprintf("triggers changed (campaign %v in state)", triggers["campaign"])
	case task.Expired:
		f.why = fmt.Sprintf("the result of %s is gone (%s old)", f.task, task.Age.Round(time.Minute))
	case task.Age >= maxAge:
		f.why = fmt.Sprintf("%s is %s old, max_age %s (%s in state)", f.task, task.Age.Round(time.Minute), j.repo.exportMaxAge, r.str("max_age"))
	default:
		f.due = false
		f.why = fmt.Sprintf("%s is %s old, max_age %s (%s in state)", f.task, task.Age.Round(time.Minute), j.repo.exportMaxAge, r.str("max_age"))
	}
	return nil
}

// exportsStarted is how many exports of the loyalty source started since
// the step began.
func (j *journey) exportsStarted() int {
	return j.e.sb.AltcraftExportsStartedFor(loyalSourceType, loyalSourceID) - j.flow.before
}

// exportingJob reports whether the step's job applies the loyalty export
// (when it succeeds): every apply but a targeted one of something else.
func exportingJob(st *step) bool {
	switch st.job {
	case "apply", "plan-apply", "saved-plan", "edit-after-plan":
		return true
	case "target":
		return st.target == addrLoyalExport || st.target == addrLoyalTPNS
	}
	return false
}

// lostGetAll counts the get_all requests whose answer a fault lost after
// the sandbox had started the task (a dropped or cut answer): each lets
// the client start one more export, not knowing the first. Which source
// the request was for the log does not say, so every one counts.
func lostGetAll(reqs []sandbox.RequestRecord) int {
	n := 0
	for _, r := range reqs {
		if r.Path == sandbox.PrefixAltcraft+"/api/v1.1/profiles/get_all" &&
			(strings.HasPrefix(r.Fault, "dropped") || strings.Contains(r.Fault, "answer reset after")) {
			n++
		}
	}
	return n
}

// checkPlanRestored runs after a plan in a fresh checkout succeeded: the
// refresh downloaded the export state names again into the checkout,
// started no export, and the plan announced a new export exactly when one
// is due.
func (j *journey) checkPlanRestored(dir, out string) error {
	f := &j.flow
	if n := j.exportsStarted(); n != 0 {
		return findf("a plan started %d export(s) of %s %d; only an apply may", n, loyalSourceType, loyalSourceID)
	}
	r, ok := j.prevState[addrLoyalExport]
	if !ok {
		return nil
	}
	announced := strings.Contains(unwrap(out), "Altcraft export runs again at apply")
	if !f.uncertain && announced != f.due {
		return findf("%s: the plan %s a new export, but one is %s: %s", addrLoyalExport,
			map[bool]string{true: "announced", false: "did not announce"}[announced], map[bool]string{true: "due", false: "not due"}[f.due], f.why)
	}
	if task, _ := j.e.sb.AltcraftTask(f.task); task.Expired {
		if !strings.Contains(unwrap(out), "no longer serves the result of task "+f.task) {
			return findf("%s: the result of task %s is gone, and the plan did not say so: %s", addrLoyalExport, f.task, planSummary(out))
		}
		return nil
	}
	files, _ := r.Attrs["files"].([]any)
	if len(files) == 0 {
		return findf("%s: state records no files, though output_dir is set", addrLoyalExport)
	}
	for _, item := range files {
		m, _ := item.(map[string]any)
		p, _ := m["path"].(string)
		want, _ := m["sha256"].(string)
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		got, err := sha256File(p)
		switch {
		case os.IsNotExist(err):
			return findf("%s: the plan in a fresh checkout did not restore %s from task %s", addrLoyalExport, m["path"], f.task)
		case err != nil:
			return err
		case got != want:
			return findf("%s: the plan restored %s with sha256 %s; state records %s", addrLoyalExport, m["path"], got, want)
		}
	}
	return nil
}

// checkExportFlow runs after the step: n exports of the loyalty source
// started during its jobs, lost get_all answers among its requests.
func (j *journey) checkExportFlow(st *step, o outcome, n, lost int) error {
	f := &j.flow
	state, _, err := readState(j.repo.statePath)
	if err != nil {
		return err
	}
	r, inState := state[addrLoyalExport]
	task := r.str("task_id")
	newTask := inState && task != f.task
	applies := exportingJob(st) && !o.failed
	job := st.job
	if st.variant != "" {
		job += "(" + st.variant + ")"
	}
	sure := !f.uncertain
	switch {
	case n > 1+lost:
		return findf("the step started %d exports of %s %d; one at most, plus one per get_all answer a fault lost (%d)", n, loyalSourceType, loyalSourceID, lost)
	case newTask && n == 0:
		return findf("%s: state names a new task %s, but no export of %s %d started", addrLoyalExport, task, loyalSourceType, loyalSourceID)
	case newTask && sure && !f.due:
		return findf("%s: the step replaced task %s with %s, though no export was due: %s", addrLoyalExport, f.task, task, f.why)
	case n > 0 && sure && !f.due:
		return findf("the step started %d export(s) of %s %d, though none was due: %s", n, loyalSourceType, loyalSourceID, f.why)
	case n > 0 && !exportingJob(st):
		return findf("a %s job started %d export(s) of %s %d; only an apply may", job, n, loyalSourceType, loyalSourceID)
	case applies && sure && f.due && !newTask:
		return findf("%s: an export was due (%s) and the %s job succeeded, yet state still names task %q", addrLoyalExport, f.why, job, task)
	}
	if newTask {
		info, _ := j.e.sb.AltcraftTask(task)
		if info.Status != "completed" {
			return findf("%s: state names task %s, which Altcraft reports %q", addrLoyalExport, task, info.Status)
		}
	}

	// The tally of the period, logged when it ends.
	if newTask {
		j.closeExportPeriod()
		f.period = &exportPeriod{task: task, from: j.n, exports: f.attempts + n, attempts: f.attempts, lost: lost}
		f.attempts = 0
		f.stale = false
	} else {
		f.attempts += n
		if p := f.period; p != nil {
			p.lost += lost
		}
	}
	if p := f.period; p != nil {
		p.to = j.n
		p.jobs = append(p.jobs, fmt.Sprintf("#%d %s", j.n, job))
	}
	if !inState {
		j.closeExportPeriod() // destroyed: the next export starts a new one
	}
	return nil
}

// logExportPeriods logs the periods that ended.
func (j *journey) logExportPeriods() {
	for _, l := range j.flow.logs {
		j.cfg.Logf("%s", l)
	}
	j.flow.logs = nil
}

// closeExportPeriod logs the period that ends: the steps that used one
// export task, and the exports they started.
func (j *journey) closeExportPeriod() {
	p := j.flow.period
	if p == nil {
		return
	}
	j.flow.period = nil
	extra := ""
	if p.attempts > 0 || p.lost > 0 {
		extra = fmt.Sprintf(" (%d by failed attempts before it, %d get_all answer(s) lost)", p.attempts, p.lost)
	}
	// Logged after the step's own line (Run).
	j.flow.logs = append(j.flow.logs, fmt.Sprintf("export period of task %s: steps #%d–#%d, %d job(s) [%s], exports of %s %d started: %d%s",
		p.task, p.from, p.to, len(p.jobs), strings.Join(p.jobs, ", "), loyalSourceType, loyalSourceID, p.exports, extra))
}

// loyalChange: the loyalty database gains, loses or edits profiles. The
// export in state keeps what it exported until a new one is due.
func (j *journey) loyalChange() event {
	var desc string
	var apply func() error
	sb := func() *sandbox.Server { return j.e.sb }
	switch j.rng.IntN(3) {
	case 0:
		k := 1 + j.rng.IntN(40)
		j.loyal += k
		n := j.loyal
		desc, apply = fmt.Sprintf("loyalty database +%d profiles", k), func() error { return sb().SetAltcraftProfiles(loyalSourceType, loyalSourceID, n) }
	case 1:
		k := 1 + j.rng.IntN(40)
		j.loyal = max(j.loyal-k, loyalProfiles-200)
		n := j.loyal
		desc, apply = fmt.Sprintf("loyalty database -%d profiles", k), func() error { return sb().SetAltcraftProfiles(loyalSourceType, loyalSourceID, n) }
	default:
		var idx []int
		for range 1 + j.rng.IntN(8) {
			idx = append(idx, j.rng.IntN(max(j.loyal, 1)))
		}
		desc, apply = fmt.Sprintf("loyalty database edits profiles %v", idx), func() error {
			for _, i := range idx {
				if err := sb().EditAltcraftProfile(loyalSourceType, loyalSourceID, i); err != nil {
					return err
				}
			}
			return nil
		}
	}
	return event{desc, func(context.Context) error {
		j.flow.stale = true
		return apply()
	}}
}

func sha256File(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// altcraftExport: state's task is an export of its source the panel
// finished, and after an apply the checkout holds its files as state
// records them.
func (c *platformCheck) altcraftExport(r stateResource) error {
	task, ok := c.sb.AltcraftTask(r.str("task_id"))
	switch {
	case !ok:
		return findf("%s: state names task %q, which Altcraft never started", r.Addr, r.str("task_id"))
	case task.SourceType != r.str("source_type") || task.SourceID != r.num("source_id"):
		return findf("%s: task %s exported %s %d, state says %s %d", r.Addr, task.ID, task.SourceType, task.SourceID, r.str("source_type"), r.num("source_id"))
	case task.Status != "completed":
		return findf("%s: state names task %s, which Altcraft reports %q", r.Addr, task.ID, task.Status)
	}
	if !c.strict || c.checkout == "" || (c.only != nil && !c.only[r.Addr]) {
		return nil
	}
	files, _ := r.Attrs["files"].([]any)
	for _, item := range files {
		m, _ := item.(map[string]any)
		p, _ := m["path"].(string)
		if !filepath.IsAbs(p) {
			p = filepath.Join(c.checkout, p)
		}
		sum, err := sha256File(p)
		if err != nil {
			return findf("%s: the export file %v cannot be read after a successful apply and plan in the checkout: %v", r.Addr, m["path"], err)
		}
		if sum != m["sha256"] {
			return findf("%s: the export file %v has sha256 %s, state records %v", r.Addr, m["path"], sum, m["sha256"])
		}
	}
	return nil
}
