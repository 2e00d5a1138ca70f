package provider

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/audiencekit/terraform-provider-audience/internal/sandbox"
)

// OpenIM's and Altcraft's answers, respelled as another server of the
// family would send them, still upload and export; an answer in no
// spelling the provider knows fails naming the platform, the call, the
// HTTP status and the answer's keys and types, asks for a report, and
// holds no value of the answer (form signature, download path) nor the
// token. A run without the fault then converges.

const (
	openIMInitiatePath = sandbox.PrefixOpenIM + "/object/initiate_form_data"
	openIMCompletePath = sandbox.PrefixOpenIM + "/object/complete_form_data"
	altcraftStartPath  = sandbox.PrefixAltcraft + "/api/v1.1/profiles/get_all"
	altcraftStatusPath = sandbox.PrefixAltcraft + "/api/v1.1/tasks/status"
)

// respelled counts, per path, the answers the sandbox sent with and
// without a respell fault.
type respelled struct {
	mu          sync.Mutex
	hit, missed map[string]int
}

func (r *respelled) log(rec sandbox.RequestRecord) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if strings.HasPrefix(rec.Fault, "answer respelled") {
		r.hit[rec.Path]++
	} else {
		r.missed[rec.Path]++
	}
}

// check fails unless every answer on each path was respelled, at least once.
func (r *respelled) check(paths ...string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, p := range paths {
			if r.hit[p] == 0 || r.missed[p] != 0 {
				return fmt.Errorf("%s: %d answers respelled, %d not; want all", p, r.hit[p], r.missed[p])
			}
		}
		return nil
	}
}

func startRespellSandbox(t *testing.T, opts ...func(*sandbox.Config)) (*sandbox.Server, *respelled) {
	t.Helper()
	rec := &respelled{hit: map[string]int{}, missed: map[string]int{}}
	srv := startSandbox(t, append(opts, func(c *sandbox.Config) { c.RequestLog = rec.log })...)
	return srv, rec
}

// shapeError matches the provider's ShapeError for a call whose answer had
// every key renamed (the sandbox's respell=unknown): the call, HTTP 200,
// what is missing, then a shape made only of renamed keys and type names,
// so no value of the answer can be in it, and the request to report it.
func shapeError(platform, op, missing string) *regexp.Regexp {
	token := `"zz[\w-]+Renamed":\s+|string|number|bool|null|×\d+|[\s,{}\[\]]`
	return regexp.MustCompile(`(?s)` + regexp.QuoteMeta(platform+" "+op) + `:\s+HTTP\s+200\s+\(request\s+id\s+[^)]*\)\s+with\s+an\s+answer\s+the\s+provider\s+cannot\s+read:\s+it\s+has\s+no\s+` +
		strings.Join(strings.Fields(regexp.QuoteMeta(missing)), `\s+`) + `\s+in\s+any\s+spelling.*shape\s+\(its\s+keys\s+and\s+value\s+types,\s+no\s+values\)\s+is\s+\{(?:` + token + `)*\}\.\s+Please\s+report\s+this\s+shape`)
}

// logErrorsTo sends the provider's and Terraform's error log to a fresh
// directory and returns a check that it holds want and none of secrets.
func logErrorsTo(t *testing.T) func(want string, secrets ...*regexp.Regexp) {
	dir := t.TempDir()
	t.Setenv("TF_LOG", "ERROR")
	t.Setenv("TF_LOG_PATH_MASK", filepath.Join(dir, "%s.log"))
	return func(want string, secrets ...*regexp.Regexp) {
		t.Helper()
		var all strings.Builder
		files, _ := filepath.Glob(filepath.Join(dir, "*.log"))
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			all.Write(b)
		}
		log := all.String()
		if !strings.Contains(log, want) {
			t.Fatalf("the error log (%d files) does not hold %q, so it cannot show what the diagnostic leaks", len(files), want)
		}
		for _, s := range secrets {
			if m := s.FindString(log); m != "" {
				t.Errorf("the error log holds %q", m)
			}
		}
	}
}

// openIMSecrets are what an OpenIM diagnostic must never hold: the admin
// token, the form's policy and signature values, the storage's form target.
func openIMSecrets(srv *sandbox.Server) []*regexp.Regexp {
	return []*regexp.Regexp{
		regexp.MustCompile(regexp.QuoteMeta(sandbox.DefaultCredentials().OpenIMToken)),
		regexp.MustCompile(`\b[0-9a-f]{64}\b`),       // a SigV4 signature
		regexp.MustCompile(`eyJ[A-Za-z0-9+/=]{20,}`), // a base64 JSON policy
		regexp.MustCompile(regexp.QuoteMeta(srv.URL() + sandbox.PrefixS3)),
	}
}

// The published answers respelled in camelCase and snake_case (err_code,
// form_data, success_codes) upload and confirm as the server's own. The
// Kodo backend's form fields (key, token, accept) are single words, which
// a respelling leaves as they are, so the storage still takes the form.
func TestAccOpenIMWire_respelledAnswers(t *testing.T) {
	for _, mode := range []string{"camel", "snake"} {
		t.Run(mode, func(t *testing.T) {
			srv, rec := startRespellSandbox(t, func(c *sandbox.Config) { c.OpenIMBackend = sandbox.OpenIMBackendKodo })
			for _, p := range []string{openIMInitiatePath, openIMCompletePath} {
				srv.AddFault(sandbox.Fault{Method: http.MethodPost, PathPrefix: p, Respell: mode})
			}
			content := "user_id\nu-1001\nu-1002\n"
			src := writeFile(t, t.TempDir(), "vip.csv", content)
			addr := "audience_openim_object.test"
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{
					{
						Config: openIMObjectConfig(src, `name = "audiences/vip.csv"`),
						ConfigStateChecks: []statecheck.StateCheck{
							statecheck.ExpectKnownValue(addr, tfjsonpath.New("file_md5"), knownvalue.StringExact(md5hex(content))),
							statecheck.ExpectKnownValue(addr, tfjsonpath.New("url"), knownvalue.StringExact(srv.URL()+sandbox.PrefixOpenIM+"/object/audiences/vip.csv")),
							statecheck.ExpectKnownValue(addr, tfjsonpath.New("id"), knownvalue.StringRegexp(regexp.MustCompile(`^[A-Za-z0-9+/]{20,}$`))),
						},
						Check: resource.ComposeTestCheckFunc(checkOpenIMBytes(srv, content), rec.check(openIMInitiatePath, openIMCompletePath)),
					},
					{
						Config:           openIMObjectConfig(src, `name = "audiences/vip.csv"`),
						ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
					},
				},
			})
		})
	}
}

// An initiate or complete answer in no known spelling fails the apply with
// the ShapeError, leaks nothing, and the next apply uploads and confirms.
func TestAccOpenIMWire_unknownAnswerShape(t *testing.T) {
	cases := []struct {
		name, path, op, missing string
	}{
		{"initiate_form_data", openIMInitiatePath, "object/initiate_form_data", "errCode or file or id or url"},
		{"complete_form_data", openIMCompletePath, "object/complete_form_data", "errCode or url"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			checkLog := logErrorsTo(t)
			srv, rec := startRespellSandbox(t)
			srv.AddFault(sandbox.Fault{Method: http.MethodPost, PathPrefix: tc.path, Respell: "unknown"})
			content := "user_id\nu-2001\n"
			src := writeFile(t, t.TempDir(), "wire.csv", content)
			addr := "audience_openim_object.test"
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{
					{
						Config:      openIMObjectConfig(src, ""),
						ExpectError: shapeError("OpenIM", tc.op, tc.missing),
					},
					{
						// The fault is spent: the same config converges.
						PreConfig: func() {
							checkLog("with an answer the provider cannot read", openIMSecrets(srv)...)
							if err := rec.check(tc.path)(nil); err != nil {
								t.Fatal(err)
							}
						},
						Config: openIMObjectConfig(src, ""),
						ConfigStateChecks: []statecheck.StateCheck{
							statecheck.ExpectKnownValue(addr, tfjsonpath.New("file_md5"), knownvalue.StringExact(md5hex(content))),
							statecheck.ExpectKnownValue(addr, tfjsonpath.New("url"), knownvalue.StringExact(srv.URL()+sandbox.PrefixOpenIM+"/object/wire.csv")),
						},
						Check: checkOpenIMStored(srv, content),
					},
					{
						Config:           openIMObjectConfig(src, ""),
						ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
					},
				},
			})
		})
	}
}

// Every get_all and tasks/status answer respelled (taskId, errorText,
// sourceId in camelCase; the published snake_case) reads as the
// published one: the same task, totals, URLs and downloaded file.
func TestAccAltcraftWire_respelledAnswers(t *testing.T) {
	for _, mode := range []string{"camel", "snake"} {
		t.Run(mode, func(t *testing.T) {
			srv, rec := startRespellSandbox(t)
			for _, p := range []string{altcraftStartPath, altcraftStatusPath} {
				srv.AddFault(sandbox.Fault{Method: http.MethodPost, PathPrefix: p, Respell: mode, Count: 1000})
			}
			t.Cleanup(srv.ClearFaults)
			out := t.TempDir()
			want := altcraftSandboxExport(t, "segment", 7, map[string]any{"occupation": "doctor"})
			rows := int64(strings.Count(string(want), "\n") - 1)
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config: altcraftExportConfig(fmt.Sprintf(`
  source_type    = "segment"
  source_id      = 7
  custom_request = { occupation = "doctor" }
  output_dir     = %q
`, out)),
					ConfigStateChecks: []statecheck.StateCheck{
						statecheck.ExpectKnownValue(altcraftExportAddr, tfjsonpath.New("task_id"), knownvalue.StringRegexp(regexp.MustCompile(`^task_[0-9a-f-]{36}$`))),
						statecheck.ExpectKnownValue(altcraftExportAddr, tfjsonpath.New("status"), knownvalue.StringExact("completed")),
						statecheck.ExpectKnownValue(altcraftExportAddr, tfjsonpath.New("total"), knownvalue.Int64Exact(rows)),
						statecheck.ExpectKnownValue(altcraftExportAddr, tfjsonpath.New("errors"), knownvalue.ListExact([]knownvalue.Check{})),
						statecheck.ExpectKnownValue(altcraftExportAddr, tfjsonpath.New("urls"), knownvalue.ListExact([]knownvalue.Check{
							knownvalue.StringRegexp(regexp.MustCompile(`/altcraft/api/download/[0-9a-f-]{36}/7_segment_export\.csv$`)),
						})),
						statecheck.ExpectKnownValue(altcraftExportAddr, tfjsonpath.New("files").AtSliceIndex(0).AtMapKey("sha256"), knownvalue.StringExact(altcraftSHA256(want))),
					},
					Check: rec.check(altcraftStartPath, altcraftStatusPath),
				}},
			})
		})
	}
}

// A get_all or tasks/status answer in no known spelling fails the read
// with the ShapeError, leaks nothing, and the next read exports.
func TestAccAltcraftWire_unknownAnswerShape(t *testing.T) {
	cases := []struct {
		name, path, op, missing string
	}{
		{"get_all", altcraftStartPath, "profiles/get_all", "error or task_id"},
		{"tasks/status", altcraftStatusPath, "tasks/status", "error or status"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			checkLog := logErrorsTo(t)
			srv, rec := startRespellSandbox(t)
			srv.AddFault(sandbox.Fault{Method: http.MethodPost, PathPrefix: tc.path, Respell: "unknown"})
			config := altcraftExportConfig(`
  source_type = "database"
  source_id   = 2
`)
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{
					{
						Config:      config,
						ExpectError: shapeError("Altcraft", tc.op, tc.missing),
					},
					{
						PreConfig: func() {
							checkLog("with an answer the provider cannot read",
								regexp.MustCompile(regexp.QuoteMeta(sandbox.DefaultCredentials().AltcraftToken)),
								regexp.MustCompile(`task_[0-9a-f-]{36}`),
								regexp.MustCompile(`/api/download/`))
							if err := rec.check(tc.path)(nil); err != nil {
								t.Fatal(err)
							}
						},
						Config: config,
						ConfigStateChecks: []statecheck.StateCheck{
							statecheck.ExpectKnownValue(altcraftExportAddr, tfjsonpath.New("status"), knownvalue.StringExact("completed")),
							statecheck.ExpectKnownValue(altcraftExportAddr, tfjsonpath.New("total"), knownvalue.Int64Exact(25)),
							statecheck.ExpectKnownValue(altcraftExportAddr, tfjsonpath.New("urls"), knownvalue.ListSizeExact(1)),
						},
					},
				},
			})
		})
	}
}
