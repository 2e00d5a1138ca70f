package provider

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/audiencekit/terraform-provider-audience/internal/sandbox"
)

// Answers in the shapes a server of the platform's family sends, through
// real Terraform: another spelling of the keys is read as the published
// one; an answer the provider cannot read fails the apply with the error
// that names the platform, the call, the HTTP status and the answer's
// shape (keys and types, never values) and asks for a report; and a rerun
// without the fault converges.

const mintegralAudiencePath = sandbox.PrefixMintegral + "/api/open/v1/audience"

// shapeReported matches the unreadable-answer error of platform's call op:
// its shape part may hold only keys, types and punctuation, so a value
// that leaked into it (a URL, a path, a name) fails the match.
func shapeReported(platform, op string) *regexp.Regexp {
	return regexp.MustCompile(fmt.Sprintf(`(?s)%s\s+%s:\s+HTTP\s+200\s+\(request\s+id\s+none\s+sent\)\s+with\s+an\s+answer\s+the\s+provider\s+cannot\s+read.*`+
		`no\s+values\)\s+is\s+\{[{}\[\]"\w:,\s×…│]*\}\.\s+Please\s+report`, spaced(platform), spaced(op)))
}

// spaced quotes s for a regexp, any run of whitespace for each space:
// Terraform wraps long diagnostics at any space.
func spaced(s string) string {
	return strings.Join(strings.Split(regexp.QuoteMeta(s), " "), `\s+`)
}

// respellAll makes every answer under prefix come respelled by mode, and
// returns a check that some did.
func respellAll(t *testing.T, srv *sandbox.Server, prefix, mode string) func() {
	t.Helper()
	const count = 10000
	srv.AddFault(sandbox.Fault{PathPrefix: prefix, Respell: mode, Count: count})
	return func() {
		t.Helper()
		for _, f := range srv.PendingFaults() {
			if f.Respell == mode && f.Count == count {
				t.Errorf("no answer under %s was respelled %s", prefix, mode)
			}
		}
	}
}

func TestAccMintegralWire_respelledAnswers(t *testing.T) {
	for _, mode := range []string{"camel", "pascal"} {
		t.Run(mode, func(t *testing.T) {
			srv := startSandbox(t)
			respelled := respellAll(t, srv, sandbox.PrefixMintegral+"/", mode)
			src := writeFile(t, t.TempDir(), "devices.txt", deviceList(20))
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{
					{
						// The plan after the apply (empty, or the test
						// fails) reads the audience back through the
						// respelled List API.
						Config: audienceConfig(src, "buyers", "ios", "IDFA"),
						Check: resource.ComposeTestCheckFunc(
							checkAudienceMatchesSandbox(t, srv),
							resource.TestCheckResourceAttr(audienceAddr, "device_types.0", "IDFA"),
							resource.TestCheckResourceAttr(audienceAddr, "platform", "ios"),
							func(s *terraform.State) error {
								return checkStoredPath(srv, s.RootModule().Resources["audience_mintegral_file.devices"].Primary.Attributes["data_path"], deviceList(20))
							},
						),
					},
				},
			})
			respelled()
		})
	}
}

func TestAccMintegralWire_unknownAnswerFailsAndRerunConverges(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault sandbox.Fault
		op    string
		// created: the call made the audience before its answer was lost
		// to the unknown shape; the rerun replaces it.
		created bool
	}{
		{name: "presign", fault: sandbox.Fault{Method: http.MethodGet, PathPrefix: sandbox.PrefixMintegral + "/api/open/v1/audience/presigned-upload-data"},
			op: "GET /api/open/v1/audience/presigned-upload-data"},
		{name: "list", fault: sandbox.Fault{Method: http.MethodGet, PathPrefix: mintegralAudiencePath, Query: "page=1"},
			op: "GET /api/open/v1/audience"},
		{name: "create", fault: sandbox.Fault{Method: http.MethodPost, PathPrefix: mintegralAudiencePath},
			op: "POST /api/open/v1/audience", created: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startSandbox(t)
			src := writeFile(t, t.TempDir(), "devices.txt", deviceList(20))
			config := audienceConfig(src, "buyers", "ios", "IDFA")
			fault := tc.fault
			fault.Respell = "unknown"
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{
					{
						PreConfig:   func() { srv.AddFault(fault) },
						Config:      config,
						ExpectError: shapeReported("Mintegral", tc.op),
					},
					{
						// Nothing half-done: the rerun converges on one
						// audience (the one the failed create made is
						// replaced, not left behind).
						PreConfig: func() {
							if n := len(srv.MintegralAudiences()); n != map[bool]int{true: 1, false: 0}[tc.created] {
								t.Errorf("after the failed apply the sandbox holds %d audiences", n)
							}
						},
						Config: config,
						Check:  checkAudienceMatchesSandbox(t, srv),
					},
				},
			})
		})
	}
}

// Update and delete answers carry nothing the provider keeps: when one
// cannot be read, the audience is read back, and what Mintegral holds
// decides (the ShapeError is logged).
func TestAccMintegralWire_unknownUpdateAndDeleteAnswersAreReadBack(t *testing.T) {
	srv := startSandbox(t)
	dir := t.TempDir()
	first := writeFile(t, dir, "devices.txt", deviceList(20))
	second := writeFile(t, dir, "more.txt", deviceList(30))
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: audienceConfig(first, "buyers", "ios", "IDFA")},
			{
				PreConfig: func() {
					srv.BackdateMintegralAudience(onlyAudience(t, srv).ID, 13*time.Hour)
					srv.AddFault(sandbox.Fault{Method: http.MethodPut, PathPrefix: mintegralAudiencePath, Respell: "unknown"})
				},
				Config: audienceConfig(second, "buyers", "ios", "IDFA"),
				Check:  checkAudienceMatchesSandbox(t, srv),
			},
			{
				PreConfig: func() {
					srv.AddFault(sandbox.Fault{Method: http.MethodDelete, PathPrefix: mintegralAudiencePath, Respell: "unknown"})
				},
				Config:  audienceConfig(second, "buyers", "ios", "IDFA"),
				Destroy: true,
			},
		},
		CheckDestroy: func(*terraform.State) error {
			if n := len(srv.MintegralAudiences()); n != 0 {
				return fmt.Errorf("%d audiences left after destroy", n)
			}
			for _, f := range srv.PendingFaults() {
				return fmt.Errorf("fault %s never met a request", f)
			}
			return nil
		},
	})
}

func TestAccTPNSWire_respelledAnswers(t *testing.T) {
	for _, mode := range []string{"camel", "pascal"} {
		t.Run(mode, func(t *testing.T) {
			srv := startSandbox(t)
			respelled := respellAll(t, srv, sandbox.PrefixTPNS+"/", mode)
			content := "alice@example.com\nbob@example.com\n"
			src := writeFile(t, t.TempDir(), "vip.txt", content)
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config: tpnsPackageConfig("test", src, ""),
					Check:  checkTPNSUploaded(srv, tpnsAddr, content, 2),
				}},
			})
			respelled()
		})
	}
}

func TestAccTPNSWire_unknownAnswerFailsAndRerunConverges(t *testing.T) {
	srv := startSandbox(t)
	content := "alice@example.com\nbob@example.com\n"
	src := writeFile(t, t.TempDir(), "vip.txt", content)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				PreConfig: func() {
					srv.AddFault(sandbox.Fault{Method: http.MethodPost, PathPrefix: sandbox.PrefixTPNS + "/v3/push/package/upload", Respell: "unknown"})
				},
				Config:      tpnsPackageConfig("test", src, ""),
				ExpectError: shapeReported("TPNS", "POST /v3/push/package/upload"),
			},
			{
				// The package TPNS took is an orphan nothing pushes to
				// (TPNS cannot list or delete packages); the rerun uploads
				// again and keeps the new upload id.
				Config: tpnsPackageConfig("test", src, ""),
				Check:  checkTPNSUploaded(srv, tpnsAddr, content, 2),
			},
		},
	})
}

// A rate limit TPNS says in the body is waited out: the apply succeeds.
func TestAccTPNSWire_rateLimitCodeIsWaitedOut(t *testing.T) {
	srv := startSandbox(t)
	srv.InjectFault(http.MethodPost, "/v3/push/package/upload", 2, http.StatusOK, `{"retCode":1008028,"errMsg":"request too fast"}`)
	content := "alice@example.com\nbob@example.com\n"
	src := writeFile(t, t.TempDir(), "vip.txt", content)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: tpnsPackageConfig("test", src, ""),
			Check: resource.ComposeTestCheckFunc(
				checkTPNSUploaded(srv, tpnsAddr, content, 2),
				func(*terraform.State) error {
					if n := len(srv.PendingFaults()); n != 0 {
						return fmt.Errorf("%d rate-limit answers were never sent", n)
					}
					return nil
				},
			),
		}},
	})
}
