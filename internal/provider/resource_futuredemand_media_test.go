package provider

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	acc "github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/audiencekit/terraform-provider-audience/internal/filecheck/fdfiles"
	"github.com/audiencekit/terraform-provider-audience/internal/sandbox"
)

const mediaAddr = "audience_futuredemand_media.test"

func mediaConfig(source, extra string) string {
	return fmt.Sprintf(`
resource "audience_futuredemand_media" "test" {
  source = %q
  %s
}
`, source, extra)
}

// Creatives: a format's first bytes, then n bytes made from seed.
func pngCreative(n int, seed byte) string {
	return "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + strings.Repeat(string([]byte{seed}), n)
}

func jpegCreative(n int, seed byte) string {
	return "\xff\xd8\xff\xe0\x00\x10JFIF\x00" + strings.Repeat(string([]byte{seed}), n)
}

func mp4Creative(n int) string {
	return "\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomavc1" + strings.Repeat("v", n)
}

// checkMedia asserts Future Demand stored count media, the last with the
// content and type, under the url and media id in state, and serves it.
func checkMedia(srv *sandbox.Server, count int, content, contentType string) acc.TestCheckFunc {
	return func(s *terraform.State) error {
		attrs := s.RootModule().Resources[mediaAddr].Primary.Attributes
		media := srv.FutureDemandMediaObjects()
		if len(media) != count {
			return fmt.Errorf("Future Demand holds %d media, want %d", len(media), count)
		}
		last := media[len(media)-1]
		u, _ := url.Parse(last.URL)
		if last.MD5 != md5hex(content) || last.ContentType != contentType || attrs["url"] != last.URL || attrs["media_id"] != strings.TrimPrefix(u.Path, "/") || attrs["id"] != attrs["media_id"] {
			return fmt.Errorf("last media %+v; state %v", last, attrs)
		}
		resp, err := http.Get(attrs["url"])
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		h := md5.New()
		_, _ = io.Copy(h, resp.Body)
		if got := hex.EncodeToString(h.Sum(nil)); got != md5hex(content) {
			return fmt.Errorf("the url serves md5 %s, want %s", got, md5hex(content))
		}
		return nil
	}
}

func TestAccSmokeFuturedemandMedia(t *testing.T) {
	srv := accTarget(t, futureDemandPlatform)
	content := pngCreative(2000, 1)
	name := accName("banner.png")
	src := writeFile(t, t.TempDir(), name, content)
	acc.Test(t, acc.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []acc.TestStep{{
			Config: mediaConfig(src, ""),
			ConfigPlanChecks: acc.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectKnownValue(mediaAddr, tfjsonpath.New("content_type"), knownvalue.StringExact("image/png")),
				plancheck.ExpectUnknownValue(mediaAddr, tfjsonpath.New("url")),
			}},
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(mediaAddr, tfjsonpath.New("file_name"), knownvalue.StringExact(name)),
				statecheck.ExpectKnownValue(mediaAddr, tfjsonpath.New("file_md5"), knownvalue.StringExact(md5hex(content))),
			},
			Check: onSandbox(srv, checkMedia(srv, 1, content, "image/png")),
		}},
	})
}

func TestAccFutureDemandMedia_lifecycle(t *testing.T) {
	srv := accTarget(t, futureDemandPlatform)
	root := t.TempDir()
	png, jpeg := pngCreative(3000, 1), jpegCreative(3000, 2)
	name := accName("creative.img")
	src := writeFile(t, mkdir(t, root, "a"), name, png)
	moved := filepath.Join(mkdir(t, root, "b"), name)
	var sent, sentBeforeDestroy int
	var mediaID string
	acc.Test(t, acc.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: onSandbox(srv, func(*terraform.State) error {
			if n := srv.Requests(sandbox.PrefixFutureDemand); n != sentBeforeDestroy {
				return fmt.Errorf("destroy sent %d requests to Future Demand", n-sentBeforeDestroy)
			}
			return nil
		}),
		Steps: []acc.TestStep{
			{
				Config: mediaConfig(src, ""),
				Check:  onSandbox(srv, acc.ComposeTestCheckFunc(checkMedia(srv, 1, png, "image/png"), fdRequests(srv, &sent, 1))),
			},
			{
				Config:           mediaConfig(src, ""),
				ConfigPlanChecks: acc.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
				Check:            onSandbox(srv, fdRequests(srv, &sent, 0)),
			},
			{
				// New content of another format: uploaded again with the
				// type its bytes show, known at plan.
				PreConfig: func() { writeFile(t, filepath.Dir(src), name, jpeg) },
				Config:    mediaConfig(src, ""),
				ConfigPlanChecks: acc.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(mediaAddr, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(mediaAddr, tfjsonpath.New("content_type"), knownvalue.StringExact("image/jpeg")),
					plancheck.ExpectUnknownValue(mediaAddr, tfjsonpath.New("media_id")),
				}},
				Check: onSandbox(srv, acc.ComposeTestCheckFunc(checkMedia(srv, 2, jpeg, "image/jpeg"), fdRequests(srv, &sent, 1))),
			},
			{
				// Another spelling of the same kind is an argument Future
				// Demand sees: uploaded again.
				Config: mediaConfig(src, `content_type = "image/pjpeg"`),
				ConfigPlanChecks: acc.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(mediaAddr, plancheck.ResourceActionUpdate),
				}},
				Check: acc.ComposeTestCheckFunc(onSandbox(srv, acc.ComposeTestCheckFunc(checkMedia(srv, 3, jpeg, "image/pjpeg"), fdRequests(srv, &sent, 1))), func(s *terraform.State) error {
					mediaID = s.RootModule().Resources[mediaAddr].Primary.Attributes["media_id"]
					return nil
				}),
			},
			{
				// Moved: nothing is sent, the media id stays.
				PreConfig: func() {
					if err := os.Rename(src, moved); err != nil {
						t.Fatal(err)
					}
				},
				Config: mediaConfig(moved, `content_type = "image/pjpeg"`),
				Check: acc.ComposeTestCheckFunc(onSandbox(srv, fdRequests(srv, &sent, 0)), func(s *terraform.State) error {
					if got := s.RootModule().Resources[mediaAddr].Primary.Attributes["media_id"]; got != mediaID {
						return fmt.Errorf("media_id %q after a move, want %q", got, mediaID)
					}
					if srv != nil {
						sentBeforeDestroy = srv.Requests(sandbox.PrefixFutureDemand)
					}
					return nil
				}),
			},
		},
	})
}

// A video goes with its own type, and a base that keeps /v3 is the
// document's first mistake: the error names the setting to fix.
func TestAccFutureDemandMedia_videoAndMediaEndpoint(t *testing.T) {
	srv := requireSandbox(t, futureDemandPlatform, "points the media endpoint at the sandbox's own paths")
	content := mp4Creative(5000)
	src := writeFile(t, t.TempDir(), "spot.mp4", content)
	acc.Test(t, acc.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []acc.TestStep{
			{
				PreConfig:   func() { t.Setenv("FUTUREDEMAND_MEDIA_ENDPOINT", srv.Env()["FUTUREDEMAND_ENDPOINT"]) },
				Config:      mediaConfig(src, ""),
				ExpectError: wrapped("HTTP 404", "POST /media is on the API base without its /v3 segment", "FUTUREDEMAND_MEDIA_ENDPOINT"),
			},
			{
				PreConfig: func() { t.Setenv("FUTUREDEMAND_MEDIA_ENDPOINT", srv.URL()+sandbox.PrefixFutureDemand+"/api/") },
				Config:    mediaConfig(src, ""),
				Check:     checkMedia(srv, 1, content, "video/mp4"),
			},
		},
	})
}

// What is not an image or a video, or too large, or declared of another
// kind, fails the plan with the file and the rule; nothing is sent.
func TestAccFutureDemandMedia_planTimeRefusals(t *testing.T) {
	srv := accTarget(t, futureDemandPlatform)
	dir := t.TempDir()
	text := writeFile(t, dir, "banner.png", "not really a png\n")
	png := writeFile(t, dir, "ok.png", pngCreative(100, 3))
	large := filepath.Join(dir, "large.png")
	if err := os.WriteFile(large, []byte(pngCreative(10, 4)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(large, fdfiles.MaxMediaSize+1); err != nil {
		t.Fatal(err)
	}
	steps := []acc.TestStep{
		{Config: mediaConfig(text, ""), ExpectError: wrapped("Invalid Future Demand media", text+": its content is not an image or a video", "it looks like text", "rule: media is an image or a video, by its content")},
		{Config: mediaConfig(png, `content_type = "video/mp4"`), ExpectError: wrapped("Content type does not match the media", `the declared content type is "video/mp4", but the content is an image (image/png)`)},
		{Config: mediaConfig(png, `content_type = "text/csv"`), ExpectError: wrapped(`"text/csv" is not of type image or video`)},
		{Config: mediaConfig(large, ""), ExpectError: wrapped("Source file too large", "52428801 bytes")},
	}
	for i := range steps {
		steps[i].PlanOnly = true
	}
	acc.Test(t, acc.TestCase{ProtoV6ProviderFactories: testAccProtoV6ProviderFactories, Steps: steps})
	if srv == nil {
		return
	}
	if n := srv.Requests(sandbox.PrefixFutureDemand); n != 0 {
		t.Fatalf("%d requests reached Future Demand from plans that failed", n)
	}
}
