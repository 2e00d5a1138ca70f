package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/audiencekit/terraform-provider-audience/internal/client/transfer"
)

// Upload resources share one vocabulary (source, a name sent to the
// platform defaulting to the base name of source, file_md5, file_size)
// and one skeleton: uploadResource plans, checks credentials, opens the
// file and records the result; each resource supplies an uploadKind with
// its platform call. New content, or a change of an argument the platform
// sees, is an in-place update that uploads again; a new source path with
// the same content only records the path. Large content never enters
// state.

func sourceSchema() schema.StringAttribute {
	return schema.StringAttribute{
		Required: true,
		MarkdownDescription: "Path of the local file to upload. New content is uploaded again as an in-place update; a new path holding the same content (another folder or another name) uploads nothing. " +
			"A plan of an unchanged file costs a `stat`: the provider remembers what it hashed and reads the file again only when its size, times or inode moved.",
	}
}

func uploadNameSchema(description string) schema.StringAttribute {
	return schema.StringAttribute{
		Optional:            true,
		Computed:            true,
		MarkdownDescription: description + " Defaults to the base name of `source` at the first upload; a `source` renamed later keeps the name the platform has (a rename is not new content), unless the new name has another extension. Changing it uploads the file again (an in-place update).",
	}
}

func fileMD5Schema() schema.StringAttribute {
	return schema.StringAttribute{
		Computed:            true,
		MarkdownDescription: "MD5 of the file content (lowercase hex), known at plan time.",
	}
}

func fileSizeSchema() schema.Int64Attribute {
	return schema.Int64Attribute{
		Computed:            true,
		MarkdownDescription: "Size of the file in bytes.",
	}
}

// handleSchema is a platform handle: kept while nothing is uploaded, known
// after apply when the file goes again.
func handleSchema(description string) schema.StringAttribute {
	return schema.StringAttribute{
		Computed:            true,
		MarkdownDescription: description,
		PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
	}
}

// uploadKind is what one upload resource adds to the shared skeleton.
type uploadKind struct {
	typeName      string // resource type, named in credential errors
	platform      string // platform name for messages
	nameAttribute string // attribute holding the name sent to the platform
	// platformArgs are the arguments, besides the name, that the platform
	// sees: a change uploads again.
	platformArgs []string
	// checkArgs are arguments the platform does not see but the checks
	// of the content follow (a device type): a check passed under other
	// values vouches for nothing.
	checkArgs []string
	// handles are the computed attributes the platform returns, unknown
	// in a plan that uploads.
	handles map[string]attr.Value
	// entries, for a list upload, names what its lines hold ("device
	// IDs"): the resource has entry_count and list_guard, counted and
	// judged at plan by the skeleton.
	entries       string
	createTimeout time.Duration
	// client checks the platform's credentials.
	client func(d *providerData) diag.Diagnostics
	// spec says how the plan's source is limited and checked.
	spec func(ctx context.Context, plan tfsdk.Plan) (uploadSpec, diag.Diagnostics)
	// planArgs, when set, fills computed arguments the platform sees that
	// derive from the name, before the plan compares them with state.
	planArgs func(ctx context.Context, name string, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse)
	// planMore fills the resource's own planned values once the source is
	// known (src.Checked tells whether its content was checked now).
	planMore func(ctx context.Context, src localSource, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse)
	// upload sends the file and sets the platform handle into state,
	// which starts as the plan with source, name, md5 and size filled.
	upload func(ctx context.Context, d *providerData, src localSource, state *tfsdk.State) diag.Diagnostics
}

func (k uploadKind) countsEntries() bool { return k.entries != "" }

// credentialsOf adapts a providerData client accessor, such as
// (*providerData).mintegralClient, to uploadKind.client.
func credentialsOf[C any](accessor func(*providerData, string) (C, diag.Diagnostics), typeName string) func(*providerData) diag.Diagnostics {
	return func(d *providerData) diag.Diagnostics {
		_, diags := accessor(d, typeName)
		return diags
	}
}

// fixedSpec is uploadKind.spec for a resource whose checks do not depend
// on the plan.
func fixedSpec(spec uploadSpec) func(context.Context, tfsdk.Plan) (uploadSpec, diag.Diagnostics) {
	return func(context.Context, tfsdk.Plan) (uploadSpec, diag.Diagnostics) { return spec, nil }
}

// uploadResource is the skeleton every upload resource embeds.
type uploadResource struct {
	kind uploadKind
	data *providerData
}

// Configure implements resource.ResourceWithConfigure.
func (u *uploadResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	u.data = configureData(req.ProviderData, &resp.Diagnostics)
}

// ModifyPlan checks credentials, then the source: every local mistake
// fails at plan time, before any request.
func (u *uploadResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return // destroy
	}
	ctx = u.data.logContext(ctx)
	if u.data != nil {
		resp.Diagnostics.Append(u.kind.client(u.data)...)
		if resp.Diagnostics.HasError() {
			return
		}
	}
	src, ok := u.planSource(ctx, req, resp)
	if !ok || resp.Diagnostics.HasError() {
		return
	}
	if u.kind.countsEntries() {
		u.planEntries(ctx, src, req, resp)
	}
	if u.kind.planMore != nil {
		u.kind.planMore(ctx, src, req, resp)
	}
}

// planEntries plans entry_count (counted when new content was checked,
// kept from state while the content stays) and judges a counted list
// against the platform's last count with the list guard.
func (u *uploadResource) planEntries(ctx context.Context, src localSource, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	prior := types.Int64Null()
	if !req.State.Raw.IsNull() {
		resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("entry_count"), &prior)...)
	}
	count := types.Int64Unknown()
	switch {
	case src.Entries >= 0:
		count = types.Int64Value(src.Entries)
	case !src.Uploads && !req.State.Raw.IsNull():
		count = prior
	}
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("entry_count"), count)...)
	if src.Uploads && src.Entries >= 0 {
		guard, diags := u.guard(ctx, req.Config.GetAttribute)
		resp.Diagnostics.Append(diags...)
		resp.Diagnostics.Append(guard.judge(u.kind.typeName, src.Path, knownOr(prior, -1), src.Entries)...)
	}
}

// guard is the resource's list_guard over the provider's.
func (u *uploadResource) guard(ctx context.Context, get func(context.Context, path.Path, any) diag.Diagnostics) (listGuard, diag.Diagnostics) {
	base := defaultListGuard
	if u.data != nil {
		base = u.data.listGuard
	}
	m, diags := readListGuard(ctx, get)
	return m.over(base), diags
}

func knownOr(v types.Int64, fallback int64) int64 {
	if v.IsNull() || v.IsUnknown() {
		return fallback
	}
	return v.ValueInt64()
}

// Create implements resource.Resource.
func (u *uploadResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	ctx = u.data.logContext(ctx)
	resp.State.Raw = req.Plan.Raw.Copy()
	resp.Diagnostics.Append(u.apply(ctx, req.Plan, req.Config, &resp.State, resp.Private, newUpload, -1)...)
	if resp.Diagnostics.HasError() {
		resp.State.RemoveResource(ctx)
	}
}

// Update implements resource.Resource. When only the source path changed
// (same content, same arguments), nothing is uploaded. A failed upload
// keeps the prior state.
func (u *uploadResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	ctx = u.data.logContext(ctx)
	var priorID types.String
	resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("id"), &priorID)...)
	if !u.uploadNeeded(ctx, req.Plan, req.State, &resp.Diagnostics) {
		src, diags := u.planned(ctx, req.Plan, req.Config, priorID.ValueString())
		resp.Diagnostics.Append(diags...)
		if resp.Diagnostics.HasError() {
			return
		}
		tflog.Info(ctx, "nothing the platform sees changed: recording the new source path or settings without uploading", map[string]any{"source": src.Path})
		resp.State.Raw = req.Plan.Raw.Copy()
		u.remember(ctx, src, resp.Private)
		return
	}
	priorEntries := int64(-1)
	if u.kind.countsEntries() {
		var prior types.Int64
		resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("entry_count"), &prior)...)
		priorEntries = knownOr(prior, -1)
	}
	newState := tfsdk.State{Schema: req.Plan.Schema, Raw: req.Plan.Raw.Copy()}
	diags := u.apply(ctx, req.Plan, req.Config, &newState, resp.Private, priorID.ValueString(), priorEntries)
	resp.Diagnostics.Append(diags...)
	if !diags.HasError() {
		resp.State = newState
	}
}

// apply uploads the planned file and fills state. An update uploads the
// same way a create does, so both use timeouts.create. priorEntries is
// the platform's count for a list upload (-1: none known).
func (u *uploadResource) apply(ctx context.Context, plan tfsdk.Plan, config tfsdk.Config, state *tfsdk.State, private privateSetter, priorID string, priorEntries int64) diag.Diagnostics {
	var diags diag.Diagnostics
	var t timeouts.Value
	diags.Append(plan.GetAttribute(ctx, path.Root("timeouts"), &t)...)
	timeout, d := t.Create(ctx, u.kind.createTimeout)
	diags.Append(d...)
	diags.Append(u.kind.client(u.data)...)
	src, d := u.planned(ctx, plan, config, priorID)
	diags.Append(d...)
	if diags.HasError() {
		return diags
	}
	diags.Append(state.SetAttribute(ctx, path.Root(u.kind.nameAttribute), src.Name)...)
	diags.Append(state.SetAttribute(ctx, path.Root("file_md5"), src.MD5)...)
	diags.Append(state.SetAttribute(ctx, path.Root("file_size"), src.Size)...)
	if u.kind.countsEntries() {
		diags.Append(u.applyEntries(ctx, plan, config, state, &src, priorEntries)...)
	}
	if diags.HasError() {
		return diags
	}
	ctx, cancel := context.WithTimeout(context.WithValue(ctx, createTimeoutKey{}, timeout), timeout)
	defer cancel()
	diags.Append(u.kind.upload(ctx, u.data, src, state)...)
	if diags.HasError() {
		return diags
	}
	u.remember(ctx, src, private)
	return diags
}

// applyEntries fills entry_count when the plan could not count (the
// source was known only at apply), judging the list as a plan would have.
func (u *uploadResource) applyEntries(ctx context.Context, plan tfsdk.Plan, config tfsdk.Config, state *tfsdk.State, src *localSource, priorEntries int64) diag.Diagnostics {
	var planned types.Int64
	diags := plan.GetAttribute(ctx, path.Root("entry_count"), &planned)
	if !planned.IsUnknown() || diags.HasError() {
		return diags
	}
	if src.Entries < 0 {
		spec, d := u.kind.spec(ctx, plan)
		diags.Append(d...)
		if diags.HasError() {
			return diags
		}
		rec, err := hashSource(src.Abs, true)
		if err != nil {
			diags.AddAttributeError(path.Root("source"), "Cannot read source file", err.Error())
			return diags
		}
		diags.Append(checkSource(spec, src, rec, nil)...)
		if diags.HasError() {
			return diags
		}
	}
	guard, d := u.guard(ctx, config.GetAttribute)
	diags.Append(d...)
	diags.Append(guard.judge(u.kind.typeName, src.Path, priorEntries, src.Entries)...)
	diags.Append(state.SetAttribute(ctx, path.Root("entry_count"), src.Entries)...)
	return diags
}

// ImportState implements resource.ResourceWithImportState with the reason
// an upload cannot be imported.
func (u *uploadResource) ImportState(_ context.Context, _ resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resp.Diagnostics.AddError("Cannot import "+u.kind.typeName,
		fmt.Sprintf("%s cannot read an uploaded file back, so there is nothing to import it from. Let %s upload the file again, or, to stop managing an upload, use %s.", u.kind.platform, cliCommand("apply"), cliCommand("state rm")))
}

// Read implements resource.Resource: the platforms cannot read uploads
// back, so refresh keeps state as it is (the framework pre-fills it).
func (u *uploadResource) Read(context.Context, resource.ReadRequest, *resource.ReadResponse) {}

// Delete implements resource.Resource: the platforms have no delete for
// uploads, so destroy forgets and says so.
func (u *uploadResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var id, source types.String
	_ = req.State.GetAttribute(ctx, path.Root("id"), &id)
	_ = req.State.GetAttribute(ctx, path.Root("source"), &source)
	resp.Diagnostics.AddWarning(fmt.Sprintf("%s upload stays on the platform", u.kind.platform),
		fmt.Sprintf("%s has no API to delete uploads: %s (from %s) was removed from Terraform state only and stays on %s.", u.kind.platform, id.ValueString(), source.ValueString(), u.kind.platform))
	tflog.Info(ctx, "removing upload from state; the platform keeps it", map[string]any{"id": id.ValueString()})
}

// tflogLogger adapts transfer.Logger to tflog, so client progress and
// retries show with TF_LOG=INFO and pass through the masking set up by
// providerData.logContext.
type tflogLogger struct{}

func (tflogLogger) Info(ctx context.Context, msg string, fields map[string]any) {
	tflog.Info(ctx, msg, transfer.LogFields(fields))
}

func (tflogLogger) Debug(ctx context.Context, msg string, fields map[string]any) {
	tflog.Debug(ctx, msg, transfer.LogFields(fields))
}

// configureData extracts providerData in Configure methods.
func configureData(raw any, diags *diag.Diagnostics) *providerData {
	if raw == nil {
		return nil // provider not configured yet (validation)
	}
	d, ok := raw.(*providerData)
	if !ok {
		diags.AddError("Unexpected provider data", fmt.Sprintf("expected *providerData, got %T; this is a bug in the provider", raw))
		return nil
	}
	return d
}
