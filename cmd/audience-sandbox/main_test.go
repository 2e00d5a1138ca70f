package main

import (
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
		if !strings.HasPrefix(example, "status=") && !strings.HasPrefix(example, "reset") && example != "drop" && !strings.HasPrefix(example, "delay") {
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
