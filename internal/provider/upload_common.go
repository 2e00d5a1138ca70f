package provider

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/audiencekit/terraform-provider-audience/internal/client/transfer"
)

// Upload resources share one vocabulary: source, a name sent to the
// platform (defaulting to the base name of source), file_md5, file_size.
// The file is hashed at plan time, so editing it plans a replacement with
// no filemd5() boilerplate, and large content never enters state.

func sourceSchema() schema.StringAttribute {
	return schema.StringAttribute{
		Required:            true,
		MarkdownDescription: "Path of the local file to upload. Its content is hashed at plan time: a change of content, or of this path, replaces the resource (a new upload).",
		PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
	}
}

func uploadNameSchema(description string) schema.StringAttribute {
	return schema.StringAttribute{
		Optional:            true,
		Computed:            true,
		MarkdownDescription: description + " Defaults to the base name of `source`. Changing it replaces the resource.",
	}
}

func fileMD5Schema() schema.StringAttribute {
	return schema.StringAttribute{
		Computed:            true,
		MarkdownDescription: "MD5 of the file content (lowercase hex), computed by streaming the file at plan time.",
	}
}

func fileSizeSchema() schema.Int64Attribute {
	return schema.Int64Attribute{
		Computed:            true,
		MarkdownDescription: "Size of the file in bytes.",
	}
}

// localSource is what planning learned about the file to upload.
type localSource struct {
	Path string
	Name string // name sent to the platform
	MD5  string // lowercase hex
	Size int64
}

// uploadSpec says how one resource names, limits and checks its source.
type uploadSpec struct {
	// NameAttribute is the attribute holding the name sent to the platform.
	NameAttribute string
	// MaxSize is the platform's size limit in bytes.
	MaxSize int64
	// Check validates the file beyond size (name rules, content); it runs
	// at plan time, before any request is sent.
	Check func(src localSource) diag.Diagnostics
}

// inspectSource stats, checks and hashes a source file. Every failure is
// reported against the source attribute with the file named.
func inspectSource(spec uploadSpec, sourcePath, name string) (localSource, diag.Diagnostics) {
	var diags diag.Diagnostics
	src := localSource{Path: sourcePath, Name: name}
	at := path.Root("source")
	st, err := os.Stat(sourcePath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		diags.AddAttributeError(at, "Source file not found", fmt.Sprintf("%s does not exist. Check the path (relative paths are relative to the directory terraform runs in; path.module helps).", sourcePath))
		return src, diags
	case err != nil:
		diags.AddAttributeError(at, "Cannot read source file", err.Error())
		return src, diags
	case !st.Mode().IsRegular():
		diags.AddAttributeError(at, "Source is not a regular file", fmt.Sprintf("%s is a %s; point source at a file.", sourcePath, st.Mode().Type()))
		return src, diags
	case st.Size() == 0:
		diags.AddAttributeError(at, "Source file is empty", fmt.Sprintf("%s is empty; an audience file needs at least one entry.", sourcePath))
		return src, diags
	case spec.MaxSize > 0 && st.Size() > spec.MaxSize:
		diags.AddAttributeError(at, "Source file too large", fmt.Sprintf("%s is %s (%d bytes); the platform accepts at most %s. Split the audience into several files.", sourcePath, transfer.HumanBytes(st.Size()), st.Size(), transfer.HumanBytes(spec.MaxSize)))
		return src, diags
	}
	if spec.Check != nil {
		diags.Append(spec.Check(src)...)
		if diags.HasError() {
			return src, diags
		}
	}
	md5hex, size, err := transfer.HashFile(sourcePath)
	if err != nil {
		diags.AddAttributeError(at, "Cannot read source file", err.Error())
		return src, diags
	}
	src.MD5, src.Size = md5hex, size
	return src, diags
}

// planUpload fills file_md5, file_size and the default name into the plan,
// validates the file, and plans a replacement when the content changed.
// When source is unknown (it comes from another resource), those values
// stay unknown and are computed when the final plan is made at apply.
func planUpload(ctx context.Context, spec uploadSpec, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return // destroy
	}
	var source, configName types.String
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root("source"), &source)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root(spec.NameAttribute), &configName)...)
	if resp.Diagnostics.HasError() {
		return
	}
	namePath := path.Root(spec.NameAttribute)
	if source.IsUnknown() {
		if configName.IsNull() {
			resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, namePath, types.StringUnknown())...)
		}
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("file_md5"), types.StringUnknown())...)
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("file_size"), types.Int64Unknown())...)
		return
	}
	if configName.IsUnknown() {
		return // checked again once it is known, at apply
	}
	name := configName.ValueString()
	if configName.IsNull() {
		name = filepath.Base(source.ValueString())
	}
	src, diags := inspectSource(spec, source.ValueString(), name)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	tflog.Debug(ctx, "hashed upload source", map[string]any{"source": src.Path, "md5": src.MD5, "size": src.Size})
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, namePath, types.StringValue(name))...)
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("file_md5"), types.StringValue(src.MD5))...)
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("file_size"), types.Int64Value(src.Size))...)

	if req.State.Raw.IsNull() {
		return
	}
	var stateMD5, stateName types.String
	resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("file_md5"), &stateMD5)...)
	resp.Diagnostics.Append(req.State.GetAttribute(ctx, namePath, &stateName)...)
	if stateMD5.ValueString() != src.MD5 {
		resp.RequiresReplace = append(resp.RequiresReplace, path.Root("file_md5"))
	}
	if stateName.ValueString() != name {
		resp.RequiresReplace = append(resp.RequiresReplace, namePath)
	}
}

// sourceForApply returns the planned source. If planning could not hash it
// (source was unknown), it is inspected now, with the same checks.
func sourceForApply(spec uploadSpec, source, name, md5hex types.String, size types.Int64) (localSource, diag.Diagnostics) {
	if !md5hex.IsUnknown() && !md5hex.IsNull() && !name.IsUnknown() {
		return localSource{Path: source.ValueString(), Name: name.ValueString(), MD5: md5hex.ValueString(), Size: size.ValueInt64()}, nil
	}
	n := name.ValueString()
	if name.IsUnknown() || name.IsNull() {
		n = filepath.Base(source.ValueString())
	}
	return inspectSource(spec, source.ValueString(), n)
}

// tflogLogger adapts transfer.Logger to tflog, so client progress and
// retries show with TF_LOG=INFO and pass through the masking set up by
// providerData.logContext.
type tflogLogger struct{}

func (tflogLogger) Info(ctx context.Context, msg string, fields map[string]any) {
	tflog.Info(ctx, msg, fields)
}

func (tflogLogger) Debug(ctx context.Context, msg string, fields map[string]any) {
	tflog.Debug(ctx, msg, fields)
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

// uploadLifecycle is the lifecycle of an upload that its platform can
// neither read back nor delete. Refresh keeps the state (the framework
// pre-fills it), every argument forces replacement so Update only ever
// echoes the plan, and destroy forgets the upload.
type uploadLifecycle struct {
	forgetMessage string // logged when the resource leaves state
}

// Read implements resource.Resource: nothing to look up.
func (uploadLifecycle) Read(context.Context, resource.ReadRequest, *resource.ReadResponse) {}

// Update implements resource.Resource; it is unreachable in practice.
func (uploadLifecycle) Update(_ context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	resp.State.Raw = req.Plan.Raw.Copy()
}

// Delete implements resource.Resource: the platform has no delete API.
func (u uploadLifecycle) Delete(ctx context.Context, req resource.DeleteRequest, _ *resource.DeleteResponse) {
	var id types.String
	_ = req.State.GetAttribute(ctx, path.Root("id"), &id)
	tflog.Info(ctx, u.forgetMessage, map[string]any{"id": id.ValueString()})
}
