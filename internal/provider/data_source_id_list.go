package provider

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/datasource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/audiencekit/terraform-provider-audience/internal/client/transfer"
	"github.com/audiencekit/terraform-provider-audience/internal/idlist"
)

var (
	_ datasource.DataSource                   = &IDListDataSource{}
	_ datasource.DataSourceWithValidateConfig = &IDListDataSource{}
	_ datasource.DataSourceWithConfigure      = &IDListDataSource{}
)

// NewIDListDataSource is the audience_id_list constructor.
func NewIDListDataSource() datasource.DataSource {
	return &IDListDataSource{}
}

// IDListDataSource turns one column of a local export into a
// one-ID-per-line file ready to upload. It works on local files only and
// needs no platform settings; the provider tells it which files other
// data sources write.
type IDListDataSource struct {
	data *providerData
}

type idListModel struct {
	ID           types.String   `tfsdk:"id"`
	Source       types.String   `tfsdk:"source"`
	Column       types.String   `tfsdk:"column"`
	OutputPath   types.String   `tfsdk:"output_path"`
	Case         types.String   `tfsdk:"case"`
	Hash         types.String   `tfsdk:"hash"`
	Format       types.String   `tfsdk:"format"`
	Invalid      types.String   `tfsdk:"invalid"`
	AllowEmpty   types.Bool     `tfsdk:"allow_empty"`
	Dedupe       types.Bool     `tfsdk:"dedupe"`
	EntryCount   types.Int64    `tfsdk:"entry_count"`
	SkippedCount types.Int64    `tfsdk:"skipped_count"`
	Duplicates   types.Int64    `tfsdk:"duplicate_count"`
	FileMD5      types.String   `tfsdk:"file_md5"`
	FileSize     types.Int64    `tfsdk:"file_size"`
	Timeouts     timeouts.Value `tfsdk:"timeouts"`
}

// Metadata implements datasource.DataSource.
func (d *IDListDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_id_list"
}

// Schema implements datasource.DataSource.
func (d *IDListDataSource) Schema(ctx context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Reads one column of a local CSV or text export (such as an `audience_altcraft_profile_export` file) and writes it to " +
			"`output_path` as a list of one value per line, ready for an upload resource: values trimmed, optionally case-normalised, checked and hashed, " +
			"blank values dropped. The input is streamed with flat memory whatever its size, and the same input and arguments always give the same bytes, " +
			"so the upload that reads `output_path` sees no change and the plan stays empty.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "The `output_path`.",
			},
			"source": schema.StringAttribute{
				Required: true,
				MarkdownDescription: "Local CSV or text file to read, gunzipped when its name ends in `.gz`. CSV follows RFC 4180 (quoted values may hold commas, " +
					"quotes and line breaks; a UTF-8 byte order mark is dropped). The separator is found on the first row: a comma, else a tab, else a semicolon.",
				Validators: []validator.String{stringvalidator.LengthAtLeast(1)},
			},
			"column": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Header name of the column to take; the first row is then the header. Required when the file has more than one column " +
					"(an unknown name fails, listing the available ones). Without it the file must have a single column and no header: every row is a value.",
				Validators: []validator.String{stringvalidator.LengthAtLeast(1)},
			},
			"output_path": schema.StringAttribute{
				Required: true,
				MarkdownDescription: "File to write, one value per line (`\\n`, whatever the source's line ends; no byte order mark), in input order, duplicates kept unless `dedupe` is set; gzip-compressed when it ends in `.gz`. " +
					"Missing parent directories are created (a generated folder is absent from a fresh clone). " +
					"It is written under a temporary name and renamed when complete, and left untouched when it already holds the same bytes. " +
					"A directory, or the `source` itself (under any spelling or through a link), fails before the source is read.",
				Validators: []validator.String{stringvalidator.LengthAtLeast(1)},
			},
			"case": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Letter case applied to each trimmed value before it is checked and hashed: `keep` (the default), `lower` or `upper`.",
				Validators:          []validator.String{stringvalidator.OneOf(idlist.Cases...)},
			},
			"hash": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Write a digest of each normalised value instead of the value, as lowercase hex: `none` (the default), `md5` " +
					"(Mintegral's `*_MD5` device types) or `sha256` (platforms that match hashed e-mails).",
				Validators: []validator.String{stringvalidator.OneOf(idlist.Hashes...)},
			},
			"format": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Shape every value must have: `any` (the default), `uuid` (IDFA, IDFV, GAID, OAID: 8-4-4-4-12 hexadecimal digits; the all-zero ID " +
					"of a device that limits ad tracking is invalid) or `imei` (15 digits with a valid check digit, or 14 without it).",
				Validators: []validator.String{stringvalidator.OneOf(idlist.Formats...)},
			},
			"invalid": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "What an invalid value does: `error` (the default) fails naming the line and the value (masked when it looks like personal data); " +
					"`skip` drops it and counts it in `skipped_count`. Without hashing, a value holding a comma, semicolon, tab, quote or line break is invalid too.",
				Validators: []validator.String{stringvalidator.OneOf("error", "skip")},
			},
			"allow_empty": schema.BoolAttribute{
				Optional: true,
				MarkdownDescription: "Accept a result with no value. By default an empty result (a header only, or only blank or skipped values) is an error, " +
					"so an export that matched nobody never reaches a platform.",
			},
			"dedupe": schema.BoolAttribute{
				Optional: true,
				MarkdownDescription: "Write each value once, at its first occurrence, and count the repeats dropped in `duplicate_count` (values are compared after `case` and `hash`). " +
					fmt.Sprintf("Values are remembered by a 64-bit hash, for at most %d distinct values (16 MiB); a list with more fails rather than being half de-duplicated: ", idlist.MaxTrackedIDs) +
					"split the export, or remove repeats before (`sort -u`). Defaults to `false`.",
			},
			"entry_count": schema.Int64Attribute{
				Computed:            true,
				MarkdownDescription: "Number of values written.",
			},
			"skipped_count": schema.Int64Attribute{
				Computed:            true,
				MarkdownDescription: "Number of rows dropped: blank values, and invalid values when `invalid = \"skip\"`.",
			},
			"duplicate_count": schema.Int64Attribute{
				Computed:            true,
				MarkdownDescription: "Number of repeated values dropped by `dedupe` (`0` without it).",
			},
			"file_md5": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "MD5 of the written file (lowercase hex; of the compressed bytes for a `.gz` output).",
			},
			"file_size": schema.Int64Attribute{
				Computed:            true,
				MarkdownDescription: "Size of the written file in bytes.",
			},
			"timeouts": timeouts.Attributes(ctx),
		},
	}
}

// Configure implements datasource.DataSourceWithConfigure.
func (d *IDListDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = configureData(req.ProviderData, &resp.Diagnostics)
}

// ValidateConfig rejects an output_path that is the source.
func (d *IDListDataSource) ValidateConfig(ctx context.Context, req datasource.ValidateConfigRequest, resp *datasource.ValidateConfigResponse) {
	var cfg idListModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() || cfg.Source.IsUnknown() || cfg.OutputPath.IsUnknown() {
		return
	}
	if filepath.Clean(cfg.Source.ValueString()) == filepath.Clean(cfg.OutputPath.ValueString()) {
		resp.Diagnostics.AddAttributeError(path.Root("output_path"), "output_path is the source",
			"output_path must name another file than source: the list is written next to the export, never over it.")
	}
}

// Read extracts the column into output_path.
func (d *IDListDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var cfg idListModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := cfg.Timeouts.Read(ctx, 30*time.Minute)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	opt := idlist.Options{
		Column:      cfg.Column.ValueString(),
		Case:        idlist.Case(cfg.Case.ValueString()),
		Hash:        idlist.Hash(cfg.Hash.ValueString()),
		Format:      idlist.Format(cfg.Format.ValueString()),
		SkipInvalid: cfg.Invalid.ValueString() == "skip",
		AllowEmpty:  cfg.AllowEmpty.ValueBool(),
		Dedupe:      cfg.Dedupe.ValueBool(),
	}
	source, output := cfg.Source.ValueString(), cfg.OutputPath.ValueString()
	if resp.Diagnostics.Append(checkIDListSource(source)...); resp.Diagnostics.HasError() {
		return
	}
	if resp.Diagnostics.Append(d.data.claimOutput(path.Root("output_path"), idListWriter(req.Config.Raw, cfg), output)...); resp.Diagnostics.HasError() {
		return
	}

	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	started := time.Now()
	res, err := idlist.ExtractFile(ctx, source, output, opt)
	if err != nil {
		resp.Diagnostics.Append(idListError(err, source, timeout)...)
		return
	}
	tflog.Info(ctx, "wrote id list", map[string]any{
		"source": source, "output_path": output, "entries": strconv.FormatInt(res.Entries, 10), "skipped": strconv.FormatInt(res.Skipped, 10),
		"duplicates": strconv.FormatInt(res.Duplicates, 10), "size": transfer.LogBytes(res.Size), "elapsed": time.Since(started).String(),
	})
	cfg.ID = types.StringValue(output)
	cfg.EntryCount = types.Int64Value(res.Entries)
	cfg.SkippedCount = types.Int64Value(res.Skipped)
	cfg.Duplicates = types.Int64Value(res.Duplicates)
	cfg.FileMD5 = types.StringValue(res.MD5)
	cfg.FileSize = types.Int64Value(res.Size)
	resp.Diagnostics.Append(resp.State.Set(ctx, &cfg)...)
}

// checkIDListSource explains a missing source before anything is read.
func checkIDListSource(source string) diag.Diagnostics {
	var diags diag.Diagnostics
	st, err := os.Stat(source)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		diags.AddAttributeError(path.Root("source"), "Source file not found",
			fmt.Sprintf("%s does not exist. Check the path (relative paths are relative to the directory terraform runs in; path.module helps).", source))
	case err != nil:
		diags.AddAttributeError(path.Root("source"), "Cannot read source file", err.Error())
	case !st.Mode().IsRegular():
		diags.AddAttributeError(path.Root("source"), "Source is not a regular file", fmt.Sprintf("%s is a %s; point source at a file.", source, st.Mode().Type()))
	}
	return diags
}

// idListError turns an extraction failure into a diagnostic on the
// attribute that can fix it.
func idListError(err error, source string, timeout time.Duration) diag.Diagnostics {
	var diags diag.Diagnostics
	var ie *idlist.Error
	switch {
	case errors.Is(err, idlist.ErrOutput):
		diags.AddAttributeError(path.Root("output_path"), "Invalid output_path", err.Error()+".")
	case errors.As(err, &ie):
		diags.AddAttributeError(path.Root("source"), "Cannot build the ID list", err.Error()+".")
	case errors.Is(err, context.DeadlineExceeded):
		diags.AddError("Building the ID list timed out",
			fmt.Sprintf("Reading %s did not finish within timeouts.read (%s). Raise timeouts.read for very large exports.", source, timeout))
	default:
		diags.AddError("Cannot build the ID list", fmt.Sprintf("Reading %s: %s.", source, err))
	}
	return diags
}
