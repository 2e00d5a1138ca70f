package mintegral

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/audiencekit/terraform-provider-audience/internal/client/transfer"
	"github.com/audiencekit/terraform-provider-audience/internal/idlist"
)

// Audience lifecycle: create, update, delete and list on /api/open/v1/audience.

// UpdateWindow is how long Mintegral refuses another update after an
// audience was created or last updated.
const UpdateWindow = 12 * time.Hour

// MaxListLimit is the largest page the List API returns.
const MaxListLimit = 500

// Audience platforms, by name and wire number.
var platforms = []struct {
	Name string
	Code int
}{
	{"android", 1},
	{"ios", 2},
	{"mix", 3},
}

// PlatformNames lists the platform names in wire order.
func PlatformNames() []string {
	out := make([]string, len(platforms))
	for i, p := range platforms {
		out[i] = p.Name
	}
	return out
}

// PlatformCode maps a platform name to its wire number.
func PlatformCode(name string) (int, bool) {
	for _, p := range platforms {
		if p.Name == name {
			return p.Code, true
		}
	}
	return 0, false
}

// PlatformName maps a wire number to its name; an unknown number is
// returned as its decimal string.
func PlatformName(code int) string {
	for _, p := range platforms {
		if p.Code == code {
			return p.Name
		}
	}
	return strconv.Itoa(code)
}

// deviceTypes is the one table of device type names and wire numbers.
// OS is the platform whose devices carry that ID ("" for none in
// particular); a mix audience takes every type. IDs is the shape of the
// type's IDs in an audience file. Mintegral's upload page asks only for "a
// single column of device IDs" (helpcenter.mintegral.com/en/docs/
// upload-audience-package-file); its postback page shows IDFAs in
// uppercase, GAIDs in lowercase and MD5 digests as "32-bit lower case"
// (adv.mintegral.com/doc/en/integration/quickStart/postback), the forms
// Apple's and Google's SDKs return. IDFV is Apple's UUID too.
//
// IDFV and IDFV_MD5 are unresolved: the List and Create API pages say 10
// and 11, a newer page and a community SDK say 12 and 13. The documented
// 10 / 11 are sent; 12 / 13 are also read back as IDFV / IDFV_MD5.
var deviceTypes = []struct {
	Name    string
	Code    int
	OS      string
	Aliases []int // other numbers read back as this type
	IDs     idlist.IDRule
}{
	{Name: "IMEI", Code: 1, OS: "android", IDs: idlist.IDRule{Kind: idlist.KindIMEI}},
	{Name: "IDFA", Code: 2, OS: "ios", IDs: idlist.IDRule{Kind: idlist.KindUUID, Case: idlist.CaseUpper}},
	{Name: "GAID", Code: 3, OS: "android", IDs: idlist.IDRule{Kind: idlist.KindUUID, Case: idlist.CaseLower}},
	{Name: "OAID", Code: 4, OS: "android", IDs: idlist.IDRule{Kind: idlist.KindOAID}},
	{Name: "IMEI_MD5", Code: 6, OS: "android", IDs: md5IDs},
	{Name: "IDFA_MD5", Code: 7, OS: "ios", IDs: md5IDs},
	{Name: "GAID_MD5", Code: 8, OS: "android", IDs: md5IDs},
	{Name: "OAID_MD5", Code: 9, OS: "android", IDs: md5IDs},
	{Name: "IDFV", Code: idfvCodes.official, OS: "ios", Aliases: []int{idfvCodes.newer}, IDs: idlist.IDRule{Kind: idlist.KindUUID, Case: idlist.CaseUpper}},
	{Name: "IDFV_MD5", Code: idfvCodes.official + 1, OS: "ios", Aliases: []int{idfvCodes.newer + 1}, IDs: md5IDs},
}

// idfvCodes are the two numberings of IDFV (IDFV_MD5 is the next number):
// official on every Mintegral page, newer in one unofficial reading.
var idfvCodes = struct{ official, newer int }{10, 12}

// isIDFV reports whether a wire number is IDFV or IDFV_MD5 in either
// numbering.
func isIDFV(code int) bool {
	name := DeviceTypeName(code)
	return name == "IDFV" || name == "IDFV_MD5"
}

var md5IDs = idlist.IDRule{Kind: idlist.KindMD5, Case: idlist.CaseLower}

// DeviceTypeIDs returns the rule every line of an audience file of a
// device type (a name) follows.
func DeviceTypeIDs(name string) (idlist.IDRule, bool) {
	for _, d := range deviceTypes {
		if d.Name == name {
			r := d.IDs
			r.Name = d.Name
			return r, true
		}
	}
	return idlist.IDRule{}, false
}

// DeviceTypeNames lists the device type names in wire order.
func DeviceTypeNames() []string {
	out := make([]string, len(deviceTypes))
	for i, d := range deviceTypes {
		out[i] = d.Name
	}
	return out
}

// DeviceTypeCode maps a device type name to its wire number.
func DeviceTypeCode(name string) (int, bool) {
	for _, d := range deviceTypes {
		if d.Name == name {
			return d.Code, true
		}
	}
	return 0, false
}

// DeviceTypeName maps a wire number to its name; an unknown number is
// returned as its decimal string.
func DeviceTypeName(code int) string {
	for _, d := range deviceTypes {
		if d.Code == code || slices.Contains(d.Aliases, code) {
			return d.Name
		}
	}
	return strconv.Itoa(code)
}

// DeviceTypeAllowed reports whether an audience of platform (a name) can
// hold IDs of deviceType (a name), and if not, which platform it needs.
func DeviceTypeAllowed(platform, deviceType string) (ok bool, needs string) {
	for _, d := range deviceTypes {
		if d.Name == deviceType {
			return platform == "mix" || d.OS == "" || d.OS == platform, d.OS
		}
	}
	return false, ""
}

// SortDeviceTypes orders device type names by wire number, unknown names
// last, and drops repeats.
func SortDeviceTypes(names []string) []string {
	rank := func(n string) int {
		if c, ok := DeviceTypeCode(n); ok {
			return c
		}
		if c, err := strconv.Atoi(n); err == nil {
			return c
		}
		return 1 << 30
	}
	out := slices.Clone(names)
	slices.SortStableFunc(out, func(a, b string) int {
		if d := rank(a) - rank(b); d != 0 {
			return d
		}
		return strings.Compare(a, b)
	})
	return slices.Compact(out)
}

// AudienceFile is one uploaded file of an audience: the device type of
// its IDs (a name) and its data_path from Upload.
type AudienceFile struct {
	DeviceType string
	DataPath   string
}

func wireFiles(files []AudienceFile) ([]wireFile, error) {
	if len(files) == 0 {
		return nil, errors.New("mintegral: an audience needs at least one file")
	}
	out := make([]wireFile, len(files))
	for i, f := range files {
		code, ok := DeviceTypeCode(f.DeviceType)
		if !ok {
			return nil, fmt.Errorf("mintegral: unknown device type %q (use one of %s)", f.DeviceType, strings.Join(DeviceTypeNames(), ", "))
		}
		out[i] = wireFile{DeviceType: code, DataPath: f.DataPath}
	}
	return out, nil
}

// Audience is one audience as the List API returns it.
type Audience struct {
	ID          int64
	Name        string
	Platform    string // name, see PlatformNames
	AreaType    int
	Type        int      // 1: uploaded audience
	DeviceTypes []string // names, ordered by wire number
	Created     time.Time
	Updated     time.Time
}

// UpdatableAfter is the earliest time Mintegral accepts another update.
func (a *Audience) UpdatableAfter() time.Time { return a.Updated.Add(UpdateWindow) }

// AudienceFilter selects audiences in List; every field is optional.
type AudienceFilter struct {
	IDs      []int64
	Name     string // fuzzy match on the platform side
	Platform string // name
	// PageSize is the page limit asked for (default and cap MaxListLimit).
	PageSize int
}

// ListAudiences returns every audience matching filter, following every
// page.
func (c *Client) ListAudiences(ctx context.Context, filter AudienceFilter) ([]Audience, error) {
	var out []Audience
	err := c.EachAudiencePage(ctx, filter, func(page []Audience) bool {
		out = append(out, page...)
		return true
	})
	return out, err
}

// EachAudiencePage lists the audiences matching filter one page at a
// time, calling yield with each page until the list ends or yield
// returns false.
func (c *Client) EachAudiencePage(ctx context.Context, filter AudienceFilter, yield func([]Audience) bool) error {
	return c.eachAudiencePage(ctx, filter, func(list []Audience, _, _ int) bool { return yield(list) })
}

// eachAudiencePage is EachAudiencePage whose yield also gets the page's
// number and how many pages the list has by its total (0: no total).
func (c *Client) eachAudiencePage(ctx context.Context, filter AudienceFilter, yield func(list []Audience, page, pages int) bool) error {
	q := url.Values{}
	if len(filter.IDs) > 0 {
		ids := make([]string, len(filter.IDs))
		for i, id := range filter.IDs {
			ids[i] = strconv.FormatInt(id, 10)
		}
		q.Set(paramTaIDs, strings.Join(ids, ","))
	}
	if filter.Name != "" {
		q.Set(paramTaName, filter.Name)
	}
	if filter.Platform != "" {
		code, ok := PlatformCode(filter.Platform)
		if !ok {
			return fmt.Errorf("mintegral: unknown platform %q (use one of %s)", filter.Platform, strings.Join(PlatformNames(), ", "))
		}
		q.Set(paramPlatform, strconv.Itoa(code))
	}
	limit := filter.PageSize
	if limit <= 0 || limit > MaxListLimit {
		limit = MaxListLimit
	}
	q.Set(paramLimit, strconv.Itoa(limit))
	seen := 0
	for page := 1; ; page++ {
		q.Set(paramPage, strconv.Itoa(page))
		var p listAnswer
		// Listing only reads.
		if err := c.call(ctx, http.MethodGet, audiencePath, transfer.DuplicateHarmless, q, nil, &p); err != nil {
			return fmt.Errorf("listing Mintegral audiences (page %d): %w", page, err)
		}
		list := p.List
		seen += len(list)
		pageLimit := limit
		if p.Limit > 0 {
			pageLimit = p.Limit // the server may cap the limit asked for
		}
		pages := 0
		if p.Total > 0 {
			pages = (p.Total + pageLimit - 1) / pageLimit
		}
		if len(list) > 0 && !yield(list, page, pages) {
			return nil
		}
		// An empty page ends the list even if total says otherwise, so a
		// total that changes while paging cannot loop forever. Without a
		// total, a short page is the last one.
		if len(list) == 0 || (p.Total > 0 && seen >= p.Total) || (p.Total <= 0 && len(list) < pageLimit) {
			return nil
		}
	}
}

// GetAudience returns one audience, or nil when it does not exist. With
// a ReadAhead, reads are answered from a listing of the account (see
// ReadAhead); the others of the same account that arrive together share
// one List call (see batcher).
func (c *Client) GetAudience(ctx context.Context, id int64) (*Audience, error) {
	if c.ReadAhead != nil {
		if a, ok, err := c.ReadAhead.get(ctx, c, id); ok {
			return a, err
		}
	}
	return batcherOf(c).get(ctx, c, id)
}

// wrote tells the read-ahead that id is being changed, so its listed
// state is not served again.
func (c *Client) wrote(id int64) {
	if c.ReadAhead != nil {
		c.ReadAhead.wrote(c, id)
	}
}

// AudienceSpec is what Create sends.
type AudienceSpec struct {
	Name     string
	AreaType int
	Platform string // name
	Files    []AudienceFile
}

// createAttempts bounds how often a create whose answer was lost is sent
// again after the lookup found nothing.
const createAttempts = 3

// CreateAudience creates an audience and returns its ta_id. A create is
// never sent twice for one audience: when its answer is lost, the
// audiences with the same exact name and platform are looked up first,
// and one that was not there before is adopted.
func (c *Client) CreateAudience(ctx context.Context, spec AudienceSpec) (int64, error) {
	platform, ok := PlatformCode(spec.Platform)
	if !ok {
		return 0, fmt.Errorf("mintegral: unknown platform %q (use one of %s)", spec.Platform, strings.Join(PlatformNames(), ", "))
	}
	files, err := wireFiles(spec.Files)
	if err != nil {
		return 0, err
	}
	// Audiences of that name that exist already are never adopted.
	before, err := c.sameName(ctx, spec)
	if err != nil {
		return 0, err
	}
	body := createRequest{Name: spec.Name, AreaType: spec.AreaType, Platform: platform, DataPath: files}
	log := c.http.Log()
	for attempt := 1; ; attempt++ {
		var out createAnswer
		// A second copy is a second audience the user would see: not sent
		// again while the first may have landed; it is looked up below.
		err := withSent(c.call(ctx, http.MethodPost, audiencePath, transfer.DuplicateVisible, nil, body, &out), spec.AreaType, files)
		if err == nil {
			c.wrote(out.ID)
			return out.ID, nil
		}
		var shape *transfer.ShapeError
		if errors.As(err, &shape) && ctx.Err() == nil {
			return c.findUnread(ctx, spec, before, err)
		}
		if !transfer.Ambiguous(err) || ctx.Err() != nil {
			return 0, err
		}
		log.Info(ctx, "the answer to create audience was lost; looking it up before trying again", map[string]any{"ta_name": spec.Name, "error": err.Error()})
		now, lerr := c.sameName(ctx, spec)
		if lerr != nil {
			return 0, fmt.Errorf("%w; looking the audience up afterwards failed too: %v", err, lerr)
		}
		var created []int64
		for _, id := range now {
			if !slices.Contains(before, id) {
				created = append(created, id)
			}
		}
		switch {
		case len(created) == 1:
			log.Info(ctx, "the lost create did reach Mintegral; adopting the audience", map[string]any{"ta_id": created[0]})
			c.wrote(created[0])
			return created[0], nil
		case len(created) > 1:
			return 0, fmt.Errorf("mintegral: the answer to create audience %q was lost and %d new audiences of that name appeared since (ta_id %v); delete the extra ones in Mintegral and import the one to keep", spec.Name, len(created), created)
		case attempt >= createAttempts:
			return 0, fmt.Errorf("mintegral: create audience %q failed %d times without an answer; none was created: %w", spec.Name, attempt, err)
		}
	}
}

// UnreadCreateError is a create Mintegral took whose answer the client
// could not read (Err, a *transfer.ShapeError): the audience it made was
// found by its name, so the caller can keep it rather than leave it
// behind.
type UnreadCreateError struct {
	ID  int64
	Err error
}

func (e *UnreadCreateError) Error() string {
	return fmt.Sprintf("%s. The audience was created all the same: ta_id %d", e.Err, e.ID)
}

func (e *UnreadCreateError) Unwrap() error { return e.Err }

// findUnread looks for the audience a create whose answer could not be
// read (err) made: one new audience of spec's name is returned with an
// *UnreadCreateError; otherwise err stands.
func (c *Client) findUnread(ctx context.Context, spec AudienceSpec, before []int64, err error) (int64, error) {
	now, lerr := c.sameName(ctx, spec)
	if lerr != nil {
		return 0, err
	}
	var created []int64
	for _, id := range now {
		if !slices.Contains(before, id) {
			created = append(created, id)
		}
	}
	if len(created) != 1 {
		return 0, err
	}
	return created[0], &UnreadCreateError{ID: created[0], Err: err}
}

// sameName lists the ta_ids of audiences with exactly spec's name and
// platform (the API's name filter is fuzzy).
func (c *Client) sameName(ctx context.Context, spec AudienceSpec) ([]int64, error) {
	list, err := c.ListAudiences(ctx, AudienceFilter{Name: spec.Name, Platform: spec.Platform})
	if err != nil {
		return nil, err
	}
	var ids []int64
	for _, a := range list {
		if a.Name == spec.Name && a.Platform == spec.Platform {
			ids = append(ids, a.ID)
		}
	}
	return ids, nil
}

// UpdateAudience replaces the files of an audience. lastUpdated is the
// update time known before the call. When the call fails in a way that
// may hide a success (its answer was lost, or a repeat of it was refused
// by the 12-hour rule because the first one landed), the audience is read
// back: a later update time with the device types just sent means the
// update was applied.
func (c *Client) UpdateAudience(ctx context.Context, id int64, files []AudienceFile, lastUpdated time.Time) error {
	wf, err := wireFiles(files)
	if err != nil {
		return err
	}
	body := updateRequest{ID: id, DataPath: wf}
	c.wrote(id)
	// A second copy sets the same files on the same audience; if the
	// first landed, the 12-hour rule refuses it and the read-back below
	// finds the update applied.
	err = withSent(c.call(ctx, http.MethodPut, audiencePath, transfer.DuplicateHarmless, nil, body, nil), 0, wf)
	if err == nil || ctx.Err() != nil {
		return err
	}
	var sent []string
	for _, f := range files {
		sent = append(sent, f.DeviceType)
	}
	a, lerr := c.GetAudience(ctx, id)
	if lerr == nil && a != nil && a.Updated.After(lastUpdated) && slices.Equal(a.DeviceTypes, SortDeviceTypes(sent)) {
		c.http.Log().Info(ctx, "the update audience call failed, but the update was applied", map[string]any{"ta_id": id, "error": err.Error()})
		return nil
	}
	return err
}

// DeleteAudience deletes an audience. An audience that is already gone is
// not an error.
func (c *Client) DeleteAudience(ctx context.Context, id int64) error {
	body := deleteRequest{IDs: []int64{id}}
	c.wrote(id)
	// A second copy finds the audience gone; the read-back below takes
	// that for success.
	err := c.call(ctx, http.MethodDelete, audiencePath, transfer.DuplicateHarmless, nil, body, nil)
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return err
	}
	a, lerr := c.GetAudience(ctx, id)
	if lerr == nil && a == nil {
		c.http.Log().Info(ctx, "the delete audience call failed, but the audience is gone", map[string]any{"ta_id": id, "error": err.Error()})
		return nil
	}
	return err
}
