package journey

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/audiencekit/terraform-provider-audience/internal/sandbox"
)

// initialRepo is the repository the team starts from: the pipeline, and
// some of the variants.
func (j *journey) initialRepo() *repo {
	r := &repo{
		statePath:      filepath.Join(j.cfg.Dir, "state", "terraform.tfstate"),
		listDir:        pick(j.rng, "exports", "build/lists"),
		devicesPath:    "audiences/android_gaid.txt",
		devicesArea:    1,
		exportMaxAge:   "24h",
		exportCampaign: 1,
	}
	if j.rng.IntN(2) == 0 {
		r.devices, r.devicesName = true, filepath.Base(r.devicesPath)
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
	profilesBefore := j.profiles // what the lists in state were made from, when converged
	st.events = j.pickEvents()
	uploading := !j.settled
	for _, e := range st.events {
		uploading = uploading || !strings.HasPrefix(e.desc, "+")
	}
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
		variants := []string{"crm", "gzip", "emails", "shared output"}
		if j.converged && min(profilesBefore, j.profiles) >= 200 {
			// State holds the full lists the collapse shrinks: not the
			// lists of a segment collapsed earlier, which this step's
			// events grow back only in the model (its export runs in the
			// plans, which the mistake makes fail).
			variants = append(variants, "collapse")
		}
		st.variant = pick(j.rng, variants...)
	}
	switch st.job {
	case "apply", "plan-apply", "saved-plan", "target", "destroy":
		switch x := j.rng.IntN(100); {
		case x < 6:
			st.persistent = true
			st.faults = []stepFault{j.persistentFault(uploading)}
		case x < 45:
			for i := range 1 + j.rng.IntN(2) {
				st.faults = append(st.faults, j.transientFault(uploading, i))
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
		evs = append(evs, j.repoCommit())
	}
	if j.rng.IntN(100) < 20 {
		evs = append(evs, j.loyalChange())
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
	switch j.rng.IntN(7) {
	case 6:
		// The segment collapses (a filter broke upstream): the lists
		// shrink past the guard, which the plan must announce.
		n := 20 + j.rng.IntN(20)
		j.profiles = n
		return event{fmt.Sprintf("export collapses to %d profiles", n), func(context.Context) error {
			j.converged, j.settled = false, false
			return j.e.sb.SetAltcraftProfiles("segment", 7, n)
		}}
	case 0, 3:
		k := 1 + j.rng.IntN(30)
		j.profiles += k
		n := j.profiles
		return event{fmt.Sprintf("export +%d profiles", k), func(context.Context) error {
			j.converged, j.settled = false, false
			return j.e.sb.SetAltcraftProfiles("segment", 7, n)
		}}
	case 1, 4:
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
func (j *journey) repoCommit() event {
	r := j.repo
	choices := map[string]int{"toggle devices": 2, "toggle crm": 2, "toggle idfa backup": 2, "toggle fd direct": 2, "move lists": 1,
		"bump export trigger": 2, "export max_age": 1}
	if r.fdDirect {
		choices["edit banner"] = 1
		choices["edit events"] = 1
	}
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
			edit = func() {
				r.devices, r.deviceIDs, r.devicesArea, r.devicesName = true, ids, area, filepath.Base(r.devicesPath)
			}
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
	case "toggle fd direct":
		on := !r.fdDirect
		n := 3 + j.rng.IntN(10)
		edit = func() { r.fdDirect, r.events, r.eventsSettle = on, n, "" }
		needsUpload = on
		c = map[bool]string{true: "add fd events and banner", false: "remove fd events and banner"}[on]
	case "bump export trigger":
		// A new export, uploaded only if the database changed since the
		// last one (export.go tells).
		campaign := r.exportCampaign + 1
		edit = func() { r.exportCampaign = campaign }
		needsUpload = false
		c = fmt.Sprintf("export trigger campaign spring-%d", campaign)
	case "export max_age":
		// max_age alone never exports; a shorter one may make the export
		// due.
		to := map[string]string{"24h": "48h", "48h": "24h"}[r.exportMaxAge]
		edit = func() { r.exportMaxAge = to }
		needsUpload = false
		c = "export max_age " + to
	case "edit banner":
		edit = func() { r.bannerRev++ }
	case "edit events":
		edit = func() { r.events++ }
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
		// A move or a rename to a name of the same kind (.txt to .txt)
		// keeps the file_name Mintegral has: nothing is uploaded. A
		// rename to another kind (.csv) is uploaded under the new name.
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
		newKind := filepath.Ext(name) != filepath.Ext(r.fileName(addrGAIDFile))
		edit = func() {
			r.devicesPath = to
			if newKind {
				r.devicesName = name
			}
		}
		needsUpload = newKind
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
		}}
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
	}}
}

// How a fault is aimed at one resource when several resources make the
// same call in one apply, which Terraform runs in parallel.
const (
	aimFileName  = "file_name" // a Mintegral file: the file_name query parameter
	aimKeySuffix = "key"       // a Mintegral file: the object key ends with its file name
	aimAudience  = "audience"  // an audience read: ta_ids (in state) or ta_name
)

var (
	faultTargets = []struct {
		method, prefix string
		kinds          []string
		aim            string // "": the path cannot tell resources apart, or one resource makes the call
	}{
		{"GET", "/mintegral/api/open/v1/audience/presigned-upload-data", []string{"503", "429", "drop", "delay", "cut answer"}, aimFileName},
		{"PUT", "/s3/" + sandbox.BucketMintegralS3 + "/", []string{"503", "429", "reset", "drop", "delay"}, aimKeySuffix},
		{"POST", "/oss/" + sandbox.BucketMintegralOSS, []string{"503", "429", "reset", "drop", "delay"}, ""},
		{"POST", "/mintegral/api/open/v1/audience", []string{"503", "429", "drop", "delay"}, ""},
		{"PUT", "/mintegral/api/open/v1/audience", []string{"503", "429", "drop", "delay"}, ""},
		{"DELETE", "/mintegral/api/open/v1/audience", []string{"503", "429", "drop", "delay"}, ""},
		{"GET", "/mintegral/api/open/v1/audience", []string{"503", "429", "drop", "delay", "cut answer"}, aimAudience},
		{"POST", "/tpns/v3/push/package/upload", []string{"503", "429", "reset", "drop", "delay"}, ""},
		{"POST", "/altcraft/api/v1.1/profiles/get_all", []string{"503", "429", "drop", "delay"}, ""},
		{"POST", "/altcraft/api/v1.1/tasks/status", []string{"503", "429", "drop", "delay"}, ""},
		{"GET", "/altcraft/api/download/", []string{"503", "429", "drop", "delay", "cut answer"}, ""},
		{"POST", "/futuredemand/api/v3/storage/presigned-url", []string{"503", "429", "drop", "delay"}, ""},
		{"PUT", "/s3/" + sandbox.BucketFutureDemand + "/", []string{"503", "429", "reset", "drop", "delay"}, ""},
		{"POST", "/futuredemand/cr/api/events/bulk_upload", []string{"503", "429", "reset", "drop", "delay"}, ""},
		{"POST", "/futuredemand/api/media", []string{"503", "429", "reset", "drop", "delay"}, ""},
		{"POST", "/openim/object/initiate_form_data", []string{"503", "429", "drop", "delay"}, ""},
		{"POST", "/s3/" + sandbox.BucketOpenIM, []string{"503", "429", "reset", "drop", "delay"}, ""},
		{"POST", "/openim/object/complete_form_data", []string{"503", "429", "drop", "delay"}, ""},
	}
)

// stepFault is a fault with the resource it is aimed at, whose file name
// or ta_id the fault is given when the step runs (bind).
type stepFault struct {
	sandbox.Fault
	aim string // aimFileName, aimKeySuffix, aimAudience or ""
	on  string // the resource's address, when aimed
}

func (f stepFault) String() string {
	if f.on == "" {
		return f.Fault.String()
	}
	return f.Fault.String() + " on " + f.on
}

// aimAt draws the resource the i-th fault of the step hits among those
// the configuration holds. It draws from its own generator, seeded by the
// seed and the step, so aiming leaves the journey's other draws as they
// were.
func (j *journey) aimAt(t int, i int) stepFault {
	ft := faultTargets[t]
	f := stepFault{Fault: sandbox.Fault{Method: ft.method, PathPrefix: ft.prefix}, aim: ft.aim}
	var on []string
	switch ft.aim {
	case aimFileName, aimKeySuffix:
		on = []string{addrDoctorsFile}
		if j.repo.devices {
			on = append(on, addrGAIDFile)
		}
	case aimAudience:
		on = []string{addrDoctorsAudience}
		if j.repo.devices {
			on = append(on, addrAndroidAudience)
		}
		for _, im := range j.repo.imports {
			on = append(on, im.address())
		}
	default:
		return f
	}
	rng := rand.New(rand.NewPCG(j.cfg.Seed^0x243f6a8885a308d3, uint64(j.n)<<8|uint64(i)))
	f.on = pick(rng, on...)
	return f
}

// transientFault is a fault the provider must ride out: retries and
// read-backs make the job succeed.
func (j *journey) transientFault(uploading bool, i int) stepFault {
	t := j.pickTarget(uploading)
	f := j.aimAt(t, i)
	// A lost answer after the server acted is the fault that tells
	// whether a call is safe to repeat: it comes twice as often.
	kinds := faultTargets[t].kinds
	if slices.Contains(kinds, "drop") {
		kinds = append(slices.Clone(kinds), "drop")
	}
	switch pick(j.rng, kinds...) {
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

// pickTarget draws a fault target. When the step may upload (something
// waits to be uploaded, or changed just now), the calls that write are
// three times as likely, so faults land where the job works.
func (j *journey) pickTarget(uploading bool) int {
	weights := make([]int, len(faultTargets))
	for i, t := range faultTargets {
		weights[i] = 1
		if uploading && t.method != "GET" && !strings.HasPrefix(t.prefix, "/altcraft/") {
			weights[i] = 3
		}
	}
	return weightedIndex(j.rng, weights...)
}

// persistentFault outlasts every retry: the job may fail, and the next
// clean run must converge.
func (j *journey) persistentFault(uploading bool) stepFault {
	f := j.aimAt(j.pickTarget(uploading), 0)
	f.Status, f.Count = 503, 1000
	return f
}
