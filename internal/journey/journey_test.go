package journey

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// TestJourney walks a seeded journey (make journey). It needs TF_ACC and
// JOURNEY_STEPS; JOURNEY_SEED replays a run (default: a new seed, printed
// first), JOURNEY_TF names the CLI (default: TF_ACC_TERRAFORM_PATH, then
// terraform on PATH), JOURNEY_MAX_TIME stops after the step that passes
// it, JOURNEY_DIR is where the run's directory goes (kept on failure, or
// always with JOURNEY_KEEP=1).
func TestJourney(t *testing.T) {
	steps, _ := strconv.Atoi(os.Getenv("JOURNEY_STEPS"))
	if os.Getenv("TF_ACC") == "" || steps <= 0 {
		t.Skip("the journey runs with TF_ACC=1 and JOURNEY_STEPS=N (make journey)")
	}
	seed := uint64(time.Now().UnixNano() % 1e9)
	if s := os.Getenv("JOURNEY_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("JOURNEY_SEED=%q is not a number", s)
		}
		seed = v
	}
	cli := firstNonEmpty(os.Getenv("JOURNEY_TF"), os.Getenv("TF_ACC_TERRAFORM_PATH"), "terraform")
	path, err := exec.LookPath(cli)
	if err != nil {
		t.Fatalf("the journey's CLI %q: %v (set JOURNEY_TF, or TF=… with make journey)", cli, err)
	}
	if path, err = filepath.Abs(path); err != nil {
		t.Fatal(err)
	}
	var maxTime time.Duration
	if s := os.Getenv("JOURNEY_MAX_TIME"); s != "" {
		if maxTime, err = time.ParseDuration(s); err != nil {
			t.Fatalf("JOURNEY_MAX_TIME=%q: %v", s, err)
		}
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp(os.Getenv("JOURNEY_DIR"), "journey-"+strconv.FormatUint(seed, 10)+"-") //nolint:usetesting // kept after a failure, for inspection
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("seed %d, %d steps, CLI %s, run directory %s", seed, steps, path, dir)
	res, err := Run(context.Background(), Config{
		Seed: seed, Steps: steps, CLI: path, Dir: dir, ModuleRoot: root, MaxTime: maxTime, Logf: t.Logf,
	})
	var failure *Failure
	switch {
	case errors.As(err, &failure):
		t.Fatal(failure.Error())
	case err != nil:
		t.Fatalf("journey seed %d could not run: %v (run directory %s)", seed, err, dir)
	}
	t.Logf("journey seed %d: %d steps clean under %s in %s", seed, len(res.Steps), res.CLI, res.Elapsed.Round(time.Second))
	if os.Getenv("JOURNEY_KEEP") == "" {
		_ = os.RemoveAll(dir)
	}
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
