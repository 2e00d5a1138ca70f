package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/identityschema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/audiencekit/terraform-provider-audience/internal/client/mintegral"
	"github.com/audiencekit/terraform-provider-audience/internal/client/transfer"
)

var (
	_ resource.Resource                   = &MintegralAudienceResource{}
	_ resource.ResourceWithConfigure      = &MintegralAudienceResource{}
	_ resource.ResourceWithModifyPlan     = &MintegralAudienceResource{}
	_ resource.ResourceWithValidateConfig = &MintegralAudienceResource{}
	_ resource.ResourceWithImportState    = &MintegralAudienceResource{}
	_ resource.ResourceWithIdentity       = &MintegralAudienceResource{}
)

const mintegralAudienceType = "audience_mintegral_audience"

// NewMintegralAudienceResource is the audience_mintegral_audience constructor.
func NewMintegralAudienceResource() resource.Resource {
	return &MintegralAudienceResource{now: time.Now}
}

// MintegralAudienceResource creates a Mintegral audience from uploaded
// files, updates its files in place and deletes it.
type MintegralAudienceResource struct {
	data *providerData
	now  func() time.Time // the clock of the plan-time update-window check
}

type mintegralAudienceModel struct {
	ID             types.String   `tfsdk:"id"`
	TaID           types.Int64    `tfsdk:"ta_id"`
	Name           types.String   `tfsdk:"name"`
	AreaType       types.Int64    `tfsdk:"area_type"`
	Platform       types.String   `tfsdk:"platform"`
	Files          types.List     `tfsdk:"files"`
	MintegralFiles types.List     `tfsdk:"mintegral_files"`
	DeviceTypes    types.List     `tfsdk:"device_types"`
	CreatedAt      types.String   `tfsdk:"created_at"`
	UpdatedAt      types.String   `tfsdk:"updated_at"`
	UpdatableAfter types.String   `tfsdk:"updatable_after"`
	Timeouts       timeouts.Value `tfsdk:"timeouts"`
}

// unchanged reports whether every attribute of models a and b is equal,
// so that writing b where a came from would change nothing. Writing a
// model converts the whole value through the schema, a few percent of
// the provider's time in a no-change plan of hundreds of audiences.
func unchanged[M any](a, b M) bool {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	for i := range va.NumField() {
		x, ok := va.Field(i).Interface().(attr.Value)
		y, _ := vb.Field(i).Interface().(attr.Value)
		if !ok || !x.Equal(y) {
			return false
		}
	}
	return true
}

type mintegralAudienceFileModel struct {
	DeviceType types.String `tfsdk:"device_type"`
	DataPath   types.String `tfsdk:"data_path"`
}

// mintegralAudienceIdentityModel is the resource identity: the ta_id,
// which Mintegral never reuses.
type mintegralAudienceIdentityModel struct {
	TaID types.Int64 `tfsdk:"ta_id"`
}

// mintegralAppliedKey is the private state key holding what Mintegral
// really holds when it may differ from files in state: the files last
// sent, and whether an update is pending because the 12-hour window held
// it back. Checks outside the provider read it too; keep its shape.
const mintegralAppliedKey = "mintegral_applied"

type mintegralApplied struct {
	// Files are the files last sent to Mintegral; empty when they are not
	// known (an imported audience whose update is pending).
	Files   []mintegralAppliedFile `json:"files"`
	Pending bool                   `json:"pending"`
}

type mintegralAppliedFile struct {
	DeviceType string `json:"device_type"`
	DataPath   string `json:"data_path"`
}

// mintegralHeldSinceKey is the private state key holding when the update
// now pending was first postponed (a JSON string, RFC 3339), so the plan
// that finally sends it can say since when it waited. A key of its own
// keeps mintegral_applied's shape.
const mintegralHeldSinceKey = "mintegral_held_since"

// mintegralGoneKey is the private state key marking an audience adopted
// without files that Mintegral no longer lists: it stays in state (it
// cannot be created again without files) until its block is deleted, or
// is replaced once files are written for it.
const mintegralGoneKey = "mintegral_gone"

// mintegralFileAttrTypes are the attributes of one element of files and
// mintegral_files.
var mintegralFileAttrTypes = map[string]attr.Type{"device_type": types.StringType, "data_path": types.StringType}

// Metadata implements resource.Resource.
func (r *MintegralAudienceResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_mintegral_audience"
}

// Schema implements resource.Resource.
func (r *MintegralAudienceResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	deviceTypes := "`" + strings.Join(mintegral.DeviceTypeNames(), "`, `") + "`"
	resp.Schema = schema.Schema{
		MarkdownDescription: "A Mintegral audience built from files uploaded with `audience_mintegral_file`. " +
			"A change of `files` updates the audience in place; a change of `name`, `area_type` or `platform` replaces it. " +
			"Mintegral refuses a second update within 12 hours of the audience's creation or last update: an update due sooner is postponed, with a warning naming the time it becomes possible, " +
			"and everything else in the plan applies. Destroying the audience is possible at any time.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "The audience ID (`ta_id`) as a string.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"ta_id": schema.Int64Attribute{
				Computed:            true,
				MarkdownDescription: "The audience ID Mintegral assigned.",
				PlanModifiers:       []planmodifier.Int64{int64planmodifier.UseStateForUnknown()},
			},
			"name": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Audience name (`ta_name`). Changing it replaces the audience: Mintegral's update call cannot rename.",
				Validators:          []validator.String{stringvalidator.LengthAtLeast(1)},
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"area_type": schema.Int64Attribute{
				Optional:            true,
				Computed:            true,
				Default:             int64default.StaticInt64(mintegral.AreaOutsideMainlandChina),
				MarkdownDescription: "Data cluster: `1` outside mainland China (the default; files are `s3://` data paths) or `2` mainland China (`oss://` data paths). Changing it replaces the audience.",
				Validators:          []validator.Int64{int64validator.OneOf(mintegral.AreaOutsideMainlandChina, mintegral.AreaMainlandChina)},
				PlanModifiers:       []planmodifier.Int64{int64planmodifier.RequiresReplace()},
			},
			"platform": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Delivery platform: `android`, `ios` or `mix`. Changing it replaces the audience.",
				Validators:          []validator.String{stringvalidator.OneOf(mintegral.PlatformNames()...)},
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"files": schema.ListNestedAttribute{
				Optional: true,
				MarkdownDescription: "The audience's files, at least one; required to create an audience. A change updates the audience in place (Mintegral's update call), " +
					"which Mintegral accepts at most once every 12 hours: sooner, the update is postponed until then. " +
					"Left out (`null`, as `terraform query` generates it for an existing audience), Terraform leaves the audience's files as Mintegral holds them.",
				Validators: []validator.List{listvalidator.SizeAtLeast(1)},
				NestedObject: schema.NestedAttributeObject{
					Attributes: map[string]schema.Attribute{
						"device_type": schema.StringAttribute{
							Required: true,
							MarkdownDescription: "Kind of device ID in the file: one of " + deviceTypes + ". " +
								"An `android` audience takes IMEI, GAID and OAID types, an `ios` one IDFA and IDFV types, a `mix` one any.",
							Validators: []validator.String{stringvalidator.OneOf(mintegral.DeviceTypeNames()...)},
						},
						"data_path": schema.StringAttribute{
							Required:            true,
							MarkdownDescription: "The file's `data_path`, usually `audience_mintegral_file.<name>.data_path`: `s3://…` for area 1, `oss://…` for area 2.",
							Validators:          []validator.String{stringvalidator.LengthAtLeast(1)},
						},
					},
				},
			},
			"mintegral_files": schema.ListNestedAttribute{
				Computed: true,
				MarkdownDescription: "What Mintegral holds now: the files last sent to it, as `{device_type, data_path}` like `files`. " +
					"While an update waits for the 12-hour window, `files` already holds the configured files and this attribute the previous ones, " +
					"so the plan that finally sends the update shows them changing here, old → new. " +
					"`null` when Terraform does not know them: an imported audience whose files were never sent, one whose `files` are left out, " +
					"or one whose device types were changed in Mintegral's console.",
				NestedObject: schema.NestedAttributeObject{
					Attributes: map[string]schema.Attribute{
						"device_type": schema.StringAttribute{Computed: true, MarkdownDescription: "Kind of device ID in the file, as in `files`."},
						"data_path":   schema.StringAttribute{Computed: true, MarkdownDescription: "The file's `data_path`."},
					},
				},
			},
			"device_types": schema.ListAttribute{
				Computed:            true,
				ElementType:         types.StringType,
				MarkdownDescription: "Device types of the audience as Mintegral reports them, ordered by Mintegral's device type number. A difference from the types in `files` plans an update.",
			},
			"created_at": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "When the audience was created (Mintegral's `ctime`), RFC 3339.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"updated_at": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "When the audience was last created or updated (Mintegral's `utime`, read back on every refresh, so a change in Mintegral's console counts), RFC 3339.",
			},
			"updatable_after": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "`updated_at` plus 12 hours: the earliest time Mintegral accepts another update of `files`, RFC 3339.",
			},
			"timeouts": timeouts.Attributes(ctx, timeouts.Opts{Create: true, Update: true, Delete: true}),
		},
	}
}

// IdentitySchema implements resource.ResourceWithIdentity.
func (r *MintegralAudienceResource) IdentitySchema(_ context.Context, _ resource.IdentitySchemaRequest, resp *resource.IdentitySchemaResponse) {
	resp.IdentitySchema = identityschema.Schema{
		Attributes: map[string]identityschema.Attribute{
			"ta_id": identityschema.Int64Attribute{
				RequiredForImport: true,
				Description:       "The audience ID Mintegral assigned.",
			},
		},
	}
}

// Configure implements resource.ResourceWithConfigure.
func (r *MintegralAudienceResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configureData(req.ProviderData, &resp.Diagnostics)
}

// ValidateConfig checks what Mintegral would refuse, once the values are
// known: device types the platform cannot take, and data paths from the
// other area.
func (r *MintegralAudienceResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var cfg mintegralAudienceModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if !cfg.Name.IsNull() && !cfg.Name.IsUnknown() && strings.TrimSpace(cfg.Name.ValueString()) == "" {
		resp.Diagnostics.AddAttributeError(path.Root("name"), "Empty audience name", "name is blank; give the audience a name, it is how it shows in Mintegral.")
	}
	if cfg.Files.IsNull() || cfg.Files.IsUnknown() {
		return
	}
	var files []mintegralAudienceFileModel
	resp.Diagnostics.Append(cfg.Files.ElementsAs(ctx, &files, false)...)
	if resp.Diagnostics.HasError() {
		return
	}
	area := int64(mintegral.AreaOutsideMainlandChina)
	if !cfg.AreaType.IsNull() {
		area = cfg.AreaType.ValueInt64()
	}
	scheme := map[int64]string{mintegral.AreaOutsideMainlandChina: "s3://", mintegral.AreaMainlandChina: "oss://"}[area]
	for i, f := range files {
		at := path.Root("files").AtListIndex(i)
		if !f.DeviceType.IsUnknown() && !f.DeviceType.IsNull() && !cfg.Platform.IsUnknown() && !cfg.Platform.IsNull() {
			platform, dt := cfg.Platform.ValueString(), f.DeviceType.ValueString()
			if ok, needs := mintegral.DeviceTypeAllowed(platform, dt); !ok && needs != "" {
				resp.Diagnostics.AddAttributeError(at.AtName("device_type"), "Device type does not fit the platform",
					fmt.Sprintf("files[%d] holds %s IDs, which come from %s devices; a platform = %q audience cannot take them. Use platform = %q or \"mix\", or a file of %s IDs.",
						i, dt, needs, platform, needs, platform))
			}
		}
		if f.DataPath.IsUnknown() || f.DataPath.IsNull() || cfg.AreaType.IsUnknown() || scheme == "" {
			continue
		}
		if dp := f.DataPath.ValueString(); !strings.HasPrefix(dp, scheme) {
			resp.Diagnostics.AddAttributeError(at.AtName("data_path"), "Data path from the wrong area",
				fmt.Sprintf("files[%d].data_path is %q, but an area_type = %d audience takes %s data paths. Upload the file with the same area_type as the audience.", i, dp, area, scheme))
		}
	}
}

// ModifyPlan derives device_types from files and decides what the apply
// sends: nothing (the files are what Mintegral holds already, or are left
// to Mintegral), the update, or, within the 12-hour window, nothing yet
// (the update is postponed, with a warning). A destroy is never held back.
func (r *MintegralAudienceResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return // destroy: Mintegral deletes at any time
	}
	ctx = r.data.logContext(ctx)
	var plan mintegralAudienceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	proposed := plan
	planned := plannedDeviceTypes(ctx, plan.Files, &resp.Diagnostics)
	if req.State.Raw.IsNull() {
		if plan.Files.IsNull() {
			resp.Diagnostics.AddAttributeError(path.Root("files"), "Mintegral audience without files",
				fmt.Sprintf("Creating audience %q needs files: Mintegral builds an audience from at least one uploaded file. "+
					"Set files, or import the audience if it exists already (only an existing audience can leave its files to Mintegral).", plan.Name.ValueString()))
		}
		if r.data != nil {
			_, diags := r.data.mintegralClient(mintegralAudienceType)
			resp.Diagnostics.Append(diags...)
		}
		plan.DeviceTypes, plan.MintegralFiles = planned, plan.Files
		resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
		return
	}
	var state mintegralAudienceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	applied, diags := readApplied(ctx, req.Private)
	resp.Diagnostics.Append(diags...)
	gone, diags := readGone(ctx, req.Private)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	if !plan.Name.Equal(state.Name) || !plan.Platform.Equal(state.Platform) || !plan.AreaType.Equal(state.AreaType) {
		if plan.Files.IsNull() {
			resp.Diagnostics.AddAttributeError(path.Root("files"), "Mintegral audience without files",
				fmt.Sprintf("Changing name, platform or area_type replaces audience %q (ta_id %d) with a new one, which needs files. "+
					"Set files, or keep name, platform and area_type as they are.", state.Name.ValueString(), state.TaID.ValueInt64()))
		}
		plan.DeviceTypes, plan.MintegralFiles = planned, plan.Files
		resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
		return
	}
	if gone && !plan.Files.IsNull() {
		// Files written for an adopted audience Mintegral no longer has:
		// they make a new one (deleting the old one finds it gone).
		resp.RequiresReplace = append(resp.RequiresReplace, path.Root("files"))
		plan.DeviceTypes, plan.MintegralFiles = planned, plan.Files
		resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
		return
	}
	switch {
	case plan.Files.IsNull(), !needsSend(ctx, state, plan, planned, applied):
		// Nothing to send: Mintegral's device types and times stay, and
		// Mintegral holds the configured files (Update records them).
		plan.DeviceTypes, plan.UpdatedAt, plan.UpdatableAfter = state.DeviceTypes, state.UpdatedAt, state.UpdatableAfter
		plan.MintegralFiles = plan.Files
		if !plan.Files.IsNull() {
			plan.DeviceTypes = planned
		}
	case plan.Files.Equal(state.Files) && !r.updatable(state):
		// An update already waits for the window: the plan stays empty.
		plan.DeviceTypes, plan.UpdatedAt, plan.UpdatableAfter = state.DeviceTypes, state.UpdatedAt, state.UpdatableAfter
		plan.MintegralFiles = state.MintegralFiles
		resp.Diagnostics.Append(r.postponed(state, "Until then plans are empty for it, and mintegral_files shows what Mintegral holds.")...)
	default:
		// An update.
		plan.UpdatedAt, plan.UpdatableAfter = types.StringUnknown(), types.StringUnknown()
		plan.DeviceTypes = planned
		if !planned.Equal(state.DeviceTypes) {
			plan.DeviceTypes = types.ListUnknown(types.StringType)
		}
		if r.updatable(state) {
			// The window has passed and cannot close again: Update sends
			// the files, and the plan shows what Mintegral gets.
			plan.MintegralFiles = plan.Files
			if applied != nil && applied.Pending {
				since, diags := readHeldSince(ctx, req.Private)
				resp.Diagnostics.Append(diags...)
				resp.Diagnostics.Append(carried(state, since)...)
			}
			break
		}
		// Update decides by its own clock: a saved plan may be applied
		// after the window has passed. The plan made again at apply
		// repeats this warning; Update adds none.
		plan.MintegralFiles = types.ListUnknown(types.ObjectType{AttrTypes: mintegralFileAttrTypes})
		resp.Diagnostics.Append(r.postponed(state,
			"Applied before then, this plan sends nothing for it and records the configured files in state (mintegral_files keeps what Mintegral holds); applied after, it sends them. Everything else applies as planned.")...)
	}
	if !unchanged(proposed, plan) { // resp.Plan starts as the proposed plan
		resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
	}
}

// updatable reports whether Mintegral accepts an update now, by this
// machine's clock; without a usable time in state Mintegral decides.
func (r *MintegralAudienceResource) updatable(state mintegralAudienceModel) bool {
	after, err := time.Parse(time.RFC3339, state.UpdatableAfter.ValueString())
	return err != nil || !r.now().Before(after)
}

// postponed is the one warning of a plan for an update the 12-hour
// window holds back; what says what happens in this run.
func (r *MintegralAudienceResource) postponed(state mintegralAudienceModel, what string) diag.Diagnostics {
	var diags diag.Diagnostics
	after, _ := time.Parse(time.RFC3339, state.UpdatableAfter.ValueString())
	wait := "under a minute"
	if d := after.Sub(r.now()).Round(time.Minute); d >= time.Minute {
		wait = strings.TrimSuffix(d.String(), "0s")
	}
	// The summary names the audience: Terraform folds warnings of one
	// summary into one, which should merge this plan's warning with the
	// same one of the plan made again at apply, not hide other audiences.
	diags.AddAttributeWarning(path.Root("files"), fmt.Sprintf("Update of Mintegral audience %q (ta_id %d) postponed", state.Name.ValueString(), state.TaID.ValueInt64()),
		fmt.Sprintf("Audience %q (ta_id %d) was last changed at %s, and Mintegral refuses another update until %s (in %s), so its update waits until then. %s "+
			"The first plan after %s updates it. To replace the audience instead, change name, platform or area_type.",
			state.Name.ValueString(), state.TaID.ValueInt64(), state.UpdatedAt.ValueString(), after.UTC().Format(time.RFC3339),
			wait, what, after.UTC().Format(time.RFC3339)))
	return diags
}

// carried is the warning of the plan that sends an update the 12-hour
// window held back: files shows no change then (state took the files
// when the update was postponed), so it says what goes out.
func carried(state mintegralAudienceModel, since time.Time) diag.Diagnostics {
	var diags diag.Diagnostics
	when := "since an earlier apply"
	if !since.IsZero() {
		when = "since " + since.UTC().Format(time.RFC3339)
	}
	diags.AddAttributeWarning(path.Root("mintegral_files"), fmt.Sprintf("Postponed update of Mintegral audience %q (ta_id %d) goes out", state.Name.ValueString(), state.TaID.ValueInt64()),
		fmt.Sprintf("This plan carries the update of audience %q (ta_id %d) held back %s by Mintegral's 12-hour window: "+
			"Mintegral gets the files now in files, shown in mintegral_files as what it holds → what it will hold. "+
			"files itself shows no change, because state took the configured files when the update was postponed.",
			state.Name.ValueString(), state.TaID.ValueInt64(), when))
	return diags
}

// needsSend reports whether the configured files differ from what
// Mintegral holds: the device types it reports, and the files last sent
// (from the private record, or state for audiences applied before the
// record existed). An imported audience's files are unknown (Mintegral's
// list does not return data paths), so configuring them sends them once.
func needsSend(ctx context.Context, state, plan mintegralAudienceModel, planned types.List, applied *mintegralApplied) bool {
	if planned.IsUnknown() || !planned.Equal(state.DeviceTypes) {
		return true
	}
	want, known := appliedFiles(ctx, plan.Files)
	switch {
	case !known:
		return true // a data path from an upload in this run is new to Mintegral
	case applied != nil && len(applied.Files) > 0:
		return !slices.Equal(applied.Files, want)
	case applied == nil && !state.Files.IsNull():
		held, _ := appliedFiles(ctx, state.Files)
		return !slices.Equal(held, want)
	}
	return true
}

// appliedFiles converts a files list; known is false while a value in it
// is unknown.
func appliedFiles(ctx context.Context, files types.List) (out []mintegralAppliedFile, known bool) {
	if files.IsUnknown() {
		return nil, false
	}
	var models []mintegralAudienceFileModel
	if files.ElementsAs(ctx, &models, false).HasError() {
		return nil, false
	}
	out = make([]mintegralAppliedFile, 0, len(models))
	for _, f := range models {
		if f.DeviceType.IsUnknown() || f.DataPath.IsUnknown() {
			return nil, false
		}
		out = append(out, mintegralAppliedFile{DeviceType: f.DeviceType.ValueString(), DataPath: f.DataPath.ValueString()})
	}
	return out, true
}

// readApplied returns the private record, or nil when there is none
// (an unreadable one counts as none: state decides, as before the record).
func readApplied(ctx context.Context, private privateGetter) (*mintegralApplied, diag.Diagnostics) {
	var rec mintegralApplied
	ok, diags := getPrivate(ctx, private, mintegralAppliedKey, &rec)
	if !ok {
		return nil, diags
	}
	return &rec, diags
}

// writeApplied stores the record; nil removes it.
func writeApplied(ctx context.Context, private privateSetter, rec *mintegralApplied) diag.Diagnostics {
	if rec == nil {
		return setPrivate(ctx, private, mintegralAppliedKey, nil)
	}
	return setPrivate(ctx, private, mintegralAppliedKey, rec)
}

// readHeldSince returns when the pending update was first postponed, or
// the zero time when that is not recorded.
func readHeldSince(ctx context.Context, private privateGetter) (time.Time, diag.Diagnostics) {
	raw, diags := private.GetKey(ctx, mintegralHeldSinceKey)
	var s string
	if diags.HasError() || len(raw) == 0 || json.Unmarshal(raw, &s) != nil {
		return time.Time{}, diags
	}
	t, _ := time.Parse(time.RFC3339, s)
	return t, diags
}

// writeHeldSince records when the pending update was first postponed;
// the zero time removes the record.
func writeHeldSince(ctx context.Context, private privateSetter, t time.Time) diag.Diagnostics {
	if t.IsZero() {
		return private.SetKey(ctx, mintegralHeldSinceKey, nil)
	}
	return private.SetKey(ctx, mintegralHeldSinceKey, []byte(strconv.Quote(t.UTC().Format(time.RFC3339))))
}

func readGone(ctx context.Context, private privateGetter) (bool, diag.Diagnostics) {
	raw, diags := private.GetKey(ctx, mintegralGoneKey)
	return string(raw) == "true", diags
}

func writeGone(ctx context.Context, private privateSetter, gone bool) diag.Diagnostics {
	if !gone {
		return private.SetKey(ctx, mintegralGoneKey, nil)
	}
	return private.SetKey(ctx, mintegralGoneKey, []byte("true"))
}

// heldFilesList is mintegral_files: the files Mintegral holds by the
// record (by state's files for an audience applied before the record
// existed), or null when Terraform does not know them: never sent (an
// imported audience), left to Mintegral, or device types that no longer
// match them (deviceTypes, as Mintegral reports them, changed in its
// console).
func heldFilesList(ctx context.Context, applied *mintegralApplied, stateFiles, deviceTypes types.List) types.List {
	null := types.ListNull(types.ObjectType{AttrTypes: mintegralFileAttrTypes})
	var held []mintegralAppliedFile
	switch {
	case applied != nil:
		held = applied.Files
	case !stateFiles.IsNull():
		held, _ = appliedFiles(ctx, stateFiles)
	}
	if len(held) == 0 {
		return null
	}
	names := make([]string, len(held))
	elems := make([]attr.Value, len(held))
	for i, f := range held {
		names[i] = f.DeviceType
		elems[i] = types.ObjectValueMust(mintegralFileAttrTypes, map[string]attr.Value{
			"device_type": types.StringValue(f.DeviceType), "data_path": types.StringValue(f.DataPath)})
	}
	if !stringList(mintegral.SortDeviceTypes(names)).Equal(deviceTypes) {
		return null
	}
	return types.ListValueMust(types.ObjectType{AttrTypes: mintegralFileAttrTypes}, elems)
}

// plannedDeviceTypes is the device_types Mintegral will report for files,
// or unknown while a device type is unknown.
func plannedDeviceTypes(ctx context.Context, files types.List, diags *diag.Diagnostics) types.List {
	if files.IsUnknown() || files.IsNull() {
		return types.ListUnknown(types.StringType)
	}
	var models []mintegralAudienceFileModel
	diags.Append(files.ElementsAs(ctx, &models, false)...)
	names := make([]string, 0, len(models))
	for _, f := range models {
		if f.DeviceType.IsUnknown() {
			return types.ListUnknown(types.StringType)
		}
		names = append(names, f.DeviceType.ValueString())
	}
	return stringList(mintegral.SortDeviceTypes(names))
}

func stringList(values []string) types.List {
	elems := make([]attr.Value, len(values))
	for i, v := range values {
		elems[i] = types.StringValue(v)
	}
	return types.ListValueMust(types.StringType, elems)
}

func audienceFiles(ctx context.Context, files types.List, diags *diag.Diagnostics) []mintegral.AudienceFile {
	var models []mintegralAudienceFileModel
	diags.Append(files.ElementsAs(ctx, &models, false)...)
	out := make([]mintegral.AudienceFile, len(models))
	for i, f := range models {
		out[i] = mintegral.AudienceFile{DeviceType: f.DeviceType.ValueString(), DataPath: f.DataPath.ValueString()}
	}
	return out
}

// setRead copies what Mintegral reports into the model. Files are kept:
// Mintegral does not return data paths.
func (m *mintegralAudienceModel) setRead(a *mintegral.Audience) {
	m.ID = types.StringValue(strconv.FormatInt(a.ID, 10))
	m.TaID = types.Int64Value(a.ID)
	m.Name = types.StringValue(a.Name)
	m.Platform = types.StringValue(a.Platform)
	m.AreaType = types.Int64Value(int64(a.AreaType))
	m.DeviceTypes = stringList(a.DeviceTypes)
	m.setTimes(a)
}

func (m *mintegralAudienceModel) setTimes(a *mintegral.Audience) {
	m.CreatedAt = types.StringValue(a.Created.Format(time.RFC3339))
	m.UpdatedAt = types.StringValue(a.Updated.Format(time.RFC3339))
	m.UpdatableAfter = types.StringValue(a.UpdatableAfter().Format(time.RFC3339))
}

// setIdentity records the ta_id as the resource identity. Every
// operation returns it, also to CLIs that never send it back (Terraform
// before 1.12, OpenTofu), and also for an audience that left the state.
func setIdentity(ctx context.Context, identity *tfsdk.ResourceIdentity, id int64) diag.Diagnostics {
	if identity == nil {
		return nil
	}
	return identity.Set(ctx, mintegralAudienceIdentityModel{TaID: types.Int64Value(id)})
}

// Create implements resource.Resource.
func (r *MintegralAudienceResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	ctx = r.data.logContext(ctx)
	var plan mintegralAudienceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := plan.Timeouts.Create(ctx, 10*time.Minute)
	resp.Diagnostics.Append(diags...)
	client, diags := r.data.mintegralClient(mintegralAudienceType)
	resp.Diagnostics.Append(diags...)
	files := audienceFiles(ctx, plan.Files, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	spec := mintegral.AudienceSpec{Name: plan.Name.ValueString(), AreaType: int(plan.AreaType.ValueInt64()), Platform: plan.Platform.ValueString(), Files: files}
	tflog.Info(ctx, "creating Mintegral audience", transfer.LogFields(map[string]any{"name": spec.Name, "platform": spec.Platform, "area_type": spec.AreaType}))
	id, err := client.CreateAudience(ctx, spec)
	var unread *mintegral.UnreadCreateError
	if err != nil && !errors.As(err, &unread) {
		resp.Diagnostics.AddError("Creating the Mintegral audience failed", audienceErrorDetail(ctx, err, "create audience "+strconv.Quote(spec.Name), "timeouts.create"))
		return
	}
	plan.ID = types.StringValue(strconv.FormatInt(id, 10))
	plan.TaID = types.Int64Value(id)
	plan.MintegralFiles = plan.Files
	resp.Diagnostics.Append(setIdentity(ctx, resp.Identity, id)...)
	sent, _ := appliedFiles(ctx, plan.Files)
	resp.Diagnostics.Append(writeApplied(ctx, resp.Private, &mintegralApplied{Files: sent})...)
	if unread != nil {
		// Mintegral made the audience but its answer could not be read:
		// keep it in state, tainted, so it is replaced, not left behind.
		now := time.Now().UTC()
		plan.setTimes(&mintegral.Audience{Created: now, Updated: now})
		resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
		resp.Diagnostics.AddError("Creating the Mintegral audience failed",
			fmt.Sprintf("%s. It is kept in state and will be replaced on the next apply.", unread))
		return
	}
	a, err := client.GetAudience(ctx, id)
	if err != nil || a == nil {
		// Keep the audience in state (it exists), tainted, so it is not
		// created a second time.
		now := time.Now().UTC()
		plan.setTimes(&mintegral.Audience{Created: now, Updated: now})
		resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
		detail := fmt.Sprintf("Audience %d was created, but reading it back failed: %v. It is kept in state and will be replaced on the next apply.", id, err)
		if err == nil {
			detail = fmt.Sprintf("Audience %d was created, but Mintegral's list does not show it. It is kept in state and will be replaced on the next apply.", id)
		}
		resp.Diagnostics.AddError("Reading the new Mintegral audience failed", detail)
		return
	}
	plan.setTimes(a)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// Read implements resource.Resource. An audience deleted outside
// Terraform leaves the state, to be created again from its files, unless
// it was adopted without files (see readGoneAudience); name, platform,
// area and device types come from Mintegral, so changes made there show
// as drift.
func (r *MintegralAudienceResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	ctx = r.data.logContext(ctx)
	var state mintegralAudienceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	prior := state
	client, diags := r.data.mintegralClient(mintegralAudienceType)
	resp.Diagnostics.Append(diags...)
	applied, diags := readApplied(ctx, req.Private)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	id, err := strconv.ParseInt(state.ID.ValueString(), 10, 64)
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("id"), "Invalid audience ID", fmt.Sprintf("id %q is not a Mintegral ta_id (a number).", state.ID.ValueString()))
		return
	}
	resp.Diagnostics.Append(setIdentity(ctx, resp.Identity, id)...)
	a, err := client.GetAudience(ctx, id)
	if err != nil {
		resp.Diagnostics.AddError("Reading the Mintegral audience failed", fmt.Sprintf("Looking up audience %d: %s", id, err))
		return
	}
	if a == nil {
		r.readGoneAudience(ctx, state, resp)
		return
	}
	state.setRead(a)
	state.MintegralFiles = heldFilesList(ctx, applied, state.Files, state.DeviceTypes)
	resp.Diagnostics.Append(writeGone(ctx, resp.Private, false)...)
	if !unchanged(prior, state) { // resp.State starts as the prior state
		resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
	}
}

// readGoneAudience handles an audience Mintegral no longer lists. One
// with files leaves the state and the plan creates it again: Terraform's
// usual answer to drift. One adopted without files cannot be created
// again, and removing it from state would fail every plan of the root
// (a create without files, or its import block importing nothing), so it
// stays in state, marked gone, with a warning on every plan, until its
// blocks are deleted (the destroy then finds it gone, which is not an
// error) or files are written for it (a replacement). An import of an
// audience that does not exist is Terraform's error to report.
func (r *MintegralAudienceResource) readGoneAudience(ctx context.Context, state mintegralAudienceModel, resp *resource.ReadResponse) {
	id := state.TaID.ValueInt64()
	name := state.Name.ValueString()
	switch {
	case state.Name.IsNull():
		tflog.Warn(ctx, "the Mintegral audience to import does not exist", transfer.LogFields(map[string]any{"ta_id": id}))
		resp.State.RemoveResource(ctx)
	case state.Files.IsNull():
		tflog.Warn(ctx, "an adopted Mintegral audience no longer exists; kept in state until its block is deleted", transfer.LogFields(map[string]any{"ta_id": id}))
		resp.Diagnostics.Append(writeGone(ctx, resp.Private, true)...)
		resp.Diagnostics.AddAttributeWarning(path.Root("ta_id"), fmt.Sprintf("Adopted Mintegral audience %q (ta_id %d) no longer exists", name, id),
			fmt.Sprintf("Mintegral no longer lists audience %q (ta_id %d); it may have been deleted in Mintegral's console. "+
				"It was adopted without files, so Terraform cannot create it again. "+
				"Delete its resource block, and its import block if that is still there: the next apply then removes it from state (nothing is sent). "+
				"Until then it stays in state, unchanged, and plans go on without it. "+
				"To create it again instead, write its files: the next plan replaces it with a new audience.", name, id))
	default:
		tflog.Warn(ctx, "Mintegral audience no longer exists; removing it from state", transfer.LogFields(map[string]any{"ta_id": id}))
		resp.Diagnostics.AddAttributeWarning(path.Root("ta_id"), fmt.Sprintf("Mintegral audience %q (ta_id %d) no longer exists", name, id),
			fmt.Sprintf("Mintegral no longer lists audience %q (ta_id %d); it may have been deleted in Mintegral's console. "+
				"It leaves the state, and this plan creates it again from its files: a new audience with a new ta_id. "+
				"If it should stay deleted, delete its resource block instead.", name, id))
		resp.State.RemoveResource(ctx)
	}
}

// Update implements resource.Resource: only files change in place. It
// sends them unless they are what Mintegral holds already, or the 12-hour
// window has not passed yet: then the update is postponed, and the record
// keeps what Mintegral holds with a pending mark.
func (r *MintegralAudienceResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	ctx = r.data.logContext(ctx)
	var plan, state mintegralAudienceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	applied, diags := readApplied(ctx, req.Private)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	id := state.TaID.ValueInt64()
	resp.Diagnostics.Append(setIdentity(ctx, resp.Identity, id)...)
	planned := plannedDeviceTypes(ctx, plan.Files, &resp.Diagnostics)
	switch {
	case plan.Files.IsNull():
		tflog.Info(ctx, "the Mintegral audience's files are left to Mintegral", transfer.LogFields(map[string]any{"ta_id": id}))
		resp.Diagnostics.Append(writeApplied(ctx, resp.Private, nil)...)
		resp.Diagnostics.Append(writeHeldSince(ctx, resp.Private, time.Time{})...)
		plan.MintegralFiles = plan.Files
	case !needsSend(ctx, state, plan, planned, applied):
		tflog.Info(ctx, "the configured files are what Mintegral holds; nothing is sent", transfer.LogFields(map[string]any{"ta_id": id}))
		files, _ := appliedFiles(ctx, plan.Files)
		resp.Diagnostics.Append(writeApplied(ctx, resp.Private, &mintegralApplied{Files: files})...)
		resp.Diagnostics.Append(writeHeldSince(ctx, resp.Private, time.Time{})...)
		plan.MintegralFiles = plan.Files
	case !r.updatable(state):
		// No warning here: Terraform plans again just before this apply,
		// and that plan's warning says the update is postponed.
		tflog.Info(ctx, "the 12-hour window holds the Mintegral audience's update back", transfer.LogFields(map[string]any{"ta_id": id, "updatable_after": state.UpdatableAfter.ValueString()}))
		held := &mintegralApplied{Files: []mintegralAppliedFile{}, Pending: true}
		switch {
		case applied != nil:
			held.Files = applied.Files
		case !state.Files.IsNull():
			held.Files, _ = appliedFiles(ctx, state.Files)
		}
		since, diags := readHeldSince(ctx, req.Private)
		resp.Diagnostics.Append(diags...)
		if applied == nil || !applied.Pending || since.IsZero() {
			since = r.now()
		}
		resp.Diagnostics.Append(writeApplied(ctx, resp.Private, held)...)
		resp.Diagnostics.Append(writeHeldSince(ctx, resp.Private, since)...)
		if plan.MintegralFiles.IsUnknown() { // known when the plan already held it: keep that
			plan.MintegralFiles = heldFilesList(ctx, held, state.Files, state.DeviceTypes)
		}
	default:
		r.send(ctx, state, &plan, resp)
		return
	}
	plan.DeviceTypes, plan.UpdatedAt, plan.UpdatableAfter = state.DeviceTypes, state.UpdatedAt, state.UpdatableAfter
	if !plan.Files.IsNull() && !planned.IsUnknown() && planned.Equal(state.DeviceTypes) {
		plan.DeviceTypes = planned
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// send puts the configured files on the audience and reads back the
// times and device types Mintegral reports.
func (r *MintegralAudienceResource) send(ctx context.Context, state mintegralAudienceModel, plan *mintegralAudienceModel, resp *resource.UpdateResponse) {
	timeout, diags := plan.Timeouts.Update(ctx, 10*time.Minute)
	resp.Diagnostics.Append(diags...)
	client, diags := r.data.mintegralClient(mintegralAudienceType)
	resp.Diagnostics.Append(diags...)
	files := audienceFiles(ctx, plan.Files, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	id := state.TaID.ValueInt64()
	lastUpdated, _ := time.Parse(time.RFC3339, state.UpdatedAt.ValueString())
	tflog.Info(ctx, "updating the files of a Mintegral audience", transfer.LogFields(map[string]any{"ta_id": id, "files": len(files)}))
	if err := client.UpdateAudience(ctx, id, files, lastUpdated); err != nil {
		resp.Diagnostics.AddError("Updating the Mintegral audience failed", audienceErrorDetail(ctx, err, fmt.Sprintf("update audience %q (ta_id %d)", state.Name.ValueString(), id), "timeouts.update"))
		return
	}
	sent, _ := appliedFiles(ctx, plan.Files)
	resp.Diagnostics.Append(writeApplied(ctx, resp.Private, &mintegralApplied{Files: sent})...)
	resp.Diagnostics.Append(writeHeldSince(ctx, resp.Private, time.Time{})...)
	plan.MintegralFiles = plan.Files
	a, err := client.GetAudience(ctx, id)
	switch {
	case err != nil:
		resp.Diagnostics.AddError("Reading the updated Mintegral audience failed", fmt.Sprintf("Audience %d was updated, but reading it back failed: %s. Run %s.", id, err, cliCommand("refresh")))
		return
	case a == nil:
		resp.Diagnostics.AddError("Mintegral audience disappeared", fmt.Sprintf("Audience %d was updated, but Mintegral's list no longer shows it; it may have been deleted in Mintegral's console.", id))
		return
	}
	// A known planned list is what the files name; only an unknown one
	// (the device types change) takes Mintegral's read-back.
	if plan.DeviceTypes.IsUnknown() {
		plan.DeviceTypes = stringList(a.DeviceTypes)
	}
	plan.setTimes(a)
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

// Delete implements resource.Resource.
func (r *MintegralAudienceResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	ctx = r.data.logContext(ctx)
	var state mintegralAudienceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := state.Timeouts.Delete(ctx, 10*time.Minute)
	resp.Diagnostics.Append(diags...)
	client, diags := r.data.mintegralClient(mintegralAudienceType)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	id := state.TaID.ValueInt64()
	if err := client.DeleteAudience(ctx, id); err != nil {
		resp.Diagnostics.AddError("Deleting the Mintegral audience failed", audienceErrorDetail(ctx, err, fmt.Sprintf("delete audience %q (ta_id %d)", state.Name.ValueString(), id), "timeouts.delete"))
	}
}

// ImportState implements resource.ResourceWithImportState: by the ta_id,
// as the import ID or as the identity's ta_id (an import block's
// identity, Terraform 1.12 and later).
func (r *MintegralAudienceResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	var id int64
	if req.ID == "" && req.Identity != nil {
		var identity mintegralAudienceIdentityModel
		resp.Diagnostics.Append(req.Identity.Get(ctx, &identity)...)
		if resp.Diagnostics.HasError() {
			return
		}
		if id = identity.TaID.ValueInt64(); id <= 0 {
			resp.Diagnostics.AddAttributeError(path.Root("ta_id"), "Invalid import identity", fmt.Sprintf("ta_id %s is not a Mintegral audience ID; give the audience's numeric ta_id, e.g. identity = { ta_id = 1148 }.", identity.TaID))
			return
		}
	} else {
		var err error
		id, err = strconv.ParseInt(strings.TrimSpace(req.ID), 10, 64)
		if err != nil || id <= 0 {
			resp.Diagnostics.AddError("Invalid import ID", fmt.Sprintf("%q is not a Mintegral audience ID; import with the numeric ta_id, e.g. `%s %s.example 1148`.", req.ID, cliCommand("import"), mintegralAudienceType))
			return
		}
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), strconv.FormatInt(id, 10))...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("ta_id"), id)...)
	resp.Diagnostics.Append(setIdentity(ctx, resp.Identity, id)...)
}

// issuesURL is where users report what a platform does differently.
const issuesURL = "https://github.com/audiencekit/terraform-provider-audience/issues"

// audienceErrorDetail explains a failed audience call: a timeout, or the
// platform's own error.
func audienceErrorDetail(ctx context.Context, err error, op, timeoutAttr string) string {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Sprintf("%s timed out: %s. Raise %s if Mintegral is slow to answer.", op, err, timeoutAttr)
	}
	var apiErr *mintegral.APIError
	if errors.As(err, &apiErr) && apiErr.DataPathRejected() {
		return fmt.Sprintf("Mintegral refused to %s: %s. If the data_path comes from an audience_mintegral_file, upload it again with %s -replace=<that resource's address>.", op, err, cliCommand("apply"))
	}
	if errors.As(err, &apiErr) && apiErr.IDFVRefused() {
		return fmt.Sprintf("Mintegral refused to %s: %s. Report it at %s so the provider can settle the numbering.", op, err, issuesURL)
	}
	if errors.As(err, &apiErr) {
		return fmt.Sprintf("Mintegral refused to %s: %s", op, err)
	}
	return fmt.Sprintf("%s failed: %s", op, err)
}
