package provider

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/audiencekit/terraform-provider-audience/internal/client/mintegral"
	"github.com/audiencekit/terraform-provider-audience/internal/client/transfer"
	"github.com/audiencekit/terraform-provider-audience/internal/sandbox"
)

// TestMain adds the sweepers: `go test ./internal/provider -sweep=all`
// (make sweep) deletes what failed runs left on the real accounts that
// AUDIENCE_ACC_REAL names, and runs no test. The -sweep value is the
// terraform-plugin-testing "region"; these platforms have none, so any
// value sweeps the same.
func TestMain(m *testing.M) {
	resource.TestMain(m)
}

// What a run on a real account creates and the sweepers can remove. Only
// Mintegral audiences can be deleted through the platforms' APIs: uploaded
// files (Mintegral data paths, TPNS packages, Future Demand uploads, ingests
// and media, OpenIM objects) have no delete call, and Altcraft export tasks
// are the panel's own history, with no delete call in the API the provider
// uses. Their sweepers (keptSweepers) delete nothing and say what stays;
// those things carry the run's prefix in their names so they can be found
// and removed by hand (README "Testing against your own accounts").
func init() {
	for _, k := range keptSweepers {
		resource.AddTestSweepers(k.name, &resource.Sweeper{Name: k.name, F: func(string) error {
			fmt.Println(k.note(os.Getenv(realAccountsEnv)))
			return nil
		}})
	}
	resource.AddTestSweepers("audience_mintegral_audience", &resource.Sweeper{
		Name: "audience_mintegral_audience",
		F: func(string) error {
			client, err := realMintegralClient()
			if err != nil || client == nil {
				return err
			}
			deleted, err := sweepMintegralAudiences(context.Background(), client, sweepPrefix)
			for _, name := range deleted {
				fmt.Printf("swept Mintegral audience %s\n", name)
			}
			fmt.Printf("audience_mintegral_audience: %d audiences named %s* deleted\n", len(deleted), sweepPrefix)
			return err
		},
	})
}

// keptSweeper is the sweeper of a resource type whose platform has no
// call to delete what the tests create: it deletes nothing and says what
// a run leaves behind.
type keptSweeper struct {
	name     string
	platform *platformSpec
	stays    string
}

var keptSweepers = []keptSweeper{
	{"audience_mintegral_file", mintegralPlatform, "uploaded audience files (data paths) under tf-acc-*: Mintegral has no delete call for an upload"},
	{"audience_tpns_account_package", tpnsPlatform, "account and token packages named tf-acc-*: TPNS has no call to read back or delete a package"},
	{"audience_futuredemand_upload", futureDemandPlatform, "storage objects partners/<id>/<type>/<hex>/tf-acc-*: the storage API can abort an open multipart upload but has no call to list or delete objects"},
	{"audience_futuredemand_media", futureDemandPlatform, "media named tf-acc-*: POST /media has no delete"},
	{"audience_futuredemand_ingest", futureDemandPlatform, "ingested transaction summaries (in the event AUDIENCE_ACC_FUTUREDEMAND_EID names) and events: ingests have no undo"},
	{"audience_openim_object", openIMPlatform, "objects named tf-acc-* in the server's storage: the object API has no delete"},
	{"data_audience_altcraft_profile_export", altcraftPlatform, "nothing on the panel but export tasks in its history (the plan-time tests start none): the API has no call to delete a task"},
}

// note says what the sweeper did for the platforms value (of
// realAccountsEnv) names.
func (k keptSweeper) note(value string) string {
	named, err := realPlatforms(value, os.Getenv)
	switch {
	case err != nil || !slices.Contains(named, k.platform):
		return fmt.Sprintf("%s: %s does not name %s; nothing swept", k.name, realAccountsEnv, k.platform.Attribute)
	default:
		return fmt.Sprintf("%s: nothing can be deleted; left on the %s account: %s", k.name, k.platform.Title, k.stays)
	}
}

// realMintegralClient is a client of the Mintegral account the
// environment names, or nil (with a note) when AUDIENCE_ACC_REAL does not
// name mintegral: a sweep never touches an account it was not pointed at.
func realMintegralClient() (*mintegral.Client, error) {
	named, err := realPlatforms(os.Getenv(realAccountsEnv), os.Getenv)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(named, mintegralPlatform) {
		fmt.Printf("audience_mintegral_audience: %s does not name mintegral; nothing swept\n", realAccountsEnv)
		return nil, nil
	}
	return envMintegralClient(), nil
}

// envMintegralClient is a client of the Mintegral account the environment
// names, as the provider resolves it from an empty provider block.
func envMintegralClient() *mintegral.Client {
	s := mintegralPlatform.resolve(nil)
	return mintegral.New(s.value("endpoint"), s.value("access_key"), s.value("api_key"), transfer.Options{})
}

// sweepMintegralAudiences deletes every audience whose name starts with
// prefix and returns their names. Mintegral matches the name filter
// loosely, so each name is checked here before anything is deleted.
func sweepMintegralAudiences(ctx context.Context, client *mintegral.Client, prefix string) ([]string, error) {
	if !strings.HasPrefix(prefix, sweepPrefix) {
		return nil, fmt.Errorf("refusing to sweep audiences named %q*: the sweeper deletes only names under %s", prefix, sweepPrefix)
	}
	all, err := client.ListAudiences(ctx, mintegral.AudienceFilter{Name: prefix})
	if err != nil {
		return nil, fmt.Errorf("listing Mintegral audiences named %s*: %w", prefix, err)
	}
	var deleted []string
	for _, a := range all {
		if !strings.HasPrefix(a.Name, prefix) {
			continue
		}
		if err := client.DeleteAudience(ctx, a.ID); err != nil {
			return deleted, fmt.Errorf("deleting Mintegral audience %d (%s): %w", a.ID, a.Name, err)
		}
		deleted = append(deleted, a.Name)
	}
	return deleted, nil
}

// The sweeper deletes the audiences under the prefix and nothing else,
// however close a name comes.
func TestSweepMintegralAudiences_deletesOnlyTheTestPrefix(t *testing.T) {
	srv := startSandbox(t)
	client := sandboxMintegralClient(srv)
	createAudiences(t, client, "ios", "IDFA", "tf-acc-0a1b2c3d-left", "tf-acc-99999999-other-run", "prod-tf-acc-x", "tf-accurate", "buyers")

	deleted, err := sweepMintegralAudiences(context.Background(), client, sweepPrefix)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(deleted)
	if want := []string{"tf-acc-0a1b2c3d-left", "tf-acc-99999999-other-run"}; !slices.Equal(deleted, want) {
		t.Errorf("swept %q, want %q", deleted, want)
	}
	var left []string
	for _, a := range srv.MintegralAudiences() {
		left = append(left, a.Name)
	}
	slices.Sort(left)
	if want := []string{"buyers", "prod-tf-acc-x", "tf-accurate"}; !slices.Equal(left, want) {
		t.Errorf("left %q, want %q", left, want)
	}

	if _, err := sweepMintegralAudiences(context.Background(), client, "buyers"); err == nil || !strings.Contains(err.Error(), "refusing") {
		t.Errorf("a prefix outside %s: err %v, want a refusal", sweepPrefix, err)
	}
}

// The sweeper leaves an account alone unless AUDIENCE_ACC_REAL names it,
// whatever credentials the environment holds.
func TestSweepMintegralAudiences_needsTheExplicitSwitch(t *testing.T) {
	srv := startSandbox(t)
	createAudiences(t, sandboxMintegralClient(srv), "ios", "IDFA", "tf-acc-0a1b2c3d-left")
	t.Setenv(realAccountsEnv, "tpns")
	for k, v := range srv.Env() {
		t.Setenv(k, v)
	}
	client, err := realMintegralClient()
	if err != nil || client != nil {
		t.Fatalf("without mintegral in %s: client %v, err %v; want neither", realAccountsEnv, client, err)
	}

	t.Setenv(realAccountsEnv, "mintegral")
	t.Setenv("MINTEGRAL_ACCESS_KEY", "")
	if _, err := realMintegralClient(); err == nil || !strings.Contains(err.Error(), "MINTEGRAL_ACCESS_KEY is not set") {
		t.Fatalf("a named platform without its key: err %v, want one naming MINTEGRAL_ACCESS_KEY", err)
	}
	t.Setenv("MINTEGRAL_ACCESS_KEY", sandbox.DefaultCredentials().MintegralAccessKey)
	client, err = realMintegralClient()
	if err != nil {
		t.Fatal(err)
	}
	if deleted, err := sweepMintegralAudiences(context.Background(), client, sweepPrefix); err != nil || len(deleted) != 1 {
		t.Fatalf("swept %q (%v), want the one audience", deleted, err)
	}
}

// A sweeper of what cannot be deleted says what stays, and only for the
// accounts it was pointed at.
func TestKeptSweepersSayWhatStays(t *testing.T) {
	srv := startSandbox(t)
	for k, v := range srv.Env() {
		t.Setenv(k, v)
	}
	for _, k := range keptSweepers {
		if got := k.note("mintegral"); k.platform != mintegralPlatform && !strings.Contains(got, "does not name "+k.platform.Attribute+"; nothing swept") {
			t.Errorf("%s without its platform named: %q", k.name, got)
		}
		if got := k.note(k.platform.Attribute); !strings.Contains(got, "nothing can be deleted; left on the "+k.platform.Title+" account: ") {
			t.Errorf("%s with its platform named: %q", k.name, got)
		}
	}
}

func TestRealPlatforms(t *testing.T) {
	env := map[string]string{"TPNS_ACCESS_ID": "id", "TPNS_SECRET_KEY": "k", "TPNS_ENDPOINT": "https://api.tpns.tencent.com"}
	lookup := func(k string) string { return env[k] }
	for _, c := range []struct {
		value, want, err string
	}{
		{value: "", want: ""},
		{value: "tpns", want: "tpns"},
		{value: " TPNS, tpns ,", want: "tpns"},
		{value: "mintegral", err: "MINTEGRAL_ACCESS_KEY is not set"},
		{value: "all", err: "is not set"},
		{value: "mintgral", err: `names "mintgral", which is no platform: use a comma-separated list of mintegral, tpns`},
	} {
		got, err := realPlatforms(c.value, lookup)
		var names []string
		for _, p := range got {
			names = append(names, p.Attribute)
		}
		switch {
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("realPlatforms(%q): err %v, want one containing %q", c.value, err, c.err)
		case c.err == "" && (err != nil || strings.Join(names, ",") != c.want):
			t.Errorf("realPlatforms(%q) = %q, %v; want %q", c.value, names, err, c.want)
		}
	}
}

// TestAccSweepProof proves the sweep against an account AUDIENCE_ACC_REAL
// names (make testacc-external runs it against a sandbox started as a
// separate process): AUDIENCE_ACC_SWEEP_PROOF=leave creates an audience
// under the run's prefix and leaves it, as a failed run would;
// =gone fails if any audience under tf-acc- is left.
func TestAccSweepProof(t *testing.T) {
	mode := os.Getenv("AUDIENCE_ACC_SWEEP_PROOF")
	if mode == "" {
		t.Skip("set AUDIENCE_ACC_SWEEP_PROOF=leave or =gone (make testacc-external does)")
	}
	if !isReal(t, mintegralPlatform) {
		t.Skipf("%s does not name mintegral", realAccountsEnv)
	}
	client, err := realMintegralClient()
	if err != nil {
		t.Fatal(err)
	}
	switch mode {
	case "leave":
		name := accName("left-behind")
		ids := createAudiences(t, client, "ios", "IDFA", name)
		t.Logf("left Mintegral audience %d named %s", ids[0], name)
	case "gone":
		all, err := client.ListAudiences(context.Background(), mintegral.AudienceFilter{Name: sweepPrefix})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range all {
			if strings.HasPrefix(a.Name, sweepPrefix) {
				t.Errorf("audience %d named %s is still there after the sweep", a.ID, a.Name)
			}
		}
	default:
		t.Fatalf("AUDIENCE_ACC_SWEEP_PROOF=%q: use leave or gone", mode)
	}
}

// checkNoAudienceNamed is a CheckDestroy that asks the Mintegral account
// the provider was pointed at (sandbox or real) whether an audience under
// one of names is left.
func checkNoAudienceNamed(names ...string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		client := envMintegralClient()
		for _, name := range names {
			all, err := client.ListAudiences(context.Background(), mintegral.AudienceFilter{Name: name})
			if err != nil {
				return err
			}
			for _, a := range all {
				if a.Name == name {
					return fmt.Errorf("audience %d named %s is left after destroy", a.ID, a.Name)
				}
			}
		}
		return nil
	}
}
