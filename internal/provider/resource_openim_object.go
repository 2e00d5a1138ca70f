package provider

import (
	"context"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/audiencekit/terraform-provider-audience/internal/client/openim"
	"github.com/audiencekit/terraform-provider-audience/internal/validators"
)

var (
	_ resource.Resource               = &OpenIMObjectResource{}
	_ resource.ResourceWithConfigure  = &OpenIMObjectResource{}
	_ resource.ResourceWithModifyPlan = &OpenIMObjectResource{}
)

const openIMObjectType = "audience_openim_object"

// NewOpenIMObjectResource is the audience_openim_object constructor.
func NewOpenIMObjectResource() resource.Resource {
	return &OpenIMObjectResource{uploadLifecycle: uploadLifecycle{forgetMessage: "removing OpenIM object from state; OpenIM has no API to delete uploaded objects"}}
}

// OpenIMObjectResource uploads a file to an OpenIM server's object storage
// with a form-data direct upload and exposes the object's URL.
type OpenIMObjectResource struct {
	uploadLifecycle
	data *providerData
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
			"The file is hashed at plan time and uploaded again only when its content or an argument changes. " +
			"OpenIM has no API to delete an object: destroying this resource only removes it from state.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "The upload id OpenIM returned from `initiate_form_data` and confirmed with `complete_form_data`.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"source": sourceSchema(),
			"name": func() schema.StringAttribute {
				a := uploadNameSchema("Object name in OpenIM, e.g. `audiences/list.csv`. Users other than the admin must start it with `<userID>/`.")
				a.Validators = []validator.String{openIMNameValidator{}}
				return a
			}(),
			"content_type": schema.StringAttribute{
				Optional:            true,
				Computed:            true,
				MarkdownDescription: "MIME type of the object. Defaults to a guess from the extension of `name` (`text/csv` for `.csv`, `application/octet-stream` when unknown). Changing it replaces the resource.",
				Validators:          []validator.String{validators.MediaType()},
			},
			"group": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "OpenIM file group, which separates business directories on the storage side. Changing it replaces the resource.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"url": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "The object's address as OpenIM returned it from `complete_form_data`.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"file_md5":  fileMD5Schema(),
			"file_size": fileSizeSchema(),
			"timeouts":  timeouts.Attributes(ctx, timeouts.Opts{Create: true}),
		},
	}
}

// Configure implements resource.ResourceWithConfigure.
func (r *OpenIMObjectResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configureData(req.ProviderData, &resp.Diagnostics)
}

func (r *OpenIMObjectResource) spec() uploadSpec {
	return uploadSpec{NameAttribute: "name", MaxSize: openim.MaxFileSize, Check: checkOpenIMSource}
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

// ModifyPlan hashes and validates the source, fills the content type, and
// checks credentials, so every local mistake fails at plan time.
func (r *OpenIMObjectResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return
	}
	ctx = r.data.logContext(ctx)
	if r.data != nil {
		_, diags := r.data.openIMClient(openIMObjectType)
		resp.Diagnostics.Append(diags...)
		if diags.HasError() {
			return
		}
	}
	planUpload(ctx, r.spec(), req, resp)
	if resp.Diagnostics.HasError() {
		return
	}

	var name, configType types.String
	resp.Diagnostics.Append(resp.Plan.GetAttribute(ctx, path.Root("name"), &name)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("content_type"), &configType)...)
	if resp.Diagnostics.HasError() {
		return
	}
	planned := configType
	if configType.IsNull() {
		planned = types.StringUnknown()
		if !name.IsUnknown() && !name.IsNull() {
			planned = types.StringValue(openim.GuessContentType(name.ValueString()))
		}
	}
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("content_type"), planned)...)
	if req.State.Raw.IsNull() || planned.IsUnknown() {
		return
	}
	var stateType types.String
	resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("content_type"), &stateType)...)
	if stateType.ValueString() != planned.ValueString() {
		resp.RequiresReplace = append(resp.RequiresReplace, path.Root("content_type"))
	}
}

// Create implements resource.Resource.
func (r *OpenIMObjectResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	ctx = r.data.logContext(ctx)
	var plan openIMObjectModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := plan.Timeouts.Create(ctx, 30*time.Minute)
	resp.Diagnostics.Append(diags...)
	client, diags := r.data.openIMClient(openIMObjectType)
	resp.Diagnostics.Append(diags...)
	src, diags := sourceForApply(r.spec(), plan.Source, plan.Name, plan.FileMD5, plan.FileSize)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	contentType := plan.ContentType.ValueString()
	if plan.ContentType.IsUnknown() || contentType == "" {
		contentType = openim.GuessContentType(src.Name)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	tflog.Info(ctx, "uploading object to OpenIM", map[string]any{"source": src.Path, "name": src.Name, "content_type": contentType, "size": src.Size})
	res, err := client.Upload(ctx, openim.UploadInput{Path: src.Path, MD5: src.MD5, Name: src.Name, ContentType: contentType, Group: plan.Group.ValueString()})
	if err != nil {
		resp.Diagnostics.AddError("OpenIM upload failed", uploadErrorDetail(ctx, err, src, timeout))
		return
	}
	plan.ID = types.StringValue(res.ID)
	plan.URL = types.StringValue(res.URL)
	plan.Name = types.StringValue(src.Name)
	plan.ContentType = types.StringValue(contentType)
	plan.FileMD5 = types.StringValue(res.MD5)
	plan.FileSize = types.Int64Value(res.Size)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
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
