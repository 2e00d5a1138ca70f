package provider

import (
	"context"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
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
	"github.com/audiencekit/terraform-provider-audience/internal/client/openim"
	"github.com/audiencekit/terraform-provider-audience/internal/client/transfer"
)

var (
	_ resource.Resource                = &OpenIMObjectResource{}
	_ resource.ResourceWithConfigure   = &OpenIMObjectResource{}
	_ resource.ResourceWithModifyPlan  = &OpenIMObjectResource{}
	_ resource.ResourceWithImportState = &OpenIMObjectResource{}
)

const openIMObjectType = "audience_openim_object"

// NewOpenIMObjectResource is the audience_openim_object constructor.
func NewOpenIMObjectResource() resource.Resource {
	r := &OpenIMObjectResource{}
	r.kind = uploadKind{
		typeName:      openIMObjectType,
		platform:      "OpenIM",
		nameAttribute: "name",
		platformArgs:  []string{"content_type", "group"},
		handles:       map[string]attr.Value{"id": types.StringUnknown(), "url": types.StringUnknown()},
		createTimeout: 30 * time.Minute,
		client:        credentialsOf((*providerData).openIMClient, openIMObjectType),
		spec:          fixedSpec(uploadSpec{MaxSize: openim.MaxFileSize, Check: checkOpenIMSource}),
		planArgs:      planContentType,
		upload:        r.upload,
	}
	return r
}

// OpenIMObjectResource uploads a file to an OpenIM server's object storage
// with a form-data direct upload and exposes the object's URL.
type OpenIMObjectResource struct {
	uploadResource
}

type openIMObjectModel struct {
	ID          types.String   `tfsdk:"id"`
	Source      types.String   `tfsdk:"source"`
	Name        types.String   `tfsdk:"name"`
	ContentType types.String   `tfsdk:"content_type"`
	Group       types.String   `tfsdk:"group"`
	URL         types.String   `tfsdk:"url"`
	FileMD5     types.String   `tfsdk:"file_md5"`
	FileSize    types.Int64    `tfsdk:"file_size"`
	Timeouts    timeouts.Value `tfsdk:"timeouts"`
}

// Metadata implements resource.Resource.
func (r *OpenIMObjectResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_openim_object"
}

// Schema implements resource.Resource.
func (r *OpenIMObjectResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Uploads a file to an OpenIM server's object storage and exposes the object's `url`. " +
			"The upload follows OpenIM's form-data direct upload: `object/initiate_form_data` returns a signed form (an S3 POST policy with the default MinIO storage), " +
			"the file is posted straight to the storage with every form field unchanged and the file last, then `object/complete_form_data` confirms it. " +
			"New content, or a new `name`, `content_type` or `group`, uploads again as an in-place update; a plan of an unchanged file costs a `stat`. " +
			"OpenIM has no API to delete an object: destroying this resource only removes it from state.",
		Attributes: map[string]schema.Attribute{
			"id":     handleSchema("The upload id OpenIM returned from `initiate_form_data` and confirmed with `complete_form_data`."),
			"source": sourceSchema(),
			"name": func() schema.StringAttribute {
				a := uploadNameSchema("Object name in OpenIM, e.g. `audiences/list.csv`. Users other than the admin must start it with `<userID>/`.")
				a.Validators = []validator.String{openIMNameValidator{}}
				return a
			}(),
			"content_type": schema.StringAttribute{
				Optional:            true,
				Computed:            true,
				MarkdownDescription: "MIME type of the object. Defaults to a guess from the extension of `name` (`text/csv` for `.csv`, `application/octet-stream` when unknown). Changing it uploads the object again.",
				Validators:          []validator.String{attrvalidators.MediaType()},
			},
			"group": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "OpenIM file group, which separates business directories on the storage side. Changing it uploads the object again.",
			},
			"url":       handleSchema("The object's address as OpenIM returned it from `complete_form_data`; known after apply when the object is uploaded again."),
			"file_md5":  fileMD5Schema(),
			"file_size": fileSizeSchema(),
			"timeouts":  timeouts.Attributes(ctx, timeouts.Opts{Create: true}),
		},
	}
}

// checkOpenIMSource applies OpenIM's name rules to the name to be sent,
// including the default taken from source.
func checkOpenIMSource(src localSource) diag.Diagnostics {
	var diags diag.Diagnostics
	if err := openim.CheckObjectName(src.Name); err != nil {
		diags.AddAttributeError(path.Root("name"), "Invalid OpenIM object name", err.Error()+". Set name to a valid object name.")
	}
	return diags
}

// planContentType plans content_type: as configured, or guessed from the
// name sent.
func planContentType(ctx context.Context, name string, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	var configType types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("content_type"), &configType)...)
	if configType.IsNull() {
		configType = types.StringValue(openim.GuessContentType(name))
	}
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("content_type"), configType)...)
}

// upload initiates a form-data upload, posts the file to the storage and
// confirms it.
func (r *OpenIMObjectResource) upload(ctx context.Context, d *providerData, src localSource, state *tfsdk.State) diag.Diagnostics {
	var m openIMObjectModel
	diags := state.Get(ctx, &m)
	client, d2 := d.openIMClient(openIMObjectType)
	diags.Append(d2...)
	if diags.HasError() {
		return diags
	}
	contentType := m.ContentType.ValueString()
	if m.ContentType.IsUnknown() || contentType == "" {
		contentType = openim.GuessContentType(src.Name)
	}
	tflog.Info(ctx, "uploading object to OpenIM", map[string]any{"source": src.Path, "name": src.Name, "content_type": contentType, "size": transfer.LogBytes(src.Size)})
	res, err := client.Upload(ctx, openim.UploadInput{Path: src.Abs, MD5: src.MD5, Name: src.Name, ContentType: contentType, Group: m.Group.ValueString()})
	if err != nil {
		return uploadFailed(ctx, "OpenIM", err, src)
	}
	m.ID = types.StringValue(res.ID)
	m.URL = types.StringValue(res.URL)
	m.ContentType = types.StringValue(contentType)
	return state.Set(ctx, &m)
}

// openIMNameValidator applies OpenIM's object-name rules to a configured
// name.
type openIMNameValidator struct{}

func (openIMNameValidator) Description(context.Context) string {
	return "must be a valid OpenIM object name"
}

func (v openIMNameValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (openIMNameValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if err := openim.CheckObjectName(req.ConfigValue.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid OpenIM object name", err.Error()+".")
	}
}
