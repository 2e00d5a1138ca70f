package provider

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/audiencekit/terraform-provider-audience/internal/client/tpns"
	"github.com/audiencekit/terraform-provider-audience/internal/validate/tpnspackage"
	"github.com/audiencekit/terraform-provider-audience/internal/validators"
)

var (
	_ resource.Resource               = &TPNSAccountPackageResource{}
	_ resource.ResourceWithConfigure  = &TPNSAccountPackageResource{}
	_ resource.ResourceWithModifyPlan = &TPNSAccountPackageResource{}
)

const tpnsAccountPackageType = "audience_tpns_account_package"

// NewTPNSAccountPackageResource is the audience_tpns_account_package
// constructor.
func NewTPNSAccountPackageResource() resource.Resource {
	return &TPNSAccountPackageResource{uploadLifecycle: uploadLifecycle{forgetMessage: "removing TPNS package from state; TPNS has no API to delete uploaded packages"}}
}

// TPNSAccountPackageResource uploads an account or token package to TPNS
// and exposes its upload id for package pushes.
type TPNSAccountPackageResource struct {
	uploadLifecycle
	data *providerData
}

type tpnsAccountPackageModel struct {
	ID          types.String   `tfsdk:"id"`
	Source      types.String   `tfsdk:"source"`
	FileName    types.String   `tfsdk:"file_name"`
	PackageType types.String   `tfsdk:"package_type"`
	UploadID    types.Int64    `tfsdk:"upload_id"`
	FileMD5     types.String   `tfsdk:"file_md5"`
	FileSize    types.Int64    `tfsdk:"file_size"`
	EntryCount  types.Int64    `tfsdk:"entry_count"`
	Timeouts    timeouts.Value `tfsdk:"timeouts"`
}

// Metadata implements resource.Resource.
func (r *TPNSAccountPackageResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_tpns_account_package"
}

// Schema implements resource.Resource.
func (r *TPNSAccountPackageResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Uploads an account package (or a device token package) to Tencent Cloud TPNS and exposes its `upload_id` for account package pushes. " +
			"The package is validated against TPNS's rules and hashed at plan time, and uploaded again only when its content changes. " +
			"TPNS has no API to read back or delete an uploaded package: refresh keeps the state as it is, and destroying this resource only removes it from state.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "The upload id, as a string.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"source": sourceSchema(),
			"file_name": func() schema.StringAttribute {
				a := uploadNameSchema("File name sent to TPNS: 1-100 characters ending in `.zip`, `.txt` or `.csv`; its extension tells TPNS how to read the package.")
				a.Validators = []validator.String{validators.FileExtension(".zip", ".txt", ".csv")}
				return a
			}(),
			"package_type": schema.StringAttribute{
				Optional:            true,
				Computed:            true,
				Default:             stringdefault.StaticString(string(tpnspackage.Account)),
				MarkdownDescription: "What the package lists: `account` (the default; each entry 2-100 characters) or `token` (device tokens, each exactly 36 characters). TPNS uses the same upload for both; this sets the rule checked at plan time. Changing it replaces the resource.",
				Validators:          []validator.String{stringvalidator.OneOf(string(tpnspackage.Account), string(tpnspackage.Token))},
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"upload_id": schema.Int64Attribute{
				Computed:            true,
				MarkdownDescription: "The `uploadId` TPNS returned, to pass as `upload_id` to the push API (`audience_type = \"package_account_push\"`).",
				PlanModifiers:       []planmodifier.Int64{int64planmodifier.UseStateForUnknown()},
			},
			"file_md5":  fileMD5Schema(),
			"file_size": fileSizeSchema(),
			"entry_count": schema.Int64Attribute{
				Computed:            true,
				MarkdownDescription: "Number of accounts or tokens in the package, counted at plan time.",
			},
			"timeouts": timeouts.Attributes(ctx, timeouts.Opts{Create: true}),
		},
	}
}

// Configure implements resource.ResourceWithConfigure.
func (r *TPNSAccountPackageResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configureData(req.ProviderData, &resp.Diagnostics)
}

// spec checks the package with the rules of typ; the entry count of a
// valid package is stored in *entries.
func (r *TPNSAccountPackageResource) spec(typ tpnspackage.Type, entries *int64) uploadSpec {
	return uploadSpec{NameAttribute: "file_name", MaxSize: tpnspackage.MaxFileSize, Check: func(src localSource) diag.Diagnostics {
		n, diags := checkTPNSPackage(src, typ)
		*entries = n
		return diags
	}}
}

// checkTPNSPackage applies TPNS's package rules locally, streaming the
// file. Errors name the file, the line or zip entry, and the rule.
func checkTPNSPackage(src localSource, typ tpnspackage.Type) (int64, diag.Diagnostics) {
	var diags diag.Diagnostics
	res, err := tpnspackage.CheckFile(src.Path, src.Name, typ)
	if err == nil {
		return res.Entries, diags
	}
	var perr *tpnspackage.Error
	if !errors.As(err, &perr) {
		diags.AddAttributeError(path.Root("source"), "Cannot read source file", err.Error())
		return 0, diags
	}
	at := path.Root("source")
	if perr.Rule == tpnspackage.RuleFileName || perr.Rule == tpnspackage.RuleExtension {
		at = path.Root("file_name")
	}
	diags.AddAttributeError(at, "Invalid TPNS package", err.Error()+".")
	return 0, diags
}

// packageType reads package_type from a plan; unknown (set by another
// resource) checks with the account rule, which every token also meets.
func packageType(v types.String) (tpnspackage.Type, bool) {
	if v.IsUnknown() {
		return tpnspackage.Account, false
	}
	t, err := tpnspackage.ParseType(v.ValueString())
	if err != nil {
		return tpnspackage.Account, false
	}
	return t, true
}

// ModifyPlan validates and hashes the package and checks credentials, so
// every local mistake fails at plan time, before any request.
func (r *TPNSAccountPackageResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return
	}
	ctx = r.data.logContext(ctx)
	if r.data != nil {
		_, diags := r.data.tpnsClient(tpnsAccountPackageType)
		resp.Diagnostics.Append(diags...)
		if diags.HasError() {
			return
		}
	}
	var typValue types.String
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root("package_type"), &typValue)...)
	if resp.Diagnostics.HasError() {
		return
	}
	typ, typKnown := packageType(typValue)
	entries := int64(-1)
	planUpload(ctx, r.spec(typ, &entries), req, resp)
	if resp.Diagnostics.HasError() {
		return
	}
	count := types.Int64Unknown()
	if entries >= 0 && typKnown {
		count = types.Int64Value(entries)
	}
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("entry_count"), count)...)
}

// Create implements resource.Resource.
func (r *TPNSAccountPackageResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	ctx = r.data.logContext(ctx)
	var plan tpnsAccountPackageModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := plan.Timeouts.Create(ctx, 30*time.Minute)
	resp.Diagnostics.Append(diags...)
	client, diags := r.data.tpnsClient(tpnsAccountPackageType)
	resp.Diagnostics.Append(diags...)
	typ, _ := packageType(plan.PackageType)
	entries := plan.EntryCount.ValueInt64()
	src, diags := sourceForApply(r.spec(typ, &entries), plan.Source, plan.FileName, plan.FileMD5, plan.FileSize)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	if plan.EntryCount.IsUnknown() && !plan.FileMD5.IsUnknown() {
		// Hashed at plan, but package_type was not known then: check the
		// package with its real rule now.
		entries, diags = checkTPNSPackage(src, typ)
		resp.Diagnostics.Append(diags...)
		if resp.Diagnostics.HasError() {
			return
		}
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	tflog.Info(ctx, "uploading package to TPNS", map[string]any{"source": src.Path, "file_name": src.Name, "package_type": string(typ), "size": src.Size, "entries": entries})
	res, err := client.UploadPackage(ctx, tpns.UploadRequest{Path: src.Path, FileName: src.Name, FileMD5: src.MD5})
	if err != nil {
		resp.Diagnostics.AddError("TPNS upload failed", uploadErrorDetail(ctx, err, src, timeout))
		return
	}
	plan.ID = types.StringValue(strconv.FormatInt(res.UploadID, 10))
	plan.UploadID = types.Int64Value(res.UploadID)
	plan.FileName = types.StringValue(src.Name)
	plan.FileMD5 = types.StringValue(res.FileMD5)
	plan.FileSize = types.Int64Value(res.FileSize)
	plan.EntryCount = types.Int64Value(entries)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}
