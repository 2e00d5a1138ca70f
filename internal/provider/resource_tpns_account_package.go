package provider

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/audiencekit/terraform-provider-audience/internal/attrvalidators"
	"github.com/audiencekit/terraform-provider-audience/internal/client/tpns"
	"github.com/audiencekit/terraform-provider-audience/internal/client/transfer"
	"github.com/audiencekit/terraform-provider-audience/internal/filecheck/tpnspackage"
)

var (
	_ resource.Resource                = &TPNSAccountPackageResource{}
	_ resource.ResourceWithConfigure   = &TPNSAccountPackageResource{}
	_ resource.ResourceWithModifyPlan  = &TPNSAccountPackageResource{}
	_ resource.ResourceWithImportState = &TPNSAccountPackageResource{}
)

const tpnsAccountPackageType = "audience_tpns_account_package"

// NewTPNSAccountPackageResource is the audience_tpns_account_package
// constructor.
func NewTPNSAccountPackageResource() resource.Resource {
	r := &TPNSAccountPackageResource{}
	r.kind = uploadKind{
		typeName:      tpnsAccountPackageType,
		platform:      "TPNS",
		nameAttribute: "file_name",
		platformArgs:  []string{"package_type"},
		handles:       map[string]attr.Value{"id": types.StringUnknown(), "upload_id": types.Int64Unknown()},
		entries:       "accounts or tokens",
		createTimeout: 30 * time.Minute,
		client:        credentialsOf((*providerData).tpnsClient, tpnsAccountPackageType),
		spec:          r.spec,
		upload:        r.upload,
	}
	return r
}

// TPNSAccountPackageResource uploads an account or token package to TPNS
// and exposes its upload id for package pushes.
type TPNSAccountPackageResource struct {
	uploadResource
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
	ListGuard   types.Object   `tfsdk:"list_guard"`
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
			"The package is validated against TPNS's rules at plan time; new content, a new `file_name` or `package_type` uploads it again as an in-place update, and a plan of an unchanged package costs a `stat`. " +
			"TPNS has no API to read back or delete an uploaded package: refresh keeps the state as it is, and destroying this resource only removes it from state.",
		Attributes: map[string]schema.Attribute{
			"id":     handleSchema("The upload id, as a string."),
			"source": sourceSchema(),
			"file_name": func() schema.StringAttribute {
				a := uploadNameSchema("File name sent to TPNS: 1-100 characters ending in `.zip`, `.txt` or `.csv`; its extension tells TPNS how to read the package.")
				a.Validators = []validator.String{attrvalidators.FileExtension(".zip", ".txt", ".csv")}
				return a
			}(),
			"package_type": schema.StringAttribute{
				Optional:            true,
				Computed:            true,
				Default:             stringdefault.StaticString(string(tpnspackage.Account)),
				MarkdownDescription: "What the package lists: `account` (the default; each entry 2-100 characters) or `token` (device tokens, each exactly 36 characters). TPNS uses the same upload for both; this sets the rule checked at plan time. Changing it uploads the package again.",
				Validators:          []validator.String{stringvalidator.OneOf(string(tpnspackage.Account), string(tpnspackage.Token))},
			},
			"upload_id": schema.Int64Attribute{
				Computed:            true,
				MarkdownDescription: "The `uploadId` TPNS returned, to pass as `upload_id` to the push API (`audience_type = \"package_account_push\"`); known after apply when the package is uploaded again.",
				PlanModifiers:       []planmodifier.Int64{int64planmodifier.UseStateForUnknown()},
			},
			"file_md5":    fileMD5Schema(),
			"file_size":   fileSizeSchema(),
			"entry_count": entryCountSchema("accounts or tokens"),
			"list_guard":  resourceListGuardSchema(),
			"timeouts":    timeouts.Attributes(ctx, timeouts.Opts{Create: true}),
		},
	}
}

// spec checks the package with the rule of the planned package_type.
func (r *TPNSAccountPackageResource) spec(ctx context.Context, plan tfsdk.Plan) (uploadSpec, diag.Diagnostics) {
	var typValue types.String
	diags := plan.GetAttribute(ctx, path.Root("package_type"), &typValue)
	typ, typKnown := packageType(typValue)
	return uploadSpec{MaxSize: tpnspackage.MaxFileSize, Count: func(src localSource) (int64, diag.Diagnostics) {
		n, d := checkTPNSPackage(src, typ)
		if !typKnown {
			// Checked with the account rule, which every token meets:
			// the apply counts with the real rule.
			n = -1
		}
		return n, d
	}}, diags
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
	if perr.Rule == tpnspackage.RuleFileName || perr.Rule == tpnspackage.RuleExtension {
		// The advice depends on where the name came from, which only
		// the configuration knows.
		problem := *perr
		problem.Fix = ""
		diags.Append(nameError(src, "Invalid TPNS package", problem.Error()+".", "TPNS", suggestedName(src.Name, ".txt"))...)
		return 0, diags
	}
	diags.AddAttributeError(path.Root("source"), "Invalid TPNS package", err.Error()+".")
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

// upload sends the package by direct multipart upload.
func (r *TPNSAccountPackageResource) upload(ctx context.Context, d *providerData, src localSource, state *tfsdk.State) diag.Diagnostics {
	var m tpnsAccountPackageModel
	diags := state.Get(ctx, &m)
	client, d2 := d.tpnsClient(tpnsAccountPackageType)
	diags.Append(d2...)
	if diags.HasError() {
		return diags
	}
	typ, _ := packageType(m.PackageType)
	tflog.Info(ctx, "uploading package to TPNS", map[string]any{"source": src.Path, "file_name": src.Name, "package_type": string(typ), "size": transfer.LogBytes(src.Size), "entries": strconv.FormatInt(m.EntryCount.ValueInt64(), 10)})
	res, err := client.UploadPackage(ctx, tpns.UploadRequest{Path: src.Abs, FileName: src.Name, FileMD5: src.MD5})
	if err != nil {
		return uploadFailed(ctx, "TPNS", err, src)
	}
	m.ID = types.StringValue(strconv.FormatInt(res.UploadID, 10))
	m.UploadID = types.Int64Value(res.UploadID)
	return state.Set(ctx, &m)
}
