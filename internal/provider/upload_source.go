package provider

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/audiencekit/terraform-provider-audience/internal/client/transfer"
	"github.com/audiencekit/terraform-provider-audience/internal/filestate"
)

// localSource is what planning learned about the file to upload.
type localSource struct {
	Path    string // as configured
	Abs     string
	Name    string // name sent to the platform
	NameSet bool   // Name is configured, not the base name of Path
	MD5     string // lowercase hex
	Size    int64
	Entries int64 // counted entries, -1 unless the spec counts them
	Checked bool  // the content was checked by this plan
	Uploads bool  // the plan uploads (a create, or something the platform sees changed)
	// key names the planned upload (resource type, prior id and name), so
	// the final plan during apply finds what the first plan chose.
	key string
	// rules names the checks this source passes (see checkRules).
	rules string
}

// uploadSpec says how one resource limits and checks its source.
type uploadSpec struct {
	// MaxSize is the platform's size limit in bytes.
	MaxSize int64
	// Check validates name and content; it runs at plan time whenever the
	// content or the name is new, before any request is sent.
	Check func(src localSource) diag.Diagnostics
	// Content, when set, checks the content as it is written to it. The
	// pass that hashes new content feeds it, so the check costs no read
	// of its own.
	Content func(src localSource) contentCheck
	// Count, when set, validates the content and counts its entries.
	Count func(src localSource) (int64, diag.Diagnostics)
}

// contentCheck sees a source's content in writes; Finish tells what it
// found. Whoever creates one finishes it.
type contentCheck interface {
	io.Writer
	Finish() diag.Diagnostics
}

// privateSourceKey holds, in each resource's private state, the
// filestate.Record of the content last uploaded or planned.
const privateSourceKey = "source"

// hashSource and feedSource read a source; tests wrap them to count reads.
var (
	hashSource = filestate.Hash
	feedSource = filestate.Feed
)

// sourceCache is shared by every resource of the provider process.
var sourceCache = sync.OnceValue(func() *filestate.Cache { return filestate.OpenCache(filestate.DefaultDirs()...) })

func priorRecord(ctx context.Context, p privateGetter) (filestate.Record, bool) {
	var rec filestate.Record
	ok, _ := getPrivate(ctx, p, privateSourceKey, &rec)
	return rec, ok
}

func setRecord(ctx context.Context, p privateSetter, rec filestate.Record) {
	if rec.Fingerprint != "" {
		_ = setPrivate(ctx, p, privateSourceKey, rec)
	}
}

// newUpload stands for the prior id of a resource being created.
const newUpload = "new"

// uploadKey names a planned upload in the cache's pending plans. Two
// resources of different types on one file, both new and sending the same
// name, each keep their own.
func uploadKey(typeName, priorID, name string) string {
	return typeName + "\x00" + priorID + "\x00" + name
}

// checkRules names the rules a plan checks the source against, for the
// cache's record of passed checks: the resource type, the name sent (rules
// follow its extension), the arguments the platform sees (a package type
// picks other rules) or the checks follow (a device type), and the
// provider version (a newer one may check more). Only a check passed under
// the same rules on the same bytes spares a plan from checking: another
// platform's acceptance vouches for nothing.
func (u *uploadResource) checkRules(plan tftypes.Value, name string) string {
	parts := []string{u.kind.typeName, name}
	for _, arg := range append(slices.Clone(u.kind.platformArgs), u.kind.checkArgs...) {
		v, _, err := tftypes.WalkAttributePath(plan, tftypes.NewAttributePath().WithAttributeName(arg))
		val, ok := v.(tftypes.Value)
		if err != nil || !ok {
			parts = append(parts, arg+" ?")
			continue
		}
		parts = append(parts, arg+" "+val.String())
	}
	if u.data != nil {
		parts = append(parts, "version "+u.data.version)
	}
	return strings.Join(parts, "\x00")
}

// statSource checks what a stat can: existence, type, emptiness, size.
func statSource(spec uploadSpec, source string) (string, filestate.Identity, diag.Diagnostics) {
	var diags diag.Diagnostics
	at := path.Root("source")
	abs, err := filepath.Abs(source)
	if err != nil {
		diags.AddAttributeError(at, "Cannot resolve source path", fmt.Sprintf("%s: %s", source, err))
		return "", filestate.Identity{}, diags
	}
	id, fi, err := filestate.Stat(abs)
	switch {
	case filestate.IsNotExist(err):
		diags.AddAttributeError(at, "Source file not found", fmt.Sprintf("%s does not exist. Check the path (relative paths are relative to the directory terraform runs in; path.module helps).", source))
	case err != nil:
		diags.AddAttributeError(at, "Cannot read source file", err.Error())
	case !fi.Mode().IsRegular():
		diags.AddAttributeError(at, "Source is not a regular file", fmt.Sprintf("%s is a %s; point source at a file.", source, fi.Mode().Type()))
	case fi.Size() == 0:
		diags.AddAttributeError(at, "Source file is empty", fmt.Sprintf("%s is empty; an audience file needs at least one entry.", source))
	case spec.MaxSize > 0 && fi.Size() > spec.MaxSize:
		diags.AddAttributeError(at, "Source file too large", fmt.Sprintf("%s is %s (%d bytes); the platform accepts at most %s. Split the audience into several files.", source, transfer.HumanBytes(fi.Size()), fi.Size(), transfer.HumanBytes(spec.MaxSize)))
	}
	return abs, id, diags
}

// sourceRecord returns the MD5 and fingerprint of the file at abs, reading
// it only when stat cannot vouch for a known record:
//   - same identity as the record in private state or in the cache: no read;
//   - else the fingerprint alone when a known content may still be there
//     (fresh checkout, touch, move), and MD5 only if the content is new;
//   - else (new resource, or the size moved) one pass computing both.
//
// finalMD5 is, in the final plan during apply, the MD5 the first plan chose:
// a record of exactly the current identity with that MD5 is reused even when
// it was taken too soon after the file's last write to prove anything alone,
// because the upload hashes what it sends and stops on a mismatch.
//
// newCheck, when not nil, makes a content check for the pass that computes
// MD5, that is, for content new to the record; that check is returned (and
// is the caller's to finish), or nil when no such pass ran. read tells
// whether the file was read at all.
func sourceRecord(abs string, id filestate.Identity, prior filestate.Record, hasPrior bool, finalMD5 string, newCheck func() contentCheck) (rec filestate.Record, read bool, fed contentCheck, err error) {
	cache := sourceCache()
	if hasPrior && prior.MD5 != "" && prior.Matches(id) {
		return prior, false, nil, nil
	}
	if rec, ok := cache.Lookup(abs, id); ok && rec.MD5 != "" {
		return rec, false, nil, nil
	}
	if rec, ok := cache.LookupExact(abs, id); ok && finalMD5 != "" && rec.MD5 == finalMD5 {
		return rec, false, nil, nil
	}
	hashNew := func() (filestate.Record, error) {
		if newCheck == nil {
			return hashSource(abs, true)
		}
		fed = newCheck()
		return hashSource(abs, true, fed)
	}
	if hasPrior && prior.MD5 != "" && prior.Size == id.Size {
		rec, err = hashSource(abs, false)
	} else {
		rec, err = hashNew()
	}
	if err == nil && rec.MD5 == "" {
		switch md5, ok := cache.FindMD5(abs, rec.Fingerprint); {
		case rec.Fingerprint == prior.Fingerprint:
			rec.MD5 = prior.MD5
		case ok:
			rec.MD5 = md5
		default:
			rec, err = hashNew()
		}
	}
	if err != nil {
		finish(fed)
		return rec, true, nil, err
	}
	cache.Remember(abs, rec)
	return rec, true, fed, nil
}

// finish ends a content check whose findings are not wanted.
func finish(c contentCheck) {
	if c != nil {
		c.Finish()
	}
}

// planSource fills name, file_md5 and file_size into the plan, checks the
// file, and marks the platform handle unknown when the plan uploads. It
// returns false when the source cannot be known yet.
func (u *uploadResource) planSource(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) (localSource, bool) {
	k := u.kind
	namePath := path.Root(k.nameAttribute)
	var source, configName types.String
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root("source"), &source)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, namePath, &configName)...)
	if resp.Diagnostics.HasError() {
		return localSource{}, false
	}
	creating := req.State.Raw.IsNull()
	if source.IsUnknown() || configName.IsUnknown() {
		// Known at apply, when the final plan checks and hashes it.
		if configName.IsNull() {
			resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, namePath, types.StringUnknown())...)
		}
		u.planUpload(ctx, resp, !creating)
		return localSource{}, false
	}
	spec, diags := k.spec(ctx, req.Plan)
	resp.Diagnostics.Append(diags...)
	if diags.HasError() {
		return localSource{}, false
	}

	var state struct{ id, md5, name types.String }
	if !creating {
		resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("id"), &state.id)...)
		resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("file_md5"), &state.md5)...)
		resp.Diagnostics.Append(req.State.GetAttribute(ctx, namePath, &state.name)...)
	}
	name := defaultName(configName, source.ValueString(), state.name)
	abs, id, diags := statSource(spec, source.ValueString())
	if diags.HasError() && filestate.IsNotExist(statErr(abs)) {
		switch {
		case savedPlanApply():
			resp.Diagnostics.AddAttributeError(path.Root("source"), "Source file not found", savedPlanMissingSource(source.ValueString()))
			return localSource{}, false
		case creating:
			// statSource's error names the file.
		case plainPlan():
			resp.Diagnostics.AddAttributeError(path.Root("source"), "Source file not found", missingUploadedSource(source.ValueString(), state.md5.ValueString()))
			return localSource{}, false
		default:
			// terraform destroy plans the configuration first, and the
			// protocol does not say it is a destroy: unless the command line
			// shows a plain plan or apply, the plan warns and the apply
			// fails naming the file.
			resp.Diagnostics.AddAttributeWarning(path.Root("source"), "Source file not found", missingUploadedSource(source.ValueString(), state.md5.ValueString())+" "+cliCommand("apply")+" fails until the file is back.")
			u.planUpload(ctx, resp, true)
			return localSource{}, false
		}
	}
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return localSource{}, false
	}

	prior, hasPrior := priorRecord(ctx, req.Private)
	if hasPrior && prior.MD5 != state.md5.ValueString() {
		hasPrior = false // private state from another content: do not trust it
	}
	if !hasPrior && !creating {
		// State from before records were kept: its MD5 still decides.
		prior, hasPrior = filestate.Record{MD5: state.md5.ValueString(), Identity: filestate.Identity{Size: -1}}, state.md5.ValueString() != ""
	}
	priorID := newUpload
	if !creating {
		priorID = state.id.ValueString()
	}
	key := uploadKey(k.typeName, priorID, name)
	cache := sourceCache()
	pending, hasPending := cache.Planned(abs, key)
	finalMD5 := ""
	if hasPending && isFinalPlan(pending) {
		finalMD5 = pending.MD5
	}
	src := localSource{Path: source.ValueString(), Abs: abs, Name: name, NameSet: !configName.IsNull(), Entries: -1, key: key}
	rec, read, fed, err := sourceRecord(abs, id, prior, hasPrior, finalMD5, spec.newCheck(src))
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("source"), "Cannot read source file", err.Error())
		return localSource{}, false
	}
	tflog.Debug(ctx, "upload source", map[string]any{"source": source.ValueString(), "md5": rec.MD5, "size": transfer.LogBytes(rec.Size), "read": read})
	src.MD5, src.Size = rec.MD5, rec.Size

	if k.planArgs != nil {
		k.planArgs(ctx, name, req, resp)
	}
	argsChanged := !creating && u.platformArgsChanged(resp.Plan.Raw, req.State.Raw)
	nameChanged := !creating && state.name.ValueString() != name
	uploads := creating || nameChanged || argsChanged || state.md5.ValueString() != src.MD5
	src.Uploads = uploads
	src.rules = u.checkRules(resp.Plan.Raw, name)
	// What is uploaded now was never checked; what stays was checked when
	// this resource uploaded it. A plan does not check again content that
	// passed the same rules (a whole read of a 5 GB file, in the final plan
	// during apply above all), unless the check also counts entries for
	// the plan.
	verdict, checkedBefore := cache.PassedVerdict(abs, src.rules, rec)
	checkedBefore = checkedBefore && spec.Count == nil && (!u.kind.countsEntries() || verdict.Entries >= 0)
	switch {
	case uploads && !checkedBefore:
		resp.Diagnostics.Append(checkSource(spec, &src, rec, fed)...)
		if resp.Diagnostics.HasError() {
			return src, false
		}
	case uploads:
		// What the check found still shows in this plan.
		finish(fed)
		src.Entries = verdict.Entries
		for _, n := range verdict.Warnings {
			resp.Diagnostics.AddAttributeWarning(path.Root("source"), n.Summary, n.Detail)
		}
	default:
		finish(fed)
	}
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, namePath, types.StringValue(name))...)
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("file_md5"), types.StringValue(src.MD5))...)
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("file_size"), types.Int64Value(src.Size))...)
	if uploads && !creating {
		u.planHandlesUnknown(ctx, resp)
	}
	setRecord(ctx, resp.Private, rec)

	// The final plan during apply sees what the first plan saw only
	// through the cache: content that differs from what a pending plan
	// chose to upload changed in between.
	if hasPending && pending.MD5 != src.MD5 && isFinalPlan(pending) {
		cache.Applied(abs, src.key)
		resp.Diagnostics.AddAttributeError(path.Root("source"), "Source changed since plan",
			fmt.Sprintf("%s: source changed since plan: planned md5 %s, now %s; run %s again.", src.Path, pending.MD5, src.MD5, cliCommand("plan")))
		return src, false
	}
	// Any change Terraform will apply (an upload, or only a moved source
	// or a new argument) is planned again during apply, so the content it
	// was planned with is remembered for that final plan to compare.
	if uploads || !creating && !resp.Plan.Raw.Equal(req.State.Raw) {
		cache.Plan(abs, src.key, src.MD5, planOrigin())
	} else {
		cache.Applied(abs, src.key)
	}
	return src, true
}

// missingUploadedSource explains a plain plan of an uploaded resource whose
// source is gone: an error, so a plan job fails where the file went
// missing rather than an apply job later.
func missingUploadedSource(source, md5 string) string {
	return fmt.Sprintf("%s does not exist, so it cannot be compared with the upload recorded in state (md5 %s). Restore the file, or remove the resource from the configuration: %s works without the file.", source, md5, cliCommand("destroy"))
}

// savedPlanApply reports whether the provider runs under terraform apply
// of a saved plan (terraform apply PLANFILE), as far as the command line
// tells.
func savedPlanApply() bool {
	_, args := terraformProcess()
	cmd, _ := subcommand(args)
	return cmd == "apply" && appliesSavedPlan(args)
}

// savedPlanMissingSource explains a source missing when a saved plan is
// applied: Terraform does not read data sources again then, so files they
// wrote at plan time exist only where the plan ran (a CI job that carried
// the plan file but not the generated folder).
func savedPlanMissingSource(source string) string {
	return fmt.Sprintf("%s does not exist in this working directory, yet the saved plan being applied was made with it. "+
		"Terraform does not read data sources again when it applies a saved plan, so a file generated at plan time "+
		"(an audience_id_list output_path, an export's output_dir) exists only in the working directory where "+cliCommand("plan")+" ran. "+
		"Carry the saved plan, .terraform.lock.hcl and the generated lists from the plan job to the apply job, but not a raw export, which holds personal data "+
		"and which the apply does not read (or run plan and apply in one job); then plan again: resources this apply completed before stopping stay applied, "+
		"and a new plan continues from them.", source)
}

func statErr(abs string) error {
	_, _, err := filestate.Stat(abs)
	return err
}

// newCheck returns a maker of the spec's content check for src, or nil.
func (spec uploadSpec) newCheck(src localSource) func() contentCheck {
	if spec.Content == nil {
		return nil
	}
	return func() contentCheck { return spec.Content(src) }
}

// checkSource runs the spec's checks on a source whose content or name is
// new to this plan; rec is the record planning took of it. fed, when not
// nil, is the content check that already saw the content while rec was
// hashed; otherwise the check reads the file, and its read must see the
// content rec describes. A source that passes is recorded as passed under
// src.rules.
func checkSource(spec uploadSpec, src *localSource, rec filestate.Record, fed contentCheck) diag.Diagnostics {
	var diags diag.Diagnostics
	if spec.Check != nil {
		diags.Append(spec.Check(*src)...)
		if diags.HasError() {
			finish(fed)
			return diags
		}
	}
	if spec.Content != nil {
		if fed == nil {
			fed = spec.Content(*src)
			seen, err := feedSource(src.Abs, fed)
			if err == nil && seen.Fingerprint != rec.Fingerprint {
				err = fmt.Errorf("%s changed while it was planned: the content checked is not the content hashed (md5 %s). Run %s again once nothing writes the file", src.Path, src.MD5, cliCommand("plan"))
			}
			if err != nil {
				finish(fed)
				diags.AddAttributeError(path.Root("source"), "Cannot read source file", err.Error())
				return diags
			}
		}
		diags.Append(fed.Finish()...)
		if diags.HasError() {
			return diags
		}
		if c, ok := fed.(entryCounter); ok {
			src.Entries = c.Entries()
		}
	}
	if spec.Count != nil {
		n, d := spec.Count(*src)
		diags.Append(d...)
		src.Entries = n
	}
	src.Checked = true
	if !diags.HasError() {
		sourceCache().RecordPassed(src.Abs, src.rules, rec, filestate.Verdict{Entries: src.Entries, Warnings: warningNotes(diags)})
	}
	return diags
}

// entryCounter is a content check that counts a list's entries (a header
// row excluded); Entries is valid once Finish passed.
type entryCounter interface {
	Entries() int64
}

// warningNotes keeps the warnings of a passed check for plans that trust
// its verdict instead of checking again.
func warningNotes(diags diag.Diagnostics) []filestate.Note {
	var notes []filestate.Note
	for _, d := range diags.Warnings() {
		notes = append(notes, filestate.Note{Summary: d.Summary(), Detail: d.Detail()})
	}
	return notes
}

// defaultName is the name sent to the platform when the configuration
// sets none: the base name of source, except that a source renamed to a
// name of the same kind (extension) keeps the name the platform has, so a
// rename is not new content: nothing is uploaded for it, and the
// platform's handle (a Mintegral data_path holds the name) stays.
func defaultName(config types.String, source string, prior types.String) string {
	if !config.IsNull() {
		return config.ValueString()
	}
	base := filepath.Base(source)
	if kept := prior.ValueString(); kept != "" && nameKind(kept) == nameKind(base) {
		return kept
	}
	return base
}

// nameKind is what the platforms read from a name: its extension, with
// the one under a compression suffix (".txt.gz").
func nameKind(name string) string {
	name = strings.ToLower(name)
	ext := filepath.Ext(name)
	if ext == ".gz" || ext == ".zip" {
		ext = filepath.Ext(strings.TrimSuffix(name, ext)) + ext
	}
	return ext
}

// planUpload marks file_md5, file_size and (for an update) the handle
// unknown: the source is learnt at apply.
func (u *uploadResource) planUpload(ctx context.Context, resp *resource.ModifyPlanResponse, updating bool) {
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("file_md5"), types.StringUnknown())...)
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("file_size"), types.Int64Unknown())...)
	if updating {
		u.planHandlesUnknown(ctx, resp)
	}
}

func (u *uploadResource) planHandlesUnknown(ctx context.Context, resp *resource.ModifyPlanResponse) {
	for name, unknown := range u.kind.handles {
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root(name), unknown)...)
	}
}

func (u *uploadResource) platformArgsChanged(plan, state tftypes.Value) bool {
	for _, name := range u.kind.platformArgs {
		at := tftypes.NewAttributePath().WithAttributeName(name)
		planned, _, perr := tftypes.WalkAttributePath(plan, at)
		prior, _, serr := tftypes.WalkAttributePath(state, at)
		if perr != nil || serr != nil {
			return true
		}
		pv, ok1 := planned.(tftypes.Value)
		sv, ok2 := prior.(tftypes.Value)
		if !ok1 || !ok2 || !pv.Equal(sv) {
			return true
		}
	}
	return false
}

// uploadNeeded tells Update whether anything the platform sees changed.
func (u *uploadResource) uploadNeeded(ctx context.Context, plan tfsdk.Plan, state tfsdk.State, diags *diag.Diagnostics) bool {
	for _, attr := range []string{"file_md5", u.kind.nameAttribute} {
		var planned, prior types.String
		diags.Append(plan.GetAttribute(ctx, path.Root(attr), &planned)...)
		diags.Append(state.GetAttribute(ctx, path.Root(attr), &prior)...)
		if !planned.Equal(prior) {
			return true
		}
	}
	return u.platformArgsChanged(plan.Raw, state.Raw)
}

// planned returns the source as planned. If planning could not hash it
// (source was unknown), it is checked and hashed now, with the same checks.
func (u *uploadResource) planned(ctx context.Context, plan tfsdk.Plan, config tfsdk.Config, priorID string) (localSource, diag.Diagnostics) {
	var diags diag.Diagnostics
	var source, name, configName, md5 types.String
	var size types.Int64
	diags.Append(plan.GetAttribute(ctx, path.Root("source"), &source)...)
	diags.Append(plan.GetAttribute(ctx, path.Root(u.kind.nameAttribute), &name)...)
	diags.Append(config.GetAttribute(ctx, path.Root(u.kind.nameAttribute), &configName)...)
	diags.Append(plan.GetAttribute(ctx, path.Root("file_md5"), &md5)...)
	diags.Append(plan.GetAttribute(ctx, path.Root("file_size"), &size)...)
	spec, d := u.kind.spec(ctx, plan)
	diags.Append(d...)
	if diags.HasError() {
		return localSource{}, diags
	}
	abs, id, d := statSource(spec, source.ValueString())
	diags.Append(d...)
	if diags.HasError() {
		return localSource{}, diags
	}
	src := localSource{Path: source.ValueString(), Abs: abs, Name: name.ValueString(), MD5: md5.ValueString(), Size: size.ValueInt64(), Entries: -1}
	if name.IsUnknown() || name.IsNull() {
		src.Name = filepath.Base(src.Path)
	}
	src.NameSet = !configName.IsNull()
	src.key = uploadKey(u.kind.typeName, priorID, src.Name)
	src.rules = u.checkRules(plan.Raw, src.Name)
	if md5.IsUnknown() || md5.IsNull() {
		rec, _, fed, err := sourceRecord(abs, id, filestate.Record{}, false, "", spec.newCheck(src))
		if err != nil {
			diags.AddAttributeError(path.Root("source"), "Cannot read source file", err.Error())
			return src, diags
		}
		src.MD5, src.Size = rec.MD5, rec.Size
		diags.Append(checkSource(spec, &src, rec, fed)...)
	}
	return src, diags
}

// remember records in private state, after apply, what the uploaded
// content was (its MD5 and fingerprint), so a later plan decides
// "unchanged" without MD5 wherever it runs: at the cost of a stat when the
// file's identity is trusted, of a fingerprint pass otherwise (a fresh
// clone). A file written just before the apply keeps its content record;
// only its identity is withheld, being too recent to vouch for the bytes.
func (u *uploadResource) remember(ctx context.Context, src localSource, private privateSetter) {
	cache := sourceCache()
	cache.Applied(src.Abs, src.key)
	id, _, err := filestate.Stat(src.Abs)
	if err != nil {
		return
	}
	rec, ok := cache.LookupContent(src.Abs, src.MD5, id)
	if !ok {
		return
	}
	if !rec.Matches(id) {
		rec = rec.ContentOnly()
	}
	setRecord(ctx, private, rec)
}

// createTimeoutKey carries the resource's timeouts.create into uploadFailed.
type createTimeoutKey struct{}

// uploadFailed explains an upload failure: content that changed since
// plan, a timeout, or the platform's own error.
func uploadFailed(ctx context.Context, platform string, err error, src localSource) diag.Diagnostics {
	var diags diag.Diagnostics
	switch {
	case errors.Is(err, transfer.ErrContentChanged):
		now := "unreadable"
		if rec, herr := filestate.Hash(src.Abs, true); herr == nil {
			now = rec.MD5
		}
		diags.AddAttributeError(path.Root("source"), "Source changed since plan",
			fmt.Sprintf("%s: source changed since plan: planned md5 %s, now %s; run %s again. The state keeps the previous upload.", src.Path, src.MD5, now, cliCommand("plan")))
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		// Only the resource's own deadline is blamed on timeouts.create; the
		// per-request API limit is named by the client's error itself.
		limit := "its limit"
		if t, ok := ctx.Value(createTimeoutKey{}).(time.Duration); ok {
			limit = t.String()
		}
		diags.AddError(platform+" upload failed", fmt.Sprintf("Uploading %s did not finish within timeouts.create (%s): %s. Raise timeouts.create in the resource's timeouts block if the file is large or the network slow.", src.Path, limit, err))
	default:
		diags.AddError(platform+" upload failed", fmt.Sprintf("Uploading %s (%s) failed: %s", src.Path, src.Name, err))
	}
	return diags
}

// nameError reports a name the platform refuses on the attribute it came
// from, with advice that fits: change file_name when it is set, else
// rename the file or set file_name to a name such as suggestion (never
// "set file_name" when it is).
func nameError(src localSource, title, problem, platform, suggestion string) diag.Diagnostics {
	var diags diag.Diagnostics
	if src.NameSet {
		diags.AddAttributeError(path.Root("file_name"), title, problem+" Change file_name to a name that does.")
		return diags
	}
	diags.AddAttributeError(path.Root("source"), title,
		fmt.Sprintf("%s The name sent to %s is the base name of source (%s). Rename the file, or set file_name to the name %s should receive, such as %s.", problem, platform, src.Path, platform, suggestion))
	return diags
}

// suggestedName is name with ext in place of its last extension (or after
// the name, when there is none).
func suggestedName(name, ext string) string {
	base := filepath.Base(name)
	if old := filepath.Ext(base); old != "" && old != base {
		base = strings.TrimSuffix(base, old)
	}
	return base + ext
}
