package provider

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"github.com/hashicorp/go-version"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"
)

// cliWorkdir runs the Terraform CLI the suite runs under
// (TF_ACC_TERRAFORM_PATH, else terraform on PATH) in a directory of its
// own, with this provider served in-process and reattached: for the
// journeys terraform-plugin-testing cannot walk (terraform query
// -generate-config-out, destroy -target, warnings in the output, the
// state file's private data).
type cliWorkdir struct {
	t       *testing.T
	Dir     string
	cli     string
	version *version.Version
	env     []string
}

// newCLIWorkdir serves the provider and prepares an empty working
// directory; it skips the test without TF_ACC.
func newCLIWorkdir(t *testing.T) *cliWorkdir {
	t.Helper()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance test: set TF_ACC=1")
	}
	cli := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if cli == "" {
		cli = "terraform"
	}
	host := os.Getenv("TF_ACC_PROVIDER_HOST")
	if host == "" {
		host = "registry.terraform.io"
	}
	ctx, cancel := context.WithCancel(context.Background())
	reattach := make(chan *plugin.ReattachConfig)
	closed := make(chan struct{})
	go func() {
		err := tf6server.Serve(host+"/audiencekit/audience", providerserver.NewProtocol6(New("test")()),
			tf6server.WithDebug(ctx, reattach, closed),
			tf6server.WithGoPluginLogger(hclog.NewNullLogger()),
			tf6server.WithLoggingSink(t))
		if err != nil {
			t.Errorf("serving the provider: %v", err)
			close(reattach)
		}
	}()
	cfg, ok := <-reattach
	if !ok {
		cancel()
		t.FailNow()
	}
	t.Cleanup(func() { cancel(); <-closed })
	reattachJSON, err := json.Marshal(map[string]any{host + "/audiencekit/audience": map[string]any{
		"Protocol": cfg.Protocol, "ProtocolVersion": cfg.ProtocolVersion, "Pid": cfg.Pid, "Test": cfg.Test,
		"Addr": map[string]string{"Network": cfg.Addr.Network(), "String": cfg.Addr.String()},
	}})
	if err != nil {
		t.Fatal(err)
	}
	w := &cliWorkdir{t: t, Dir: t.TempDir(), cli: cli}
	// A CLI configuration of its own: nothing from this machine's, and no
	// warning about a missing one in the output.
	rc := writeFile(t, t.TempDir(), "cli.tfrc", "")
	w.env = append(os.Environ(), "TF_REATTACH_PROVIDERS="+string(reattachJSON), "TF_CLI_CONFIG_FILE="+rc, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1")
	cmd := exec.Command(cli, "version", "-json")
	cmd.Env = w.env
	out, err := cmd.Output() // stdout only: a CLI config warning goes to stderr
	if err != nil {
		t.Fatalf("%s version: %v", cli, err)
	}
	var v struct {
		Version string `json:"terraform_version"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("%s version -json: %v\n%s", cli, err, out)
	}
	if w.version, err = version.NewVersion(v.Version); err != nil {
		t.Fatal(err)
	}
	return w
}

// isOpenTofu tells OpenTofu from Terraform by the binary's name, as the
// GNUmakefile names it.
func (w *cliWorkdir) isOpenTofu() bool { return strings.Contains(filepath.Base(w.cli), "tofu") }

// skipBelowTerraform skips unless the CLI is Terraform at v or later.
func (w *cliWorkdir) skipBelowTerraform(v, why string) {
	w.t.Helper()
	if w.isOpenTofu() || w.version.LessThan(version.Must(version.NewVersion(v))) {
		w.t.Skipf("%s needs Terraform %s or later (running %s %s)", why, v, filepath.Base(w.cli), w.version)
	}
}

// write writes a file of the working directory.
func (w *cliWorkdir) write(name, content string) {
	w.t.Helper()
	writeFile(w.t, w.Dir, name, content)
}

func (w *cliWorkdir) exec(args ...string) (string, error) {
	cmd := exec.Command(w.cli, args...)
	cmd.Dir, cmd.Env = w.Dir, w.env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// run runs a CLI command with -no-color and -input=false and returns its
// output and exit code; it fails the test when the exit code is not
// one of want.
func (w *cliWorkdir) run(want []int, args ...string) (string, int) {
	w.t.Helper()
	full := append([]string{args[0], "-no-color"}, args[1:]...)
	if args[0] != "version" && args[0] != "show" && args[0] != "state" && args[0] != "query" {
		full = append(full, "-input=false")
	}
	out, err := w.exec(full...)
	code := 0
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		code = exitErr.ExitCode()
	case err != nil:
		w.t.Fatalf("%s %s: %v", w.cli, strings.Join(args, " "), err)
	}
	for _, c := range want {
		if c == code {
			return out, code
		}
	}
	w.t.Fatalf("%s %s: exit code %d, want %v\n%s", filepath.Base(w.cli), strings.Join(args, " "), code, want, out)
	return out, code
}

// ok runs a command that must succeed.
func (w *cliWorkdir) ok(args ...string) string {
	w.t.Helper()
	out, _ := w.run([]int{0}, args...)
	return out
}

// emptyPlan asserts that a plan proposes no change (-detailed-exitcode 0)
// and returns its output.
func (w *cliWorkdir) emptyPlan() string {
	w.t.Helper()
	out, _ := w.run([]int{0}, "plan", "-detailed-exitcode")
	return out
}

// stateFile is the part of the local state file these tests read.
type stateFile struct {
	Resources []struct {
		Type      string `json:"type"`
		Name      string `json:"name"`
		Instances []struct {
			Attributes map[string]any `json:"attributes"`
			Identity   map[string]any `json:"identity"`
			Private    string         `json:"private"`
		} `json:"instances"`
	} `json:"resources"`
}

// instance returns the attributes, identity and private data (by key) of
// one resource instance of the local state.
func (w *cliWorkdir) instance(typ, name string) (attrs, identity map[string]any, private map[string][]byte) {
	w.t.Helper()
	f, err := os.Open(filepath.Join(w.Dir, "terraform.tfstate"))
	if err != nil {
		w.t.Fatal(err)
	}
	defer f.Close()
	var st stateFile
	if err := json.NewDecoder(f).Decode(&st); err != nil {
		w.t.Fatal(err)
	}
	for _, r := range st.Resources {
		if r.Type != typ || r.Name != name || len(r.Instances) != 1 {
			continue
		}
		in := r.Instances[0]
		if in.Private != "" {
			raw, err := base64.StdEncoding.DecodeString(in.Private)
			if err != nil {
				w.t.Fatalf("private data of %s.%s: %v", typ, name, err)
			}
			if err := json.Unmarshal(raw, &private); err != nil {
				w.t.Fatalf("private data of %s.%s: %v\n%s", typ, name, err, raw)
			}
		}
		return in.Attributes, in.Identity, private
	}
	w.t.Fatalf("no single instance of %s.%s in the state", typ, name)
	return nil, nil, nil
}

// flat joins the words of CLI output, which wraps long diagnostics.
func flat(out string) string { return strings.Join(strings.Fields(out), " ") }

// expectIn fails unless each phrase appears in out (line breaks ignored).
func expectIn(t *testing.T, out string, phrases ...string) {
	t.Helper()
	for _, p := range phrases {
		if !strings.Contains(flat(out), p) {
			t.Fatalf("output lacks %q:\n%s", p, out)
		}
	}
}

// providerBlock declares the provider by its full source, as users do.
const providerBlock = `terraform {
  required_providers {
    audience = { source = "audiencekit/audience" }
  }
}
`
