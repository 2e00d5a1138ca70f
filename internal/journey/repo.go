package journey

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"image"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/audiencekit/terraform-provider-audience/internal/sandbox"
)

// repo is the team's repository: the configuration and the files committed
// next to it. Commits change it; every CI job checks out a fresh copy.
type repo struct {
	statePath string // the local backend's state file, outside every checkout

	// pipeline is the documented pipeline (PipelineExample): the Altcraft
	// export, its IDFA list to a Mintegral file and audience, its _pid
	// list to a TPNS package.
	pipeline string

	// listDir is where audience_id_list writes its lists, relative to the
	// root module: a folder the Altcraft export also creates ("exports"),
	// or one nothing else creates, git-ignored and absent in a fresh clone.
	listDir string

	// devices: a committed GAID list feeding audience_mintegral_file.gaid
	// and the Android audience.
	devices     bool
	devicesPath string // relative to the root module
	// devicesName is the file_name Mintegral has for the list: the base
	// name of its first source; a rename to a name of the same kind keeps
	// it (a rename is not new content).
	devicesName string
	devicesArea int // area_type of the file and its audience
	deviceIDs   []string

	// crmShared: the raw CRM export committed as crm/customers.csv, sent
	// to Future Demand and to OpenIM. It holds e-mail addresses and many
	// columns, so it must never reach Mintegral.
	crmShared bool

	// idfaShared: an OpenIM backup of the IDFA list, a second resource on
	// the file audience_mintegral_file.doctors uploads.
	idfaShared bool

	// fdDirect: Future Demand's direct uploads: the tour's events
	// ingested in bulk, and a creative.
	fdDirect  bool
	events    int // rows of the events file
	bannerRev int
	// eventsSettle is the line that settles an unconfirmed events ingest
	// (confirm_unconfirmed_ingest or resend_unconfirmed_ingest = token),
	// as the team commits it after looking in Future Demand.
	eventsSettle string

	// mistake: a resource that must be refused at plan, with nothing sent
	// to Mintegral: "crm" is a Mintegral file on the CRM export, "gzip" a
	// Mintegral file on a truncated .txt.gz that OpenIM also takes
	// (gzipCompanion), "emails" a Mintegral file of e-mail addresses (one
	// column), "shared output" a second ID list written to the IDFA
	// list's path, "collapse" the list guard made an error in the
	// provider block while the segment collapses.
	mistake       string
	gzipCompanion bool

	// imports are console-made audiences the configuration adopts with an
	// import {} block (while importBlock is set) and manages afterwards.
	imports []importedAudience

	// The loyalty pipeline (export.go): the audience_altcraft_profile_export
	// resource on its own source, its max_age, and the campaign in its
	// triggers, which a commit bumps to export again.
	exportMaxAge   string
	exportCampaign int
}

// importedAudience is an audience made in Mintegral's console, adopted by
// the configuration.
type importedAudience struct {
	taID        int64
	name        string
	importBlock bool
}

// The resources the configuration may hold, by address.
const (
	addrDoctorsFile     = "audience_mintegral_file.doctors"
	addrDoctorsAudience = "audience_mintegral_audience.doctors"
	addrTPNS            = "audience_tpns_account_package.doctors"
	addrGAIDFile        = "audience_mintegral_file.gaid"
	addrAndroidAudience = "audience_mintegral_audience.android"
	addrCRMFutureDemand = "audience_futuredemand_upload.crm"
	addrCRMOpenIM       = "audience_openim_object.crm"
	addrIDFABackup      = "audience_openim_object.idfa_backup"
	addrTourEvents      = "audience_futuredemand_ingest.tour_events"
	addrBanner          = "audience_futuredemand_media.banner"
	addrMistakeCRM      = "audience_mintegral_file.crm"
	addrMistakeGzip     = "audience_mintegral_file.ios_gz"
	addrGzipCompanion   = "audience_openim_object.ios_gz"
	addrLoyalExport     = "audience_altcraft_profile_export.loyal"
	addrLoyalTPNS       = "audience_tpns_account_package.loyal"
)

const (
	crmPath    = "crm/customers.csv"
	eventsPath = "events/tour.csv"
	bannerPath = "creatives/banner.png"
	gzipPath   = "audiences/ios_idfa.txt.gz"
	emailsPath = "audiences/ios_newsletter.txt"
	exportDir  = "exports"
)

// What the pipeline names its IDFA list and its audience (loadPipeline
// checks both).
const (
	doctorsListName     = "doctors_idfa.txt"
	doctorsAudienceName = "crm-doctors-ios"
	androidAudienceName = "android-gaid"
)

// PipelineExample is the documented pipeline the team's repository holds,
// relative to the module root.
const PipelineExample = "examples/data-sources/audience_altcraft_profile_export/pipeline.tf"

// pipelineLists is how the example names the folder of its ID lists.
const pipelineLists = `"${path.root}/lists/doctors_`

// loadPipeline reads the documented pipeline and checks it still has
// what the journey relies on.
func loadPipeline(moduleRoot string) (string, error) {
	raw, err := os.ReadFile(filepath.Join(moduleRoot, PipelineExample)) // a small configuration file of the repository
	if err != nil {
		return "", err
	}
	text := string(raw)
	for _, want := range []string{pipelineLists, `output_dir     = "${path.root}/exports"`,
		`"${path.root}/lists/` + doctorsListName + `"`, `name     = "` + doctorsAudienceName + `"`,
		`resource "audience_mintegral_file" "doctors"`, `resource "audience_mintegral_audience" "doctors"`,
		`resource "audience_tpns_account_package" "doctors"`, `data "audience_id_list" "doctors_idfa"`} {
		if !strings.Contains(text, want) {
			return "", fmt.Errorf("%s no longer has %s; the journey's repository is built from it", PipelineExample, want)
		}
	}
	return text, nil
}

// pipelineIn is the pipeline writing its ID lists into listDir.
func (r *repo) pipelineIn(listDir string) string {
	return strings.ReplaceAll(r.pipeline, pipelineLists, `"${path.root}/`+listDir+`/doctors_`)
}

// generatedDirs are the folders a plan writes and a fresh clone lacks.
func (r *repo) generatedDirs() []string {
	dirs := []string{exportDir}
	if top := strings.Split(r.listDir, "/")[0]; top != exportDir {
		dirs = append(dirs, top)
	}
	return dirs
}

// managed lists the addresses of the resources the configuration holds.
func (r *repo) managed() []string {
	out := []string{addrDoctorsFile, addrDoctorsAudience, addrTPNS, addrLoyalExport, addrLoyalTPNS}
	if r.devices {
		out = append(out, addrGAIDFile, addrAndroidAudience)
	}
	if r.crmShared {
		out = append(out, addrCRMFutureDemand, addrCRMOpenIM)
	}
	if r.idfaShared {
		out = append(out, addrIDFABackup)
	}
	if r.fdDirect {
		out = append(out, addrTourEvents, addrBanner)
	}
	for _, im := range r.imports {
		out = append(out, im.address())
	}
	return out
}

// fileName is the file_name a Mintegral file resource uploads under: its
// first source's base name.
func (r *repo) fileName(addr string) string {
	if addr == addrGAIDFile {
		if r.devicesName != "" {
			return r.devicesName
		}
		return filepath.Base(r.devicesPath)
	}
	return doctorsListName
}

// audienceName is the name of the audience at addr.
func (r *repo) audienceName(addr string) string {
	switch addr {
	case addrDoctorsAudience:
		return doctorsAudienceName
	case addrAndroidAudience:
		return androidAudienceName
	}
	for _, im := range r.imports {
		if im.address() == addr {
			return im.name
		}
	}
	return ""
}

func (im importedAudience) address() string {
	return fmt.Sprintf("audience_mintegral_audience.console_%d", im.taID)
}

// newDeviceIDs draws n GAIDs: lower-case UUIDs, as Android reports them.
func newDeviceIDs(rng *rand.Rand, n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = randomUUID(rng)
	}
	return ids
}

func randomUUID(rng *rand.Rand) string {
	hi, lo := rng.Uint64(), rng.Uint64()
	return fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", hi>>32, hi>>16&0xffff, hi&0xfff, 0x8000|lo>>48&0x3fff, lo&0xffffffffffff)
}

// write renders the repository into dir, which it replaces.
func (r *repo) write(dir string) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	files := map[string][]byte{"main.tf": []byte(r.config())}
	if r.devices {
		files[r.devicesPath] = []byte(strings.Join(r.deviceIDs, "\n") + "\n")
	}
	if r.fdDirect {
		files[bannerPath] = banner(r.bannerRev)
		files[eventsPath] = tourEvents(r.events)
	}
	if r.crmShared || r.mistake == "crm" {
		var b bytes.Buffer
		if _, err := sandbox.AltcraftExport(&b, "database", 2, nil); err != nil {
			return err
		}
		files[crmPath] = b.Bytes()
	}
	if r.mistake == "gzip" {
		files[gzipPath] = truncatedGzip()
	}
	if r.mistake == "emails" {
		files[emailsPath] = []byte("ada.lovelace@example.com\nalan.turing@example.org\ngrace.hopper@example.net\n")
	}
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, content, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// tourEvents is an events file of n concerts, in Future Demand's events
// template.
func tourEvents(n int) []byte {
	var b bytes.Buffer
	b.WriteString("title,start_date_time,city,venue,capacity\n")
	cities := []string{"Berlin", "Hamburg", "Munich", "Cologne", "Leipzig"}
	for i := range n {
		fmt.Fprintf(&b, "Spring Tour %d,2027-%02d-%02dT20:00:00+01:00,%s,Arena %d,%d\n", i+1, 3+i%9, 1+i%28, cities[i%len(cities)], i%7+1, 1000+i*50)
	}
	return b.Bytes()
}

// banner is a small PNG creative; each revision draws other pixels.
func banner(rev int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 32, 16))
	rng := rand.New(rand.NewPCG(uint64(rev), 7))
	for i := range img.Pix {
		img.Pix[i] = byte(rng.Uint32())
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.Bytes()
}

// truncatedGzip is a gzipped IDFA list cut in the middle of its stream, as
// an interrupted copy leaves it.
func truncatedGzip() []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	for i := range 400 {
		fmt.Fprintf(zw, "%08X-0000-4000-8000-%012X\n", i*7919, i)
	}
	_ = zw.Close()
	return b.Bytes()[:b.Len()/2]
}

// config renders main.tf.
func (r *repo) config() string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p(`terraform {
  required_providers {
    audience = {
      source = "audiencekit/audience"
    }
  }
  backend "local" {
    path = %q
  }
}

`, r.statePath)
	b.WriteString(r.pipelineIn(r.listDir))
	p(`
# The loyalty programme's accounts, exported once a day: the resource, not
# the data source above, so the plan, apply and drift jobs of a day share
# one export task. The list reads files[0].path and the upload the list's
# id, so both wait for a new export at apply.
resource "audience_altcraft_profile_export" "loyal" {
  source_type    = %q
  source_id      = %d
  custom_request = { vip = true }
  output_dir     = "${path.root}/%s"
  max_age        = %q
  triggers       = { campaign = "spring-%d" }
}

data "audience_id_list" "loyal_accounts" {
  source      = audience_altcraft_profile_export.loyal.files[0].path
  column      = "_pid"
  output_path = "${path.root}/%s/loyal_accounts.txt"
}

resource "audience_tpns_account_package" "loyal" {
  source = data.audience_id_list.loyal_accounts.id
}
`, loyalSourceType, loyalSourceID, exportDir, r.exportMaxAge, r.exportCampaign, r.listDir)
	if r.devices {
		p(`
# A device list the team commits.
resource "audience_mintegral_file" "gaid" {
  source    = "${path.root}/%s"
  area_type = %d
}

resource "audience_mintegral_audience" "android" {
  name      = %q
  platform  = "android"
  area_type = %d
  files = [{
    device_type = "GAID"
    data_path   = audience_mintegral_file.gaid.data_path
  }]
}
`, r.devicesPath, r.devicesArea, androidAudienceName, r.devicesArea)
	}
	if r.crmShared {
		p(`
# The raw CRM export goes to Future Demand and is archived on OpenIM.
resource "audience_futuredemand_upload" "crm" {
  source = "${path.root}/%s"
}

resource "audience_openim_object" "crm" {
  source = "${path.root}/%s"
  name   = "crm/customers.csv"
}
`, crmPath, crmPath)
	}
	if r.idfaShared {
		p(`
# A backup of the IDFA list: a second resource on the file Mintegral gets.
resource "audience_openim_object" "idfa_backup" {
  source = data.audience_id_list.doctors_idfa.output_path
  name   = "backup/doctors_idfa.txt"
}
`)
	}
	if r.fdDirect {
		p(`
# Future Demand's direct uploads: the tour's events in bulk, and a
# creative.
resource "audience_futuredemand_ingest" "tour_events" {
  source     = "${path.root}/%s"
  kind       = "events"
  event_type = "fdlive"
  %s
}

resource "audience_futuredemand_media" "banner" {
  source = "${path.root}/%s"
}
`, eventsPath, r.eventsSettle, bannerPath)
	}
	switch r.mistake {
	case "emails":
		p(`
# A mistake: a one-column list of e-mail addresses sent to Mintegral.
resource "audience_mintegral_file" "crm" {
  source = "${path.root}/%s"
}
`, emailsPath)
	case "shared output":
		p(`
# A mistake: a module copied for Android writes its GAID list to the path
# the IDFA list is written to.
data "audience_id_list" "doctors_gaid" {
  source      = data.audience_altcraft_profile_export.doctors.files[0].path
  column      = "gaid"
  output_path = "${path.root}/%s/%s"
  format      = "uuid"
  invalid     = "skip"
}
`, r.listDir, doctorsListName)
	case "collapse":
		p(`
# An unattended pipeline: a list that collapses stops the plan.
provider "audience" {
  list_guard = { on_shrink = "error" }
}
`)
	case "crm":
		p(`
# A mistake: the raw CRM export (e-mails, many columns) sent to Mintegral.
resource "audience_mintegral_file" "crm" {
  source = "${path.root}/%s"
}
`, crmPath)
	case "gzip":
		p(`
# A mistake: a truncated gzip sent to Mintegral.
resource "audience_mintegral_file" "ios_gz" {
  source = "${path.root}/%s"
}
`, gzipPath)
		if r.gzipCompanion {
			p(`
resource "audience_openim_object" "ios_gz" {
  source = "${path.root}/%s"
}
`, gzipPath)
		}
	}
	for _, im := range slices.Clone(r.imports) {
		if im.importBlock {
			p(`
import {
  to = %s
  id = "%d"
}
`, im.address(), im.taID)
		}
		p(`
# Made in Mintegral's console, managed here since.
resource "audience_mintegral_audience" "console_%d" {
  name     = %q
  platform = "ios"
  files = [{
    device_type = "IDFA"
    data_path   = audience_mintegral_file.doctors.data_path
  }]
}
`, im.taID, im.name)
	}
	return b.String()
}
