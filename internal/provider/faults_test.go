package provider

import (
	"cmp"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/audiencekit/terraform-provider-audience/internal/sandbox"
)

// Transient faults on every call and transfer of every platform, through
// real Terraform: each is injected on one call while everything else
// behaves, and the apply must succeed with the stored bytes equal to the
// local file. A permanent fault must fail naming platform, status and
// attempts.

// faultScenario is one apply of one platform and the calls it makes.
type faultScenario struct {
	name string
	// prepare writes an input of about n lines, sets the environment, and
	// returns the configuration, the check of what the platform stored,
	// and the size of the body the transfer carries (request or download).
	prepare func(t *testing.T, srv *sandbox.Server, n int) (config string, check resource.TestCheckFunc, bodySize int64)
	targets []faultTarget
}

// faultTarget is one call or transfer of a scenario.
type faultTarget struct {
	name   string
	method string
	path   string // sandbox path prefix, mount prefix included
	// requestBody: the request carries the file, so a reset mid-body is
	// tried; downloadBody: the answer carries it.
	requestBody, downloadBody bool
	// resetAfter overrides where a reset cuts the body (default:
	// requestResetAt, or half a download).
	resetAfter int64
	// eachRequest > 0: the call is made that many times (multipart parts)
	// and every one of them meets the fault: it is queued again after each
	// success.
	eachRequest int
}

// injectedFault is one kind of fault, built for a target.
type injectedFault struct {
	name  string
	fault sandbox.Fault
}

func (target faultTarget) faults(bodySize int64) []injectedFault {
	base := sandbox.Fault{Method: target.method, PathPrefix: target.path}
	unavailable, limited := base, base
	unavailable.Status, unavailable.Count = http.StatusServiceUnavailable, 2
	limited.Status, limited.RetryAfter = http.StatusTooManyRequests, "1"
	out := []injectedFault{{"503 twice", unavailable}, {"429 with Retry-After", limited}}
	if target.requestBody {
		reset := base
		reset.ResetAfterBytes = cmp.Or(target.resetAfter, requestResetAt)
		out = append(out, injectedFault{"reset mid-body", reset})
	}
	if target.downloadBody {
		reset := base
		reset.ResetAfterResponseBytes = cmp.Or(target.resetAfter, bodySize/2)
		out = append(out, injectedFault{"reset mid-download", reset})
	}
	return out
}

// lines writes n numbered lines made by line(i) and returns the content.
func lines(n int, line func(i int) string) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(line(i))
		b.WriteByte('\n')
	}
	return b.String()
}

// Uploads cut by a reset are a few MiB and the reset comes early, so the
// client is still writing when the connection breaks, as with a real
// mid-body reset (the socket buffers cannot absorb the rest). Other faults
// use small files.
const (
	smallLines = 100
	// Retry-After "1" allows for the sandbox's clock starting the wait a
	// little before the client received the answer.
	retryAfterFloor = 950 * time.Millisecond
	resetLines      = 200_000
	requestResetAt  = 256 << 10
)

// deviceList is n IDFAs, 37 bytes a line.
func deviceList(n int) string {
	return "idfa\n" + lines(n, func(i int) string { return fmt.Sprintf("6D92078A-8246-4BA4-AE5B-%012d", i) })
}

const (
	fdAPI            = sandbox.PrefixFutureDemand + "/api/v3"
	fdEventsUpload   = sandbox.PrefixFutureDemand + "/cr/api/events/bulk_upload"
	fdMedia          = sandbox.PrefixFutureDemand + "/api/media"
	mintegralPresign = sandbox.PrefixMintegral + "/api/open/v1/audience/presigned-upload-data"
)

func faultScenarios() []faultScenario {
	mintegral := func(area int) func(t *testing.T, srv *sandbox.Server, n int) (string, resource.TestCheckFunc, int64) {
		return func(t *testing.T, srv *sandbox.Server, n int) (string, resource.TestCheckFunc, int64) {
			content := deviceList(n)
			src := writeFile(t, t.TempDir(), "devices.txt", content)
			return mintegralFileConfig(src, fmt.Sprintf("area_type = %d", area)), checkStoredObject(srv, content), int64(len(content))
		}
	}
	futureDemand := func(t *testing.T, srv *sandbox.Server, n int) (string, resource.TestCheckFunc, int64) {
		content := deviceList(n)
		src := writeFile(t, t.TempDir(), "list.csv", content)
		return futureDemandUploadConfig(src, ""), checkFutureDemandObject(srv, md5hex(content), int64(len(content))), int64(len(content))
	}
	return []faultScenario{
		{
			name:    "Mintegral area 1",
			prepare: mintegral(1),
			targets: []faultTarget{
				{name: "presign", method: http.MethodGet, path: mintegralPresign},
				{name: "presigned PUT", method: http.MethodPut, path: sandbox.PrefixS3 + "/" + sandbox.BucketMintegralS3 + "/", requestBody: true},
			},
		},
		{
			name:    "Mintegral area 2",
			prepare: mintegral(2),
			targets: []faultTarget{
				{name: "OSS POST", method: http.MethodPost, path: sandbox.PrefixOSS + "/" + sandbox.BucketMintegralOSS, requestBody: true},
			},
		},
		{
			name: "TPNS",
			prepare: func(t *testing.T, srv *sandbox.Server, n int) (string, resource.TestCheckFunc, int64) {
				content := lines(n, func(i int) string { return fmt.Sprintf("user%07d@example.com", i) })
				src := writeFile(t, t.TempDir(), "vip.txt", content)
				return tpnsPackageConfig("test", src, ""), checkTPNSUploaded(srv, tpnsAddr, content, int64(n)), int64(len(content))
			},
			targets: []faultTarget{
				{name: "multipart form", method: http.MethodPost, path: sandbox.PrefixTPNS + "/v3/push/package/upload", requestBody: true},
			},
		},
		{
			name:    "Future Demand single",
			prepare: futureDemand,
			targets: []faultTarget{
				{name: "presigned-url", method: http.MethodPost, path: fdAPI + "/storage/presigned-url"},
				{name: "presigned PUT", method: http.MethodPut, path: sandbox.PrefixS3 + "/" + sandbox.BucketFutureDemand + "/", requestBody: true},
			},
		},
		{
			name: "Future Demand login",
			prepare: func(t *testing.T, srv *sandbox.Server, n int) (string, resource.TestCheckFunc, int64) {
				c := sandbox.DefaultCredentials()
				t.Setenv("FUTUREDEMAND_ACCESS_TOKEN", "")
				t.Setenv("FUTUREDEMAND_USERNAME", c.FutureDemandUsername)
				t.Setenv("FUTUREDEMAND_PASSWORD", c.FutureDemandPassword)
				return futureDemand(t, srv, n)
			},
			targets: []faultTarget{
				{name: "auth", method: http.MethodPost, path: fdAPI + "/auth"},
			},
		},
		{
			name: "Future Demand multipart",
			prepare: func(t *testing.T, srv *sandbox.Server, _ int) (string, resource.TestCheckFunc, int64) {
				size := int64(10 << 20) // two parts of 5 MiB
				src, sum := writeRandomFile(t, t.TempDir(), "large.csv", size, 7)
				// One part at a time, so each part meets the fault in turn.
				config := futureDemandUploadConfig(src, `
  multipart_threshold = 5242880
  part_size           = 5242880
  concurrency         = 1
`)
				return config, checkFutureDemandObject(srv, sum, size), size
			},
			targets: []faultTarget{
				{name: "create", method: http.MethodPost, path: fdAPI + "/storage/multipart-upload"},
				{name: "each part", method: http.MethodPut, path: sandbox.PrefixS3 + "/" + sandbox.BucketFutureDemand + "/", requestBody: true, resetAfter: 1 << 20, eachRequest: 2},
				{name: "complete", method: http.MethodPut, path: fdAPI + "/storage/multipart-upload"},
			},
		},
		{
			name: "Future Demand transaction summary",
			prepare: func(t *testing.T, srv *sandbox.Server, n int) (string, resource.TestCheckFunc, int64) {
				content := workbook(t, "sales", n*32)
				src := writeFile(t, t.TempDir(), "sales.xlsx", content)
				return ingestConfig(src, `kind = "transaction_summary"
  eid  = "evt_1"`), checkIngested(srv, 1, content), int64(len(content))
			},
			targets: []faultTarget{
				{name: "direct multipart", method: http.MethodPost, path: fdAPI + "/ingest/transaction_summary/from_excel", requestBody: true},
			},
		},
		{
			name: "Future Demand events",
			prepare: func(t *testing.T, srv *sandbox.Server, n int) (string, resource.TestCheckFunc, int64) {
				content := eventsFile(n / 2)
				src := writeFile(t, t.TempDir(), "events.csv", content)
				return ingestConfig(src, `kind       = "events"
  event_type = "prisma"`), checkIngested(srv, 1, content), int64(len(content))
			},
			targets: []faultTarget{
				{name: "direct multipart", method: http.MethodPost, path: fdEventsUpload, requestBody: true},
			},
		},
		{
			name: "Future Demand media",
			prepare: func(t *testing.T, srv *sandbox.Server, n int) (string, resource.TestCheckFunc, int64) {
				content := pngCreative(n*32, 5)
				src := writeFile(t, t.TempDir(), "banner.png", content)
				return mediaConfig(src, ""), checkMedia(srv, 1, content, "image/png"), int64(len(content))
			},
			targets: []faultTarget{
				{name: "direct multipart", method: http.MethodPost, path: fdMedia, requestBody: true},
			},
		},
		{
			name: "OpenIM",
			prepare: func(t *testing.T, srv *sandbox.Server, n int) (string, resource.TestCheckFunc, int64) {
				content := "user_id\n" + lines(n, func(i int) string { return fmt.Sprintf("user-%024d", i) })
				src := writeFile(t, t.TempDir(), "vip.csv", content)
				return openIMObjectConfig(src, ""), checkOpenIMStored(srv, content), int64(len(content))
			},
			targets: []faultTarget{
				{name: "initiate_form_data", method: http.MethodPost, path: sandbox.PrefixOpenIM + "/object/initiate_form_data"},
				{name: "S3 POST policy", method: http.MethodPost, path: sandbox.PrefixS3 + "/" + sandbox.BucketOpenIM, requestBody: true},
				{name: "complete_form_data", method: http.MethodPost, path: sandbox.PrefixOpenIM + "/object/complete_form_data"},
			},
		},
		{
			name: "Altcraft",
			prepare: func(t *testing.T, _ *sandbox.Server, _ int) (string, resource.TestCheckFunc, int64) {
				filter := map[string]any{"occupation": "doctor"}
				want := altcraftSandboxExport(t, "segment", 7, filter)
				out := filepath.Join(t.TempDir(), "exports")
				config := altcraftExportConfig(fmt.Sprintf(`
  source_type    = "segment"
  source_id      = 7
  custom_request = { occupation = "doctor" }
  output_dir     = %q
`, out))
				sum := md5.Sum(want)
				return config, checkFileMD5(filepath.Join(out, "7_segment_export.csv"), hex.EncodeToString(sum[:]), int64(len(want))), int64(len(want))
			},
			targets: []faultTarget{
				{name: "get_all", method: http.MethodPost, path: sandbox.PrefixAltcraft + "/api/v1.1/profiles/get_all"},
				{name: "tasks status", method: http.MethodPost, path: sandbox.PrefixAltcraft + "/api/v1.1/tasks/status"},
				{name: "download", method: http.MethodGet, path: sandbox.PrefixAltcraft + "/api/download/", downloadBody: true},
			},
		},
	}
}

// checkFileMD5 compares a downloaded file with the bytes the platform
// holds, by digest.
func checkFileMD5(path, wantMD5 string, wantSize int64) resource.TestCheckFunc {
	return func(*terraform.State) error {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		h := md5.New()
		n, err := io.Copy(h, f)
		if err != nil {
			return err
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != wantMD5 || n != wantSize {
			return fmt.Errorf("%s: md5 %s, %d bytes; the platform's export has md5 %s, %d bytes", path, got, n, wantMD5, wantSize)
		}
		return nil
	}
}

// faultRecorder watches the sandbox's request log: it counts the requests
// a fault hit, re-arms a fault after each success of a call that must meet
// it every time, and keeps the log to show when a test fails.
type faultRecorder struct {
	mu      sync.Mutex
	srv     *sandbox.Server
	rearm   *sandbox.Fault
	hits    int
	records []sandbox.RequestRecord
}

func (f *faultRecorder) log(r sandbox.RequestRecord) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.records = append(f.records, r)
	if r.Fault != "" {
		f.hits++
		return
	}
	if a := f.rearm; a != nil && r.Status/100 == 2 && r.Method == a.Method && strings.HasPrefix(r.Path, a.PathPrefix) {
		f.srv.AddFault(*a)
	}
}

func (f *faultRecorder) hitCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hits
}

// retryWaits returns, for each request a fault hit, how long the client
// waited before it sent the same call again.
func (f *faultRecorder) retryWaits(fault sandbox.Fault) []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	var waits []time.Duration
	for i, hit := range f.records {
		if hit.Fault == "" {
			continue
		}
		for _, next := range f.records[i+1:] {
			if next.Method == fault.Method && strings.HasPrefix(next.Path, fault.PathPrefix) && next.Start.After(hit.Start) {
				waits = append(waits, next.Start.Sub(hit.Start.Add(hit.Duration)))
				break
			}
		}
	}
	return waits
}

func (f *faultRecorder) String() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var b strings.Builder
	for _, r := range f.records {
		fmt.Fprintln(&b, r)
	}
	return b.String()
}

// startFaultSandbox starts a sandbox whose requests go to a faultRecorder,
// shown in full when the test fails.
func startFaultSandbox(t *testing.T) (*sandbox.Server, *faultRecorder) {
	t.Helper()
	rec := &faultRecorder{}
	srv := startSandbox(t, func(c *sandbox.Config) { c.RequestLog = rec.log })
	rec.mu.Lock()
	rec.srv = srv
	rec.mu.Unlock()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("sandbox requests:\n%s", rec)
		}
	})
	return srv, rec
}

func TestAccFaults_transientFaultsOnEveryCall(t *testing.T) {
	for _, sc := range faultScenarios() {
		for _, target := range sc.targets {
			// The body size, known once the input is written, sets only
			// where a reset cuts; the kinds of fault are the same.
			for i, kind := range target.faults(2) {
				t.Run(sc.name+"/"+target.name+"/"+kind.name, func(t *testing.T) {
					srv, rec := startFaultSandbox(t)
					n := smallLines
					if kind.fault.ResetAfterBytes > 0 {
						n = resetLines
					}
					config, check, size := sc.prepare(t, srv, n)
					injected := target.faults(size)[i]
					t.Logf("fault: %s (body %d bytes)", injected.fault, size)
					want := max(injected.fault.Count, 1)
					if target.eachRequest > 0 {
						rec.mu.Lock()
						rec.rearm = &injected.fault
						rec.mu.Unlock()
						want *= target.eachRequest
					}
					srv.AddFault(injected.fault)
					resource.Test(t, resource.TestCase{
						ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
						Steps:                    []resource.TestStep{{Config: config, Check: check}},
					})
					if got := rec.hitCount(); got != want {
						t.Errorf("the fault hit %d requests, want %d", got, want)
					}
					if injected.fault.RetryAfter != "" {
						// The client must wait at least what Retry-After says
						// (the sandbox measures from before its answer left).
						for _, wait := range rec.retryWaits(injected.fault) {
							if wait < retryAfterFloor {
								t.Errorf("retried %s after a 429 with Retry-After: %s", wait.Round(time.Millisecond), injected.fault.RetryAfter)
							}
						}
					}
				})
			}
		}
	}
}

// A fault that does not pass: every attempt of the first call answers 503.
func TestAccFaults_permanentFaultNamesPlatformStatusAndAttempts(t *testing.T) {
	for _, sc := range faultScenarios() {
		switch sc.name {
		case "Mintegral area 2", "Future Demand login", "Future Demand multipart":
			continue // the same first call as another scenario
		case "Future Demand transaction summary", "Future Demand media":
			continue // the same direct flow as events, whose CR API is a platform of its own
		}
		platform, _, _ := strings.Cut(sc.name, " ")
		if strings.HasPrefix(sc.name, "Future Demand") {
			platform = "Future Demand"
		}
		first := sc.targets[0]
		t.Run(sc.name, func(t *testing.T) {
			srv, rec := startFaultSandbox(t)
			config, _, _ := sc.prepare(t, srv, smallLines)
			srv.AddFault(sandbox.Fault{Method: first.method, PathPrefix: first.path, Status: http.StatusServiceUnavailable, Count: 1000})
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps:                    []resource.TestStep{{Config: config, ExpectError: permanentFaultError(platform)}},
			})
			if n := rec.hitCount(); n < 2 {
				t.Errorf("%s was tried %d times; a 503 is worth retrying", first.name, n)
			}
		})
	}
}

// permanentFaultError matches an error that names the platform, the
// status and how many attempts were made, in whatever order and line
// wrapping.
func permanentFaultError(platform string) *regexp.Regexp {
	name := strings.ReplaceAll(regexp.QuoteMeta(platform), " ", `\s+`)
	status := `503`
	attempts := `(\d+\s+attempts|retried\s+(\d+\s+times|once)|tried\s+\d+\s+times)`
	return regexp.MustCompile(`(?s)` + name + `.*(` + status + `.*` + attempts + `|` + attempts + `.*` + status + `)`)
}

// An answer lost after the platform acted (the connection dropped once the
// request was handled): an upload whose duplicate is harmless is sent
// again and the apply succeeds with the copy that answered; an events
// ingest, whose duplicate would list the events twice, fails and says so.
func TestAccFaults_droppedAnswer(t *testing.T) {
	for _, tc := range []struct {
		name, method, path string
		prepare            func(t *testing.T, srv *sandbox.Server) (config string, check resource.TestCheckFunc)
		wantError          *regexp.Regexp
	}{
		{
			name: "TPNS package", method: http.MethodPost, path: sandbox.PrefixTPNS + "/v3/push/package/upload",
			prepare: func(t *testing.T, srv *sandbox.Server) (string, resource.TestCheckFunc) {
				content := lines(smallLines, func(i int) string { return fmt.Sprintf("user%07d@example.com", i) })
				src := writeFile(t, t.TempDir(), "vip.txt", content)
				return tpnsPackageConfig("test", src, ""), resource.ComposeTestCheckFunc(checkTPNSUploaded(srv, tpnsAddr, content, smallLines), func(*terraform.State) error {
					// The first copy was stored too, and nothing uses it.
					if n := len(srv.TPNSUploads()); n != 2 {
						return fmt.Errorf("TPNS holds %d packages, want 2", n)
					}
					return nil
				})
			},
		},
		{
			name: "Future Demand transaction summary", method: http.MethodPost, path: fdAPI + "/ingest/transaction_summary/from_excel",
			prepare: func(t *testing.T, srv *sandbox.Server) (string, resource.TestCheckFunc) {
				content := workbook(t, "sales", 0)
				src := writeFile(t, t.TempDir(), "sales.xlsx", content)
				return ingestConfig(src, `kind = "transaction_summary"
  eid  = "evt_1"`), checkIngested(srv, 2, content)
			},
		},
		{
			name: "Future Demand media", method: http.MethodPost, path: fdMedia,
			prepare: func(t *testing.T, srv *sandbox.Server) (string, resource.TestCheckFunc) {
				content := pngCreative(1000, 6)
				src := writeFile(t, t.TempDir(), "banner.png", content)
				return mediaConfig(src, ""), checkMedia(srv, 2, content, "image/png")
			},
		},
		{
			name: "Future Demand events", method: http.MethodPost, path: fdEventsUpload,
			prepare: func(t *testing.T, _ *sandbox.Server) (string, resource.TestCheckFunc) {
				src := writeFile(t, t.TempDir(), "events.csv", eventsFile(3))
				return ingestConfig(src, `kind       = "events"
  event_type = "prisma"`), nil
			},
			wantError: wrapped("sent in full and may have taken effect, so it was not sent again"),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, rec := startFaultSandbox(t)
			config, check := tc.prepare(t, srv)
			srv.AddFault(sandbox.Fault{Method: tc.method, PathPrefix: tc.path, DropResponse: true})
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps:                    []resource.TestStep{{Config: config, Check: check, ExpectError: tc.wantError}},
			})
			if n := rec.hitCount(); n != 1 {
				t.Errorf("the fault hit %d requests, want 1", n)
			}
			if tc.wantError != nil {
				if n := len(srv.FutureDemandIngests()); n != 1 {
					t.Errorf("Future Demand took %d events ingests, want the one whose answer was lost", n)
				}
			}
		})
	}
}
