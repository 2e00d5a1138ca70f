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
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/audiencekit/terraform-provider-audience/internal/client/mintegral"
	"github.com/audiencekit/terraform-provider-audience/internal/client/transfer"
	"github.com/audiencekit/terraform-provider-audience/internal/idlist"
	"github.com/audiencekit/terraform-provider-audience/internal/validators"
)

var (
	_ resource.Resource                = &MintegralFileResource{}
	_ resource.ResourceWithConfigure   = &MintegralFileResource{}
	_ resource.ResourceWithModifyPlan  = &MintegralFileResource{}
	_ resource.ResourceWithImportState = &MintegralFileResource{}
)

const mintegralFileType = "audience_mintegral_file"

// mintegralExtensions are the file names Mintegral accepts.
var mintegralExtensions = []string{".txt", ".csv", ".txt.gz", ".csv.gz"}

// NewMintegralFileResource is the audience_mintegral_file constructor.
func NewMintegralFileResource() resource.Resource {
	r := &MintegralFileResource{}
	r.kind = uploadKind{
		typeName:      mintegralFileType,
		platform:      "Mintegral",
		nameAttribute: "file_name",
		platformArgs:  []string{"area_type"},
		handles:       map[string]attr.Value{"id": types.StringUnknown(), "data_path": types.StringUnknown()},
		entries:       "device IDs",
		createTimeout: 30 * time.Minute,
		client:        credentialsOf((*providerData).mintegralClient, mintegralFileType),
		spec:          fixedSpec(uploadSpec{MaxSize: mintegral.MaxFileSize, Check: checkMintegralSource, Content: checkMintegralColumns}),
		upload:        r.upload,
	}
	return r
}

// MintegralFileResource uploads an audience file to Mintegral and exposes
// its data_path.
type MintegralFileResource struct {
	uploadResource
}

type mintegralFileModel struct {
	ID         types.String   `tfsdk:"id"`
	Source     types.String   `tfsdk:"source"`
	FileName   types.String   `tfsdk:"file_name"`
	AreaType   types.Int64    `tfsdk:"area_type"`
	DataPath   types.String   `tfsdk:"data_path"`
	FileMD5    types.String   `tfsdk:"file_md5"`
	FileSize   types.Int64    `tfsdk:"file_size"`
	EntryCount types.Int64    `tfsdk:"entry_count"`
	ListGuard  types.Object   `tfsdk:"list_guard"`
	Timeouts   timeouts.Value `tfsdk:"timeouts"`
}

// Metadata implements resource.Resource.
func (r *MintegralFileResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_mintegral_file"
}

// Schema implements resource.Resource.
func (r *MintegralFileResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Uploads an audience file (one device ID per line) to Mintegral and exposes its `data_path` for creating audiences. " +
			"New content, a new `file_name` or `area_type` uploads again as an in-place update; a plan of an unchanged file costs a `stat`. Area 1 (outside mainland China) uploads to S3 with a presigned PUT; " +
			"area 2 (mainland China) uploads to Aliyun OSS with a form POST. Mintegral has no API to read or delete an uploaded file: destroying this resource only removes it from state.",
		Attributes: map[string]schema.Attribute{
			"id":     handleSchema("The `data_path` of the uploaded file."),
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
				MarkdownDescription: "Data cluster: `1` outside mainland China (S3, the default) or `2` mainland China (Aliyun OSS). Changing it uploads the file again to the new cluster.",
				Validators:          []validator.Int64{int64validator.OneOf(mintegral.AreaOutsideMainlandChina, mintegral.AreaMainlandChina)},
			},
			"data_path":   handleSchema("Full storage path of the uploaded file (`s3://…` or `oss://…`), to use in `audience_mintegral_audience` or Mintegral's Create Audience API; known after apply when the file is uploaded again."),
			"file_md5":    fileMD5Schema(),
			"file_size":   fileSizeSchema(),
			"entry_count": entryCountSchema("device IDs"),
			"list_guard":  resourceListGuardSchema(),
			"timeouts":    timeouts.Attributes(ctx, timeouts.Opts{Create: true}),
		},
	}
}

// checkMintegralSource enforces Mintegral's file rules locally: the name's
// extension, and that a .gz file really is gzip.
func checkMintegralSource(src localSource) diag.Diagnostics {
	var diags diag.Diagnostics
	if msg := validators.CheckFileName(src.Name, mintegralExtensions...); msg != "" {
		diags.Append(nameError(src, "Invalid Mintegral file name", msg, "Mintegral", suggestedName(src.Name, ".txt"))...)
		return diags
	}
	if validators.HasExtension(src.Name, ".gz") || validators.HasExtension(src.Path, ".gz") {
		if err := checkGzip(src.Path); err != nil {
			diags.AddAttributeError(path.Root("source"), "Source is not gzip", fmt.Sprintf("%s: %s. A .gz audience file must be gzip-compressed text; compress it with gzip or drop the .gz suffix.", src.Path, err))
		}
	}
	return diags
}

// checkMintegralColumns enforces "one device ID per line, a single
// column" on the content, decompressed when the name or path ends in .gz.
func checkMintegralColumns(src localSource) contentCheck {
	gz := validators.HasExtension(src.Name, ".gz") || validators.HasExtension(src.Path, ".gz")
	return mintegralColumns{idlist.NewOneColumnCheck(src.Path, gz)}
}

type mintegralColumns struct{ *idlist.OneColumnCheck }

// Entries is the number of device IDs; valid once Finish passed.
// TODO(lead): replace with the checker's own count (header excluded).
func (c mintegralColumns) Entries() int64 {
	n, _ := c.Close()
	return n
}

func (c mintegralColumns) Finish() diag.Diagnostics {
	var diags diag.Diagnostics
	_, err := c.Close()
	switch {
	case errors.Is(err, idlist.ErrCorruptGzip):
		diags.AddAttributeError(path.Root("source"), "Source is not valid gzip", err.Error()+".")
	case err != nil:
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

// upload sends the file by presigned PUT (area 1) or OSS form POST (area 2).
func (r *MintegralFileResource) upload(ctx context.Context, d *providerData, src localSource, state *tfsdk.State) diag.Diagnostics {
	var m mintegralFileModel
	diags := state.Get(ctx, &m)
	client, d2 := d.mintegralClient(mintegralFileType)
	diags.Append(d2...)
	if diags.HasError() {
		return diags
	}
	tflog.Info(ctx, "uploading audience file to Mintegral", map[string]any{"source": src.Path, "file_name": src.Name, "area_type": m.AreaType.ValueInt64(), "size": transfer.LogBytes(src.Size)})
	res, err := client.Upload(ctx, mintegral.UploadRequest{Path: src.Abs, FileName: src.Name, AreaType: int(m.AreaType.ValueInt64()), FileMD5: src.MD5})
	if err != nil {
		return uploadFailed(ctx, "Mintegral", err, src)
	}
	m.ID = types.StringValue(res.DataPath)
	m.DataPath = types.StringValue(res.DataPath)
	return state.Set(ctx, &m)
}
