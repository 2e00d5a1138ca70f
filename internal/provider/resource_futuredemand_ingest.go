package provider

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
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
	"github.com/audiencekit/terraform-provider-audience/internal/validate/fdfiles"
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
		planMore:      r.planID,
		upload:        r.upload,
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
			"(a UTF-8 CSV, `POST events/bulk_upload?event_type=…` on the CR API). The file is checked at plan time; new content, or a new `file_name`, " +
			"`kind`, `eid` or `event_type`, is sent again as an in-place update, and a plan of an unchanged file costs a `stat`. " +
			"Destroying the resource only removes it from state: what was ingested stays on Future Demand.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "`<kind>/<eid>` for a transaction summary, `<kind>/<event_type>` for events; known at plan time.",
			},
			"source": sourceSchema(),
			"file_name": func() schema.StringAttribute {
				a := uploadNameSchema("File name sent in the form: ends in `.xlsx` for a transaction summary, `.csv` for events.")
				a.Validators = []validator.String{stringvalidator.LengthBetween(1, 255), stringvalidator.NoneOf(".", "..")}
				return a
			}(),
			"kind": schema.StringAttribute{
				Required: true,
				MarkdownDescription: "`transaction_summary`: an `.xlsx` workbook with an event's sales (needs `eid`); " +
					"`events`: a UTF-8 `.csv` with a header row, one event per row (needs `event_type` and the provider's `futuredemand.cr_api_endpoint`). Changing it sends the file again.",
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
			"ingested_at": handleSchema("When Future Demand took the file (RFC 3339, UTC); known after apply when the file is sent again."),
			"response":    handleSchema("Future Demand's JSON answer to the upload, as returned; known after apply when the file is sent again."),
			"timeouts":    timeouts.Attributes(ctx, timeouts.Opts{Create: true}),
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

// ingestExtensions is the file name ending each kind needs.
var ingestExtensions = map[string]string{futuredemand.KindTransactionSummary: ".xlsx", futuredemand.KindEvents: ".csv"}

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
	return uploadSpec{Check: func(src localSource) diag.Diagnostics { return checkIngestSource(src, kind.ValueString()) }}, diags
}

// checkIngestSource applies the kind's rules: the name's extension, then
// the content (a workbook's zip directory, or the events CSV streamed).
func checkIngestSource(src localSource, kind string) diag.Diagnostics {
	var diags diag.Diagnostics
	diags.Append(checkFutureDemandSource(src)...)
	if diags.HasError() {
		return diags
	}
	ext := ingestExtensions[kind]
	if !strings.EqualFold(filepath.Ext(src.Name), ext) {
		diags.Append(nameError(src, "Invalid Future Demand ingest file name",
			fmt.Sprintf("%s: kind = %q takes a %s file, and the name sent, %q, does not end in %s.", src.Path, kind, ext, src.Name, ext), "Future Demand", suggestedName(src.Name, ext))...)
		return diags
	}
	f, err := os.Open(src.Abs)
	if err != nil {
		diags.AddAttributeError(path.Root("source"), "Cannot read source file", err.Error())
		return diags
	}
	defer f.Close()
	title := "Invalid Future Demand events file"
	if kind == futuredemand.KindTransactionSummary {
		title = "Invalid Future Demand transaction summary"
		err = fdfiles.CheckWorkbook(f, src.Size, src.Path)
	} else {
		_, err = fdfiles.CheckEvents(f, src.Path)
	}
	switch {
	case fdfiles.RuleOf(err) != "":
		diags.AddAttributeError(path.Root("source"), title, err.Error()+".")
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

// upload sends the file by direct multipart upload.
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
	in := futuredemand.IngestRequest{Kind: m.Kind.ValueString(), EID: m.EID.ValueString(), EventType: m.EventType.ValueString(), Path: src.Abs, FileName: src.Name, FileMD5: src.MD5}
	tflog.Info(ctx, "ingesting file into Future Demand", map[string]any{"source": src.Path, "file_name": src.Name, "kind": in.Kind, "eid": in.EID, "event_type": in.EventType, "size": transfer.LogBytes(src.Size)})
	res, err := client.Ingest(ctx, in)
	if err != nil {
		return ingestFailed(ctx, err, src, in.Kind)
	}
	m.ID = ingestID(m)
	m.IngestedAt = types.StringValue(time.Now().UTC().Format(time.RFC3339))
	m.Response = types.StringValue(res.Response)
	tflog.Info(ctx, "Future Demand took the ingest", map[string]any{"id": m.ID.ValueString(), "request_id": res.RequestID})
	return state.Set(ctx, &m)
}

// ingestFailed explains what the platform refused, and what to check
// when an events upload may have been taken although no answer came.
func ingestFailed(ctx context.Context, err error, src localSource, kind string) diag.Diagnostics {
	var refused *futuredemand.RefusedError
	if errors.As(err, &refused) {
		var diags diag.Diagnostics
		diags.AddAttributeError(path.Root("source"), "Future Demand refused the "+strings.ReplaceAll(kind, "_", " ")+" file",
			fmt.Sprintf("%s. Each code names a row (counted from the first row after the header) and its problem, or a problem of the whole file. Fix %s and apply again. The state keeps the previous ingest, if any.", err, src.Path))
		return diags
	}
	diags := uploadFailed(ctx, "Future Demand", err, src)
	if transfer.Ambiguous(err) && kind == futuredemand.KindEvents {
		diags.AddWarning("The events may have been ingested",
			fmt.Sprintf("The upload of %s was sent in full but no answer came back. Every row creates an event, so it was not sent again: check Future Demand's event list before the next apply, which sends the file again.", src.Path))
	}
	return diags
}
