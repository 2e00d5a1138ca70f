package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/datasource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/audiencekit/terraform-provider-audience/internal/client/altcraft"
	"github.com/audiencekit/terraform-provider-audience/internal/client/transfer"
)

var (
	_ datasource.DataSource                   = &AltcraftProfileExportDataSource{}
	_ datasource.DataSourceWithConfigure      = &AltcraftProfileExportDataSource{}
	_ datasource.DataSourceWithValidateConfig = &AltcraftProfileExportDataSource{}
)

const altcraftProfileExportType = "audience_altcraft_profile_export"

// NewAltcraftProfileExportDataSource is the audience_altcraft_profile_export
// constructor.
func NewAltcraftProfileExportDataSource() datasource.DataSource {
	return &AltcraftProfileExportDataSource{}
}

// AltcraftProfileExportDataSource exports the profiles of an Altcraft
// database or segment, and optionally downloads the result files.
type AltcraftProfileExportDataSource struct {
	data *providerData
}

type altcraftProfileExportModel struct {
	ID            types.String              `tfsdk:"id"`
	SourceType    types.String              `tfsdk:"source_type"`
	SourceID      types.Int64               `tfsdk:"source_id"`
	FileFormat    types.String              `tfsdk:"file_format"`
	CustomRequest types.Dynamic             `tfsdk:"custom_request"`
	OutputDir     types.String              `tfsdk:"output_dir"`
	TaskID        types.String              `tfsdk:"task_id"`
	Status        types.String              `tfsdk:"status"`
	Total         types.Int64               `tfsdk:"total"`
	URLs          []string                  `tfsdk:"urls"`
	Files         []altcraftExportFileModel `tfsdk:"files"`
	Errors        []string                  `tfsdk:"errors"`
	Timeouts      timeouts.Value            `tfsdk:"timeouts"`
}

type altcraftExportFileModel struct {
	URL    types.String `tfsdk:"url"`
	Path   types.String `tfsdk:"path"`
	Size   types.Int64  `tfsdk:"size"`
	SHA256 types.String `tfsdk:"sha256"`
}

// Metadata implements datasource.DataSource.
func (d *AltcraftProfileExportDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_altcraft_profile_export"
}

// Schema implements datasource.DataSource.
func (d *AltcraftProfileExportDataSource) Schema(ctx context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Exports the profiles of an Altcraft database or segment (API v1.1 `profiles/get_all`), waits for the export task to finish " +
			"and, when `output_dir` is set, downloads the result files there, so they can feed an upload resource in the same configuration.\n\n" +
			"**This data source runs a new export on every plan, apply and refresh**: each run starts a new task on the platform " +
			"(a new `task_id`) and, with `output_dir`, downloads the files again over the previous ones. " +
			"Resources that use the files change only when the exported content changes. For a large CRM, or a pipeline of separate plan, apply and " +
			"drift jobs, the resource `audience_altcraft_profile_export` exports once per period (`max_age`, `triggers`) and reuses that export in every job.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "The export task ID (same as `task_id`).",
			},
			"source_type": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Data source type: `database` or `segment`.",
				Validators:          []validator.String{stringvalidator.OneOf("database", "segment")},
			},
			"source_id": schema.Int64Attribute{
				Required:            true,
				MarkdownDescription: "ID of the database or segment.",
				Validators:          []validator.Int64{int64validator.AtLeast(1)},
			},
			"file_format": schema.StringAttribute{
				Optional:            true,
				Computed:            true,
				MarkdownDescription: "Export file format. Defaults to `csv`, the only format the API documents.",
				Validators:          []validator.String{stringvalidator.OneOf("csv")},
			},
			"custom_request": schema.DynamicAttribute{
				Optional: true,
				MarkdownDescription: "Profile fields to filter on: an object of field name to value, for example " +
					"`{ occupation = \"doctor\", age = 30, vip = true }`. Only profiles whose fields equal every value are exported. " +
					"Values are strings, numbers or booleans and are sent with their type (`30`, not `\"30\"`); nested objects and lists are rejected at plan.",
			},
			"output_dir": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Directory to download the result files into (created if missing). Each file is named after the last part of its URL, " +
					"e.g. `1_database_export.csv`; it is written under a temporary name and renamed when complete, so a failed download never leaves a partial file. " +
					"Files are readable by their owner only (mode 0600): exports hold personal data; keep them apart from the lists made from them, " +
					"so CI can carry the lists without the export. An `audience_id_list` `output_path` naming one of these files, or another export " +
					"writing one of them, fails the plan naming both. Without it, only `urls` are reported.",
				Validators: []validator.String{stringvalidator.LengthAtLeast(1)},
			},
			"task_id": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "ID of the export task this read ran.",
			},
			"status": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "Final task status reported by the platform (`completed`, or `success` on older panels).",
			},
			"total": schema.Int64Attribute{
				Computed:            true,
				MarkdownDescription: "Number of profiles exported.",
			},
			"urls": schema.ListAttribute{
				Computed:            true,
				ElementType:         types.StringType,
				MarkdownDescription: "Download URLs of the result files, on the panel. They never carry the API token: downloading them needs it (`Authorization: Bearer <token>`).",
			},
			"files": schema.ListNestedAttribute{
				Computed:            true,
				MarkdownDescription: "The downloaded files, in the order of `urls`. Empty unless `output_dir` is set.",
				NestedObject: schema.NestedAttributeObject{
					Attributes: map[string]schema.Attribute{
						"url":    schema.StringAttribute{Computed: true, MarkdownDescription: "URL the file was downloaded from."},
						"path":   schema.StringAttribute{Computed: true, MarkdownDescription: "Local path of the file: `output_dir` joined with the file name."},
						"size":   schema.Int64Attribute{Computed: true, MarkdownDescription: "Size in bytes."},
						"sha256": schema.StringAttribute{Computed: true, MarkdownDescription: "SHA-256 of the content (lowercase hex), computed while downloading."},
					},
				},
			},
			"errors": schema.ListAttribute{
				Computed:            true,
				ElementType:         types.StringType,
				MarkdownDescription: "Errors the finished task reported (usually empty). A task that fails makes the read fail with these errors instead.",
			},
			"timeouts": timeouts.Attributes(ctx),
		},
	}
}

// Configure implements datasource.DataSourceWithConfigure.
func (d *AltcraftProfileExportDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = configureData(req.ProviderData, &resp.Diagnostics)
}

// ValidateConfig checks custom_request and output_dir locally, so a
// mistake fails before any request.
func (d *AltcraftProfileExportDataSource) ValidateConfig(ctx context.Context, req datasource.ValidateConfigRequest, resp *datasource.ValidateConfigResponse) {
	var cfg altcraftProfileExportModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	_, diags := altcraftCustomRequest(cfg.CustomRequest)
	resp.Diagnostics.Append(diags...)
	if !cfg.OutputDir.IsNull() && !cfg.OutputDir.IsUnknown() {
		resp.Diagnostics.Append(checkAltcraftOutputDir(cfg.OutputDir.ValueString())...)
	}
}

// altcraftCustomRequest turns custom_request into the JSON object the API takes,
// keeping each value's type. It returns nil for a null or unknown value.
func altcraftCustomRequest(v types.Dynamic) (map[string]any, diag.Diagnostics) {
	var diags diag.Diagnostics
	at := path.Root("custom_request")
	if v.IsNull() || v.IsUnknown() || v.IsUnderlyingValueNull() || v.IsUnderlyingValueUnknown() {
		return nil, nil
	}
	var fields map[string]attr.Value
	switch u := v.UnderlyingValue().(type) {
	case types.Object:
		fields = u.Attributes()
	case types.Map:
		fields = u.Elements()
	default:
		diags.AddAttributeError(at, "Invalid custom_request",
			fmt.Sprintf("custom_request must be an object of profile field to value, such as { occupation = \"doctor\", age = 30 }; got %s.", altcraftValueKind(u)))
		return nil, diags
	}
	out := make(map[string]any, len(fields))
	for _, name := range slices.Sorted(maps.Keys(fields)) {
		val := fields[name]
		if val.IsUnknown() {
			return nil, diags // known at apply; checked again then
		}
		if name == "" {
			diags.AddAttributeError(at, "Invalid custom_request", "custom_request has a field with an empty name; use profile field names as keys.")
			continue
		}
		if val.IsNull() {
			diags.AddAttributeError(at, "Invalid custom_request value",
				fmt.Sprintf("custom_request.%s is null; give the value profiles must have, or remove the field.", name))
			continue
		}
		switch x := val.(type) {
		case types.String:
			out[name] = x.ValueString()
		case types.Bool:
			out[name] = x.ValueBool()
		case types.Number:
			// json.Number sends the number exactly as written.
			out[name] = json.Number(x.ValueBigFloat().Text('f', -1))
		default:
			diags.AddAttributeError(at, "Invalid custom_request value",
				fmt.Sprintf("custom_request.%s is %s; each value must be a string, a number or a boolean.", name, altcraftValueKind(val)))
		}
	}
	if diags.HasError() {
		return nil, diags
	}
	return out, diags
}

// altcraftValueKind names a value's kind the way a configuration author thinks of it.
func altcraftValueKind(v attr.Value) string {
	switch v.(type) {
	case types.Object:
		return "an object"
	case types.Map:
		return "a map"
	case types.List, types.Tuple, types.Set:
		return "a list"
	case types.String:
		return "a string"
	case types.Number:
		return "a number"
	case types.Bool:
		return "a boolean"
	}
	return fmt.Sprintf("of type %s", v.Type(context.Background()))
}

// checkAltcraftOutputDir rejects an output_dir that exists but is not a directory.
func checkAltcraftOutputDir(dir string) diag.Diagnostics {
	var diags diag.Diagnostics
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		diags.AddAttributeError(path.Root("output_dir"), "output_dir is not a directory",
			fmt.Sprintf("%s exists and is a %s; point output_dir at a directory (it is created if missing).", dir, st.Mode().Type()))
	}
	return diags
}

// Read runs the export: start the task, poll it, download the files.
func (d *AltcraftProfileExportDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	ctx = d.data.logContext(ctx)
	var cfg altcraftProfileExportModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := cfg.Timeouts.Read(ctx, 10*time.Minute)
	resp.Diagnostics.Append(diags...)
	custom, diags := altcraftCustomRequest(cfg.CustomRequest)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	if d.data == nil {
		resp.Diagnostics.AddError("Provider not configured", "The provider was not configured before reading "+altcraftProfileExportType+"; this is a bug in the provider.")
		return
	}
	client, diags := d.data.altcraftClient(altcraftProfileExportType)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	if cfg.FileFormat.IsNull() {
		cfg.FileFormat = types.StringValue("csv")
	}
	outputDir := cfg.OutputDir.ValueString()
	if outputDir != "" {
		// Prepared before the export starts, so a bad directory costs no
		// platform task.
		if resp.Diagnostics.Append(checkAltcraftOutputDir(outputDir)...); resp.Diagnostics.HasError() {
			return
		}
		if err := os.MkdirAll(outputDir, 0o755); err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("output_dir"), "Cannot create output_dir", err.Error())
			return
		}
	}

	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tflog.Info(ctx, "exporting Altcraft profiles", transfer.LogFields(map[string]any{"source_type": cfg.SourceType.ValueString(), "source_id": cfg.SourceID.ValueInt64(), "output_dir": outputDir}))
	res, err := client.Export(ctx, altcraft.ExportRequest{
		SourceType:    cfg.SourceType.ValueString(),
		SourceID:      cfg.SourceID.ValueInt64(),
		FileFormat:    cfg.FileFormat.ValueString(),
		CustomRequest: custom,
	}, outputDir)
	if err != nil {
		summary, detail := altcraftExportError(ctx, err, cfg, timeout)
		resp.Diagnostics.AddError(summary, detail)
		return
	}

	// The file names come from the platform, so the files are claimed once
	// downloaded: a clash still fails this plan, before anything uploads them.
	if len(res.Files) > 0 {
		paths := make([]string, len(res.Files))
		for i, f := range res.Files {
			paths[i] = f.Path
		}
		if resp.Diagnostics.Append(d.data.claimOutput(path.Root("output_dir"), altcraftExportWriter(req.Config.Raw, cfg, custom), paths...)...); resp.Diagnostics.HasError() {
			return
		}
	}

	t := res.Task
	cfg.ID = types.StringValue(t.ID)
	cfg.TaskID = types.StringValue(t.ID)
	cfg.Status = types.StringValue(t.Status)
	cfg.Total = types.Int64Value(t.Total)
	cfg.URLs = res.URLs
	cfg.Errors = append([]string{}, t.Errors...)
	cfg.Files = []altcraftExportFileModel{}
	for _, f := range res.Files {
		cfg.Files = append(cfg.Files, altcraftExportFileModel{
			URL:    types.StringValue(f.URL),
			Path:   types.StringValue(f.Path),
			Size:   types.Int64Value(f.Size),
			SHA256: types.StringValue(f.SHA256),
		})
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &cfg)...)
}

// altcraftExportError explains a failed export: the platform's own error,
// a failed task with its errors, or a timeout with how far the task got.
func altcraftExportError(ctx context.Context, err error, cfg altcraftProfileExportModel, timeout time.Duration) (string, string) {
	source := fmt.Sprintf("%s %d", cfg.SourceType.ValueString(), cfg.SourceID.ValueInt64())
	var (
		apiErr  *altcraft.APIError
		failed  *altcraft.TaskFailedError
		timeErr *altcraft.TimeoutError
	)
	switch {
	case errors.As(err, &timeErr):
		return "Altcraft export timed out",
			fmt.Sprintf("Exporting %s: %s.\nRaise timeouts.read (now %s) if the source is large, or look at the task in the Altcraft panel.", source, err, timeout)
	case errors.As(err, &failed):
		return "Altcraft export task failed",
			fmt.Sprintf("Exporting %s: %s.\nFix the cause reported by the platform, then run Terraform again (each read starts a new task).", source, err)
	case errors.As(err, &apiErr):
		return "Altcraft rejected the export", fmt.Sprintf("Exporting %s: %s.", source, err)
	case ctx.Err() != nil:
		return "Altcraft export timed out",
			fmt.Sprintf("Exporting %s did not finish within timeouts.read (%s): %s.\nRaise timeouts.read if the files are large or the network slow.", source, timeout, err)
	}
	return "Altcraft export failed", fmt.Sprintf("Exporting %s: %s.", source, err)
}
