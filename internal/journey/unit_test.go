package journey

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/audiencekit/terraform-provider-audience/internal/sandbox"
)

// steps draws n steps of a journey without running them.
func drawSteps(seed uint64, n int) []string {
	j := &journey{
		cfg:      Config{Seed: seed, Dir: "/nonexistent"},
		rng:      rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		console:  map[int64]*consoleAudience{},
		profiles: 240,
	}
	j.repo = j.initialRepo()
	var out []string
	for j.n = 1; j.n <= n; j.n++ {
		out = append(out, j.pick().String())
		j.converged = j.n%3 == 0 // some steps may draw a drift check
	}
	return out
}

func TestSameSeedSameSteps(t *testing.T) {
	a, b := drawSteps(42, 300), drawSteps(42, 300)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("seed 42 drew different step %d: %q and %q", i+1, a[i], b[i])
		}
	}
	c := drawSteps(43, 300)
	if strings.Join(a, "\n") == strings.Join(c, "\n") {
		t.Fatal("seeds 42 and 43 drew the same journey")
	}
}

// Over a long journey the generator reaches every job, fault kind and
// commit, so a long run walks all of them.
func TestGeneratorCoversEveryKind(t *testing.T) {
	all := strings.Join(drawSteps(7, 2000), "\n")
	for _, want := range []string{
		"job=apply", "job=plan-apply", "job=edit-after-plan", "job=saved-plan(carry workdir)", "job=saved-plan(fresh checkout)",
		"job=pr-plan", "job=drift", "job=target -target=", "job=destroy(destroy)", "job=destroy(apply -destroy)", "job=destroy(destroy -target)",
		"job=mistake(crm)", "job=mistake(gzip)", "cache wiped",
		"+1h", "+13h", "+25h", "export +", "export -", "export edits",
		"add devices", "remove devices", "edit devices", "devices move to", "devices renamed to", "devices area", "lists move to",
		"loyalty database +", "loyalty database -", "loyalty database edits", "export trigger campaign spring-", "export max_age 48h",
		"add crm uploads", "remove crm uploads", "add fd events and banner", "remove fd events and banner", "edit banner", "edit events", "add idfa backup", "console audience (made 24h ago) imported", "console audience (made 1m ago) imported",
		"status=503", "retry-after=", "reset-after=", "reset-response-after=", "drop", "delay=", "count=1000",
		"on audience_mintegral_file.doctors", "on audience_mintegral_file.gaid", "on audience_mintegral_audience.android",
		"/tpns/", "/futuredemand/cr/api/events", "/futuredemand/api/media", "/mintegral/", "/oss/", "/s3/futuredemand", "/s3/openim", "/openim/", "/altcraft/", "/futuredemand/",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("2000 steps of seed 7 never drew %q", want)
		}
	}
}

// An aimed fault is given its resource's file name or ta_id; a fault
// whose path cannot tell resources apart stays as drawn.
func TestBindFaults(t *testing.T) {
	dir := t.TempDir()
	st := map[string]any{"version": 4, "resources": []any{
		map[string]any{"mode": "managed", "type": "audience_mintegral_audience", "name": "doctors", "instances": []any{map[string]any{
			"attributes": map[string]any{"ta_id": 1007}}}},
	}}
	raw, _ := json.Marshal(st)
	statePath := filepath.Join(dir, "terraform.tfstate")
	if err := os.WriteFile(statePath, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	j := &journey{repo: &repo{statePath: statePath, devices: true, devicesPath: "lists/android/gaid.txt"}}
	f := func(aim, on string) stepFault {
		return stepFault{Fault: sandbox.Fault{Method: "GET", PathPrefix: "/p", Status: 503}, aim: aim, on: on}
	}
	s := &step{faults: []stepFault{
		f(aimFileName, addrDoctorsFile), f(aimKeySuffix, addrGAIDFile), f(aimAudience, addrDoctorsAudience), f(aimAudience, addrAndroidAudience), f("", ""),
	}}
	if err := j.bindFaults(s); err != nil {
		t.Fatal(err)
	}
	got := []string{s.faults[0].Query, s.faults[1].PathSuffix, s.faults[2].Query, s.faults[3].Query, s.faults[4].Query + s.faults[4].PathSuffix}
	want := []string{"file_name=doctors_idfa.txt", "/gaid.txt", "ta_ids=1007", "ta_name=android-gaid", ""}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("bound %q, want %q", got, want)
	}
}

// The refusals are found in the CLI's wrapped diagnostics, on the right
// resource.
func TestDiagnostic(t *testing.T) {
	out := `Error: Not a one-column Mintegral audience file

│   with audience_mintegral_file.crm,
│   on main.tf line 80, in resource "audience_mintegral_file" "crm":
│   80:   source = "${path.root}/crm/customers.csv"
│
│ /tmp/ci/main/crm/customers.csv, line 1: the line has 10 comma-separated
│ columns, and the file must have a single column. Upload one device ID
│ per line
╵
╷
│ Error: Source file not found
│
│   with audience_mintegral_file.doctors,
`
	d := diagnostic(out, "Not a one-column Mintegral audience file", addrMistakeCRM)
	if !strings.Contains(d, "customers.csv, line 1: the line has 10 comma-separated columns, and the file must have a single column") {
		t.Errorf("diagnostic = %q", d)
	}
	if strings.Contains(d, "Source file not found") {
		t.Errorf("the next diagnostic leaked in: %q", d)
	}
	if d := diagnostic(out, "Not a one-column Mintegral audience file", addrDoctorsFile); d != "" {
		t.Errorf("found on the wrong resource: %q", d)
	}
}

func TestSecretScanner(t *testing.T) {
	c := sandbox.DefaultCredentials()
	s := newSecretScanner(c)
	token := sandbox.MintegralToken(c.MintegralAPIKey, fmt.Sprint(time.Now().Unix()))
	leaky := []string{
		"api_key=" + c.MintegralAPIKey,
		`header token: ` + token,
		"Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(c.TPNSAccessID+":"+c.TPNSSecretKey)),
		"PUT http://127.0.0.1:1/s3/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=SANDBOXSTORAGEKEY%2F2026",
		"GET /altcraft/api/download/x/y.csv?token=abc",
		`{"signature":"c2lnbmF0dXJlLXZhbHVl","policy":"eyJleHBpcmF0aW9uIjoi"}`,
		"Authorization: Bearer fd-at-0123456789abcdef0123456789abcdef",
		"form field policy=eyJleHBpcmF0aW9uIjoiMjAyNi0xMi0wNlQwMzowMDowMC4wMDBaIn0=",
		"the storage secret sandbox-storage-secret-do-not-use",
	}
	for _, line := range leaky {
		if leaks := s.scanText("test", line); len(leaks) == 0 {
			t.Errorf("no leak found in %q", line)
		}
	}
	clean := []string{
		"uploaded md5 0123456789abcdef0123456789abcdef, 1024 bytes",
		`PUT http://127.0.0.1:1/s3/mintegral-audience/audience/sandbox-access-key/20261206/ab/doctors_idfa.txt`,
		`signature=*** policy=*** url=***`,
		`{"signature":"***","authorization":"***"}`,
		"Authorization: Bearer ***",
		"data_path=s3://mintegral-audience/audience/sandbox-access-key/20261206/0a1b/doctors_idfa.txt",
	}
	for _, line := range clean {
		if leaks := s.scanText("test", line); len(leaks) > 0 {
			t.Errorf("a leak found in clean %q: %v", line, leaks)
		}
	}
}

// Secrets are found where they hide: in private state (base64 of JSON
// whose values are base64, a value base64 again), in a saved plan's zip
// entries, and on a line longer than any buffer.
func TestSecretScannerDecodesAndUnzips(t *testing.T) {
	c := sandbox.DefaultCredentials()
	s := newSecretScanner(c)
	b64 := func(v string) string { return base64.StdEncoding.EncodeToString([]byte(v)) }
	inner := `{"token":"` + b64("api_key="+c.MintegralAPIKey) + `"}`
	state := `{"resources":[{"instances":[{"private":"` + privateState(t, map[string]string{"source": inner}) + `"}]}]}`
	if leaks := s.scanDecoded("state", []byte(state), 3); len(leaks) == 0 {
		t.Error("no leak found in private state")
	}
	clean := `{"resources":[{"instances":[{"private":"` + privateState(t, map[string]string{"source": `{"md5":"0123456789abcdef0123456789abcdef"}`}) + `"}]}]}`
	if leaks := s.scanDecoded("state", []byte(clean), 3); len(leaks) > 0 {
		t.Errorf("a leak found in clean private state: %v", leaks)
	}

	dir := t.TempDir()
	plan := filepath.Join(dir, "drift.tfplan")
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	w, _ := zw.Create("tfplan")
	_, _ = w.Write([]byte("\x00\x01binary " + c.OpenIMToken + "\x00"))
	_ = zw.Close()
	if err := os.WriteFile(plan, zb.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if leaks, err := s.scanArtifact(plan); err != nil || len(leaks) == 0 {
		t.Errorf("saved plan: leaks %v, err %v", leaks, err)
	}

	long := filepath.Join(dir, "long.log")
	if err := os.WriteFile(long, []byte(strings.Repeat("x", 17<<20)+" "+c.AltcraftToken+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if leaks, err := s.scanFile(long); err != nil || len(leaks) == 0 {
		t.Errorf("a 17 MB line: leaks %v, err %v", leaks, err)
	}
}

func writeObject(t *testing.T, key string, content []byte) sandbox.Object {
	t.Helper()
	p := filepath.Join(t.TempDir(), "obj")
	if err := os.WriteFile(p, content, 0o644); err != nil {
		t.Fatal(err)
	}
	return sandbox.Object{Bucket: sandbox.BucketMintegralS3, Key: key, Path: p}
}

func TestCheckOneColumn(t *testing.T) {
	gz := func(s string) []byte {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		_, _ = zw.Write([]byte(s))
		_ = zw.Close()
		return b.Bytes()
	}
	good := "6B1E0A52-0000-4000-8000-000000000001\n6B1E0A52-0000-4000-8000-000000000002\n"
	for key, content := range map[string][]byte{"a.txt": []byte(good), "a.txt.gz": gz(good), "h.csv": []byte("idfa\r\n" + good)} {
		if err := checkOneColumn(writeObject(t, key, content)); err != nil {
			t.Errorf("%s: %v", key, err)
		}
	}
	for key, content := range map[string][]byte{
		"mail.csv":  []byte("_pid,email\n1,user1@example.com\n"),
		"mail.txt":  []byte("user1@example.com\n"),
		"tab.txt":   []byte("6B1E0A52\tx\n"),
		"short.gz":  gz(good)[:20],
		"plain.gz":  []byte(good),
		"semi.txt":  []byte("a;b\n"),
		"first.txt": []byte("6B1E0A52-0000-4000-8000-000000000001\n1,2\n"),
	} {
		if err := checkOneColumn(writeObject(t, key, content)); err == nil {
			t.Errorf("%s passed", key)
		}
	}
}

func privateState(t *testing.T, byKey map[string]string) string {
	t.Helper()
	m := map[string][]byte{}
	for k, v := range byKey {
		m[k] = []byte(v)
	}
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(raw)
}

func TestStateAndPendingFiles(t *testing.T) {
	dir := t.TempDir()
	pending := `{"files":[{"device_type":"IDFA","data_path":"s3://b/old.txt"}],"pending":true}`
	st := map[string]any{
		"version": 4,
		"resources": []any{
			map[string]any{"mode": "data", "type": "audience_id_list", "name": "x", "instances": []any{map[string]any{"attributes": map[string]any{}}}},
			map[string]any{"mode": "managed", "type": "audience_mintegral_audience", "name": "doctors", "instances": []any{map[string]any{
				"attributes": map[string]any{"ta_id": 1001, "files": []any{map[string]any{"device_type": "IDFA", "data_path": "s3://b/new.txt"}}},
				"private":    privateState(t, map[string]string{appliedKey: pending}),
			}}},
			map[string]any{"mode": "managed", "type": "audience_mintegral_audience", "name": "android", "instances": []any{map[string]any{
				"attributes": map[string]any{"ta_id": 1002, "files": []any{map[string]any{"device_type": "GAID", "data_path": "s3://b/g.txt"}}},
			}}},
		},
	}
	raw, _ := json.Marshal(st)
	p := filepath.Join(dir, "terraform.tfstate")
	if err := os.WriteFile(p, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	got, _, err := readState(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["audience_mintegral_audience.doctors"].num("ta_id") != 1001 {
		t.Fatalf("readState = %v", got)
	}
	files, why, err := expectedFiles(got["audience_mintegral_audience.doctors"])
	if err != nil || len(files) != 1 || files[0] != "2 s3://b/old.txt" || !strings.Contains(why, "pending") {
		t.Errorf("pending audience: files %v (%s), %v", files, why, err)
	}
	files, why, err = expectedFiles(got["audience_mintegral_audience.android"])
	if err != nil || len(files) != 1 || files[0] != "3 s3://b/g.txt" || why != "state" {
		t.Errorf("audience: files %v (%s), %v", files, why, err)
	}
	if missing, _, err := readState(filepath.Join(dir, "none")); err != nil || len(missing) != 0 {
		t.Errorf("a missing state file: %v, %v", missing, err)
	}
}

func TestConfigNamesEveryManagedResource(t *testing.T) {
	pipeline, err := loadPipeline(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	r := &repo{statePath: "/s/terraform.tfstate", pipeline: pipeline, listDir: "build/lists", devices: true, devicesPath: "a/b.txt", devicesArea: 2,
		crmShared: true, idfaShared: true, fdDirect: true, imports: []importedAudience{{taID: 1005, name: "console-ios-1", importBlock: true}}}
	cfg := r.config()
	for _, addr := range r.managed() {
		typ, name, _ := strings.Cut(addr, ".")
		if !strings.Contains(cfg, fmt.Sprintf("resource %q %q", typ, name)) {
			t.Errorf("config lacks %s", addr)
		}
	}
	for _, want := range []string{`to = audience_mintegral_audience.console_1005`, `"${path.root}/build/lists/doctors_idfa.txt"`,
		`"${path.root}/build/lists/doctors_accounts.txt"`, `area_type = 2`, `output_dir     = "${path.root}/exports"`} {
		if !strings.Contains(cfg, want) {
			t.Errorf("config lacks %s", want)
		}
	}
	if got := r.generatedDirs(); strings.Join(got, ",") != "exports,build" {
		t.Errorf("generatedDirs = %v", got)
	}
}

func TestDataSourcesAlwaysDrift(t *testing.T) {
	for name, want := range map[string]bool{
		"Terraform v1.11.4": false, "Terraform v1.14.9": false, "Terraform v1.15.0": true, "Terraform v1.16.0": true,
		"Terraform v2.0.0": true, "OpenTofu v1.12.6": false, "OpenTofu v1.16.0": false,
	} {
		if got := (&env{cliName: name}).dataSourcesAlwaysDrift(); got != want {
			t.Errorf("%s: %v, want %v", name, got, want)
		}
	}
}

func TestTargetChanges(t *testing.T) {
	out := "  # audience_mintegral_file.doctors will be updated in-place\n  ~ resource \"audience_mintegral_file\" \"doctors\" {"
	if targetChanges(out, []string{"audience_mintegral_audience.console_1003"}) {
		t.Error("a dependency's change counted as the target's")
	}
	if !targetChanges(out, []string{"audience_mintegral_file.doctors"}) {
		t.Error("the target's own change not seen")
	}
}

// Only a get_all whose answer was lost after the task started lets the
// client start a second export.
func TestLostGetAll(t *testing.T) {
	getAll := sandbox.PrefixAltcraft + "/api/v1.1/profiles/get_all"
	reqs := []sandbox.RequestRecord{
		{Method: "POST", Path: getAll, Fault: "dropped 200 answer"},
		{Method: "POST", Path: getAll, Fault: "200 answer reset after 12 body bytes"},
		{Method: "POST", Path: getAll, Status: 503, Fault: "injected status"},
		{Method: "POST", Path: getAll, Fault: "reset after 10 bytes"},
		{Method: "POST", Path: getAll, Fault: "delay, client gone"},
		{Method: "POST", Path: sandbox.PrefixAltcraft + "/api/v1.1/tasks/status", Fault: "dropped 200 answer"},
		{Method: "POST", Path: getAll, Status: 200},
	}
	if n := lostGetAll(reqs); n != 2 {
		t.Fatalf("lostGetAll = %d, want 2 (the dropped and the cut answer)", n)
	}
}

func TestExportingJob(t *testing.T) {
	for _, c := range []struct {
		st   step
		want bool
	}{
		{step{job: "apply"}, true}, {step{job: "saved-plan", variant: "fresh checkout"}, true}, {step{job: "edit-after-plan"}, true},
		{step{job: "target", target: addrLoyalTPNS}, true}, {step{job: "target", target: addrDoctorsFile}, false},
		{step{job: "pr-plan"}, false}, {step{job: "drift"}, false}, {step{job: "destroy", variant: "destroy"}, false}, {step{job: "mistake"}, false},
	} {
		if got := exportingJob(&c.st); got != c.want {
			t.Errorf("%s: %v, want %v", c.st.String(), got, c.want)
		}
	}
}
