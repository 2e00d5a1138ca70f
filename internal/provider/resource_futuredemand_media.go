package provider

import (
	"context"
	"os"
	"time"

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

	"github.com/audiencekit/terraform-provider-audience/internal/attrvalidators"
	"github.com/audiencekit/terraform-provider-audience/internal/client/futuredemand"
	"github.com/audiencekit/terraform-provider-audience/internal/client/transfer"
	"github.com/audiencekit/terraform-provider-audience/internal/filecheck/fdfiles"
)

var (
	_ resource.Resource                = &FutureDemandMediaResource{}
	_ resource.ResourceWithConfigure   = &FutureDemandMediaResource{}
	_ resource.ResourceWithModifyPlan  = &FutureDemandMediaResource{}
	_ resource.ResourceWithImportState = &FutureDemandMediaResource{}
)

const futureDemandMediaType = "audience_futuredemand_media"

// NewFutureDemandMediaResource is the audience_futuredemand_media
// constructor.
func NewFutureDemandMediaResource() resource.Resource {
	r := &FutureDemandMediaResource{}
	r.kind = uploadKind{
		typeName:      futureDemandMediaType,
		platform:      "Future Demand",
		nameAttribute: "file_name",
		platformArgs:  []string{"content_type"},
		handles:       map[string]attr.Value{"id": types.StringUnknown(), "media_id": types.StringUnknown(), "url": types.StringUnknown()},
		createTimeout: 30 * time.Minute,
		client:        credentialsOf((*providerData).futureDemandClient, futureDemandMediaType),
		spec:          fixedSpec(uploadSpec{MaxSize: fdfiles.MaxMediaSize, Check: checkMediaSource}),
		planArgs:      planMediaContentType,
		planMore:      r.planContentType,
		upload:        r.upload,
	}
	return r
}

// FutureDemandMediaResource uploads a creative (image or video) to
// Future Demand and exposes its url.
type FutureDemandMediaResource struct {
	uploadResource
}

type futureDemandMediaModel struct {
	ID          types.String   `tfsdk:"id"`
	Source      types.String   `tfsdk:"source"`
	FileName    types.String   `tfsdk:"file_name"`
	ContentType types.String   `tfsdk:"content_type"`
	MediaID     types.String   `tfsdk:"media_id"`
	URL         types.String   `tfsdk:"url"`
	FileMD5     types.String   `tfsdk:"file_md5"`
	FileSize    types.Int64    `tfsdk:"file_size"`
	Timeouts    timeouts.Value `tfsdk:"timeouts"`
}

// Metadata implements resource.Resource.
func (r *FutureDemandMediaResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_futuredemand_media"
}

// Schema implements resource.Resource.
func (r *FutureDemandMediaResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Uploads a creative (an image or a video, at most 50 MiB) to Future Demand by direct multipart upload to `POST /media`, " +
			"on the API base without its `/v3` segment, and exposes its `url`. The file must be an image or a video by its content (its first bytes), " +
			"checked at plan time. New content, a new `file_name` or `content_type` uploads it again as an in-place update (a new media object); " +
			"a plan of an unchanged file costs a `stat`. Destroying the resource only removes it from state: the media object stays on Future Demand.",
		Attributes: map[string]schema.Attribute{
			"id":     handleSchema("The `media_id`."),
			"source": sourceSchema(),
			"file_name": func() schema.StringAttribute {
				a := uploadNameSchema("File name sent with the creative; Future Demand keeps it in the media's `filename`.")
				a.Validators = []validator.String{stringvalidator.LengthBetween(1, 255), stringvalidator.NoneOf(".", "..")}
				return a
			}(),
			"content_type": schema.StringAttribute{
				Optional: true,
				Computed: true,
				MarkdownDescription: "Content type of the file part: by default the one the file's first bytes show (" + fdfiles.MediaFormats + "). " +
					"Set it to send another spelling, which must name the same kind (`image/…` for an image, `video/…` for a video). Changing it uploads again.",
				Validators: []validator.String{attrvalidators.MediaType(fdfiles.KindImage, fdfiles.KindVideo)},
			},
			"media_id":  handleSchema("Id of the media object: the id Future Demand returns, or else the path of its `url` (Future Demand documents no id)."),
			"url":       handleSchema("Address of the stored creative, as Future Demand returns it."),
			"file_md5":  fileMD5Schema(),
			"file_size": fileSizeSchema(),
			"timeouts":  timeouts.Attributes(ctx, timeouts.Opts{Create: true}),
		},
	}
}

// checkMediaSource checks the name, and that the content is an image or a
// video (its first bytes) within the size limit.
func checkMediaSource(src localSource) diag.Diagnostics {
	diags := checkFutureDemandSource(src)
	if diags.HasError() {
		return diags
	}
	_, d := sniffMedia(src, "")
	diags.Append(d...)
	return diags
}

// sniffMedia reads a media file's first bytes and returns its content
// type: declared (when set, and of the content's kind) or the one found.
func sniffMedia(src localSource, declared string) (string, diag.Diagnostics) {
	var diags diag.Diagnostics
	f, err := os.Open(src.Abs)
	if err != nil {
		diags.AddAttributeError(path.Root("source"), "Cannot read source file", err.Error())
		return "", diags
	}
	defer f.Close()
	m, err := fdfiles.CheckMedia(f, src.Size, src.Path, declared)
	switch rule := fdfiles.RuleOf(err); {
	case rule == fdfiles.RuleMediaDeclared:
		diags.AddAttributeError(path.Root("content_type"), "Content type does not match the media", err.Error()+".")
	case rule != "":
		diags.AddAttributeError(path.Root("source"), "Invalid Future Demand media", err.Error()+".")
	case err != nil:
		diags.AddAttributeError(path.Root("source"), "Cannot read source file", err.Error())
	}
	return m.ContentType, diags
}

// planMediaContentType keeps content_type as the user set it, or as it
// was sent last, so only a change the user makes counts as a new argument;
// new content gets its own type in planContentType.
func planMediaContentType(ctx context.Context, _ string, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	var configured, prior types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("content_type"), &configured)...)
	if !configured.IsNull() {
		return
	}
	if !req.State.Raw.IsNull() {
		resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("content_type"), &prior)...)
	}
	if prior.IsNull() {
		prior = types.StringUnknown()
	}
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("content_type"), prior)...)
}

// planContentType sets, when the file is sent, the content type its first
// bytes show, or checks a configured one against them.
func (r *FutureDemandMediaResource) planContentType(ctx context.Context, src localSource, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	var configured types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("content_type"), &configured)...)
	if !src.Uploads || configured.IsUnknown() || resp.Diagnostics.HasError() {
		return
	}
	ct, diags := sniffMedia(src, configured.ValueString())
	resp.Diagnostics.Append(diags...)
	if !diags.HasError() {
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("content_type"), ct)...)
	}
}

// upload sends the creative by direct multipart upload.
func (r *FutureDemandMediaResource) upload(ctx context.Context, d *providerData, src localSource, state *tfsdk.State) diag.Diagnostics {
	var m futureDemandMediaModel
	diags := state.Get(ctx, &m)
	client, d2 := d.futureDemandClient(futureDemandMediaType)
	diags.Append(d2...)
	if diags.HasError() {
		return diags
	}
	if m.ContentType.IsUnknown() {
		// The source was not known at plan: its type is read now.
		ct, d := sniffMedia(src, "")
		diags.Append(d...)
		if diags.HasError() {
			return diags
		}
		m.ContentType = types.StringValue(ct)
	}
	tflog.Info(ctx, "uploading media to Future Demand", map[string]any{"source": src.Path, "file_name": src.Name, "content_type": m.ContentType.ValueString(), "size": transfer.LogBytes(src.Size)})
	res, err := client.UploadMedia(ctx, futuredemand.MediaRequest{Path: src.Abs, FileName: src.Name, ContentType: m.ContentType.ValueString(), FileMD5: src.MD5})
	if err != nil {
		return uploadFailed(ctx, "Future Demand", err, src)
	}
	tflog.Info(ctx, "Future Demand stored the media", map[string]any{"media_id": res.MediaID, "type": res.Type, "request_id": res.RequestID})
	m.ID = types.StringValue(res.MediaID)
	m.MediaID = types.StringValue(res.MediaID)
	m.URL = types.StringValue(res.URL)
	return state.Set(ctx, &m)
}
