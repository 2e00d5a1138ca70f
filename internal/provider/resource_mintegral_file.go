package provider

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
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

	"github.com/audiencekit/terraform-provider-audience/internal/attrvalidators"
	"github.com/audiencekit/terraform-provider-audience/internal/client/mintegral"
	"github.com/audiencekit/terraform-provider-audience/internal/client/transfer"
	"github.com/audiencekit/terraform-provider-audience/internal/filestate"
	"github.com/audiencekit/terraform-provider-audience/internal/idlist"
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
		checkArgs:     []string{"device_type", "irregular_lines"},
		handles:       map[string]attr.Value{"id": types.StringUnknown(), "data_path": types.StringUnknown()},
		entries:       "device IDs",
		createTimeout: 30 * time.Minute,
		client:        credentialsOf((*providerData).mintegralClient, mintegralFileType),
		spec:          mintegralFileSpec,
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
	ID             types.String   `tfsdk:"id"`
	Source         types.String   `tfsdk:"source"`
	FileName       types.String   `tfsdk:"file_name"`
	AreaType       types.Int64    `tfsdk:"area_type"`
	DeviceType     types.String   `tfsdk:"device_type"`
	IrregularLines types.String   `tfsdk:"irregular_lines"`
	DataPath       types.String   `tfsdk:"data_path"`
	FileMD5        types.String   `tfsdk:"file_md5"`
	FileSize       types.Int64    `tfsdk:"file_size"`
	EntryCount     types.Int64    `tfsdk:"entry_count"`
	ListGuard      types.Object   `tfsdk:"list_guard"`
	Timeouts       timeouts.Value `tfsdk:"timeouts"`
}

// irregular_lines values.
const (
	irregularWarn  = "warn"
	irregularError = "error"
)

// Metadata implements resource.Resource.
func (r *MintegralFileResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_mintegral_file"
}

// Schema implements resource.Resource.
func (r *MintegralFileResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	deviceTypes := "`" + strings.Join(mintegral.DeviceTypeNames(), "`, `") + "`"
	resp.Schema = schema.Schema{
		MarkdownDescription: "Uploads an audience file (one device ID per line) to Mintegral and exposes its `data_path` for creating audiences. " +
			"New content, a new `file_name` or `area_type` uploads again as an in-place update; a plan of an unchanged file costs a `stat`. Area 1 (outside mainland China) uploads to S3 with a presigned PUT; " +
			"area 2 (mainland China) uploads to Aliyun OSS with a form POST. Mintegral has no API to read or delete an uploaded file: destroying this resource only removes it from state. " +
			"Before any request, the plan checks the content: one device ID per line in a single column (the first row may be a header), and no personal data: " +
			"a line that looks like an e-mail address, a phone number or a web address, or holds words, non-ASCII text or letters beyond `f` (which no device ID does), fails the plan naming the file and the line.",
		Attributes: map[string]schema.Attribute{
			"id":     handleSchema("The `data_path` of the uploaded file."),
			"source": sourceSchema(),
			"file_name": func() schema.StringAttribute {
				a := uploadNameSchema("File name sent to Mintegral; must end in `.txt`, `.csv`, `.txt.gz` or `.csv.gz`.")
				a.Validators = []validator.String{attrvalidators.FileExtension(mintegralExtensions...)}
				return a
			}(),
			"area_type": schema.Int64Attribute{
				Optional:            true,
				Computed:            true,
				Default:             int64default.StaticInt64(mintegral.AreaOutsideMainlandChina),
				MarkdownDescription: "Data cluster: `1` outside mainland China (S3, the default) or `2` mainland China (Aliyun OSS). Changing it uploads the file again to the new cluster.",
				Validators:          []validator.Int64{int64validator.OneOf(mintegral.AreaOutsideMainlandChina, mintegral.AreaMainlandChina)},
			},
			"device_type": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Type of the device IDs the file holds, as `audience_mintegral_audience` names it: " + deviceTypes + ". " +
					"When set, every line (a header row excepted) must be an ID of that type, or the plan fails naming the file and the line: " +
					"a UUID (8-4-4-4-12 hexadecimal digits) for `IDFA`, `GAID` and `IDFV`; 32 hexadecimal digits for the `*_MD5` types; " +
					"14 to 16 digits for `IMEI` (or a MEID: 14 hexadecimal digits, or 18 digits); 16 to 64 hexadecimal digits and dashes for `OAID`, whose makers use several forms. " +
					"The all-zero UUID or OAID of a device that limits ad tracking is refused. " +
					"Case: IDFAs and IDFVs are written in uppercase, GAIDs and MD5 digests in lowercase, as Apple's and Google's SDKs and Mintegral's documents write them; " +
					"IDs in the other case are irregular lines (see `irregular_lines`), and a file whose every UUID is in the other case is refused as holding another type (IDFAs given as `GAID`). " +
					"Without `device_type` any line that may be a device ID passes. Changing it uploads nothing; the content is checked whenever it is uploaded.",
				Validators: []validator.String{stringvalidator.OneOf(mintegral.DeviceTypeNames()...)},
			},
			"irregular_lines": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "What irregular lines, which Mintegral takes as they are but are likely not meant, do to the plan: a UTF-8 byte order mark, CRLF line ends, spaces around an ID, " +
					"IDs in another case than `device_type`'s, and repeated IDs. `warn` (the default) plans the upload with a warning naming the file, each kind, its count and first lines; " +
					"`error` fails the plan with the same message. The file is uploaded byte for byte (Mintegral is told its MD5), so it is never cleaned here: " +
					"write a clean list with the `audience_id_list` data source (it drops the byte order mark and CRLF, trims spaces, sets `case`, and with `dedupe = true` drops repeats) and upload its `output_path`. " +
					fmt.Sprintf("Repeats are found among the first %d distinct IDs (a 16 MiB set of their hashes); the message says so when a file has more.", idlist.MaxTrackedIDs),
				Validators: []validator.String{stringvalidator.OneOf(irregularWarn, irregularError)},
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
	if msg := attrvalidators.CheckFileName(src.Name, mintegralExtensions...); msg != "" {
		diags.Append(nameError(src, "Invalid Mintegral file name", msg, "Mintegral", suggestedName(src.Name, ".txt"))...)
		return diags
	}
	if attrvalidators.HasExtension(src.Name, ".gz") || attrvalidators.HasExtension(src.Path, ".gz") {
		if err := checkGzip(src.Path); err != nil {
			diags.AddAttributeError(path.Root("source"), "Source is not gzip", fmt.Sprintf("%s: %s. A .gz audience file must be gzip-compressed text; compress it with gzip or drop the .gz suffix.", src.Path, err))
		}
	}
	return diags
}

// mintegralFileSpec checks the name, and the content against the planned
// device_type; irregular_lines says whether irregular lines fail the plan.
// An unknown device_type (set by another resource) checks for any device
// ID, and the final plan during apply checks again with the known type.
func mintegralFileSpec(ctx context.Context, plan tfsdk.Plan) (uploadSpec, diag.Diagnostics) {
	var deviceType, irregular types.String
	diags := plan.GetAttribute(ctx, path.Root("device_type"), &deviceType)
	diags.Append(plan.GetAttribute(ctx, path.Root("irregular_lines"), &irregular)...)
	rule, _ := mintegral.DeviceTypeIDs(deviceType.ValueString())
	refuse := irregular.ValueString() == irregularError
	return uploadSpec{MaxSize: mintegral.MaxFileSize, Check: checkMintegralSource, Content: func(src localSource) contentCheck {
		return newMintegralContent(src, rule, refuse)
	}}, diags
}

// checkMintegralColumns checks a file that may hold any device ID, and
// warns of irregular lines.
func checkMintegralColumns(src localSource) contentCheck {
	return newMintegralContent(src, idlist.IDRule{}, false)
}

// newMintegralContent checks the content, decompressed when the name or
// path ends in .gz.
func newMintegralContent(src localSource, rule idlist.IDRule, refuse bool) mintegralContent {
	gz := attrvalidators.HasExtension(src.Name, ".gz") || attrvalidators.HasExtension(src.Path, ".gz")
	return mintegralContent{idlist.NewContentCheck(src.Path, gz, rule), src.Path, rule.Name, refuse}
}

// mintegralContent checks what a Mintegral file holds: "one device ID per
// line, a single column", no personal data, IDs of the device type, and
// irregular lines. Its Entries and Findings tell the rest once finished.
type mintegralContent struct {
	*idlist.OneColumnCheck
	file       string
	deviceType string // "" when not set
	refuse     bool   // irregular_lines = "error"
}

// The pass that hashes a new file tells the check its size first.
var _ filestate.SizeHinter = mintegralContent{}

func (c mintegralContent) Finish() diag.Diagnostics {
	var diags diag.Diagnostics
	at := path.Root("source")
	_, err := c.Close()
	switch {
	case errors.Is(err, idlist.ErrCorruptGzip):
		diags.AddAttributeError(at, "Source is not valid gzip", err.Error()+".")
	case errors.Is(err, idlist.ErrPersonalData):
		diags.AddAttributeError(at, "Personal data in a Mintegral audience file", err.Error()+
			". A Mintegral audience file holds device IDs only, one per line; the first row may be a header.")
	case errors.Is(err, idlist.ErrDeviceType):
		diags.AddAttributeError(at, "Device IDs of another type", fmt.Sprintf("%s. device_type is %q: set it to the type of the IDs in the file, or point source at a file of %s IDs.", err, c.deviceType, c.deviceType))
	case err != nil:
		diags.AddAttributeError(at, "Not a one-column Mintegral audience file",
			err.Error()+". Mintegral takes one device ID per line in a single column; the first row may be a header.")
	}
	if err != nil {
		return diags
	}
	if findings := c.Findings(); len(findings) > 0 {
		detail := irregularDetail(c.file, findings)
		if c.refuse {
			diags.AddAttributeError(at, "Irregular lines in a Mintegral audience file", detail+` irregular_lines = "error" refuses such a file.`)
		} else {
			diags.AddAttributeWarning(at, "Irregular lines in a Mintegral audience file", detail+` Set irregular_lines = "error" to refuse such files.`)
		}
	}
	return diags
}

// irregularDetail says what was found and how to send a clean list.
func irregularDetail(file string, findings []idlist.Finding) string {
	var b strings.Builder
	b.WriteString(idlist.DescribeFindings(file, findings))
	b.WriteString(". Mintegral is sent the file byte for byte (it is told the file's MD5), so these lines reach it as they are. " +
		"To send a clean list, write it with the audience_id_list data source and point source at its output_path: " +
		"it writes one trimmed ID per line ending in \\n, without a byte order mark")
	for _, f := range findings {
		switch f.Kind {
		case idlist.IrregularCase:
			w := caseWord(f.Case)
			fmt.Fprintf(&b, "; case = %q writes %ss in %scase", w, f.Name, w)
		case idlist.IrregularDuplicate:
			b.WriteString("; dedupe = true drops repeated IDs")
		}
	}
	b.WriteString(".")
	return b.String()
}

func caseWord(c idlist.Case) string {
	if c == idlist.CaseLower {
		return "lower"
	}
	return "upper"
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
