package journey

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/audiencekit/terraform-provider-audience/internal/sandbox"
)

// providerVersion is the version the journey's provider build announces
// and the mirror serves.
const providerVersion = "0.1.0"

// commandTimeout bounds one CLI command; a hang is a finding.
const commandTimeout = 5 * time.Minute

// env is the harness: the CLI, the provider build, the sandbox and the
// directories of one run.
type env struct {
	dir     string // the run's directory, kept on failure
	cli     string // terraform or tofu binary
	cliName string // its first line of `version`
	sb      *sandbox.Server
	sbDir   string

	mu       sync.Mutex
	requests []sandbox.RequestRecord // since the step began

	seq     int        // commands run, numbers log files
	last    *cmdResult // the last command, for the failure report
	scanner *secretScanner
}

// cmdResult is one CLI command and what it did.
type cmdResult struct {
	dir    string
	args   []string
	output string // stdout and stderr, interleaved
	code   int    // exit status; -1 when it did not run to an end
	log    string // TF_LOG file
	took   time.Duration
}

func (c *cmdResult) String() string {
	return fmt.Sprintf("%s (in %s, exit %d, %s)", strings.Join(c.args, " "), c.dir, c.code, c.took.Round(time.Millisecond))
}

// setupEnv builds the provider, lays out the mirror and the CLI
// configuration, and starts the sandbox.
func setupEnv(ctx context.Context, dir, cli, moduleRoot string) (*env, error) {
	e := &env{dir: dir, cli: cli, sbDir: filepath.Join(dir, "sandbox")}

	// Built as the release builds it (.goreleaser.yml), and installed by
	// init from a filesystem mirror under both registries' hosts, the way
	// a user's CLI installs it from a registry. dev_overrides would need
	// no init, but a backend does, and init refuses to run offline with
	// overrides.
	bin := filepath.Join(dir, "build", "terraform-provider-audience")
	build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", "-s -w -X main.version="+providerVersion, "-o", bin, ".")
	build.Dir = moduleRoot
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("building the provider: %v: %s", err, out)
	}
	platform := runtime.GOOS + "_" + runtime.GOARCH
	for _, host := range []string{"registry.terraform.io", "registry.opentofu.org"} {
		d := filepath.Join(dir, "mirror", host, "audiencekit", "audience", providerVersion, platform)
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
		if err := os.Link(bin, filepath.Join(d, "terraform-provider-audience_v"+providerVersion)); err != nil {
			return nil, err
		}
	}
	rc := fmt.Sprintf("provider_installation {\n  filesystem_mirror {\n    path = %q\n  }\n}\n", filepath.Join(dir, "mirror"))
	if err := os.WriteFile(filepath.Join(dir, "cli.tfrc"), []byte(rc), 0o644); err != nil {
		return nil, err
	}
	version := exec.CommandContext(ctx, cli, "version")
	version.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "CHECKPOINT_DISABLE=1", "TF_CLI_CONFIG_FILE=" + filepath.Join(dir, "cli.tfrc")}
	out, err := version.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("%s version: %v: %s", cli, err, out)
	}
	e.cliName = cliVersion.FindString(string(out))
	if e.cliName == "" {
		return nil, fmt.Errorf("%s version: no Terraform or OpenTofu version in %q", cli, out)
	}
	for _, d := range []string{"logs", "state", "cache", "ci"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return nil, err
		}
	}
	if err := e.startSandbox(); err != nil {
		return nil, err
	}
	e.scanner = newSecretScanner(sandbox.DefaultCredentials())
	return e, nil
}

func (e *env) startSandbox() error {
	sb, err := sandbox.New(sandbox.Config{Dir: e.sbDir, RequestLog: e.logRequest})
	if err != nil {
		return err
	}
	if err := sb.Start("127.0.0.1:0"); err != nil {
		return err
	}
	e.sb = sb
	return nil
}

func (e *env) close() {
	if e.sb != nil {
		_ = e.sb.Close()
	}
}

func (e *env) logRequest(r sandbox.RequestRecord) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.requests = append(e.requests, r)
}

// takeRequests returns the requests since the last call.
func (e *env) takeRequests() []sandbox.RequestRecord {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := e.requests
	e.requests = nil
	return out
}

// baseEnv is the environment every command runs with: the sandbox's
// endpoints and credentials, the CLI configuration, and the provider's
// cache directory. Nothing else is inherited but PATH and HOME.
func (e *env) baseEnv(cacheDir, logPath, logLevel string) []string {
	vars := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + os.Getenv("HOME"),
		"TMPDIR=" + os.TempDir(),
		"TF_CLI_CONFIG_FILE=" + filepath.Join(e.dir, "cli.tfrc"),
		"TF_IN_AUTOMATION=1",
		"TF_INPUT=0",
		"CHECKPOINT_DISABLE=1",
		"XDG_CACHE_HOME=" + cacheDir,
		"TF_LOG=" + logLevel,
		"TF_LOG_PATH=" + logPath,
	}
	for k, v := range e.sb.Env() {
		vars = append(vars, k+"="+v)
	}
	sort.Strings(vars)
	return vars
}

// tf runs one CLI command in dir. Commands that take them get -no-color
// and -input=false.
func (e *env) tf(ctx context.Context, dir, cacheDir, logLevel string, args ...string) *cmdResult {
	e.seq++
	sub := args[0]
	full := append([]string{sub}, "-no-color")
	switch sub {
	case "init", "plan", "apply", "destroy", "import":
		full = append(full, "-input=false")
	}
	full = append(full, args[1:]...)
	logPath := filepath.Join(e.dir, "logs", fmt.Sprintf("%04d-%s.log", e.seq, sub))
	ctx, cancel := context.WithTimeout(ctx, commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.cli, full...)
	cmd.Dir = dir
	cmd.Env = e.baseEnv(cacheDir, logPath, logLevel)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 10 * time.Second
	start := time.Now()
	err := cmd.Run()
	res := &cmdResult{dir: dir, args: append([]string{filepath.Base(e.cli)}, full...), output: out.String(), code: 0, log: logPath, took: time.Since(start)}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		res.code = exit.ExitCode()
	case err != nil:
		res.code = -1
		res.output += "\n[journey] " + err.Error()
	}
	if ctx.Err() != nil {
		res.code = -1
		res.output += fmt.Sprintf("\n[journey] killed after %s", commandTimeout)
	}
	e.last = res
	_ = os.WriteFile(strings.TrimSuffix(logPath, ".log")+".out", []byte(res.String()+"\n\n"+res.output), 0o644)
	return res
}

// pruneLogs keeps the logs of the last few commands; the rest were
// scanned already.
func (e *env) pruneLogs(keep int) {
	entries, err := os.ReadDir(filepath.Join(e.dir, "logs"))
	if err != nil {
		return
	}
	var names []string
	for _, en := range entries {
		names = append(names, en.Name())
	}
	sort.Strings(names)
	limit := e.seq - keep
	for _, n := range names {
		var seq int
		if _, err := fmt.Sscanf(n, "%04d-", &seq); err == nil && seq <= limit {
			_ = os.Remove(filepath.Join(e.dir, "logs", n))
		}
	}
}

// copyTree copies a directory, as a CI system carries a job's working
// directory to the next job: regular files get new inodes, symlinks are
// copied as links.
func copyTree(src, dst string) error {
	return filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		switch {
		case info.IsDir():
			return os.MkdirAll(target, info.Mode().Perm()|0o700)
		case info.Mode()&os.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, info.Mode().Perm())
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			_ = out.Close()
			return err
		}
		return out.Close()
	})
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("[... %d lines before]", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

// errorSummary picks the CLI's error headlines out of its output.
func errorSummary(out string) string {
	var heads []string
	for _, m := range errorHead.FindAllStringSubmatch(out, -1) {
		if h := strings.TrimSpace(m[1]); !slices.Contains(heads, h) {
			heads = append(heads, h)
		}
	}
	return strings.Join(heads, "; ")
}

var errorHead = regexp.MustCompile(`(?m)^[│ ]*Error: (.*)$`)

var cliVersion = regexp.MustCompile(`(Terraform|OpenTofu) v([0-9]+)\.([0-9]+)[^\s]*`)

func (e *env) openTofu() bool { return strings.HasPrefix(e.cliName, "OpenTofu") }

// dataSourcesAlwaysDrift: Terraform 1.15 and newer count every data
// source in state as changed by a refresh-only plan, whose exit code is
// then 2 with "No changes".
func (e *env) dataSourcesAlwaysDrift() bool {
	m := cliVersion.FindStringSubmatch(e.cliName)
	if m == nil || m[1] != "Terraform" {
		return false
	}
	major, _ := strconv.Atoi(m[2])
	minor, _ := strconv.Atoi(m[3])
	return major > 1 || minor >= 15
}
