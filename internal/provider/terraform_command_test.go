package provider

import (
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"testing"
)

func TestAppliesSavedPlan(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{[]string{"terraform", "apply", "tfplan"}, true},
		{[]string{"terraform", "-chdir=infra", "apply", "-auto-approve", "-parallelism", "4", "tfplan"}, true},
		{[]string{"tofu", "apply", "-input=false", "plan.out"}, true},
		{[]string{"terraform", "apply"}, false},
		{[]string{"terraform", "apply", "-auto-approve", "-var", "x=1", "-var-file", "prod.tfvars"}, false},
		{[]string{"terraform", "apply", "-destroy"}, false},
		{[]string{"terraform", "plan", "-out=tfplan"}, false},
		{[]string{"terraform", "destroy"}, false},
		{[]string{"some-wrapper"}, true},
	} {
		if got := appliesSavedPlan(tc.args); got != tc.want {
			t.Errorf("appliesSavedPlan(%q) = %v, want %v", tc.args, got, tc.want)
		}
	}
}

func TestIsPlainPlan(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{[]string{"terraform", "plan"}, true},
		{[]string{"terraform", "-chdir=infra", "apply", "-auto-approve"}, true},
		{[]string{"tofu", "plan", "-out", "tfplan"}, true},
		{[]string{"terraform", "destroy", "-auto-approve"}, false},
		{[]string{"terraform", "apply", "-destroy"}, false},
		{[]string{"terraform", "plan", "-destroy"}, false},
		{[]string{"terraform", "apply", "-refresh-only"}, false},
		{[]string{"/usr/local/go/bin/go", "test", "./internal/provider", "-run", "TestAcc"}, false},
		{nil, false},
	} {
		if got := isPlainPlan(tc.args); got != tc.want {
			t.Errorf("isPlainPlan(%q) = %v, want %v", tc.args, got, tc.want)
		}
	}
}

// A provider started through a wrapper (here sh, as /usr/bin/time or a
// debugger would) still finds the Terraform command it runs under: the
// test binary plays Terraform with "apply tfplan" on its command line,
// and plays the provider two processes below it.
func TestTerraformProcessThroughWrapper(t *testing.T) {
	switch os.Getenv("AUDIENCE_TEST_ROLE") {
	case "terraform":
		cmd := exec.Command("sh", "-c", `"$0" -test.run='^TestTerraformProcessThroughWrapper$'; exit $?`, os.Args[0])
		cmd.Env = append(os.Environ(), "AUDIENCE_TEST_ROLE=provider")
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			os.Exit(1)
		}
		return
	case "provider":
		pid, args := terraformProcess()
		fmt.Printf("terraform pid %d, saved plan %v\n", pid, appliesSavedPlan(args))
		return
	}
	if runtime.GOOS != "linux" && runtime.GOOS != "darwin" {
		t.Skip("command lines are read on Linux and macOS only")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestTerraformProcessThroughWrapper$", "--", "apply", "tfplan")
	cmd.Env = append(os.Environ(), "AUDIENCE_TEST_ROLE=terraform")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	want := fmt.Sprintf("terraform pid %d, saved plan true", cmd.Process.Pid)
	if !strings.Contains(string(out), want) {
		t.Fatalf("the provider under a wrapper said %q, want %q", out, want)
	}
}

func TestParentOf(t *testing.T) {
	if runtime.GOOS != "linux" && runtime.GOOS != "darwin" {
		t.Skip("parents are read on Linux and macOS only")
	}
	if got := parentOf(os.Getpid()); got != os.Getppid() {
		t.Fatalf("parentOf(self) = %d, want %d", got, os.Getppid())
	}
	if got := parentOf(-1); got != 0 {
		t.Fatalf("parentOf(-1) = %d, want 0", got)
	}
}

func TestParseProcArgs2(t *testing.T) {
	record := func(argc uint32, rest string) []byte {
		return append(binary.LittleEndian.AppendUint32(nil, argc), rest...)
	}
	for _, tc := range []struct {
		name string
		raw  []byte
		want []string
	}{
		{"padded path, then arguments and environment", record(3, "/usr/local/bin/terraform\x00\x00\x00\x00terraform\x00apply\x00tfplan\x00PATH=/usr/bin\x00"), []string{"terraform", "apply", "tfplan"}},
		{"no padding", record(2, "/opt/tofu\x00tofu\x00plan\x00"), []string{"tofu", "plan"}},
		{"cut short", record(3, "/bin/terraform\x00terraform\x00app"), []string{"terraform", "app"}},
		{"too short for argc", []byte{1, 0}, nil},
		{"no path end", record(1, "/bin/terraform"), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := parseProcArgs2(tc.raw); !slices.Equal(got, tc.want) {
				t.Fatalf("parseProcArgs2 = %q, want %q", got, tc.want)
			}
		})
	}
}

// Advice names the CLI that runs the provider, and neither when unknown.
func TestCLICommand(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"tofu", "apply", "tfplan"}, "tofu plan"},
		{[]string{"/usr/local/bin/tofu", "plan"}, "tofu plan"},
		{[]string{"/opt/hashicorp/terraform", "-chdir=x", "plan"}, "terraform plan"},
		{[]string{"TERRAFORM.EXE", "apply"}, "terraform plan"},
		{[]string{"some-wrapper", "plan"}, "plan"},
		{nil, "plan"},
	} {
		if got := joinCLI(cliOf(tc.args), "plan"); got != tc.want {
			t.Errorf("%q: %q, want %q", tc.args, got, tc.want)
		}
	}
	// The test binary runs under go test, not a CLI: advice names neither.
	if got := cliCommand("state rm"); got != "state rm" {
		t.Errorf("cliCommand under go test = %q", got)
	}
}
