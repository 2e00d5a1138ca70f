package provider

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/audiencekit/terraform-provider-audience/internal/filestate"
)

// Terraform's protocol does not tell a provider which command runs it, yet
// two upload decisions depend on it. Terraform (or OpenTofu) starts the
// provider as its child, so its command line is the parent's (or, when
// something wraps the provider, a nearer ancestor's).

// terraformProcess finds the Terraform process the provider runs under:
// its parent, or a nearer ancestor when something wraps the provider (a
// tool measuring it, a debugger). It returns the pid and command line of
// the first ancestor whose command line names a Terraform subcommand, or
// the parent's pid and nil when there is none or the system does not tell
// (Windows, or a provider served in-process by tests). commandLine and
// parentOf read /proc on Linux and sysctl on macOS.
func terraformProcess() (int, []string) {
	pid := os.Getppid()
	for range 4 {
		args := commandLine(pid)
		if cmd, _ := subcommand(args); cmd != "" {
			return pid, args
		}
		next := parentOf(pid)
		if next <= 1 {
			break
		}
		pid = next
	}
	return os.Getppid(), nil
}

// parseProcArgs2 reads macOS's kern.procargs2 record: argc as a 32-bit
// integer (little-endian on every Mac Go supports), the executable's path,
// NUL padding, then argc NUL-terminated arguments; the environment follows
// and is not read.
func parseProcArgs2(raw []byte) []string {
	if len(raw) < 4 {
		return nil
	}
	argc := int(binary.LittleEndian.Uint32(raw))
	rest := raw[4:]
	end := bytes.IndexByte(rest, 0)
	if end < 0 {
		return nil
	}
	rest = bytes.TrimLeft(rest[end:], "\x00")
	var args []string
	for len(args) < argc && len(rest) > 0 {
		end := bytes.IndexByte(rest, 0)
		if end < 0 {
			end = len(rest)
		}
		args = append(args, string(rest[:end]))
		rest = rest[min(end+1, len(rest)):]
	}
	return args
}

// isFinalPlan tells the final plan Terraform makes during apply from a new
// plan: it runs under the same Terraform process as the plan it completes
// (terraform apply, or a writer resource in the same run), or under
// terraform apply PLANFILE. When the command line cannot be read it is
// assumed final: a spurious "changed since plan" asks for one more plan,
// a missed one ends in Terraform's inconsistent-plan error.
func isFinalPlan(pending filestate.Pending) bool {
	pid, args := terraformProcess()
	if pending.Origin == pid {
		return true
	}
	return args == nil || appliesSavedPlan(args)
}

// planOrigin identifies this run for isFinalPlan.
func planOrigin() int {
	pid, _ := terraformProcess()
	return pid
}

// plainPlan reports whether the provider runs under terraform plan or
// terraform apply without -destroy, where a missing source is an error;
// terraform destroy plans the configuration too, and must work without it.
func plainPlan() bool {
	_, args := terraformProcess()
	return isPlainPlan(args)
}

// terraformValueFlags are the plan and apply options that take their value
// as the next argument.
var terraformValueFlags = map[string]bool{
	"-var": true, "-var-file": true, "-target": true, "-replace": true, "-exclude": true,
	"-state": true, "-state-out": true, "-backup": true, "-lock-timeout": true, "-parallelism": true, "-out": true,
}

// subcommand returns the Terraform subcommand in args and what follows it.
func subcommand(args []string) (string, []string) {
	for i, a := range args {
		switch a {
		case "plan", "apply", "destroy", "refresh", "import":
			return a, args[i+1:]
		}
	}
	return "", nil
}

func isPlainPlan(args []string) bool {
	cmd, rest := subcommand(args)
	return (cmd == "plan" || cmd == "apply") && !slices.Contains(rest, "-destroy") && !slices.Contains(rest, "-refresh-only")
}

// appliesSavedPlan reports whether a Terraform (or OpenTofu) command line
// applies a saved plan: "apply" followed by a positional argument. A
// command line that is not Terraform's answers true.
func appliesSavedPlan(args []string) bool {
	cmd, rest := subcommand(args)
	switch cmd {
	case "apply":
	case "":
		return true
	default:
		return false
	}
	for j := 0; j < len(rest); j++ {
		a := rest[j]
		switch {
		case a == "-destroy" || a == "-refresh-only":
			return false
		case strings.HasPrefix(a, "-"):
			if terraformValueFlags[a] {
				j++
			}
		default:
			return true
		}
	}
	return false
}

// cliName names the CLI the provider runs under: "tofu" under OpenTofu,
// "terraform" under Terraform, "" when it cannot tell (Windows, a wrapper
// with another name, a provider served in-process).
func cliName() string {
	_, args := terraformProcess()
	return cliOf(args)
}

// cliOf names the CLI of a command line by its executable's name.
func cliOf(args []string) string {
	if len(args) == 0 {
		return ""
	}
	base := strings.ToLower(filepath.Base(args[0]))
	switch {
	case strings.Contains(base, "tofu"):
		return "tofu"
	case strings.Contains(base, "terraform"):
		return "terraform"
	}
	return ""
}

// cliCommand is advice to run a CLI command, e.g. cliCommand("plan"):
// "tofu plan" under OpenTofu, "terraform plan" under Terraform, and the
// bare "plan" when the CLI is unknown, so advice never names the wrong one.
func cliCommand(command string) string {
	return joinCLI(cliName(), command)
}

func joinCLI(cli, command string) string {
	if cli == "" {
		return command
	}
	return cli + " " + command
}
