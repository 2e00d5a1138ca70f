package provider

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"time"
	"unicode"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/audiencekit/terraform-provider-audience/internal/client/futuredemand"
	"github.com/audiencekit/terraform-provider-audience/internal/client/transfer"
)

var (
	_ resource.Resource                = &FutureDemandUploadResource{}
	_ resource.ResourceWithConfigure   = &FutureDemandUploadResource{}
	_ resource.ResourceWithModifyPlan  = &FutureDemandUploadResource{}
	_ resource.ResourceWithImportState = &FutureDemandUploadResource{}
)

const futureDemandUploadType = "audience_futuredemand_upload"

// uploadTypePattern is the shape of X-Upload-Type values (audience_csv).
var uploadTypePattern = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// NewFutureDemandUploadResource is the audience_futuredemand_upload constructor.
func NewFutureDemandUploadResource() resource.Resource {
	r := &FutureDemandUploadResource{}
	r.kind = uploadKind{
		typeName:      futureDemandUploadType,
		platform:      "Future Demand",
		nameAttribute: "file_name",
		// part_size, concurrency and multipart_threshold change how the
		// bytes travel, not the stored object: they upload nothing.
		platformArgs:  []string{"upload_type"},
		handles:       map[string]attr.Value{"id": types.StringUnknown(), "object_key": types.StringUnknown(), "upload_method": types.StringUnknown()},
		createTimeout: 60 * time.Minute,
		client:        credentialsOf((*providerData).futureDemandClient, futureDemandUploadType),
		spec:          fixedSpec(uploadSpec{MaxSize: futuredemand.MaxFileSize, Check: checkFutureDemandSource}),
		planMore:      r.planMethod,
		upload:        r.upload,
	}
	return r
}

// FutureDemandUploadResource uploads a file to Future Demand storage and
// exposes its object key.
type FutureDemandUploadResource struct {
	uploadResource
}

type futureDemandUploadModel struct {
	ID                 types.String   `tfsdk:"id"`
	Source             types.String   `tfsdk:"source"`
	FileName           types.String   `tfsdk:"file_name"`
	UploadType         types.String   `tfsdk:"upload_type"`
	MultipartThreshold types.Int64    `tfsdk:"multipart_threshold"`
	PartSize           types.Int64    `tfsdk:"part_size"`
	Concurrency        types.Int64    `tfsdk:"concurrency"`
	ObjectKey          types.String   `tfsdk:"object_key"`
	UploadMethod       types.String   `tfsdk:"upload_method"`
	FileMD5            types.String   `tfsdk:"file_md5"`
	FileSize           types.Int64    `tfsdk:"file_size"`
	Timeouts           timeouts.Value `tfsdk:"timeouts"`
}

// Metadata implements resource.Resource.
func (r *FutureDemandUploadResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_futuredemand_upload"
}

// Schema implements resource.Resource.
func (r *FutureDemandUploadResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Uploads a file (an audience CSV) to Future Demand storage and exposes its `object_key`. " +
			"Files up to `multipart_threshold` go by one presigned PUT; larger files by presigned S3 multipart, `concurrency` parts of `part_size` at a time. " +
			"A failed or cancelled multipart upload is aborted. New content, a new `file_name` or `upload_type` uploads again as an in-place update; a plan of an unchanged file costs a `stat`. " +
			"Destroying the resource only removes it from state: the storage API has no delete call.",
		Attributes: map[string]schema.Attribute{
			"id":     handleSchema("The `object_key` of the uploaded file."),
			"source": sourceSchema(),
			"file_name": func() schema.StringAttribute {
				a := uploadNameSchema("File name sent to Future Demand; the object key ends with it.")
				a.Validators = []validator.String{stringvalidator.LengthBetween(1, 255), stringvalidator.NoneOf(".", "..")}
				return a
			}(),
			"upload_type": schema.StringAttribute{
				Optional:            true,
				Computed:            true,
				Default:             stringdefault.StaticString(futuredemand.DefaultUploadType),
				MarkdownDescription: "Upload type sent as `X-Upload-Type` (default `" + futuredemand.DefaultUploadType + "`). Changing it uploads the file again.",
				Validators:          []validator.String{stringvalidator.RegexMatches(uploadTypePattern, "must be lowercase letters, digits and underscores, like audience_csv")},
			},
			"multipart_threshold": schema.Int64Attribute{
				Optional:            true,
				Computed:            true,
				Default:             int64default.StaticInt64(futuredemand.DefaultMultipartThreshold),
				MarkdownDescription: "Files larger than this many bytes go by multipart (default 52428800, 50 MiB; at most 5 GiB, S3's limit for one PUT). Changing it alone uploads nothing.",
				Validators:          []validator.Int64{int64validator.Between(1, futuredemand.MaxSinglePutSize)},
			},
			"part_size": schema.Int64Attribute{
				Optional:            true,
				Computed:            true,
				Default:             int64default.StaticInt64(futuredemand.DefaultPartSize),
				MarkdownDescription: "Multipart part size in bytes (default 16777216, 16 MiB; between 5 MiB and 5 GiB, and at most 10000 parts per file). Memory use is bounded by about `part_size` × `concurrency` at most; parts are streamed from disk. Changing it alone uploads nothing.",
				Validators:          []validator.Int64{int64validator.Between(futuredemand.MinPartSize, futuredemand.MaxPartSize)},
			},
			"concurrency": schema.Int64Attribute{
				Optional:            true,
				Computed:            true,
				Default:             int64default.StaticInt64(futuredemand.DefaultConcurrency),
				MarkdownDescription: "Multipart parts in flight at once (default 4, at most 32). Changing it alone uploads nothing.",
				Validators:          []validator.Int64{int64validator.Between(1, 32)},
			},
			"object_key": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "Key of the uploaded object in Future Demand storage.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"upload_method": handleSchema("`presigned` (one PUT) or `multipart`: how the stored object was sent, decided at plan time from `file_size` and `multipart_threshold` when the plan uploads."),
			"file_md5":      fileMD5Schema(),
			"file_size":     fileSizeSchema(),
			"timeouts":      timeouts.Attributes(ctx, timeouts.Opts{Create: true}),
		},
	}
}

// checkFutureDemandSource checks the name sent to the API: the object key
// ends with it, so it must be a plain file name.
func checkFutureDemandSource(src localSource) diag.Diagnostics {
	var problem string
	switch {
	case strings.ContainsAny(src.Name, `/\`):
		problem = fmt.Sprintf("%q contains a path separator; Future Demand takes a plain file name.", src.Name)
	case strings.IndexFunc(src.Name, unicode.IsControl) >= 0:
		problem = fmt.Sprintf("%q contains control characters; Future Demand takes a plain file name.", src.Name)
	case len(src.Name) > 255 || src.Name == "" || src.Name == "." || src.Name == "..":
		problem = fmt.Sprintf("%q is not a usable file name: Future Demand takes 1 to 255 bytes.", src.Name)
	default:
		return nil
	}
	ext := filepath.Ext(src.Name)
	if strings.IndexFunc(ext, unicode.IsControl) >= 0 || strings.ContainsAny(ext, `/\`) || len(ext) > 16 {
		ext = ".csv"
	}
	return nameError(src, "Invalid Future Demand file name", problem, "Future Demand", "audience"+ext)
}

// planMethod checks the multipart sizes and decides upload_method, so the
// plan shows how the file will go; a plan that uploads nothing keeps how
// the stored object went.
func (r *FutureDemandUploadResource) planMethod(ctx context.Context, src localSource, _ resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	var plan futureDemandUploadModel
	resp.Diagnostics.Append(resp.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if plan.MultipartThreshold.IsUnknown() || plan.PartSize.IsUnknown() {
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("upload_method"), types.StringUnknown())...)
		return
	}
	if err := futuredemand.CheckSizes(src.Size, plan.MultipartThreshold.ValueInt64(), plan.PartSize.ValueInt64()); err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("part_size"), "Invalid Future Demand upload sizes", fmt.Sprintf("%s: %s.", src.Path, err))
		return
	}
	if !src.Uploads {
		return // upload_method stays as the stored object went
	}
	method := futuredemand.ChooseMethod(src.Size, plan.MultipartThreshold.ValueInt64())
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("upload_method"), types.StringValue(method))...)
}

// upload sends the file by one presigned PUT or presigned multipart.
func (r *FutureDemandUploadResource) upload(ctx context.Context, d *providerData, src localSource, state *tfsdk.State) diag.Diagnostics {
	var m futureDemandUploadModel
	diags := state.Get(ctx, &m)
	client, d2 := d.futureDemandClient(futureDemandUploadType)
	diags.Append(d2...)
	if diags.HasError() {
		return diags
	}
	in := futuredemand.UploadRequest{
		Path:               src.Abs,
		FileName:           src.Name,
		UploadType:         m.UploadType.ValueString(),
		FileMD5:            src.MD5,
		MultipartThreshold: m.MultipartThreshold.ValueInt64(),
		PartSize:           m.PartSize.ValueInt64(),
		Concurrency:        int(m.Concurrency.ValueInt64()),
	}
	tflog.Info(ctx, "uploading file to Future Demand", map[string]any{"source": src.Path, "file_name": src.Name, "upload_type": in.UploadType, "size": transfer.LogBytes(src.Size), "method": futuredemand.ChooseMethod(src.Size, in.MultipartThreshold)})
	res, err := client.Upload(ctx, in)
	if err != nil {
		return uploadFailed(ctx, "Future Demand", err, src)
	}
	m.ID = types.StringValue(res.ObjectKey)
	m.ObjectKey = types.StringValue(res.ObjectKey)
	m.UploadMethod = types.StringValue(res.Method)
	return state.Set(ctx, &m)
}
