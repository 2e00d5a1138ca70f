package release

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"golang.org/x/mod/sumdb/dirhash"

	"github.com/audiencekit/terraform-provider-audience/internal/sandbox"
)

const (
	project   = "terraform-provider-audience"
	namespace = "audiencekit"
	typeName  = "audience"
)

// release is what scripts/release-snapshot.sh left in a dist directory.
type release struct {
	dir     string
	version string
	// sums maps each file name in <project>_<version>_SHA256SUMS to its
	// hex SHA-256.
	sums map[string]string
	// platforms are the os_arch of the archives, sorted.
	platforms []string
}

func (r release) archive(platform string) string {
	return fmt.Sprintf("%s_%s_%s.zip", project, r.version, platform)
}

// TestAccReleaseInstallsFromMirrors installs the built release as a team
// does, from a filesystem mirror and from a network mirror, under
// Terraform and OpenTofu: init, providers lock for every platform built,
// plan and apply. The lock file must pin the release's version with zh:
// hashes equal to the signed SHA256SUMS, and the running provider must
// name the release's version (its User-Agent to the platform).
//
// RELEASE_DIST names the dist directory (make release-test builds it);
// RELEASE_TERRAFORM and RELEASE_TOFU the CLIs.
func TestAccReleaseInstallsFromMirrors(t *testing.T) {
	if os.Getenv("TF_ACC") == "" {
		t.Skip("needs TF_ACC=1")
	}
	dist := os.Getenv("RELEASE_DIST")
	if dist == "" {
		t.Skip("needs RELEASE_DIST, a directory built by scripts/release-snapshot.sh: run `make release-test`")
	}
	clis := []struct{ name, path, host string }{
		{"terraform", os.Getenv("RELEASE_TERRAFORM"), "registry.terraform.io"},
		{"tofu", os.Getenv("RELEASE_TOFU"), "registry.opentofu.org"},
	}
	for _, c := range clis {
		if c.path == "" {
			t.Fatalf("RELEASE_%s is not set: name the %s binary to install the release with", strings.ToUpper(c.name), c.name)
		}
	}
	rel := readRelease(t, dist)
	host := runtime.GOOS + "_" + runtime.GOARCH
	if !slices.Contains(rel.platforms, host) {
		t.Fatalf("%s has no archive for this machine (%s): %v", dist, host, rel.platforms)
	}
	if len(rel.platforms) < 2 {
		t.Fatalf("%s has archives for %v only: the lock step needs a second platform (make release-test builds darwin_arm64 too)", dist, rel.platforms)
	}

	work := t.TempDir()
	fsMirror := filesystemMirror(t, rel, filepath.Join(work, "fs-mirror"), clis[0].host, clis[1].host)
	net := startNetworkMirror(t, rel)
	caFile := filepath.Join(work, "mirror-ca.pem")
	writeFile(t, caFile, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: net.srv.Certificate().Raw})))
	platform := startPlatform(t)

	// Only the mirror, so nothing can come from a registry; include names
	// the CLI's own host, as a team's configuration would.
	// providers lock ignores provider_installation and asks the origin
	// registry unless told which mirror to read (lockFlag).
	mirrors := []struct{ name, block, lockFlag string }{
		{"filesystem", "filesystem_mirror {\n    path    = " + fmt.Sprintf("%q", fsMirror), "-fs-mirror=" + fsMirror},
		{"network", "network_mirror {\n    url     = " + fmt.Sprintf("%q", net.srv.URL+"/"), "-net-mirror=" + net.srv.URL + "/"},
	}
	for _, c := range clis {
		for _, m := range mirrors {
			t.Run(c.name+"/"+m.name, func(t *testing.T) {
				dir := t.TempDir()
				writeFile(t, filepath.Join(dir, "cli.tfrc"), fmt.Sprintf("provider_installation {\n  %s\n    include = [\"%s/%s/%s\"]\n  }\n}\n", m.block, c.host, namespace, typeName))
				env := cliEnv(map[string]string{
					"TF_CLI_CONFIG_FILE": filepath.Join(dir, "cli.tfrc"),
					"SSL_CERT_FILE":      caFile,
					"CHECKPOINT_DISABLE": "1",
					"TF_IN_AUTOMATION":   "1",
					"XDG_CACHE_HOME":     filepath.Join(dir, "cache"),
				}, platform.env)
				root := filepath.Join(dir, "root")
				writeConfig(t, root)
				run := func(args ...string) string {
					t.Helper()
					full := append([]string{"-chdir=" + root}, args...)
					cmd := exec.Command(c.path, full...)
					cmd.Env = env
					out, err := cmd.CombinedOutput()
					if err != nil {
						t.Fatalf("%s %s: %v\n%s", c.name, strings.Join(args, " "), err, out)
					}
					return string(out)
				}
				fetchedBefore := net.fetched(rel.archive(host))

				out := run("init", "-no-color", "-input=false")
				expect(t, out, "Installed "+namespace+"/"+typeName+" v"+rel.version)
				lockArgs := []string{"providers", "lock", m.lockFlag}
				for _, p := range rel.platforms {
					lockArgs = append(lockArgs, "-platform="+p)
				}
				run(lockArgs...)
				// OpenTofu records the zh: hashes a network mirror serves;
				// Terraform records zh: hashes only from a registry's signed
				// SHA256SUMS, so from a mirror its lock has h1: alone.
				checkLock(t, filepath.Join(root, ".terraform.lock.hcl"), c.host, rel, c.name == "tofu" && m.name == "network")
				if m.name == "network" && net.fetched(rel.archive(host)) == fetchedBefore {
					t.Fatalf("the network mirror served no %s: the CLI installed from elsewhere", rel.archive(host))
				}

				uaBefore := platform.sawUserAgent(project + "/" + rel.version)
				out = run("plan", "-no-color", "-input=false", "-out=tfplan")
				expect(t, out, "Changes to Outputs", "ids = 3")
				out = run("apply", "-no-color", "-input=false", "tfplan")
				expect(t, out, "Apply complete!", "ids = 3")
				if platform.sawUserAgent(project+"/"+rel.version) == uaBefore {
					t.Fatalf("the provider never called the platform as %s/%s; User-Agents seen: %v", project, rel.version, platform.userAgents())
				}
				// A second init with the lock file in place installs the
				// locked version again, checked against its hashes.
				if err := os.RemoveAll(filepath.Join(root, ".terraform")); err != nil {
					t.Fatal(err)
				}
				run("init", "-no-color", "-input=false", "-lockfile=readonly")
			})
		}
	}
}

// readRelease reads the dist directory and checks what the registries
// check: every file of SHA256SUMS present with its sum, the signature
// verifying with the key the script exported.
func readRelease(t *testing.T, dir string) release {
	t.Helper()
	matches, _ := filepath.Glob(filepath.Join(dir, project+"_*_SHA256SUMS"))
	if len(matches) != 1 {
		t.Fatalf("%s: want one %s_<version>_SHA256SUMS, found %v", dir, project, matches)
	}
	sumsFile := matches[0]
	rel := release{
		dir:     dir,
		version: strings.TrimSuffix(strings.TrimPrefix(filepath.Base(sumsFile), project+"_"), "_SHA256SUMS"),
		sums:    map[string]string{},
	}
	f, err := os.Open(sumsFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	line := regexp.MustCompile(`^([0-9a-f]{64})  (\S+)$`)
	archive := regexp.MustCompile(`^` + regexp.QuoteMeta(project+"_"+rel.version+"_") + `([a-z0-9]+_[a-z0-9]+)\.zip$`)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := line.FindStringSubmatch(sc.Text())
		if m == nil {
			t.Fatalf("%s: unexpected line %q", sumsFile, sc.Text())
		}
		rel.sums[m[2]] = m[1]
		if a := archive.FindStringSubmatch(m[2]); a != nil {
			rel.platforms = append(rel.platforms, a[1])
		} else if m[2] != project+"_"+rel.version+"_manifest.json" {
			t.Fatalf("%s lists %s, which is neither an archive nor the manifest: the registries reject it", sumsFile, m[2])
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	sort.Strings(rel.platforms)
	if _, ok := rel.sums[project+"_"+rel.version+"_manifest.json"]; !ok {
		t.Fatalf("%s does not list the registry manifest", sumsFile)
	}
	for name, want := range rel.sums {
		if got := sha256File(t, filepath.Join(dir, name)); got != want {
			t.Fatalf("%s: SHA-256 %s, SHA256SUMS says %s", name, got, want)
		}
	}

	// The signature, checked with gpg as a maintainer would.
	home := t.TempDir()
	gpg := func(args ...string) {
		t.Helper()
		cmd := exec.Command("gpg", append([]string{"--homedir", home, "--batch"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("gpg %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	gpg("--import", filepath.Join(dir, "signing-key.asc"))
	gpg("--verify", sumsFile+".sig", sumsFile)
	t.Cleanup(func() { _ = exec.Command("gpgconf", "--homedir", home, "--kill", "all").Run() })
	return rel
}

// filesystemMirror lays the archives out in the packed layout
// (HOST/NAMESPACE/TYPE/<archive>.zip) under each host.
func filesystemMirror(t *testing.T, rel release, dir string, hosts ...string) string {
	t.Helper()
	for _, h := range hosts {
		d := filepath.Join(dir, h, namespace, typeName)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, p := range rel.platforms {
			if err := os.Symlink(filepath.Join(rel.dir, rel.archive(p)), filepath.Join(d, rel.archive(p))); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dir
}

// networkMirror serves the provider network mirror protocol
// (https://developer.hashicorp.com/terraform/internals/provider-network-mirror-protocol)
// for the release under any host, over HTTPS with httptest's certificate,
// which the CLIs trust through SSL_CERT_FILE.
type networkMirror struct {
	srv *httptest.Server
	mu  sync.Mutex
	got map[string]int
}

func startNetworkMirror(t *testing.T, rel release) *networkMirror {
	t.Helper()
	m := &networkMirror{got: map[string]int{}}
	archives := map[string]any{}
	for _, p := range rel.platforms {
		archives[p] = map[string]any{
			"url":    rel.archive(p),
			"hashes": []string{"zh:" + rel.sums[rel.archive(p)]},
		}
	}
	index, _ := json.Marshal(map[string]any{"versions": map[string]any{rel.version: map[string]any{}}})
	versionDoc, _ := json.Marshal(map[string]any{"archives": archives})
	m.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
		if len(parts) != 4 || parts[1] != namespace || parts[2] != typeName {
			http.NotFound(w, r)
			return
		}
		m.mu.Lock()
		m.got[parts[3]]++
		m.mu.Unlock()
		switch file := parts[3]; {
		case file == "index.json":
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(index)
		case file == rel.version+".json":
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(versionDoc)
		case rel.sums[file] != "" && strings.HasSuffix(file, ".zip"):
			http.ServeFile(w, r, filepath.Join(rel.dir, file))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(m.srv.Close)
	return m
}

func (m *networkMirror) fetched(file string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.got[file]
}

// platformProxy is the sandbox behind a loopback proxy that notes each
// request's User-Agent: the provider names its version there.
type platformProxy struct {
	env map[string]string
	mu  sync.Mutex
	ua  map[string]int
}

func startPlatform(t *testing.T) *platformProxy {
	t.Helper()
	sb, err := sandbox.New(sandbox.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if err := sb.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sb.Close() })
	target, err := url.Parse(sb.URL())
	if err != nil {
		t.Fatal(err)
	}
	p := &platformProxy{env: map[string]string{}, ua: map[string]int{}}
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.ua[r.UserAgent()]++
		p.mu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	for k, v := range sb.Env() {
		p.env[k] = strings.ReplaceAll(v, sb.URL(), srv.URL)
	}
	return p
}

func (p *platformProxy) sawUserAgent(ua string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ua[ua]
}

func (p *platformProxy) userAgents() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for ua := range p.ua {
		out = append(out, ua)
	}
	return out
}

// writeConfig writes the root module: the release from either registry's
// address with the README's constraint, an ID list from a local export,
// and one platform read (the Mintegral audience list).
func writeConfig(t *testing.T, root string) {
	t.Helper()
	writeFile(t, filepath.Join(root, "export.csv"), "email,idfa\na@example.com,6D92078A-8246-4BA4-AE5B-76104861E7DC\nb@example.com,8C8A5D8E-1F3B-4C7B-9E5A-2B1D3C4E5F60\nc@example.com,0F1E2D3C-4B5A-6978-8A9B-ACBDCEDFE0F1\n")
	writeFile(t, filepath.Join(root, "main.tf"), `terraform {
  required_providers {
    audience = {
      source  = "audiencekit/audience"
      version = "~> 0.1"
    }
  }
}

data "audience_id_list" "idfa" {
  source      = "${path.module}/export.csv"
  column      = "idfa"
  case        = "upper"
  format      = "uuid"
  output_path = "${path.module}/build/idfa.txt"
}

data "audience_mintegral_audiences" "all" {}

output "ids" {
  value = data.audience_id_list.idfa.entry_count
}

output "audiences" {
  value = length(data.audience_mintegral_audiences.all.audiences)
}
`)
}

// checkLock checks the lock file's entry for the provider: the release's
// version, an h1: hash per platform equal to the hash of its archive's
// content, and zh: hashes only from SHA256SUMS (one per platform when
// wantZH).
func checkLock(t *testing.T, path, host string, rel release, wantZH bool) {
	t.Helper()
	b, err := os.ReadFile(path) // a small file the CLI wrote, not user data
	if err != nil {
		t.Fatal(err)
	}
	lock := string(b)
	block := regexp.MustCompile(`(?s)provider "` + regexp.QuoteMeta(host+"/"+namespace+"/"+typeName) + `" \{(.*?)\n\}`).FindStringSubmatch(lock)
	if block == nil {
		t.Fatalf("the lock file has no entry for %s/%s/%s:\n%s", host, namespace, typeName, lock)
	}
	if !strings.Contains(block[1], `version     = "`+rel.version+`"`) {
		t.Fatalf("the lock file does not pin %s:\n%s", rel.version, lock)
	}
	var zh, h1 []string
	for _, m := range regexp.MustCompile(`"((?:zh|h1):[^"]+)"`).FindAllStringSubmatch(block[1], -1) {
		if strings.HasPrefix(m[1], "zh:") {
			zh = append(zh, m[1])
		} else {
			h1 = append(h1, m[1])
		}
	}
	var wantZHs, wantH1s []string
	for _, p := range rel.platforms {
		wantZHs = append(wantZHs, "zh:"+rel.sums[rel.archive(p)])
		h, err := dirhash.HashZip(filepath.Join(rel.dir, rel.archive(p)), dirhash.Hash1)
		if err != nil {
			t.Fatal(err)
		}
		wantH1s = append(wantH1s, h)
	}
	sort.Strings(wantZHs)
	sort.Strings(wantH1s)
	sort.Strings(zh)
	sort.Strings(h1)
	if !slices.Equal(h1, wantH1s) {
		t.Fatalf("lock file h1: hashes %v, want those of the archives of %v: %v\n%s", h1, rel.platforms, wantH1s, lock)
	}
	if wantZH && !slices.Equal(zh, wantZHs) || !wantZH && len(zh) > 0 && !slices.Equal(zh, wantZHs) {
		t.Fatalf("lock file zh: hashes %v, want the SHA256SUMS entries of %v: %v\n%s", zh, rel.platforms, wantZHs, lock)
	}
}

// cliEnv is the test's environment without what would steer the CLI away
// from the mirror (a reattached provider, a plugin cache, extra args), with
// set and extra added.
func cliEnv(set, extra map[string]string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "TF_") || strings.HasPrefix(k, "TOFU_") || set[k] != "" || extra[k] != "" {
			continue
		}
		env = append(env, kv)
	}
	for _, m := range []map[string]string{set, extra} {
		for k, v := range m {
			env = append(env, k+"="+v)
		}
	}
	return env
}

func expect(t *testing.T, out string, phrases ...string) {
	t.Helper()
	flat := strings.Join(strings.Fields(out), " ")
	for _, p := range phrases {
		if !strings.Contains(flat, p) {
			t.Fatalf("output lacks %q:\n%s", p, out)
		}
	}
}

func sha256File(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
