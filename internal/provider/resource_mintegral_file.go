package provider

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/audiencekit/terraform-provider-audience/internal/client/mintegral"
	"github.com/audiencekit/terraform-provider-audience/internal/idlist"
	"github.com/audiencekit/terraform-provider-audience/internal/validators"
)

var (
	_ resource.Resource               = &MintegralFileResource{}
	_ resource.ResourceWithConfigure  = &MintegralFileResource{}
	_ resource.ResourceWithModifyPlan = &MintegralFileResource{}
)

const mintegralFileType = "audience_mintegral_file"

// mintegralExtensions are the file names Mintegral accepts.
var mintegralExtensions = []string{".txt", ".csv", ".txt.gz", ".csv.gz"}

// NewMintegralFileResource is the audience_mintegral_file constructor.
func NewMintegralFileResource() resource.Resource {
	return &MintegralFileResource{uploadLifecycle: uploadLifecycle{forgetMessage: "removing Mintegral audience file from state; Mintegral has no API to delete uploaded files"}}
}

// MintegralFileResource uploads an audience file to Mintegral and exposes
// its data_path.
type MintegralFileResource struct {
	uploadLifecycle
	data *providerData
}

type mintegralFileModel struct {
	ID       types.String   `tfsdk:"id"`
	Source   types.String   `tfsdk:"source"`
	FileName types.String   `tfsdk:"file_name"`
	AreaType types.Int64    `tfsdk:"area_type"`
	DataPath types.String   `tfsdk:"data_path"`
	FileMD5  types.String   `tfsdk:"file_md5"`
	FileSize types.Int64    `tfsdk:"file_size"`
	Timeouts timeouts.Value `tfsdk:"timeouts"`
}

// Metadata implements resource.Resource.
func (r *MintegralFileResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_mintegral_file"
}

// Schema implements resource.Resource.
func (r *MintegralFileResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Uploads an audience file (one device ID per line) to Mintegral and exposes its `data_path` for creating audiences. " +
			"The file is hashed at plan time and uploaded again only when its content changes. Area 1 (outside mainland China) uploads to S3 with a presigned PUT; " +
			"area 2 (mainland China) uploads to Aliyun OSS with a form POST. Mintegral has no API to read or delete an uploaded file: destroying this resource only removes it from state.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "The `data_path` of the uploaded file.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"source": sourceSchema(),
			"file_name": func() schema.StringAttribute {
				a := uploadNameSchema("File name sent to Mintegral; must end in `.txt`, `.csv`, `.txt.gz` or `.csv.gz`.")
				a.Validators = []validator.String{validators.FileExtension(mintegralExtensions...)}
				return a
			}(),
			"area_type": schema.Int64Attribute{
				Optional:            true,
				Computed:            true,
				Default:             int64default.StaticInt64(mintegral.AreaOutsideMainlandChina),
				MarkdownDescription: "Data cluster: `1` outside mainland China (S3, the default) or `2` mainland China (Aliyun OSS). Changing it replaces the resource.",
				Validators:          []validator.Int64{int64validator.OneOf(mintegral.AreaOutsideMainlandChina, mintegral.AreaMainlandChina)},
				PlanModifiers:       []planmodifier.Int64{int64planmodifier.RequiresReplace()},
			},
			"data_path": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "Full storage path of the uploaded file (`s3://…` or `oss://…`), to use in `audience_mintegral_audience` or Mintegral's Create Audience API.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"file_md5":  fileMD5Schema(),
			"file_size": fileSizeSchema(),
			"timeouts":  timeouts.Attributes(ctx, timeouts.Opts{Create: true}),
		},
	}
}

// Configure implements resource.ResourceWithConfigure.
func (r *MintegralFileResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configureData(req.ProviderData, &resp.Diagnostics)
}

func (r *MintegralFileResource) spec() uploadSpec {
	return uploadSpec{NameAttribute: "file_name", MaxSize: mintegral.MaxFileSize, Check: checkMintegralSource}
}

// checkMintegralSource enforces Mintegral's file rules locally: the name's
// extension, and that a .gz file really is gzip.
func checkMintegralSource(src localSource) diag.Diagnostics {
	var diags diag.Diagnostics
	if msg := validators.CheckFileName(src.Name, mintegralExtensions...); msg != "" {
		diags.AddAttributeError(path.Root("file_name"), "Invalid Mintegral file name", msg)
		return diags
	}
	if validators.HasExtension(src.Name, ".gz") || validators.HasExtension(src.Path, ".gz") {
		if err := checkGzip(src.Path); err != nil {
			diags.AddAttributeError(path.Root("source"), "Source is not gzip", fmt.Sprintf("%s: %s. A .gz audience file must be gzip-compressed text; compress it with gzip or drop the .gz suffix.", src.Path, err))
		}
	}
	if !diags.HasError() {
		diags.Append(checkMintegralColumns(src)...)
	}
	return diags
}

// checkMintegralColumns enforces "one device ID per line, a single
// column" on the content, decompressed when the name or path ends in .gz.
func checkMintegralColumns(src localSource) diag.Diagnostics {
	var diags diag.Diagnostics
	gz := validators.HasExtension(src.Name, ".gz") || validators.HasExtension(src.Path, ".gz")
	if _, err := idlist.CheckOneColumnFile(src.Path, gz); err != nil {
		diags.AddAttributeError(path.Root("source"), "Not a one-column Mintegral audience file",
			err.Error()+". Mintegral takes one device ID per line in a single column; the first row may be a header.")
	}
	return diags
}

// checkGzip reads only the gzip header.
func checkGzip(p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		if errors.Is(err, gzip.ErrHeader) {
			return errors.New("the content does not start with a gzip header")
		}
		return err
	}
	return zr.Close()
}

// ModifyPlan hashes and validates the source, and checks credentials, so
// every local mistake fails at plan time.
func (r *MintegralFileResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return
	}
	ctx = r.data.logContext(ctx)
	if r.data != nil {
		_, diags := r.data.mintegralClient(mintegralFileType)
		resp.Diagnostics.Append(diags...)
		if diags.HasError() {
			return
		}
	}
	planUpload(ctx, r.spec(), req, resp)
}

// Create implements resource.Resource.
func (r *MintegralFileResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	ctx = r.data.logContext(ctx)
	var plan mintegralFileModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := plan.Timeouts.Create(ctx, 30*time.Minute)
	resp.Diagnostics.Append(diags...)
	client, diags := r.data.mintegralClient(mintegralFileType)
	resp.Diagnostics.Append(diags...)
	src, diags := sourceForApply(r.spec(), plan.Source, plan.FileName, plan.FileMD5, plan.FileSize)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	tflog.Info(ctx, "uploading audience file to Mintegral", map[string]any{"source": src.Path, "file_name": src.Name, "area_type": plan.AreaType.ValueInt64(), "size": src.Size})
	res, err := client.Upload(ctx, mintegral.UploadRequest{Path: src.Path, FileName: src.Name, AreaType: int(plan.AreaType.ValueInt64()), FileMD5: src.MD5})
	if err != nil {
		resp.Diagnostics.AddError("Mintegral upload failed", uploadErrorDetail(ctx, err, src, timeout))
		return
	}
	plan.ID = types.StringValue(res.DataPath)
	plan.DataPath = types.StringValue(res.DataPath)
	plan.FileName = types.StringValue(src.Name)
	plan.FileMD5 = types.StringValue(res.FileMD5)
	plan.FileSize = types.Int64Value(res.FileSize)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// uploadErrorDetail explains an upload failure, separating the resource's
// timeout (which bounds the whole upload) from the platform's own error and
// from the per-request API limit, which the client's error names itself.
func uploadErrorDetail(ctx context.Context, err error, src localSource, timeout time.Duration) string {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Sprintf("Uploading %s did not finish within timeouts.create (%s): %s. Raise timeouts.create in the resource's timeouts block if the file is large or the network slow.", src.Path, timeout, err)
	}
	return fmt.Sprintf("Uploading %s (%s) failed: %s", src.Path, src.Name, err)
}
