package provider

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/audiencekit/terraform-provider-audience/internal/client/futuredemand"
	"github.com/audiencekit/terraform-provider-audience/internal/filecheck/fdfiles"
)

// Events are never ingested twice. Every row of an events file creates an
// event in Future Demand, which cannot be taken back or read back, so:
//
//   - A file that only grew (what Future Demand holds is a byte prefix of
//     it, ending at a row boundary) sends its header row and the new rows;
//     the plan shows ingested_rows old → new and sent_rows.
//   - Any other edit of an ingested events file is refused at plan. The
//     way to send the whole file again on purpose is terraform taint (a
//     tainted object is planned as a create, which sends every row).
//     terraform apply -replace cannot be offered: Terraform asks the
//     provider to plan the in-place update first and turns it into a
//     replacement only after that plan succeeds, and that plan is the
//     refusal; the provider cannot tell it from a plain plan.
//   - After a lost answer (the request went out whole, no answer came,
//     the client did not send it again), the apply fails and state keeps
//     the resource with ingest_status = "unconfirmed" and the attempt in
//     unconfirmed_ingest (in state: Terraform keeps the private state of
//     the planned change when a Delete fails); file_md5, file_size and
//     ingested_rows
//     keep naming what Future Demand surely holds. Every later plan stops
//     until the configuration says what happened:
//     confirm_unconfirmed_ingest = token records the attempt as ingested
//     without sending; resend_unconfirmed_ingest = token sends the
//     attempt's rows once more. A token names one attempt, so a value left
//     in the configuration never decides about a later one.
//
// A failed create leaves Terraform's object tainted, and Terraform plans
// the replacement of a tainted object as a plain create: the provider is
// not shown the object. So Read, which Terraform still calls on it,
// remembers an unconfirmed object for the rest of the provider process,
// where the create's plan finds it by kind, event type and source; and
// Delete refuses to remove an unconfirmed object for a replacement that
// the configuration did not settle (a plan with -refresh=false), so no
// create follows. Only create_before_destroy with -refresh=false gets
// past both.

// Values of ingest_status.
const (
	ingestStatusIngested    = "ingested"
	ingestStatusUnconfirmed = "unconfirmed"
)

// privateRemovalKey, in the private state of a planned change, tells
// Delete why the object goes: {"destroy": true}, or {"settled": token}
// for the replacement of an unconfirmed object whose attempt the
// configuration settled.
const privateRemovalKey = "events_removal"

// ingestAttempt is an events ingest whose answer was lost, as state keeps
// it in unconfirmed_ingest (not in private state: Terraform keeps the
// private state of the planned change when a Delete fails).
type ingestAttempt struct {
	Token    string `tfsdk:"token"`
	MD5      string `tfsdk:"md5"`  // of the file
	Size     int64  `tfsdk:"size"` // of the file
	Rows     int64  `tfsdk:"rows"` // event rows in the file
	SentRows int64  `tfsdk:"sent_rows"`
	SentAt   string `tfsdk:"sent_at"` // RFC 3339, UTC
}

// token names the attempt in confirm_unconfirmed_ingest and
// resend_unconfirmed_ingest.
func (a ingestAttempt) token() string { return a.MD5 + "@" + a.SentAt }

var attemptTypes = map[string]attr.Type{
	"token": types.StringType, "md5": types.StringType, "size": types.Int64Type,
	"rows": types.Int64Type, "sent_rows": types.Int64Type, "sent_at": types.StringType,
}

func (a ingestAttempt) object(ctx context.Context) (types.Object, diag.Diagnostics) {
	a.Token = a.token()
	return types.ObjectValueFrom(ctx, attemptTypes, a)
}

var tokenPattern = regexp.MustCompile(`^[0-9a-f]{32}@\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)

type removal struct {
	Destroy bool   `json:"destroy,omitempty"`
	Settled string `json:"settled,omitempty"`
}

// readRemoval reads the removal note of a planned change.
func readRemoval(ctx context.Context, p privateGetter) removal {
	var r removal
	_, _ = getPrivate(ctx, p, privateRemovalKey, &r)
	return r
}

// writeRemoval sets the removal note of a planned change; nil drops it.
func writeRemoval(ctx context.Context, p privateSetter, r *removal) diag.Diagnostics {
	if r == nil {
		return setPrivate(ctx, p, privateRemovalKey, nil)
	}
	return setPrivate(ctx, p, privateRemovalKey, r)
}

// eventsPrior is the object a plan or an apply starts from.
type eventsPrior struct {
	m       futureDemandIngestModel
	attempt *ingestAttempt // set when m is unconfirmed
	// replaced: the object is being replaced (Terraform's plan of it is a
	// create), found in inDoubt rather than in the request.
	replaced bool
}

func (p *eventsPrior) unconfirmed() bool {
	return p != nil && p.m.IngestStatus.ValueString() == ingestStatusUnconfirmed
}

// token names the prior object's attempt in doubt, or is "".
func (p *eventsPrior) token() string {
	if p == nil || p.attempt == nil {
		return ""
	}
	return p.attempt.token()
}

// inDoubt remembers, per configured provider (one Terraform command),
// the unconfirmed objects Read or Delete saw, for the plan and the create
// of their replacement, which are not shown the object.
var inDoubt = struct {
	sync.Mutex
	m map[*providerData][]eventsPrior
}{m: map[*providerData][]eventsPrior{}}

func rememberInDoubt(d *providerData, p eventsPrior) {
	inDoubt.Lock()
	defer inDoubt.Unlock()
	list := inDoubt.m[d]
	for i, q := range list {
		if q.m.ID.Equal(p.m.ID) && sameSource(q.m.Source, p.m.Source) {
			list[i] = p
			return
		}
	}
	inDoubt.m[d] = append(list, p)
}

// findInDoubt returns the unconfirmed object the planned create of m
// replaces: one of the same kind and key, on the same source or whose
// attempt sent the same content.
func findInDoubt(d *providerData, m futureDemandIngestModel, md5 string) *eventsPrior {
	inDoubt.Lock()
	defer inDoubt.Unlock()
	id := ingestID(m)
	var byContent *eventsPrior
	for _, q := range inDoubt.m[d] {
		if !q.m.ID.Equal(id) {
			continue
		}
		q.replaced = true
		if sameSource(q.m.Source, m.Source) {
			return &q
		}
		if q.attempt != nil && q.attempt.MD5 == md5 && byContent == nil {
			byContent = &q
		}
	}
	return byContent
}

func sameSource(a, b types.String) bool {
	x, err1 := filepath.Abs(a.ValueString())
	y, err2 := filepath.Abs(b.ValueString())
	return err1 == nil && err2 == nil && x == y
}

// settled is what the configuration says about an attempt in doubt: the
// content Future Demand holds (base), how many rows that is, and the
// attempt taken as ingested when the answer is "it arrived".
type settled struct {
	base      futuredemand.EventsBase
	baseRows  int64 // -1: not recorded (state from before rows were counted)
	confirmed *ingestAttempt
	token     string // of the attempt settled, if any
}

// settle returns what Future Demand holds from the prior object's file,
// once the configuration's answer about an attempt in doubt is applied.
// An unconfirmed prior without a matching answer is an error that says
// what to check and how to answer.
func settle(p *eventsPrior, m futureDemandIngestModel) (settled, diag.Diagnostics) {
	var diags diag.Diagnostics
	if p == nil || p.m.Kind.ValueString() != futuredemand.KindEvents {
		return settled{}, diags
	}
	held := settled{base: futuredemand.EventsBase{Size: p.m.FileSize.ValueInt64(), MD5: p.m.FileMD5.ValueString()}, baseRows: -1}
	if p.m.FileMD5.IsNull() || p.m.FileMD5.ValueString() == "" {
		held.base = futuredemand.EventsBase{}
	}
	if !p.m.IngestedRows.IsNull() && !p.m.IngestedRows.IsUnknown() {
		held.baseRows = p.m.IngestedRows.ValueInt64()
	}
	if held.base.Size == 0 {
		held.baseRows = 0
	}
	if !p.unconfirmed() {
		return held, diags
	}
	if p.attempt == nil {
		diags.AddError("Events ingest unconfirmed", fmt.Sprintf("%s: the state says its last events ingest is unconfirmed, but holds no record of that ingest (unconfirmed_ingest). Check Future Demand's event list; if the events are not all there, %s on this resource makes the next apply send the whole file.", p.m.Source.ValueString(), cliCommand("state rm")))
		return settled{}, diags
	}
	token := p.attempt.token()
	confirm, resend := m.ConfirmUnconfirmedIngest, m.ResendUnconfirmedIngest
	if confirm.IsUnknown() || resend.IsUnknown() {
		diags.AddAttributeError(path.Root("confirm_unconfirmed_ingest"), "Events ingest unconfirmed",
			"confirm_unconfirmed_ingest and resend_unconfirmed_ingest must be known at plan time while an events ingest is unconfirmed: "+unconfirmedDetail(p, token))
		return settled{}, diags
	}
	switch token {
	case confirm.ValueString():
		a := *p.attempt
		return settled{base: futuredemand.EventsBase{Size: a.Size, MD5: a.MD5}, baseRows: a.Rows, confirmed: &a, token: token}, diags
	case resend.ValueString():
		held.token = token
		return held, diags
	}
	stale := ""
	for name, v := range map[string]types.String{"confirm_unconfirmed_ingest": confirm, "resend_unconfirmed_ingest": resend} {
		if !v.IsNull() {
			stale += fmt.Sprintf(" %s = %q names another attempt.", name, v.ValueString())
		}
	}
	diags.AddError("Events ingest unconfirmed", unconfirmedDetail(p, token)+stale)
	return settled{}, diags
}

// unconfirmedDetail says what is in doubt, what to check in Future
// Demand, and the two answers.
func unconfirmedDetail(p *eventsPrior, token string) string {
	a := p.attempt
	what := fmt.Sprintf("the whole file (%s)", plural(a.SentRows, "event row"))
	if a.SentRows != a.Rows {
		what = fmt.Sprintf("its header row and the %s after the %d Future Demand held (rows %d to %d of the file)", plural(a.SentRows, "row"), a.Rows-a.SentRows, a.Rows-a.SentRows+1, a.Rows)
	}
	replaced := ""
	if p.replaced {
		replaced = " (Terraform marked the resource tainted when that create failed, and would create it again: the answer also decides what that replacement does.)"
	}
	return fmt.Sprintf("The events ingest of %s sent at %s to Future Demand (event_type %q, file_name %q, md5 %s, %d bytes) carried %s, but no answer came back, "+
		"so it is not known whether Future Demand created those events. Every row creates an event and none can be taken back, so nothing more is sent until the configuration says what happened.%s "+
		"Check Future Demand's %s event list for the events of those rows, created around %s. Then set one of these in the resource and apply:\n"+
		"- they are there: confirm_unconfirmed_ingest = %q records them as ingested without sending anything;\n"+
		"- they are not: resend_unconfirmed_ingest = %q sends those rows once more.\n"+
		"The attribute may stay in the configuration: it names this attempt only.",
		p.m.Source.ValueString(), a.SentAt, p.m.EventType.ValueString(), p.m.FileName.ValueString(), a.MD5, a.Size, what, replaced, p.m.EventType.ValueString(), a.SentAt, token, token)
}

// eventsChange is what bringing Future Demand from a settled base to the
// planned file sends.
type eventsChange struct {
	send      bool
	whole     bool  // the whole file (nothing is held yet)
	totalRows int64 // event rows of the file: what Future Demand holds after
	sentRows  int64 // rows sent now
}

// planEvents decides, at plan time, how the file src reaches Future Demand
// from what it holds: the whole file, its new rows, or nothing; any other
// edit is refused, saying how to send the whole file on purpose.
func planEvents(p *eventsPrior, s settled, m futureDemandIngestModel, src localSource) (eventsChange, diag.Diagnostics) {
	var diags diag.Diagnostics
	rows := func() (int64, bool) {
		if src.Entries >= 0 {
			return src.Entries, true
		}
		n, d := countEventsSource(src)
		diags.Append(d...)
		return n, !d.HasError()
	}
	if s.base.Size == 0 {
		n, ok := rows()
		if !ok {
			return eventsChange{}, diags
		}
		return eventsChange{send: true, whole: true, totalRows: n, sentRows: n}, diags
	}
	if s.base.MD5 == src.MD5 && s.base.Size == src.Size {
		n := s.baseRows
		if n < 0 {
			var ok bool
			if n, ok = rows(); !ok {
				return eventsChange{}, diags
			}
		}
		return eventsChange{totalRows: n}, diags
	}
	if prior := p.m.EventType.ValueString(); prior != m.EventType.ValueString() {
		diags.AddAttributeError(path.Root("event_type"), "Events already ingested under another event_type",
			fmt.Sprintf("Future Demand holds the events of %s under event_type %q. Every row creates an event and none can be taken back, so sending the file under %q would create all of them again. %s",
				src.Path, prior, m.EventType.ValueString(), resendWhole(src)))
		return eventsChange{}, diags
	}
	refuse := func(reason string) (eventsChange, diag.Diagnostics) {
		rowsHeld := ""
		if s.baseRows >= 0 {
			rowsHeld = fmt.Sprintf(" (its header row and %d events)", s.baseRows)
		}
		diags.AddAttributeError(path.Root("source"), "Events file edited after it was ingested",
			fmt.Sprintf("Future Demand holds the first %d bytes of %s as it was ingested%s (md5 %s), and %s. Every row created an event and none can be taken back, so only rows added at the end of the file can be sent; a changed, removed or reordered row, or a new header, cannot. "+
				"Restore the rows that were ingested and add new ones after them, or put new events in a new file. %s",
				s.base.Size, src.Path, rowsHeld, s.base.MD5, reason, resendWhole(src)))
		return eventsChange{}, diags
	}
	if !strings.EqualFold(filepath.Ext(src.Name), ".csv") {
		return refuse(fmt.Sprintf("the file sent, %q, is not a CSV, whose rows could be sent on their own", src.Name))
	}
	app, err := futuredemand.PlanEventsAppend(src.Abs, s.base)
	var not *futuredemand.NotAppendedError
	switch {
	case errors.As(err, &not):
		return refuse(not.Reason)
	case err != nil:
		diags.AddAttributeError(path.Root("source"), "Cannot read source file", err.Error())
		return eventsChange{}, diags
	}
	total, ok := rows()
	if !ok {
		return eventsChange{}, diags
	}
	held := s.baseRows
	if held < 0 {
		if held, diags = countEvents(src.Abs, src.Path, s.base.Size); diags.HasError() {
			return eventsChange{}, diags
		}
	}
	if app.From == app.Size || total == held {
		// Only line breaks were added: the same events.
		return eventsChange{totalRows: total}, diags
	}
	return eventsChange{send: true, totalRows: total, sentRows: total - held}, diags
}

// plural is n and the noun, in the plural unless n is 1.
func plural(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// resendWhole says how to send a whole events file again on purpose.
func resendWhole(src localSource) string {
	return fmt.Sprintf("To send the whole of %s again anyway, knowing that every row becomes an event again next to those Future Demand holds, run %[2]s on this resource, then %[3]s: "+
		"a tainted resource is created anew, which sends the whole file. (%[3]s -replace cannot do it: the in-place update is planned first, and this error is that plan.)", src.Path, cliCommand("taint"), cliCommand("apply"))
}

// countEventsSource checks an events file and counts its event rows: an
// .xlsx workbook's first sheet (by the name sent, as the content type is
// chosen), or else the CSV.
func countEventsSource(src localSource) (int64, diag.Diagnostics) {
	if !strings.EqualFold(filepath.Ext(src.Name), ".xlsx") {
		return countEvents(src.Abs, src.Path, -1)
	}
	var diags diag.Diagnostics
	f, err := os.Open(src.Abs)
	if err != nil {
		diags.AddAttributeError(path.Root("source"), "Cannot read source file", err.Error())
		return 0, diags
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		diags.AddAttributeError(path.Root("source"), "Cannot read source file", err.Error())
		return 0, diags
	}
	n, err := fdfiles.CheckEventsWorkbook(f, st.Size(), src.Path)
	diags.Append(eventsCheckFailed(err)...)
	return n, diags
}

// countEvents counts the event rows of the file at abs, or of its first
// limit bytes when limit >= 0, with the rules the plan checks.
func countEvents(abs, shown string, limit int64) (int64, diag.Diagnostics) {
	var diags diag.Diagnostics
	f, err := os.Open(abs)
	if err != nil {
		diags.AddAttributeError(path.Root("source"), "Cannot read source file", err.Error())
		return 0, diags
	}
	defer f.Close()
	var r io.Reader = f
	if limit >= 0 {
		r = io.LimitReader(f, limit)
	}
	n, err := fdfiles.CheckEvents(r, shown)
	diags.Append(eventsCheckFailed(err)...)
	return n, diags
}

// eventsCheckFailed reports a failed events check: a broken rule names
// the file, the row and the rule; anything else is a read error.
func eventsCheckFailed(err error) diag.Diagnostics {
	var diags diag.Diagnostics
	switch {
	case fdfiles.RuleOf(err) != "":
		diags.AddAttributeError(path.Root("source"), "Invalid Future Demand events file", err.Error()+".")
	case err != nil:
		diags.AddAttributeError(path.Root("source"), "Cannot read source file", err.Error())
	}
	return diags
}

// attributeSetter is a plan or a state.
type attributeSetter interface {
	SetAttribute(ctx context.Context, p path.Path, v any) diag.Diagnostics
}

// setEventsPlan fills the values an events ingest shows, in its plan and
// (the same values) in its state after apply.
func setEventsPlan(ctx context.Context, plan attributeSetter, p *eventsPrior, s settled, c eventsChange) diag.Diagnostics {
	var diags diag.Diagnostics
	set := func(name string, v any) { diags.Append(plan.SetAttribute(ctx, path.Root(name), v)...) }
	set("ingested_rows", types.Int64Value(c.totalRows))
	set("ingest_status", types.StringValue(ingestStatusIngested))
	set("unconfirmed_ingest", types.ObjectNull(attemptTypes))
	if c.send {
		set("sent_rows", types.Int64Value(c.sentRows))
		return diags
	}
	// Nothing is sent: the last ingest stays what state says, or becomes
	// the attempt confirmed.
	switch {
	case s.confirmed != nil:
		set("sent_rows", types.Int64Value(s.confirmed.SentRows))
		set("ingested_at", types.StringValue(s.confirmed.SentAt))
		set("response", types.StringNull())
	case p != nil && !p.m.IngestedAt.IsNull():
		sent := p.m.SentRows
		if sent.IsNull() || sent.IsUnknown() || p.unconfirmed() {
			sent = types.Int64Value(c.totalRows)
		}
		set("sent_rows", sent)
		set("ingested_at", p.m.IngestedAt)
		set("response", p.m.Response)
	default:
		set("sent_rows", types.Int64Value(0))
		set("ingested_at", types.StringNull())
		set("response", types.StringNull())
	}
	return diags
}

// planNotEvents clears the events attributes of another kind's plan.
func planNotEvents(ctx context.Context, plan attributeSetter) diag.Diagnostics {
	var diags diag.Diagnostics
	for _, name := range []string{"ingested_rows", "sent_rows"} {
		diags.Append(plan.SetAttribute(ctx, path.Root(name), types.Int64Null())...)
	}
	diags.Append(plan.SetAttribute(ctx, path.Root("ingest_status"), types.StringNull())...)
	diags.Append(plan.SetAttribute(ctx, path.Root("unconfirmed_ingest"), types.ObjectNull(attemptTypes))...)
	return diags
}

// eventsApply carries, from Create and Update into upload, the object the
// apply starts from, and back out the object to keep after a lost answer.
type eventsApply struct {
	prior *eventsPrior
	lost  *lostIngest
}

type lostIngest struct {
	state   tftypes.Value
	attempt ingestAttempt
}

type eventsApplyKey struct{}

func eventsApplyOf(ctx context.Context) *eventsApply {
	a, _ := ctx.Value(eventsApplyKey{}).(*eventsApply)
	if a == nil {
		return &eventsApply{}
	}
	return a
}

// attemptClock tells when an attempt was sent; tests fix it.
var attemptClock = time.Now

// newAttemptTime is when an attempt was sent, in the token's resolution:
// never the time of the prior attempt, so a token names one attempt.
func newAttemptTime(prior *eventsPrior) string {
	at := attemptClock().UTC().Truncate(time.Second)
	if prior != nil && prior.attempt != nil && prior.attempt.SentAt == at.Format(time.RFC3339) {
		at = at.Add(time.Second)
	}
	return at.Format(time.RFC3339)
}

// priorOf reads the object a plan or an apply starts from.
func priorOf(ctx context.Context, state tfsdk.State) (*eventsPrior, diag.Diagnostics) {
	var m futureDemandIngestModel
	diags := state.Get(ctx, &m)
	if diags.HasError() {
		return nil, diags
	}
	p := &eventsPrior{m: m}
	if p.unconfirmed() && !m.UnconfirmedIngest.IsNull() && !m.UnconfirmedIngest.IsUnknown() {
		var a ingestAttempt
		if d := m.UnconfirmedIngest.As(ctx, &a, basetypes.ObjectAsOptions{}); !d.HasError() {
			p.attempt = &a
		}
	}
	return p, diags
}

// checkRemoval lets Delete remove an unconfirmed object only for a
// destroy, or for a replacement whose plan settled its attempt.
func checkRemoval(ctx context.Context, d *providerData, p *eventsPrior, private privateGetter) (settledReplacement bool, diags diag.Diagnostics) {
	if !p.unconfirmed() {
		return false, diags
	}
	why := readRemoval(ctx, private)
	switch {
	case why.Destroy:
		diags.AddWarning("Unconfirmed events ingest forgotten",
			fmt.Sprintf("%s is removed from the state while its last events ingest (%s) is unconfirmed: whether Future Demand created those events was never settled. Check Future Demand's event list.", p.m.ID.ValueString(), p.token()))
		return false, diags
	case why.Settled != "" && why.Settled == p.token():
		// The create that follows finds the object here.
		if d != nil {
			rememberInDoubt(d, *p)
		}
		return true, diags
	}
	token := p.token()
	diags.AddError("Events ingest unconfirmed",
		fmt.Sprintf("Terraform is replacing %s, whose last events ingest (%s) is unconfirmed, with a plan that did not see it (made with -refresh=false, or with create_before_destroy). "+
			"Creating it again would send every row of %s again. Nothing was sent and the state is unchanged. Run %s (with refresh): it says what to check in Future Demand and how to settle the ingest.",
			p.m.ID.ValueString(), token, p.m.Source.ValueString(), cliCommand("plan")))
	return false, diags
}

// planEventsModify is the events part of ModifyPlan: the prior object
// (from state, or the unconfirmed object a create replaces), the gate of
// an unconfirmed ingest, and the rows the plan sends.
func (r *FutureDemandIngestResource) planEventsModify(ctx context.Context, src localSource, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	defer func() {
		if resp.Diagnostics.HasError() {
			// A refused plan is not pending: the next plan is a new one.
			sourceCache().Applied(src.Abs, src.key)
		}
	}()
	var m futureDemandIngestModel
	resp.Diagnostics.Append(resp.Plan.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var prior *eventsPrior
	if !req.State.Raw.IsNull() {
		p, d := priorOf(ctx, req.State)
		resp.Diagnostics.Append(d...)
		prior = p
	} else if r.data != nil {
		prior = findInDoubt(r.data, m, src.MD5)
	}
	if resp.Diagnostics.HasError() || m.Kind.IsUnknown() || m.EventType.IsUnknown() {
		return // known at apply, which decides then
	}
	if m.Kind.ValueString() != futuredemand.KindEvents {
		if prior.unconfirmed() {
			resp.Diagnostics.AddWarning("Unconfirmed events ingest left unsettled",
				fmt.Sprintf("%s no longer ingests events, while its last events ingest (%s) is unconfirmed: whether Future Demand created those events is left unsettled. Check Future Demand's event list.", src.Path, prior.token()))
		}
		resp.Diagnostics.Append(planNotEvents(ctx, &resp.Plan)...)
		return
	}
	if prior != nil && prior.m.Kind.ValueString() != futuredemand.KindEvents {
		prior = nil // a workbook before: no events held
	}
	s, d := settle(prior, m)
	resp.Diagnostics.Append(d...)
	if d.HasError() {
		return
	}
	if prior == nil || (!prior.unconfirmed() && !prior.replaced) {
		for name, v := range map[string]types.String{"confirm_unconfirmed_ingest": m.ConfirmUnconfirmedIngest, "resend_unconfirmed_ingest": m.ResendUnconfirmedIngest} {
			if !v.IsNull() && !v.IsUnknown() && req.State.Raw.IsNull() {
				resp.Diagnostics.AddAttributeWarning(path.Root(name), "No unconfirmed events ingest",
					fmt.Sprintf("%s = %q names no ingest in doubt in this plan, so it does nothing: the file is sent whole. If Terraform is replacing a tainted resource after an unconfirmed ingest, plan again without -refresh=false.", name, v.ValueString()))
			}
		}
	}
	c, d := planEvents(prior, s, m, src)
	resp.Diagnostics.Append(d...)
	if d.HasError() {
		return
	}
	resp.Diagnostics.Append(setEventsPlan(ctx, &resp.Plan, prior, s, c)...)
	if prior != nil && prior.replaced && s.token != "" {
		// Delete, shown this plan's private state, lets the replacement
		// through, and hands the object on to the create.
		resp.Diagnostics.Append(writeRemoval(ctx, resp.Private, &removal{Settled: s.token})...)
	}
}

// ModifyPlan implements resource.ResourceWithModifyPlan: the shared
// skeleton, with planEventsModify as its last step; a destroy tells
// Delete it is one.
func (r *FutureDemandIngestResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		if !req.State.Raw.IsNull() {
			resp.Diagnostics.Append(writeRemoval(ctx, resp.Private, &removal{Destroy: true})...)
		}
		return
	}
	// A removal note left by an earlier plan says nothing about this one.
	resp.Diagnostics.Append(writeRemoval(ctx, resp.Private, nil)...)
	r.uploadResource.ModifyPlan(ctx, req, resp)
}

// Create implements resource.Resource. A create may replace an
// unconfirmed object (found in inDoubt, where Delete left it); after a
// lost answer it keeps the unconfirmed object, which Terraform then marks
// tainted.
func (r *FutureDemandIngestResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	ev := &eventsApply{}
	var m futureDemandIngestModel
	if !req.Plan.Get(ctx, &m).HasError() && m.Kind.ValueString() == futuredemand.KindEvents && r.data != nil {
		ev.prior = findInDoubt(r.data, m, m.FileMD5.ValueString())
	}
	r.uploadResource.Create(context.WithValue(ctx, eventsApplyKey{}, ev), req, resp)
	r.keepOutcome(ctx, ev, &resp.State, resp.Private, &resp.Diagnostics)
}

// Update implements resource.Resource: the skeleton's, starting from the
// prior object, and keeping the unconfirmed object after a lost answer.
func (r *FutureDemandIngestResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	prior, diags := priorOf(ctx, req.State)
	resp.Diagnostics.Append(diags...)
	if diags.HasError() {
		return
	}
	ev := &eventsApply{prior: prior}
	r.uploadResource.Update(context.WithValue(ctx, eventsApplyKey{}, ev), req, resp)
	r.keepOutcome(ctx, ev, &resp.State, resp.Private, &resp.Diagnostics)
}

// keepOutcome keeps, after Create or Update, the unconfirmed object of an
// events ingest whose answer was lost, and drops the plan's removal note.
func (r *FutureDemandIngestResource) keepOutcome(ctx context.Context, ev *eventsApply, state *tfsdk.State, private privateSetter, diags *diag.Diagnostics) {
	diags.Append(writeRemoval(ctx, private, nil)...)
	if ev.lost != nil {
		state.Raw = ev.lost.state
	}
}

// Read implements resource.Resource: nothing can be read back, but an
// unconfirmed object is remembered for the plan of its replacement, to
// which Terraform shows nothing of a tainted object.
func (r *FutureDemandIngestResource) Read(ctx context.Context, req resource.ReadRequest, _ *resource.ReadResponse) {
	if r.data == nil {
		return
	}
	if p, diags := priorOf(ctx, req.State); !diags.HasError() && p.unconfirmed() {
		rememberInDoubt(r.data, *p)
	}
}

// Delete implements resource.Resource: it forgets, as the skeleton's
// does, unless the object is unconfirmed and Terraform replaces it
// without the configuration settling its attempt.
func (r *FutureDemandIngestResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	prior, diags := priorOf(ctx, req.State)
	if !diags.HasError() {
		settledReplacement, d := checkRemoval(ctx, r.data, prior, req.Private)
		resp.Diagnostics.Append(d...)
		if d.HasError() || settledReplacement {
			return
		}
	}
	r.uploadResource.Delete(ctx, req, resp)
}
