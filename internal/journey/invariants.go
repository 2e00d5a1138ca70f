package journey

import (
	"bufio"
	"compress/gzip"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/audiencekit/terraform-provider-audience/internal/sandbox"
)

// The invariants read the sandbox's records and the state file; they never
// take the provider's word for what happened.

// Mintegral's wire numbers, as Mintegral's audience API documentation
// lists them, kept apart from the client's table so a wrong table there
// shows here.
var (
	mintegralPlatforms   = map[string]int{"android": 1, "ios": 2, "mix": 3}
	mintegralDeviceTypes = map[string]int{"IMEI": 1, "IDFA": 2, "GAID": 3, "OAID": 4, "IMEI_MD5": 6, "IDFA_MD5": 7, "GAID_MD5": 8, "OAID_MD5": 9}
)

// uploadTypes are the resource types built on the upload skeleton.
var uploadTypes = map[string]bool{
	"audience_mintegral_file": true, "audience_futuredemand_upload": true,
	"audience_tpns_account_package": true, "audience_openim_object": true,
	"audience_futuredemand_ingest": true, "audience_futuredemand_media": true,
}

// appliedKey is the audience resource's private state key that says what
// Mintegral holds while an update waits for the 12-hour window.
const appliedKey = "mintegral_applied"

// sourceKey is the upload resources' private state key holding the record
// of the content last uploaded (its MD5 and fingerprint), which lets a
// fresh clone's plan skip hashing MD5.
const sourceKey = "source"

type appliedFiles struct {
	Files []struct {
		DeviceType string `json:"device_type"`
		DataPath   string `json:"data_path"`
	} `json:"files"`
	Pending bool `json:"pending"`
}

// finding is a broken invariant or an unexpected outcome.
type finding struct{ msg string }

func (f *finding) Error() string { return f.msg }

func findf(format string, args ...any) error { return &finding{fmt.Sprintf(format, args...)} }

// checkMintegralContent reads every file that ever reached Mintegral: each
// must be one device ID per line, with no e-mail address and no second
// column, and a .gz must be a whole gzip stream.
func checkMintegralContent(sb *sandbox.Server, checked map[string]bool) error {
	objs, err := sb.MintegralStoredFiles()
	if err != nil {
		return err
	}
	for _, o := range objs {
		id := o.Bucket + "/" + o.Key + "/" + o.MD5
		if checked[id] {
			continue
		}
		if err := checkOneColumn(o); err != nil {
			return findf("Mintegral holds a file that breaks its rules: %s/%s: %v", o.Bucket, o.Key, err)
		}
		checked[id] = true
	}
	return nil
}

func checkOneColumn(o sandbox.Object) error {
	f, err := os.Open(o.Path)
	if err != nil {
		return err
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(strings.ToLower(o.Key), ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return fmt.Errorf("not a gzip stream: %w", err)
		}
		r = zr
	}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSuffix(sc.Text(), "\r")
		switch {
		case strings.Contains(line, "@"):
			return fmt.Errorf("line %d holds an e-mail address: %q", n, line)
		case strings.ContainsAny(line, ",;\t|"):
			return fmt.Errorf("line %d has a second column: %q", n, line)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading it fails (a truncated or corrupt file reached Mintegral): %w", err)
	}
	return nil
}

// checkNoDuplicateAudiences: no two Mintegral audiences share a name (the
// journey's names are unique, so a second one is a duplicate create).
func checkNoDuplicateAudiences(sb *sandbox.Server) error {
	seen := map[string]int64{}
	for _, a := range sb.MintegralAudiences() {
		if other, ok := seen[a.Name]; ok {
			return findf("Mintegral holds two audiences named %q: ta_id %d and %d", a.Name, other, a.ID)
		}
		seen[a.Name] = a.ID
	}
	return nil
}

// platformCheck compares state with the platforms. strict is for a state
// the last apply converged to: audiences hold exactly the files state
// (or the pending record) names, and Mintegral holds no audience state
// does not name but the unmanaged ones. Without strict, only what state
// names must exist as state says (after a failed step).
type platformCheck struct {
	sb        *sandbox.Server
	strict    bool             // state is what the last apply converged to
	checkout  string           // where local sources are compared; "" skips
	only      map[string]bool  // when set, the addresses whose local source is compared (a targeted apply)
	unmanaged map[int64]bool   // console-made audiences not (yet) in state
	console   map[int64]string // console audiences' original data_path
	state     map[string]stateResource
}

func (c *platformCheck) run() error {
	strict := c.strict
	for _, addr := range sortedKeys(c.state) {
		r := c.state[addr]
		var err error
		switch r.Type {
		case "audience_mintegral_file":
			err = c.upload(r, func() (sandbox.Object, error) { return c.sb.MintegralFile(r.str("data_path")) })
		case "audience_futuredemand_upload":
			err = c.upload(r, func() (sandbox.Object, error) { return c.sb.FutureDemandObject(r.str("object_key")) })
		case "audience_tpns_account_package":
			err = c.tpns(r)
		case "audience_openim_object":
			err = c.openIM(r)
		case "audience_futuredemand_ingest":
			err = c.ingest(r)
		case "audience_futuredemand_media":
			err = c.media(r)
		case "audience_mintegral_audience":
			err = c.audience(r, strict)
		case "audience_altcraft_profile_export":
			err = c.altcraftExport(r)
		}
		if err != nil {
			return err
		}
		if _, ok := r.Private[sourceKey]; strict && !ok && uploadTypes[r.Type] {
			return findf("%s: private state has no %q record after the apply, so a fresh clone's plan hashes the whole file with MD5 again", r.Addr, sourceKey)
		}
	}
	if !strict {
		return nil
	}
	for _, a := range c.sb.MintegralAudiences() {
		if c.unmanaged[a.ID] {
			continue
		}
		named := false
		for _, r := range c.state {
			if r.Type == "audience_mintegral_audience" && r.num("ta_id") == a.ID {
				named = true
			}
		}
		if !named {
			return findf("Mintegral holds audience %d (%q) that state does not name", a.ID, a.Name)
		}
	}
	return nil
}

// upload: the stored object is the content state records, and equals the
// local file when the checkout has it.
func (c *platformCheck) upload(r stateResource, get func() (sandbox.Object, error)) error {
	obj, err := get()
	if err != nil {
		return findf("%s: state names %s, which the platform does not hold: %v", r.Addr, r.str("id"), err)
	}
	if obj.MD5 != r.str("file_md5") || obj.Size != r.num("file_size") {
		return findf("%s: the platform holds md5 %s (%d bytes), state says %s (%d bytes)", r.Addr, obj.MD5, obj.Size, r.str("file_md5"), r.num("file_size"))
	}
	return c.local(r)
}

func (c *platformCheck) tpns(r stateResource) error {
	id := r.num("upload_id")
	for _, u := range c.sb.TPNSUploads() {
		if u.UploadID == id {
			if u.MD5 != r.str("file_md5") {
				return findf("%s: TPNS upload %d has md5 %s, state says %s", r.Addr, id, u.MD5, r.str("file_md5"))
			}
			return c.local(r)
		}
	}
	return findf("%s: state names TPNS upload %d, which TPNS never accepted", r.Addr, id)
}

// openIM: state's url is the object's address for its name, and the
// newest confirmed upload under that name (the one the url serves) holds
// state's content.
func (c *platformCheck) openIM(r stateResource) error {
	name := r.str("name")
	if want := c.sb.URL() + sandbox.PrefixOpenIM + "/object/" + name; r.str("url") != want {
		return findf("%s: state's url is %q; OpenIM serves %q at %q", r.Addr, r.str("url"), name, want)
	}
	var newest *sandbox.Object
	var newestAt time.Time
	for _, o := range c.sb.OpenIMObjects() {
		if o.Name != name {
			continue
		}
		obj, err := c.sb.Store().Get(o.Bucket, o.Key)
		if err != nil {
			return findf("%s: OpenIM confirmed %s/%s, which storage does not hold: %v", r.Addr, o.Bucket, o.Key, err)
		}
		// Each upload has its own key, stored once: the file's time is
		// when the upload arrived, and uploads of one name are sequential.
		fi, err := os.Stat(obj.Path)
		if err != nil {
			return err
		}
		if newest == nil || fi.ModTime().After(newestAt) {
			newest, newestAt = &obj, fi.ModTime()
		}
	}
	switch {
	case newest == nil:
		return findf("%s: OpenIM has no confirmed object %q", r.Addr, name)
	case newest.MD5 != r.str("file_md5") || newest.Size != r.num("file_size"):
		return findf("%s: the newest confirmed OpenIM object %q (%s) has md5 %s (%d bytes), state says %s (%d bytes)",
			r.Addr, name, newest.Key, newest.MD5, newest.Size, r.str("file_md5"), r.num("file_size"))
	}
	return c.local(r)
}

// ingest: the last ingest of the resource's kind and event type is the
// content state records (an ingest repeated after a lost answer is the
// same content again). After a failed step the platform may hold newer
// content whose answer was lost; state must still name content Future
// Demand took at some point.
func (c *platformCheck) ingest(r stateResource) error {
	if r.str("kind") == "events" {
		return c.events(r)
	}
	var last *sandbox.FutureDemandIngest
	took := false
	for _, in := range c.sb.FutureDemandIngests() {
		if in.Kind == r.str("kind") && in.EventType == r.str("event_type") && in.EID == r.str("eid") {
			last = &in
			took = took || in.MD5 == r.str("file_md5")
		}
	}
	switch {
	case last == nil:
		return findf("%s: Future Demand took no %s ingest", r.Addr, r.str("id"))
	case !c.strict && took:
	case !c.strict:
		return findf("%s: Future Demand never took the %s ingest state names (md5 %s)", r.Addr, r.str("id"), r.str("file_md5"))
	case last.MD5 != r.str("file_md5"):
		return findf("%s: Future Demand's last %s ingest has md5 %s, state says %s", r.Addr, r.str("id"), last.MD5, r.str("file_md5"))
	}
	return c.local(r)
}

// events: an events file is ingested by appends (a grown file sends its
// new rows), so no one ingest is the file: after a converged apply every
// row of the local file is an event Future Demand holds, and state counts
// them all in ingested_rows. Duplicates are the guards' business.
func (c *platformCheck) events(r stateResource) error {
	if !c.strict || c.checkout == "" || (c.only != nil && !c.only[r.Addr]) {
		return nil
	}
	if st := r.str("ingest_status"); st == "unconfirmed" {
		return findf("%s: still unconfirmed after a successful apply", r.Addr)
	}
	p := r.str("source")
	if !filepath.IsAbs(p) {
		p = filepath.Join(c.checkout, p)
	}
	f, err := os.Open(p)
	if err != nil {
		return findf("%s: the local file %s cannot be read after a successful apply: %v", r.Addr, r.str("source"), err)
	}
	defer f.Close()
	held := map[string]bool{}
	for _, ev := range c.sb.FutureDemandEvents(r.str("event_type")) {
		held[ev.Title+","+ev.StartDateTime] = true
	}
	sc := bufio.NewScanner(f)
	rows := int64(0)
	for sc.Scan() {
		if rows++; rows == 1 {
			continue // the header
		}
		fields := strings.Split(sc.Text(), ",")
		if len(fields) < 2 || !held[fields[0]+","+fields[1]] {
			return findf("%s: row %d of %s (%q) is not an event Future Demand holds", r.Addr, rows, r.str("source"), sc.Text())
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if got := r.num("ingested_rows"); got != rows-1 {
		return findf("%s: state says ingested_rows %d, the file has %d rows", r.Addr, got, rows-1)
	}
	return c.local(r)
}

func (c *platformCheck) media(r stateResource) error {
	for _, m := range c.sb.FutureDemandMediaObjects() {
		if m.URL == r.str("url") {
			if m.MD5 != r.str("file_md5") {
				return findf("%s: Future Demand's media %s has md5 %s, state says %s", r.Addr, m.URL, m.MD5, r.str("file_md5"))
			}
			return c.local(r)
		}
	}
	return findf("%s: state names media %s, which Future Demand does not hold", r.Addr, r.str("url"))
}

// local compares the resource's source in the checkout with state.
func (c *platformCheck) local(r stateResource) error {
	if c.checkout == "" || (c.only != nil && !c.only[r.Addr]) {
		return nil
	}
	p := r.str("source")
	if !filepath.IsAbs(p) {
		p = filepath.Join(c.checkout, p)
	}
	sum, err := md5File(p)
	if errors.Is(err, os.ErrNotExist) {
		if c.strict {
			// The apply and the plan after it ran in this checkout: its
			// committed and generated files are all there.
			return findf("%s: the local file %s is missing after a successful apply and plan in the checkout", r.Addr, r.str("source"))
		}
		return nil
	}
	if err != nil {
		return err
	}
	if sum != r.str("file_md5") {
		return findf("%s: the local file %s has md5 %s, but state and the platform hold %s", r.Addr, r.str("source"), sum, r.str("file_md5"))
	}
	return nil
}

func (c *platformCheck) audience(r stateResource, strict bool) error {
	id := r.num("ta_id")
	var got *sandbox.MintegralAudience
	for _, a := range c.sb.MintegralAudiences() {
		if a.ID == id {
			got = &a
		}
	}
	if got == nil {
		return findf("%s: state names audience %d, which Mintegral does not hold", r.Addr, id)
	}
	if got.Name != r.str("name") || got.Platform != mintegralPlatforms[r.str("platform")] || int64(got.AreaType) != r.num("area_type") {
		return findf("%s: Mintegral holds %q platform %d area %d, state says %q %s area %d", r.Addr, got.Name, got.Platform, got.AreaType, r.str("name"), r.str("platform"), r.num("area_type"))
	}
	if !strict {
		return nil
	}
	want, why, err := expectedFiles(r)
	if err != nil {
		return findf("%s: %v", r.Addr, err)
	}
	var have []string
	for _, f := range got.Files {
		have = append(have, strconv.Itoa(f.DeviceType)+" "+f.DataPath)
	}
	slices.Sort(have)
	if slices.Equal(have, want) {
		return nil
	}
	// An imported audience's first apply sends its configured files in
	// one update; while the 12-hour window holds that update back, the
	// pending record cannot name what Mintegral holds (its list does not
	// return data paths), which is still the console's file.
	if dp, ok := c.console[id]; ok && why != "state" && len(got.Files) == 1 && got.Files[0].DataPath == dp && len(want) == 0 {
		return nil
	}
	return findf("%s: Mintegral's audience %d holds files %v, %s names %v", r.Addr, id, have, why, want)
}

// expectedFiles is what Mintegral must hold for an audience: the files in
// state, or, while an update is postponed, the files the private record
// says were last applied. Each as "<device type number> <data_path>",
// sorted.
func expectedFiles(r stateResource) ([]string, string, error) {
	why := "state"
	type file struct{ DeviceType, DataPath string }
	var files []file
	if raw, ok := r.Private[appliedKey]; ok {
		var applied appliedFiles
		if err := json.Unmarshal(raw, &applied); err != nil {
			return nil, "", fmt.Errorf("private %q is not the documented JSON: %v: %s", appliedKey, err, raw)
		}
		if applied.Pending {
			why = "the pending record in private state"
			for _, f := range applied.Files {
				files = append(files, file{f.DeviceType, f.DataPath})
			}
		}
	}
	if why == "state" {
		list, _ := r.Attrs["files"].([]any)
		for _, item := range list {
			m, _ := item.(map[string]any)
			dt, _ := m["device_type"].(string)
			dp, _ := m["data_path"].(string)
			files = append(files, file{dt, dp})
		}
	}
	var out []string
	for _, f := range files {
		code, ok := mintegralDeviceTypes[f.DeviceType]
		if !ok {
			return nil, "", fmt.Errorf("unknown device type %q in %s", f.DeviceType, why)
		}
		out = append(out, strconv.Itoa(code)+" "+f.DataPath)
	}
	slices.Sort(out)
	return out, why, nil
}

func md5File(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := md5.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
