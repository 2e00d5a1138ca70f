package provider

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/audiencekit/terraform-provider-audience/internal/client/altcraft"
	"github.com/audiencekit/terraform-provider-audience/internal/client/transfer"
)

var (
	_ resource.Resource                   = &AltcraftProfileExportResource{}
	_ resource.ResourceWithConfigure      = &AltcraftProfileExportResource{}
	_ resource.ResourceWithModifyPlan     = &AltcraftProfileExportResource{}
	_ resource.ResourceWithValidateConfig = &AltcraftProfileExportResource{}
)

// NewAltcraftProfileExportResource is the audience_altcraft_profile_export
// resource constructor.
func NewAltcraftProfileExportResource() resource.Resource {
	return &AltcraftProfileExportResource{}
}

// AltcraftProfileExportResource keeps one Altcraft export for a period:
// the task starts only at apply, and every plan, apply and drift job of the
// period reuses its result, downloading it again where the files are
// missing (a fresh CI checkout).
type AltcraftProfileExportResource struct {
	data *providerData
}

type altcraftExportResourceModel struct {
	ID            types.String   `tfsdk:"id"`
	SourceType    types.String   `tfsdk:"source_type"`
	SourceID      types.Int64    `tfsdk:"source_id"`
	FileFormat    types.String   `tfsdk:"file_format"`
	CustomRequest types.Dynamic  `tfsdk:"custom_request"`
	OutputDir     types.String   `tfsdk:"output_dir"`
	MaxAge        types.String   `tfsdk:"max_age"`
	Triggers      types.Map      `tfsdk:"triggers"`
	TaskID        types.String   `tfsdk:"task_id"`
	Status        types.String   `tfsdk:"status"`
	Total         types.Int64    `tfsdk:"total"`
	ExportedAt    types.String   `tfsdk:"exported_at"`
	URLs          types.List     `tfsdk:"urls"`
	Files         types.List     `tfsdk:"files"`
	Timeouts      timeouts.Value `tfsdk:"timeouts"`
}

var altcraftExportFileType = types.ObjectType{AttrTypes: map[string]attr.Type{
	"url": types.StringType, "path": types.StringType, "size": types.Int64Type, "sha256": types.StringType,
}}

// privateExportCheck is what the last refresh (or export) found, in
// private state: when it looked, and why the result in state can no
// longer be downloaded, if it cannot. The plan counts the export's age to
// CheckedAt rather than to its own clock: Terraform plans again when it
// applies a saved plan, with the private state of the plan's refresh, so
// both plans reach the same decision however long the saved plan waited
// (a max_age running out in between would otherwise make the final plan
// differ from the saved one).
const privateExportCheck = "altcraft_export_check"

type altcraftExportCheck struct {
	CheckedAt time.Time `json:"checked_at"`
	Gone      string    `json:"gone,omitempty"`
}

// Metadata implements resource.Resource.
func (r *AltcraftProfileExportResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_altcraft_profile_export"
}

// Schema implements resource.Resource.
func (r *AltcraftProfileExportResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	computedString := func(desc string) schema.StringAttribute {
		return schema.StringAttribute{Computed: true, MarkdownDescription: desc}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Exports the profiles of an Altcraft database or segment once per period and keeps the result: unlike the data source of the " +
			"same name, which starts a new export task on every plan and refresh, this resource starts one only at apply — when it is created, when an " +
			"argument or `triggers` changes, when the export is older than `max_age`, or when the platform no longer serves its result. " +
			"Every other plan, apply and drift job reuses the export recorded in state: where the files in `output_dir` are missing " +
			"(a fresh CI checkout), the refresh downloads the same result again and checks it against the `sha256` in state, without a new task.\n\n" +
			"Feed `audience_id_list` from `files[0].path`, and uploads from the list's `id`: both are then unknown in a plan that exports again, " +
			"so the list and the uploads wait for the new export at apply.",
		Attributes: map[string]schema.Attribute{
			"id": computedString("The export task ID (same as `task_id`)."),
			"source_type": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Data source type: `database` or `segment`. A change exports again.",
				Validators:          []validator.String{stringvalidator.OneOf("database", "segment")},
			},
			"source_id": schema.Int64Attribute{
				Required:            true,
				MarkdownDescription: "ID of the database or segment. A change exports again.",
				Validators:          []validator.Int64{int64validator.AtLeast(1)},
			},
			"file_format": schema.StringAttribute{
				Optional:            true,
				Computed:            true,
				Default:             stringdefault.StaticString("csv"),
				MarkdownDescription: "Export file format. Defaults to `csv`, the only format the API documents.",
				Validators:          []validator.String{stringvalidator.OneOf("csv")},
			},
			"custom_request": schema.DynamicAttribute{
				Optional: true,
				MarkdownDescription: "Profile fields to filter on, as in the data source: an object of field name to a string, number or boolean. " +
					"A change exports again.",
			},
			"output_dir": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Directory to download the result files into (created if missing), each named after the last part of its URL and " +
					"readable by its owner only (0600). A refresh that finds a file missing or changed downloads it again from the recorded task. " +
					"The files take part in the check that one file has one writer in a run. A change exports again. Without it only `urls` are kept.",
				Validators: []validator.String{stringvalidator.LengthAtLeast(1)},
			},
			"max_age": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "How long an export is used, as a Go duration (`\"24h\"`, `\"168h\"`, `\"90m\"`). A plan made once it has passed since " +
					"`exported_at` shows the export running again, with a warning giving its age. Without it, the export is kept until an argument or " +
					"`triggers` changes or the platform stops serving its result. The age is taken at the refresh, so a saved plan applied hours later does what " +
					"it showed; a `max_age` made shorter than the export's age takes effect in the plan after the apply that records it.",
				Validators: []validator.String{maxAgeValidator{}},
			},
			"triggers": schema.MapAttribute{
				Optional:            true,
				ElementType:         types.StringType,
				MarkdownDescription: "Arbitrary strings; any change exports again (for example `{ week = formatdate(\"YYYY-ww\", timestamp()) }` is not stable, a value from a variable is).",
			},
			"task_id":     computedString("ID of the export task whose result is kept."),
			"status":      computedString("Final task status reported by the platform (`completed`, or `success` on older panels)."),
			"total":       schema.Int64Attribute{Computed: true, MarkdownDescription: "Number of profiles exported."},
			"exported_at": computedString("When the platform wrote the result (RFC 3339, UTC): the `Last-Modified` of its download, else when the task was seen finished. `max_age` counts from it."),
			"urls": schema.ListAttribute{
				Computed:            true,
				ElementType:         types.StringType,
				MarkdownDescription: "Download URLs of the result files, on the panel, without the token.",
			},
			"files": schema.ListNestedAttribute{
				Computed:            true,
				MarkdownDescription: "The downloaded files, in the order of `urls`. Empty unless `output_dir` is set.",
				NestedObject: schema.NestedAttributeObject{
					Attributes: map[string]schema.Attribute{
						"url":    computedString("URL the file is downloaded from."),
						"path":   computedString("Local path of the file: `output_dir` joined with the file name."),
						"size":   schema.Int64Attribute{Computed: true, MarkdownDescription: "Size in bytes."},
						"sha256": computedString("SHA-256 of the content (lowercase hex); a file downloaded again must match it."),
					},
				},
			},
			"timeouts": timeouts.Attributes(ctx, timeouts.Opts{Create: true, Update: true, Read: true}),
		},
	}
}

// maxAgeValidator checks max_age is a positive Go duration at plan.
type maxAgeValidator struct{}

func (maxAgeValidator) Description(context.Context) string {
	return "a positive Go duration such as 24h"
}
func (v maxAgeValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (maxAgeValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	s := req.ConfigValue.ValueString()
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid max_age",
			fmt.Sprintf("max_age %q is not a duration: write a number with a unit, such as \"24h\", \"168h\" (a week) or \"90m\" (units: h, m, s; no days).", s))
	case d <= 0:
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid max_age", fmt.Sprintf("max_age %q must be longer than zero.", s))
	}
}

// Configure implements resource.ResourceWithConfigure.
func (r *AltcraftProfileExportResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configureData(req.ProviderData, &resp.Diagnostics)
}

// ValidateConfig checks custom_request and output_dir before any request.
func (r *AltcraftProfileExportResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var custom types.Dynamic
	var dir types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("custom_request"), &custom)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("output_dir"), &dir)...)
	if resp.Diagnostics.HasError() {
		return
	}
	_, diags := altcraftCustomRequest(custom)
	resp.Diagnostics.Append(diags...)
	if !dir.IsNull() && !dir.IsUnknown() {
		resp.Diagnostics.Append(checkAltcraftOutputDir(dir.ValueString())...)
	}
}

// ModifyPlan decides whether this plan exports again, and says why. It
// never starts a task: the refresh before it has restored the files, or
// recorded that the platform no longer serves them.
func (r *AltcraftProfileExportResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() || req.State.Raw.IsNull() {
		return // destroy, or create: a create exports, and everything computed is unknown
	}
	var plan, state altcraftExportResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	reasons := altcraftExportChanges(plan, state)
	var check altcraftExportCheck
	ok, diags := getPrivate(ctx, req.Private, privateExportCheck, &check)
	resp.Diagnostics.Append(diags...)
	if !ok || check.CheckedAt.IsZero() {
		check.CheckedAt = time.Now() // state from before checks were kept
	}
	// Whether it is due is judged at the time of the refresh, which the
	// final plan of an apply sees too (applying refreshes nothing), so a
	// saved plan that kept the export still applies hours later. A shorter
	// max_age is judged against the last refresh that changed the
	// decision, and so may take effect one run later.
	if altcraftExportDue(plan.MaxAge, state.ExportedAt, check.CheckedAt) {
		age, _, _ := altcraftExportAge(plan.MaxAge, state.ExportedAt, time.Now())
		reasons = append(reasons, fmt.Sprintf("export is %s old, max_age %s", roundDuration(age), plan.MaxAge.ValueString()))
	}
	if check.Gone != "" {
		reasons = append(reasons, check.Gone)
	}

	if len(reasons) == 0 {
		// Only max_age or timeouts changed, or nothing: the export stays,
		// with everything it computed.
		plan.ID, plan.TaskID, plan.Status, plan.Total = state.ID, state.TaskID, state.Status, state.Total
		plan.ExportedAt, plan.URLs, plan.Files = state.ExportedAt, state.URLs, state.Files
		resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
		return
	}
	// Unknown, so whatever reads them (the ID lists, the uploads) waits for
	// the new export, and the saved plan applies whatever the task gives.
	plan.ID, plan.TaskID, plan.Status = types.StringUnknown(), types.StringUnknown(), types.StringUnknown()
	plan.Total, plan.ExportedAt = types.Int64Unknown(), types.StringUnknown()
	plan.URLs, plan.Files = types.ListUnknown(types.StringType), types.ListUnknown(altcraftExportFileType)
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
	resp.Diagnostics.AddWarning("Altcraft export runs again at apply",
		fmt.Sprintf("%s: %s. The apply starts a new export task of %s %d and replaces task %s; until then the files of task %s are kept.",
			altcraftProfileExportType, strings.Join(reasons, "; "), plan.SourceType.ValueString(), plan.SourceID.ValueInt64(),
			state.TaskID.ValueString(), state.TaskID.ValueString()))
}

// altcraftExportChanges names the arguments whose change exports again.
func altcraftExportChanges(plan, state altcraftExportResourceModel) []string {
	var out []string
	for _, a := range []struct {
		name      string
		now, then attr.Value
	}{
		{"source_type", plan.SourceType, state.SourceType},
		{"source_id", plan.SourceID, state.SourceID},
		{"file_format", plan.FileFormat, state.FileFormat},
		{"custom_request", plan.CustomRequest, state.CustomRequest},
		{"output_dir", plan.OutputDir, state.OutputDir},
		{"triggers", plan.Triggers, state.Triggers},
	} {
		if a.now.IsUnknown() || !a.now.Equal(a.then) {
			out = append(out, a.name+" changed")
		}
	}
	return out
}

// altcraftExportAge is how old the export is and max_age, when both are
// known.
func altcraftExportAge(maxAge, exportedAt types.String, now time.Time) (time.Duration, time.Duration, bool) {
	if maxAge.IsNull() || maxAge.IsUnknown() || exportedAt.IsNull() || exportedAt.IsUnknown() {
		return 0, 0, false
	}
	limit, err := time.ParseDuration(maxAge.ValueString())
	if err != nil {
		return 0, 0, false // the validator reported it
	}
	at, err := time.Parse(time.RFC3339, exportedAt.ValueString())
	if err != nil {
		return 0, 0, false
	}
	return now.Sub(at), limit, true
}

// altcraftExportDue reports whether the export was at least max_age old
// at the time given.
func altcraftExportDue(maxAge, exportedAt types.String, at time.Time) bool {
	age, limit, ok := altcraftExportAge(maxAge, exportedAt, at)
	return ok && age >= limit
}

// roundDuration writes d to the minute, without zero tails: 26h, 25h30m.
func roundDuration(d time.Duration) string {
	s := d.Round(time.Minute).String()
	s = strings.TrimSuffix(s, "0s")
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// Create starts the export.
func (r *AltcraftProfileExportResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan altcraftExportResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := plan.Timeouts.Create(ctx, 10*time.Minute)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	if !r.export(ctx, &plan, timeout, &resp.Diagnostics) {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	resp.Diagnostics.Append(setPrivate(ctx, resp.Private, privateExportCheck, altcraftExportCheck{CheckedAt: time.Now()})...)
}

// Update exports again when the plan says so (task_id unknown); otherwise
// it keeps the export and records the new max_age or timeouts.
func (r *AltcraftProfileExportResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan altcraftExportResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := plan.Timeouts.Update(ctx, 10*time.Minute)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	if plan.TaskID.IsUnknown() {
		if !r.export(ctx, &plan, timeout, &resp.Diagnostics) {
			return
		}
		resp.Diagnostics.Append(setPrivate(ctx, resp.Private, privateExportCheck, altcraftExportCheck{CheckedAt: time.Now()})...)
	} else {
		// Terraform reads the ID lists that depend on this resource after
		// the update, and applying a saved plan refreshes nothing: the
		// files must be here (a fresh checkout) before they are read.
		gone, _ := r.restore(ctx, plan, timeout, &resp.Diagnostics)
		if gone != "" {
			resp.Diagnostics.AddError("Altcraft export result gone", gone+
				".\nThe plan being applied kept this export; plan again: the new plan exports again.")
		}
		if resp.Diagnostics.HasError() {
			return
		}
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// export runs a new export task into m: start, poll, download.
func (r *AltcraftProfileExportResource) export(ctx context.Context, m *altcraftExportResourceModel, timeout time.Duration, diags *diag.Diagnostics) bool {
	ctx = r.data.logContext(ctx)
	custom, d := altcraftCustomRequest(m.CustomRequest)
	if diags.Append(d...); diags.HasError() {
		return false
	}
	client, d := r.data.altcraftClient(altcraftProfileExportType)
	if diags.Append(d...); diags.HasError() {
		return false
	}
	outputDir := m.OutputDir.ValueString()
	if outputDir != "" {
		// Before the task starts, so a bad directory costs no platform task.
		if diags.Append(checkAltcraftOutputDir(outputDir)...); diags.HasError() {
			return false
		}
		if err := os.MkdirAll(outputDir, 0o755); err != nil {
			diags.AddAttributeError(path.Root("output_dir"), "Cannot create output_dir", err.Error())
			return false
		}
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tflog.Info(ctx, "exporting Altcraft profiles", transfer.LogFields(map[string]any{"source_type": m.SourceType.ValueString(), "source_id": m.SourceID.ValueInt64(), "output_dir": outputDir}))
	res, err := client.Export(ctx, altcraft.ExportRequest{
		SourceType: m.SourceType.ValueString(), SourceID: m.SourceID.ValueInt64(), FileFormat: m.FileFormat.ValueString(), CustomRequest: custom,
	}, outputDir)
	if err != nil {
		summary, detail := altcraftExportError(ctx, err, altcraftProfileExportModel{SourceType: m.SourceType, SourceID: m.SourceID}, timeout)
		detail = strings.NewReplacer("timeouts.read", "timeouts.create or timeouts.update", "(each read starts a new task)", "(the next apply starts a new task)").Replace(detail)
		diags.AddError(summary, detail)
		return false
	}
	if diags.Append(r.claimFiles(*m, res.Files)...); diags.HasError() {
		return false
	}
	exportedAt := time.Now()
	if len(res.Files) > 0 && !res.Files[0].Modified.IsZero() {
		exportedAt = res.Files[0].Modified
	}
	t := res.Task
	m.ID, m.TaskID, m.Status = types.StringValue(t.ID), types.StringValue(t.ID), types.StringValue(t.Status)
	m.Total, m.ExportedAt = types.Int64Value(t.Total), types.StringValue(exportedAt.UTC().Format(time.RFC3339))
	urls, d := types.ListValueFrom(ctx, types.StringType, res.URLs)
	diags.Append(d...)
	m.URLs = urls
	models := make([]altcraftExportFileModel, len(res.Files))
	for i, f := range res.Files {
		models[i] = altcraftExportFileModel{URL: types.StringValue(f.URL), Path: types.StringValue(f.Path), Size: types.Int64Value(f.Size), SHA256: types.StringValue(f.SHA256)}
	}
	files, d := types.ListValueFrom(ctx, altcraftExportFileType, models)
	diags.Append(d...)
	m.Files = files
	return !diags.HasError()
}

// claimFiles enters the export's files in the run's one-writer check, as
// the data source's are.
func (r *AltcraftProfileExportResource) claimFiles(m altcraftExportResourceModel, files []altcraft.File) diag.Diagnostics {
	if len(files) == 0 {
		return nil
	}
	paths := make([]string, len(files))
	for i, f := range files {
		paths[i] = f.Path
	}
	return r.data.claimOutput(path.Root("output_dir"), altcraftExportResourceWriter(m), paths...)
}

// Read keeps the recorded export and never starts a task. Files missing or
// changed under output_dir (a fresh checkout) are downloaded again from
// the recorded task and checked against the sha256 in state; a result the
// platform no longer serves is recorded for the plan, which exports again.
func (r *AltcraftProfileExportResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state altcraftExportResourceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	check := altcraftExportCheck{CheckedAt: time.Now()}
	timeout, diags := state.Timeouts.Read(ctx, 10*time.Minute)
	resp.Diagnostics.Append(diags...)
	gone, modified := r.restore(ctx, state, timeout, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	check.Gone = gone
	if !modified.IsZero() {
		// The platform's own time of the result: the same on every
		// download of a real panel; the sandbox moves it with its clock.
		state.ExportedAt = types.StringValue(modified.UTC().Format(time.RFC3339))
	}
	// A refresh that changes nothing must leave the private state as it
	// was too, or every drift job (plan -refresh-only -detailed-exitcode)
	// would report a change: the time of the check moves only when it
	// changes what the plan decides (the export came of age, or its result
	// went or came back).
	var prior altcraftExportCheck
	if had, d := getPrivate(ctx, req.Private, privateExportCheck, &prior); !d.HasError() && had && prior.Gone == check.Gone && !prior.CheckedAt.IsZero() &&
		altcraftExportDue(state.MaxAge, state.ExportedAt, prior.CheckedAt) == altcraftExportDue(state.MaxAge, state.ExportedAt, check.CheckedAt) {
		check.CheckedAt = prior.CheckedAt
	}
	resp.Diagnostics.Append(setPrivate(ctx, resp.Private, privateExportCheck, check)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// restore claims the files of the export in m and downloads again those
// missing or changed, checking each against its sha256. It returns why
// the result cannot be restored when the platform no longer serves it (or
// serves other bytes), and the result's Last-Modified when it downloaded.
func (r *AltcraftProfileExportResource) restore(ctx context.Context, m altcraftExportResourceModel, timeout time.Duration, diags *diag.Diagnostics) (gone string, modified time.Time) {
	var files []altcraftExportFileModel
	if !m.Files.IsNull() && !m.Files.IsUnknown() {
		diags.Append(m.Files.ElementsAs(ctx, &files, false)...)
	}
	if diags.HasError() || len(files) == 0 {
		return "", time.Time{}
	}
	claimed := make([]altcraft.File, 0, len(files))
	var missing []altcraftExportFileModel
	for _, f := range files {
		claimed = append(claimed, altcraft.File{Path: f.Path.ValueString()})
		if !altcraftFileHolds(f) {
			missing = append(missing, f)
		}
	}
	if diags.Append(r.claimFiles(m, claimed)...); diags.HasError() || len(missing) == 0 {
		return "", time.Time{}
	}
	client, d := r.data.altcraftClient(altcraftProfileExportType)
	if diags.Append(d...); diags.HasError() {
		return "", time.Time{}
	}
	ctx, cancel := context.WithTimeout(r.data.logContext(ctx), timeout)
	defer cancel()
	if err := os.MkdirAll(m.OutputDir.ValueString(), 0o755); err != nil {
		diags.AddAttributeError(path.Root("output_dir"), "Cannot create output_dir", err.Error())
		return "", time.Time{}
	}
	task := m.TaskID.ValueString()
	for _, f := range missing {
		tflog.Info(ctx, "restoring an Altcraft export file from its task", map[string]any{"task_id": task, "path": f.Path.ValueString()})
		got, err := client.DownloadFile(ctx, f.URL.ValueString(), f.Path.ValueString())
		switch {
		case altcraft.ResultGone(err):
			return fmt.Sprintf("the platform no longer serves the result of task %s (%s), so its files cannot be downloaded again", task, err), time.Time{}
		case err != nil:
			diags.AddAttributeError(path.Root("files"), "Cannot restore the Altcraft export files",
				fmt.Sprintf("%s is missing here, and downloading it again from task %s failed: %s.\nThis starts no new export; run the command again once the panel answers.",
					f.Path.ValueString(), task, err))
			return "", time.Time{}
		case got.SHA256 != f.SHA256.ValueString():
			return fmt.Sprintf("the result of task %s downloaded again differs from the one recorded (%s: sha256 %s, state has %s)",
				task, f.Path.ValueString(), got.SHA256, f.SHA256.ValueString()), time.Time{}
		}
		if modified.IsZero() {
			modified = got.Modified
		}
	}
	return "", modified
}

// altcraftFileHolds reports whether the file recorded in state is on disk
// with its recorded size and sha256 (streamed, never read whole).
func altcraftFileHolds(f altcraftExportFileModel) bool {
	fh, err := os.Open(f.Path.ValueString())
	if err != nil {
		return false
	}
	defer fh.Close()
	if st, err := fh.Stat(); err != nil || !st.Mode().IsRegular() || st.Size() != f.Size.ValueInt64() {
		return false
	}
	h := sha256.New()
	if _, err := io.Copy(h, fh); err != nil {
		return false
	}
	return hex.EncodeToString(h.Sum(nil)) == f.SHA256.ValueString()
}

// Delete forgets the export: the platform has no call to delete a task,
// and the downloaded files are left where they are.
func (r *AltcraftProfileExportResource) Delete(_ context.Context, _ resource.DeleteRequest, resp *resource.DeleteResponse) {
	resp.Diagnostics.AddWarning("Altcraft export forgotten",
		"The export was removed from state only: Altcraft has no call to delete an export task, and the downloaded files in output_dir are left in place (they hold personal data: delete them if they are no longer needed).")
}

// altcraftExportResourceWriter names the resource as a writer of its
// files: its export arguments, with output_dir canonical, so the same
// resource claiming again in one run is no conflict and another export
// (or an ID list) writing one of its files is.
func altcraftExportResourceWriter(m altcraftExportResourceModel) outputWriter {
	custom := ""
	if c, _ := altcraftCustomRequest(m.CustomRequest); len(c) > 0 {
		if b, err := json.Marshal(c); err == nil {
			custom = string(b)
		}
	}
	name := fmt.Sprintf("resource %s of %s %d into %s", altcraftProfileExportType, m.SourceType.ValueString(), m.SourceID.ValueInt64(), m.OutputDir.ValueString())
	if custom != "" {
		name += " (custom_request " + custom + ")"
	}
	str := func(s string) tftypes.Value { return tftypes.NewValue(tftypes.String, s) }
	args := tftypes.NewValue(tftypes.Object{AttributeTypes: map[string]tftypes.Type{
		"resource": tftypes.String, "source_type": tftypes.String, "source_id": tftypes.String, "custom_request": tftypes.String, "output_dir": tftypes.String,
	}}, map[string]tftypes.Value{
		"resource": str(altcraftProfileExportType), "source_type": str(m.SourceType.ValueString()),
		"source_id": str(fmt.Sprint(m.SourceID.ValueInt64())), "custom_request": str(custom), "output_dir": str(m.OutputDir.ValueString()),
	})
	return newOutputWriter(name, args, "output_dir")
}
