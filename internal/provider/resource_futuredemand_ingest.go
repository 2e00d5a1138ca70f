package provider

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/audiencekit/terraform-provider-audience/internal/client/futuredemand"
	"github.com/audiencekit/terraform-provider-audience/internal/client/transfer"
	"github.com/audiencekit/terraform-provider-audience/internal/filecheck/fdfiles"
)

var (
	_ resource.Resource                   = &FutureDemandIngestResource{}
	_ resource.ResourceWithConfigure      = &FutureDemandIngestResource{}
	_ resource.ResourceWithModifyPlan     = &FutureDemandIngestResource{}
	_ resource.ResourceWithImportState    = &FutureDemandIngestResource{}
	_ resource.ResourceWithValidateConfig = &FutureDemandIngestResource{}
)

const futureDemandIngestType = "audience_futuredemand_ingest"

// NewFutureDemandIngestResource is the audience_futuredemand_ingest
// constructor.
func NewFutureDemandIngestResource() resource.Resource {
	r := &FutureDemandIngestResource{}
	r.kind = uploadKind{
		typeName:      futureDemandIngestType,
		platform:      "Future Demand",
		nameAttribute: "file_name",
		platformArgs:  []string{"kind", "eid", "event_type"},
		handles:       map[string]attr.Value{"ingested_at": types.StringUnknown(), "response": types.StringUnknown()},
		createTimeout: 30 * time.Minute,
		client:        credentialsOf((*providerData).futureDemandClient, futureDemandIngestType),
		spec:          r.spec,
		planMore: func(ctx context.Context, src localSource, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
			r.planID(ctx, src, req, resp)
			if !resp.Diagnostics.HasError() {
				r.planEventsModify(ctx, src, req, resp)
			}
		},
		upload: r.upload,
	}
	return r
}

// FutureDemandIngestResource sends a transaction summary workbook or an
// events file to Future Demand by direct multipart upload.
type FutureDemandIngestResource struct {
	uploadResource
}

type futureDemandIngestModel struct {
	ID         types.String   `tfsdk:"id"`
	Source     types.String   `tfsdk:"source"`
	FileName   types.String   `tfsdk:"file_name"`
	Kind       types.String   `tfsdk:"kind"`
	EID        types.String   `tfsdk:"eid"`
	EventType  types.String   `tfsdk:"event_type"`
	FileMD5    types.String   `tfsdk:"file_md5"`
	FileSize   types.Int64    `tfsdk:"file_size"`
	IngestedAt types.String   `tfsdk:"ingested_at"`
	Response   types.String   `tfsdk:"response"`
	Timeouts   timeouts.Value `tfsdk:"timeouts"`

	IngestedRows             types.Int64  `tfsdk:"ingested_rows"`
	SentRows                 types.Int64  `tfsdk:"sent_rows"`
	IngestStatus             types.String `tfsdk:"ingest_status"`
	UnconfirmedIngest        types.Object `tfsdk:"unconfirmed_ingest"`
	ConfirmUnconfirmedIngest types.String `tfsdk:"confirm_unconfirmed_ingest"`
	ResendUnconfirmedIngest  types.String `tfsdk:"resend_unconfirmed_ingest"`
}

// Metadata implements resource.Resource.
func (r *FutureDemandIngestResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_futuredemand_ingest"
}

// Schema implements resource.Resource.
func (r *FutureDemandIngestResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Ingests a file into Future Demand by direct multipart upload: a ticketing event's transaction summary (an Excel workbook, " +
			"`POST /ingest/transaction_summary/from_excel?eid=…`), the data Future Demand builds its buyer audiences from, or a bulk events file " +
			"(a UTF-8 CSV or an `.xlsx` workbook, sent as `text/csv` or as `application/vnd.openxmlformats-officedocument.spreadsheetml.sheet`, `POST events/bulk_upload?event_type=…` on the CR API). The file is checked at plan time, and a plan of an unchanged file costs a `stat`. " +
			"A transaction summary is sent again, whole, as an in-place update when its content, `file_name` or `eid` changes: Future Demand keeps one summary per event. " +
			"**Events are never ingested twice**: every row creates an event, and none can be taken back. An events file that only grew (rows added at its end) sends " +
			"its header row and the new rows only, and the plan shows `ingested_rows` going from the old count to the new and `sent_rows`; any other edit of an ingested " +
			"events file (a changed, removed or reordered row, a new header, another `event_type`, or any edit of an `.xlsx`) fails the plan, saying why and how to send " +
			"the whole file again on purpose (`terraform taint` or `tofu taint`, then apply). When the answer to an events ingest is lost after the request went out whole, the apply " +
			"fails, the state keeps the resource with `ingest_status = \"unconfirmed\"`, and every later plan stops, saying what to check in Future Demand, until " +
			"`confirm_unconfirmed_ingest` (it arrived: record it without sending) or `resend_unconfirmed_ingest` (it did not: send those rows once more) names the attempt. " +
			"Destroying the resource only removes it from state: what was ingested stays on Future Demand.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "`<kind>/<eid>` for a transaction summary, `<kind>/<event_type>` for events; known at plan time.",
			},
			"source": sourceSchema(),
			"file_name": func() schema.StringAttribute {
				a := uploadNameSchema("File name sent in the form: ends in `.xlsx` for a transaction summary, `.csv` or `.xlsx` for events.")
				a.Validators = []validator.String{stringvalidator.LengthBetween(1, 255), stringvalidator.NoneOf(".", "..")}
				return a
			}(),
			"kind": schema.StringAttribute{
				Required: true,
				MarkdownDescription: "`transaction_summary`: an `.xlsx` workbook with an event's sales (needs `eid`); " +
					"`events`: a UTF-8 `.csv` with a header row, or an `.xlsx` workbook whose first sheet has one, one event per row (needs `event_type` and the provider's `futuredemand.cr_api_endpoint`). Changing it sends the file again.",
				Validators: []validator.String{stringvalidator.OneOf(futuredemand.KindTransactionSummary, futuredemand.KindEvents)},
			},
			"eid": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Event id of a `transaction_summary` (stable for the life of the event, e.g. `evt_abc123`). Changing it sends the file again.",
			},
			"event_type": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Event type of an `events` upload: `prisma` or `fdlive`, as the account's permissions allow. Changing it sends the file again.",
				Validators:          []validator.String{stringvalidator.OneOf(futuredemand.EventTypes...)},
			},
			"file_md5":    fileMD5Schema(),
			"file_size":   fileSizeSchema(),
			"ingested_at": handleSchema("When Future Demand took the file (RFC 3339, UTC); known after apply when the file is sent again. For an events ingest confirmed with `confirm_unconfirmed_ingest`, when it was sent."),
			"response":    handleSchema("Future Demand's JSON answer to the upload, as returned; known after apply when the file is sent again. Null for an events ingest whose answer was lost."),
			"timeouts":    timeouts.Attributes(ctx, timeouts.Opts{Create: true}),
			"ingested_rows": schema.Int64Attribute{
				Computed: true,
				MarkdownDescription: "Events only: how many event rows of the file Future Demand holds, counted at plan. A file that grew shows the old count changing to the new. " +
					"While `ingest_status` is `unconfirmed`, the rows Future Demand surely holds. Null for a transaction summary.",
			},
			"sent_rows": schema.Int64Attribute{
				Computed:            true,
				MarkdownDescription: "Events only: how many event rows the last ingest sent: every row the first time, only the new rows when the file grew. Null for a transaction summary.",
			},
			"ingest_status": schema.StringAttribute{
				Computed: true,
				MarkdownDescription: "Events only: `ingested`, or `unconfirmed` when the last ingest was sent in full and its answer was lost. While it is `unconfirmed`, every plan fails, " +
					"saying what to check in Future Demand, until `confirm_unconfirmed_ingest` or `resend_unconfirmed_ingest` names the attempt (`unconfirmed_ingest.token`). Null for a transaction summary.",
			},
			"unconfirmed_ingest": schema.SingleNestedAttribute{
				Computed: true,
				MarkdownDescription: "Events only: the ingest whose answer was lost, while `ingest_status` is `unconfirmed`; null otherwise. " +
					"`token` (`<md5>@<sent_at>`) is what `confirm_unconfirmed_ingest` or `resend_unconfirmed_ingest` takes.",
				Attributes: map[string]schema.Attribute{
					"token":     schema.StringAttribute{Computed: true, MarkdownDescription: "`<md5>@<sent_at>`: names this attempt."},
					"md5":       schema.StringAttribute{Computed: true, MarkdownDescription: "MD5 of the file as it was sent."},
					"size":      schema.Int64Attribute{Computed: true, MarkdownDescription: "Size of the file as it was sent, in bytes."},
					"rows":      schema.Int64Attribute{Computed: true, MarkdownDescription: "Event rows of the file as it was sent."},
					"sent_rows": schema.Int64Attribute{Computed: true, MarkdownDescription: "Event rows the request carried: all of them, or those after what Future Demand held."},
					"sent_at":   schema.StringAttribute{Computed: true, MarkdownDescription: "When the request went out (RFC 3339, UTC)."},
				},
			},
			"confirm_unconfirmed_ingest": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Events only. Set it to the token of an unconfirmed ingest (`unconfirmed_ingest.token`, shown in the error) once Future Demand's event list shows its events: " +
					"the next apply records them as ingested without sending anything, and then sends the rows added since, if any. A token names one attempt, so the attribute may stay in the configuration.",
			},
			"resend_unconfirmed_ingest": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Events only. Set it to the token of an unconfirmed ingest (`unconfirmed_ingest.token`, shown in the error) once Future Demand's event list shows its events are not there: " +
					"the next apply sends those rows once more (with any rows added since). A token names one attempt, so the attribute may stay in the configuration.",
			},
		},
	}
}

// ValidateConfig implements resource.ResourceWithValidateConfig: each
// kind takes its own key, and only that one.
func (r *FutureDemandIngestResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m futureDemandIngestModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || m.Kind.IsUnknown() || m.Kind.IsNull() {
		return
	}
	need, other := "eid", "event_type"
	needValue, otherValue := m.EID, m.EventType
	if m.Kind.ValueString() == futuredemand.KindEvents {
		need, other = other, need
		needValue, otherValue = otherValue, needValue
	}
	if needValue.IsNull() {
		resp.Diagnostics.AddAttributeError(path.Root(need), "Missing "+need, fmt.Sprintf("kind = %q needs %s.", m.Kind.ValueString(), need))
	}
	if !otherValue.IsNull() && !otherValue.IsUnknown() {
		resp.Diagnostics.AddAttributeError(path.Root(other), "Unexpected "+other, fmt.Sprintf("kind = %q takes %s, not %s; remove %s.", m.Kind.ValueString(), need, other, other))
	}
	if !m.EID.IsNull() && !m.EID.IsUnknown() {
		if problem := eidProblem(m.EID.ValueString()); problem != "" {
			resp.Diagnostics.AddAttributeError(path.Root("eid"), "Invalid eid", fmt.Sprintf("eid %q %s.", m.EID.ValueString(), problem))
		}
	}
	for name, v := range map[string]types.String{"confirm_unconfirmed_ingest": m.ConfirmUnconfirmedIngest, "resend_unconfirmed_ingest": m.ResendUnconfirmedIngest} {
		switch {
		case v.IsNull() || v.IsUnknown():
		case m.Kind.ValueString() != futuredemand.KindEvents:
			resp.Diagnostics.AddAttributeError(path.Root(name), "Unexpected "+name, fmt.Sprintf("%s settles an events ingest; kind = %q takes none. Remove it.", name, m.Kind.ValueString()))
		case !tokenPattern.MatchString(v.ValueString()):
			resp.Diagnostics.AddAttributeError(path.Root(name), "Invalid "+name,
				fmt.Sprintf("%s is %q; it takes the token of an unconfirmed events ingest, <md5>@<time>, as unconfirmed_ingest and the plan's error show it (e.g. 0cc175b9c0f1b6a831c399e269772661@2026-05-01T20:00:00Z).", name, v.ValueString()))
		}
	}
	if c, r := m.ConfirmUnconfirmedIngest, m.ResendUnconfirmedIngest; !c.IsNull() && !c.IsUnknown() && c.Equal(r) {
		resp.Diagnostics.AddAttributeError(path.Root("resend_unconfirmed_ingest"), "Conflicting answers",
			"confirm_unconfirmed_ingest and resend_unconfirmed_ingest name the same ingest: it either arrived (confirm) or did not (resend). Keep one.")
	}
}

// eidProblem says what makes an event id unusable, or "".
func eidProblem(eid string) string {
	switch {
	case eid == "":
		return "is empty: give the event's id, e.g. evt_abc123"
	case len(eid) > 255:
		return "is longer than 255 bytes"
	case strings.TrimSpace(eid) != eid:
		return "starts or ends with a space"
	case strings.IndexFunc(eid, unicode.IsControl) >= 0:
		return "contains control characters"
	}
	return ""
}

// ingestExtensions are the file name endings each kind takes, the first
// one suggested. Events take a workbook too: Future Demand's developer kit
// ("Lookout / Bulk event upload") lists .csv and .xlsx, and its example
// request sends events.xlsx
// (https://dev-kit.pages.dev/guides/lookout/bulk-event-upload).
var ingestExtensions = map[string][]string{futuredemand.KindTransactionSummary: {".xlsx"}, futuredemand.KindEvents: {".csv", ".xlsx"}}

// spec checks the file against the rules of the planned kind; an events
// ingest also needs the CR API's endpoint.
func (r *FutureDemandIngestResource) spec(ctx context.Context, plan tfsdk.Plan) (uploadSpec, diag.Diagnostics) {
	var kind types.String
	diags := plan.GetAttribute(ctx, path.Root("kind"), &kind)
	if kind.ValueString() == futuredemand.KindEvents && r.data != nil {
		diags.Append(r.data.futureDemandCRAPI(futureDemandIngestType + ` with kind = "events"`)...)
	}
	if kind.IsUnknown() {
		// Known at apply, when the final plan checks with its rules.
		return uploadSpec{}, diags
	}
	if kind.ValueString() == futuredemand.KindEvents {
		// The events check also counts the rows, for ingested_rows.
		return uploadSpec{
			Check: func(src localSource) diag.Diagnostics { return checkIngestName(src, futuredemand.KindEvents) },
			Count: countEventsSource,
		}, diags
	}
	return uploadSpec{Check: func(src localSource) diag.Diagnostics { return checkIngestSource(src, kind.ValueString()) }}, diags
}

// checkIngestName checks what the kind's rules say of the name sent.
func checkIngestName(src localSource, kind string) diag.Diagnostics {
	var diags diag.Diagnostics
	diags.Append(checkFutureDemandSource(src)...)
	if diags.HasError() {
		return diags
	}
	exts := ingestExtensions[kind]
	if !slices.ContainsFunc(exts, func(e string) bool { return strings.EqualFold(filepath.Ext(src.Name), e) }) {
		takes := strings.Join(exts, " or ")
		diags.Append(nameError(src, "Invalid Future Demand ingest file name",
			fmt.Sprintf("%s: kind = %q takes a %s file, and the name sent, %q, does not end in %s.", src.Path, kind, takes, src.Name, takes), "Future Demand", suggestedName(src.Name, exts[0]))...)
	}
	return diags
}

// checkIngestSource applies the kind's rules: the name's extension, then
// the content (a workbook's zip directory, or the events file streamed).
func checkIngestSource(src localSource, kind string) diag.Diagnostics {
	diags := checkIngestName(src, kind)
	if diags.HasError() {
		return diags
	}
	if kind == futuredemand.KindEvents {
		_, d := countEventsSource(src)
		diags.Append(d...)
		return diags
	}
	f, err := os.Open(src.Abs)
	if err != nil {
		diags.AddAttributeError(path.Root("source"), "Cannot read source file", err.Error())
		return diags
	}
	defer f.Close()
	err = fdfiles.CheckWorkbook(f, src.Size, src.Path)
	switch {
	case fdfiles.RuleOf(err) != "":
		diags.AddAttributeError(path.Root("source"), "Invalid Future Demand transaction summary", err.Error()+".")
	case err != nil:
		diags.AddAttributeError(path.Root("source"), "Cannot read source file", err.Error())
	}
	return diags
}

// ingestID is the id of an ingest: its kind and key.
func ingestID(m futureDemandIngestModel) types.String {
	key := m.EID
	if m.Kind.ValueString() == futuredemand.KindEvents {
		key = m.EventType
	}
	if m.Kind.IsUnknown() || key.IsUnknown() {
		return types.StringUnknown()
	}
	return types.StringValue(m.Kind.ValueString() + "/" + key.ValueString())
}

// planID shows the id at plan time.
func (r *FutureDemandIngestResource) planID(ctx context.Context, _ localSource, _ resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	var m futureDemandIngestModel
	resp.Diagnostics.Append(resp.Plan.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("id"), ingestID(m))...)
}

// upload sends the file by direct multipart upload: for events, the rows
// Future Demand does not hold yet, or nothing.
func (r *FutureDemandIngestResource) upload(ctx context.Context, d *providerData, src localSource, state *tfsdk.State) diag.Diagnostics {
	var m futureDemandIngestModel
	diags := state.Get(ctx, &m)
	client, d2 := d.futureDemandClient(futureDemandIngestType)
	diags.Append(d2...)
	if diags.HasError() {
		return diags
	}
	if m.ID.IsUnknown() && !src.Checked {
		// kind or its key was not known at plan: check with its rules now.
		diags.Append(checkIngestSource(src, m.Kind.ValueString())...)
		if m.Kind.ValueString() == futuredemand.KindEvents {
			diags.Append(d.futureDemandCRAPI(futureDemandIngestType + ` with kind = "events"`)...)
		}
		if diags.HasError() {
			return diags
		}
	}
	m.ID = ingestID(m)
	in := futuredemand.IngestRequest{Kind: m.Kind.ValueString(), EID: m.EID.ValueString(), EventType: m.EventType.ValueString(), Path: src.Abs, FileName: src.Name, FileMD5: src.MD5}
	ev := eventsApplyOf(ctx)
	var prior *eventsPrior
	var held settled
	var change eventsChange
	if in.Kind == futuredemand.KindEvents {
		if prior = ev.prior; prior != nil && prior.m.Kind.ValueString() != futuredemand.KindEvents {
			prior = nil
		}
		var d diag.Diagnostics
		if held, d = settle(prior, m); !d.HasError() {
			change, d = applyEvents(prior, held, m, src)
		}
		diags.Append(d...)
		if diags.HasError() {
			return diags
		}
		if !change.send {
			tflog.Info(ctx, "no new events to send: recording the file without sending it", map[string]any{"source": src.Path, "ingested_rows": change.totalRows})
			diags.Append(state.Set(ctx, &m)...)
			diags.Append(setEventsPlan(ctx, state, prior, held, change)...)
			return diags
		}
		if !change.whole {
			in.Ingested = held.base
		}
	}
	tflog.Info(ctx, "ingesting file into Future Demand", map[string]any{"source": src.Path, "file_name": src.Name, "kind": in.Kind, "eid": in.EID, "event_type": in.EventType, "size": transfer.LogBytes(src.Size), "rows": change.sentRows, "after_bytes": in.Ingested.Size})
	res, err := client.Ingest(ctx, in)
	if err != nil {
		if in.Kind == futuredemand.KindEvents && transfer.Ambiguous(err) {
			diags.Append(keepUnconfirmed(ctx, ev, state, m, src, prior, held, change)...)
		}
		diags.Append(ingestFailed(ctx, err, src, in.Kind, in.EventType, change, ev.lost)...)
		return diags
	}
	m.IngestedAt = types.StringValue(time.Now().UTC().Format(time.RFC3339))
	m.Response = types.StringValue(res.Response)
	tflog.Info(ctx, "Future Demand took the ingest", map[string]any{"id": m.ID.ValueString(), "request_id": res.RequestID})
	diags.Append(state.Set(ctx, &m)...)
	if in.Kind == futuredemand.KindEvents {
		diags.Append(setEventsPlan(ctx, state, prior, held, change)...)
	} else {
		diags.Append(planNotEvents(ctx, state)...)
	}
	return diags
}

// applyEvents is what the apply sends: what the plan decided, or, when
// the plan could not know the file or its kind, what planEvents decides
// now.
func applyEvents(prior *eventsPrior, held settled, m futureDemandIngestModel, src localSource) (eventsChange, diag.Diagnostics) {
	var diags diag.Diagnostics
	if m.IngestedRows.IsUnknown() || m.SentRows.IsUnknown() {
		return planEvents(prior, held, m, src)
	}
	c := eventsChange{send: m.IngestedAt.IsUnknown(), whole: held.base.Size == 0, totalRows: m.IngestedRows.ValueInt64(), sentRows: m.SentRows.ValueInt64()}
	if c.send && c.whole != (c.sentRows == c.totalRows) {
		// The plan started from an object this apply cannot find (a
		// replacement planned with create_before_destroy).
		diags.AddError("Events ingest not as planned",
			fmt.Sprintf("The plan sends %d of the %d event rows of %s, but this apply cannot find what Future Demand holds from it, so it would send another part. Nothing was sent. Run %s again.", c.sentRows, c.totalRows, src.Path, cliCommand("plan")))
	}
	return c, diags
}

// keepUnconfirmed turns the state of an events ingest whose answer was
// lost into the unconfirmed object, which Create and Update keep despite
// the error: file_md5, file_size and ingested_rows name what Future
// Demand surely holds, and unconfirmed_ingest the attempt.
func keepUnconfirmed(ctx context.Context, ev *eventsApply, state *tfsdk.State, m futureDemandIngestModel, src localSource, prior *eventsPrior, held settled, c eventsChange) diag.Diagnostics {
	a := ingestAttempt{MD5: src.MD5, Size: src.Size, Rows: c.totalRows, SentRows: c.sentRows, SentAt: newAttemptTime(prior)}
	m.FileMD5, m.FileSize = types.StringNull(), types.Int64Null()
	if held.base.Size > 0 && !c.whole {
		m.FileMD5, m.FileSize = types.StringValue(held.base.MD5), types.Int64Value(held.base.Size)
	}
	m.IngestedRows = types.Int64Value(c.totalRows - c.sentRows)
	m.SentRows = types.Int64Value(c.sentRows)
	m.IngestStatus = types.StringValue(ingestStatusUnconfirmed)
	m.IngestedAt, m.Response = types.StringNull(), types.StringNull()
	switch {
	case c.whole:
	case held.confirmed != nil:
		m.IngestedAt = types.StringValue(held.confirmed.SentAt)
	case prior != nil:
		m.IngestedAt, m.Response = prior.m.IngestedAt, prior.m.Response
	}
	var diags diag.Diagnostics
	m.UnconfirmedIngest, diags = a.object(ctx)
	diags.Append(state.Set(ctx, &m)...)
	if !diags.HasError() {
		ev.lost = &lostIngest{state: state.Raw.Copy(), attempt: a}
	}
	return diags
}

// ingestFailed explains what the platform refused, and what happens when
// an events upload may have been taken although no answer came.
func ingestFailed(ctx context.Context, err error, src localSource, kind, eventType string, c eventsChange, lost *lostIngest) diag.Diagnostics {
	var refused *futuredemand.RefusedError
	if errors.As(err, &refused) {
		rows := "Each code names a row (counted from the first row after the header) and its problem, or a problem of the whole file."
		if c.send && !c.whole {
			rows = fmt.Sprintf("Only the %s added since the last ingest went, after the header row, so a code's row number counts from the first of them: ROW_1 is row %d of the file (counting from the first row after the header). "+
				"Each code names a row and its problem, or a problem of the whole file.", plural(c.sentRows, "row"), c.totalRows-c.sentRows+1)
		}
		var diags diag.Diagnostics
		diags.AddAttributeError(path.Root("source"), "Future Demand refused the "+strings.ReplaceAll(kind, "_", " ")+" file",
			fmt.Sprintf("%s. %s Fix %s and apply again. The state keeps the previous ingest, if any.", err, rows, src.Path))
		return diags
	}
	diags := uploadFailed(ctx, "Future Demand", err, src)
	if lost != nil {
		p := &eventsPrior{attempt: &lost.attempt}
		p.m.Source, p.m.EventType, p.m.FileName = types.StringValue(src.Path), types.StringValue(eventType), types.StringValue(src.Name)
		diags.AddAttributeError(path.Root("source"), "Events ingest unconfirmed",
			"The state keeps the resource with ingest_status = \"unconfirmed\", and every plan stops until the configuration settles it. "+unconfirmedDetail(p, lost.attempt.token()))
	}
	return diags
}
