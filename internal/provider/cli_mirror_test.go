package provider

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// cliRun runs the real CLI on the provider built as a binary (installed
// from a local mirror by terraform init), as Terraform
// runs it in production: a child process per walk, so behaviour that
// depends on the command (a saved plan applied, destroy) and on the
// process (private state written and read back, caches) is what users get.
// The CLI is the one the rest of the suite runs (TF_ACC_TERRAFORM_PATH,
// OpenTofu under make testacc-tofu), else terraform from PATH.
type cliRun struct {
	t   *testing.T
	cli string
	// cache is the provider's user cache directory (XDG_CACHE_HOME) for
	// the next commands: a new one stands for another CI runner.
	cache string
}

func newCLIRun(t *testing.T) *cliRun {
	t.Helper()
	if os.Getenv("TF_ACC") == "" || runtime.GOOS != "linux" {
		t.Skip("needs TF_ACC=1 and Linux")
	}
	work := t.TempDir()
	// A filesystem mirror under both registries' hosts, so terraform init
	// (which a backend needs) works offline under either CLI.
	mirror := mkdir(t, work, "mirror")
	platform := runtime.GOOS + "_" + runtime.GOARCH
	first := ""
	for _, host := range []string{"registry.terraform.io", "registry.opentofu.org"} {
		dir := filepath.Join(mirror, host, "audiencekit", "audience", "0.1.0", platform)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		bin := filepath.Join(dir, "terraform-provider-audience_v0.1.0")
		if first != "" {
			if err := copyFile(first, bin, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		build := exec.Command("go", "build", "-o", bin, "../..")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("go build: %v\n%s", err, out)
		}
		first = bin
	}
	writeFile(t, work, "terraformrc", `provider_installation {
  filesystem_mirror { path = "`+mirror+`" }
}
`)
	t.Setenv("TF_CLI_CONFIG_FILE", filepath.Join(work, "terraformrc"))
	t.Setenv("TF_REATTACH_PROVIDERS", "")
	t.Setenv("TF_IN_AUTOMATION", "1")
	t.Setenv("CHECKPOINT_DISABLE", "1")
	cli := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if cli == "" {
		cli = "terraform"
	}
	return &cliRun{t: t, cli: cli, cache: mkdir(t, work, "cache")}
}

// newRunner gives the next commands an empty provider cache, as a CI job
// on another runner has.
func (c *cliRun) newRunner() {
	c.cache = c.t.TempDir()
}

// run runs the CLI in dir with args (the subcommand first) and fails the
// test unless it succeeds exactly when wantOK; it returns the output.
func (c *cliRun) run(dir string, wantOK bool, args ...string) string {
	c.t.Helper()
	full := append([]string{"-chdir=" + dir, args[0], "-no-color", "-input=false"}, args[1:]...)
	cmd := exec.Command(c.cli, full...)
	cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+c.cache)
	out, err := cmd.CombinedOutput()
	if (err == nil) != wantOK {
		c.t.Fatalf("%s %s in %s: err %v, want ok=%v\n%s", c.cli, strings.Join(args, " "), dir, err, wantOK, out)
	}
	return string(out)
}

// expectOutput fails unless out holds every phrase, line breaks and
// repeated spaces aside.
func expectOutput(t *testing.T, out string, phrases ...string) {
	t.Helper()
	flat := strings.Join(strings.Fields(out), " ")
	for _, p := range phrases {
		if !strings.Contains(flat, p) {
			t.Fatalf("output lacks %q:\n%s", p, out)
		}
	}
}

// copyTree copies the directory from into to (created), file by file: new
// inodes and new times, as a fresh clone or an unpacked artifact has.
// Names in skip (at any depth) are left out.
func copyTree(t *testing.T, from, to string, skip ...string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		for _, s := range skip {
			if d.Name() == s && rel != "." {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
		}
		target := filepath.Join(to, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case info.Mode()&os.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		default:
			return copyFile(p, target, info.Mode().Perm())
		}
	})
	if err != nil {
		t.Fatal(err)
	}
}

func copyFile(from, to string, perm os.FileMode) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
