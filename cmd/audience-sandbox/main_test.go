package main

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/audiencekit/terraform-provider-audience/internal/sandbox"
)

// -h lists exactly the keys the fault parser knows.
func TestFaultKeyHelpListsEveryKey(t *testing.T) {
	_, err := sandbox.ParseFault("/ no-such-key=1")
	if err == nil {
		t.Fatal("an unknown key was accepted")
	}
	_, known, ok := strings.Cut(err.Error(), "known: ")
	if !ok {
		t.Fatalf("the parser's error no longer lists the known keys: %v", err)
	}
	parserKeys := strings.Split(strings.TrimSpace(known), ", ")

	var helpKeys []string
	for _, m := range regexp.MustCompile(`(?m)^\s+([a-z-]+)[=\s]`).FindAllStringSubmatch(faultKeyHelp, -1) {
		helpKeys = append(helpKeys, m[1])
	}
	slices.Sort(parserKeys)
	slices.Sort(helpKeys)
	if !slices.Equal(parserKeys, helpKeys) {
		t.Fatalf("-h lists %v, the parser knows %v", helpKeys, parserKeys)
	}
	// Each example in the help parses as written.
	for _, line := range strings.Split(faultKeyHelp, "\n") {
		example := strings.Fields(line)[0]
		spec := "GET /mintegral/ " + example
		if !strings.HasPrefix(example, "status=") && !strings.HasPrefix(example, "reset") && example != "drop" && !strings.HasPrefix(example, "delay") && !strings.HasPrefix(example, "respell") {
			spec += " status=503" // retry-after and count need an action
		}
		if _, err := sandbox.ParseFault(spec); err != nil {
			t.Errorf("help example %q: %v", example, err)
		}
	}
}

// Seeding on every start of the same directory keeps n console audiences,
// not n more each time.
func TestSeedingAgainOnTheSameDirAddsNothing(t *testing.T) {
	dir := t.TempDir()
	for start, want := range []int{3, 0, 1} {
		srv, err := sandbox.New(sandbox.Config{Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		n := 3
		if start == 2 {
			n = 4
		}
		added, err := seedConsoleAudiences(srv, n)
		if err != nil || added != want {
			t.Fatalf("start %d: added %d, %v; want %d", start+1, added, err, want)
		}
		if got := len(srv.MintegralAudiences()); got != n {
			t.Fatalf("start %d: %d audiences, want %d", start+1, got, n)
		}
	}
}

// sandboxBinary builds the command into a temporary directory.
func sandboxBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "audience-sandbox")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// runSandbox starts the binary and returns its URL once it listens; stop
// interrupts it as Ctrl-C does and waits for it to exit.
func runSandbox(t *testing.T, bin string, args ...string) (url string, stop func()) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"-addr", "127.0.0.1:0"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		if rest, ok := strings.CutPrefix(lines.Text(), "audience sandbox listening on "); ok {
			url, _, _ = strings.Cut(rest, " ")
			break
		}
	}
	if url == "" {
		_ = cmd.Wait()
		t.Fatalf("the sandbox did not start: %s", stderr.String())
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		_ = cmd.Process.Signal(os.Interrupt)
		if err := cmd.Wait(); err != nil {
			t.Errorf("the sandbox did not stop cleanly: %v\n%s", err, stderr.String())
		}
	}
	t.Cleanup(stop)
	return url, stop
}

func call(t *testing.T, method, url, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// A rehearsal with the binary alone: flags load a team's profiles and move
// the clock, the admin endpoints change both while it runs, and a restart
// on the same -dir keeps it all.
func TestBinaryRehearsalSurvivesARestart(t *testing.T) {
	bin := sandboxBinary(t)
	dir := t.TempDir()
	crm := filepath.Join(t.TempDir(), "crm.csv")
	if err := os.WriteFile(crm, []byte("_pid,email,idfa\n1,a@example.com,AEBE52E7-03EE-455A-B3C4-E57283966239\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	url, stop := runSandbox(t, bin, "-dir", dir, "-clock-advance", "13h", "-altcraft-profiles", "segment/4711="+crm)
	if code, body := call(t, http.MethodGet, url+sandbox.AdminClockPath, ""); code != http.StatusOK || !strings.Contains(body, `"advanced":"13h0m0s"`) {
		t.Fatalf("clock after -clock-advance 13h: HTTP %d %s", code, body)
	}
	if code, body := call(t, http.MethodGet, url+sandbox.AdminAltcraftProfilesPath+"/segment/4711", ""); code != http.StatusOK || !strings.Contains(body, "AEBE52E7") {
		t.Fatalf("profiles from -altcraft-profiles: HTTP %d %s", code, body)
	}
	_, all := call(t, http.MethodGet, url+sandbox.AdminAltcraftProfilesPath+"/segment/7", "")
	collapsed := strings.Join(strings.SplitAfter(all, "\n")[:3], "")
	if code, body := call(t, http.MethodPut, url+sandbox.AdminAltcraftProfilesPath+"/segment/7", collapsed); code != http.StatusOK || !strings.Contains(body, `"profiles":2`) {
		t.Fatalf("PUT a collapsed segment 7: HTTP %d %s", code, body)
	}
	if code, body := call(t, http.MethodPost, url+sandbox.AdminClockPath, `{"advance":"1h"}`); code != http.StatusOK || !strings.Contains(body, `"advanced":"14h0m0s"`) {
		t.Fatalf("POST advance 1h: HTTP %d %s", code, body)
	}
	stop()

	url, _ = runSandbox(t, bin, "-dir", dir)
	if code, body := call(t, http.MethodGet, url+sandbox.AdminClockPath, ""); code != http.StatusOK || !strings.Contains(body, `"advanced":"14h0m0s"`) {
		t.Fatalf("clock after a restart: HTTP %d %s", code, body)
	}
	if _, body := call(t, http.MethodGet, url+sandbox.AdminAltcraftProfilesPath+"/segment/7", ""); body != collapsed {
		t.Fatalf("segment 7 after a restart: %q, want the collapsed %q", body, collapsed)
	}
	if _, body := call(t, http.MethodGet, url+sandbox.AdminAltcraftProfilesPath+"/segment/4711", ""); !strings.Contains(body, "AEBE52E7") {
		t.Fatalf("segment 4711 after a restart: %q", body)
	}
}

// -h lists the new flags; bad values stop the start with what to give.
func TestBinaryFlags(t *testing.T) {
	bin := sandboxBinary(t)
	help, _ := exec.Command(bin, "-h").CombinedOutput()
	for _, flag := range []string{"-clock-advance duration", "-altcraft-profiles type/id=file.csv", sandbox.AdminClockPath, sandbox.AdminAltcraftProfilesPath} {
		if !strings.Contains(string(help), flag) {
			t.Errorf("-h does not mention %s:\n%s", flag, help)
		}
	}
	bad := filepath.Join(t.TempDir(), "bad.csv")
	if err := os.WriteFile(bad, []byte("_pid,age\n1,old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ args, want string }{
		{"-clock-advance -1h", "the clock only moves forward"},
		{"-altcraft-profiles segment7=x.csv", "segment/<id>=<file.csv>"},
		{"-altcraft-profiles segment/7=" + filepath.Join(t.TempDir(), "missing.csv"), "missing.csv: no such file"},
		{"-altcraft-profiles segment/7=" + bad, bad + ": line 2, column age: \"old\" is not a number"},
	} {
		out, err := exec.Command(bin, append([]string{"-addr", "127.0.0.1:0", "-dir", t.TempDir()}, strings.Fields(c.args)...)...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), c.want) {
			t.Errorf("%s: %v\n%s\nwant an error with %q", c.args, err, out, c.want)
		}
	}
}
