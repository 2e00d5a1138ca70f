package provider

import (
	"context"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/list"
	"github.com/hashicorp/terraform-plugin-framework/list/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/audiencekit/terraform-provider-audience/internal/client/mintegral"
	"github.com/audiencekit/terraform-provider-audience/internal/client/transfer"
)

var (
	_ list.ListResource              = &MintegralAudienceListResource{}
	_ list.ListResourceWithConfigure = &MintegralAudienceListResource{}
)

// NewMintegralAudienceListResource is the constructor of the
// audience_mintegral_audience list resource (terraform query).
func NewMintegralAudienceListResource() list.ListResource {
	return &MintegralAudienceListResource{}
}

// MintegralAudienceListResource lists the account's Mintegral audiences
// for terraform query, so audiences made in Mintegral's console can be
// imported with generated configuration.
type MintegralAudienceListResource struct {
	data *providerData
}

type mintegralAudienceListModel struct {
	Name       types.String `tfsdk:"name"`
	NamePrefix types.String `tfsdk:"name_prefix"`
	Platform   types.String `tfsdk:"platform"`
	AreaType   types.Int64  `tfsdk:"area_type"`
	ExcludeIDs types.List   `tfsdk:"exclude_ids"`
}

// Metadata implements list.ListResource.
func (l *MintegralAudienceListResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_mintegral_audience"
}

// ListResourceConfigSchema implements list.ListResource.
func (l *MintegralAudienceListResource) ListResourceConfigSchema(_ context.Context, _ list.ListResourceSchemaRequest, resp *list.ListResourceSchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Lists the account's Mintegral audiences, every page of Mintegral's list, for `terraform query` (Terraform 1.14 and later). " +
			"With `-generate-config-out`, Terraform writes an `import` block and a resource block for each; the files an audience was built from are left out, " +
			"since Mintegral's list does not return their data paths. All filters are optional and combine. " +
			"Leave out the audiences this configuration already manages (`exclude_ids`, or a `name_prefix` only the others have): " +
			"generated again, one would sit at two addresses, and destroying either deletes the live audience.",
		Attributes: map[string]schema.Attribute{
			"name": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Only audiences whose name matches, as Mintegral's fuzzy name search does (a part of the name matches).",
				Validators:          []validator.String{stringvalidator.LengthAtLeast(1)},
			},
			"name_prefix": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Only audiences whose name starts with this, exactly (case included).",
				Validators:          []validator.String{stringvalidator.LengthAtLeast(1)},
			},
			"exclude_ids": schema.ListAttribute{
				Optional:    true,
				ElementType: types.Int64Type,
				MarkdownDescription: "Leave out the audiences with these `ta_id`s, typically the ones this configuration already manages " +
					"(`terraform show -json` lists them; see the example). Excluded audiences do not count towards `limit`.",
				Validators: []validator.List{listvalidator.NoNullValues()},
			},
			"platform": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Only audiences of this platform: `android`, `ios` or `mix`.",
				Validators:          []validator.String{stringvalidator.OneOf(mintegral.PlatformNames()...)},
			},
			"area_type": schema.Int64Attribute{
				Optional:            true,
				MarkdownDescription: "Only audiences of this data cluster: `1` outside mainland China, `2` mainland China.",
				Validators:          []validator.Int64{int64validator.OneOf(mintegral.AreaOutsideMainlandChina, mintegral.AreaMainlandChina)},
			},
		},
	}
}

// Configure implements list.ListResourceWithConfigure.
func (l *MintegralAudienceListResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	l.data = configureData(req.ProviderData, &resp.Diagnostics)
}

// List implements list.ListResource. Results stream page by page, and
// listing stops once Terraform has as many as it asked for.
func (l *MintegralAudienceListResource) List(ctx context.Context, req list.ListRequest, stream *list.ListResultsStream) {
	ctx = l.data.logContext(ctx)
	var cfg mintegralAudienceListModel
	diags := req.Config.Get(ctx, &cfg)
	client, clientDiags := l.data.mintegralClient(mintegralAudienceType)
	diags.Append(clientDiags...)
	var excluded []int64
	if !cfg.ExcludeIDs.IsNull() && !cfg.ExcludeIDs.IsUnknown() {
		diags.Append(cfg.ExcludeIDs.ElementsAs(ctx, &excluded, false)...)
	}
	if diags.HasError() {
		stream.Results = list.ListResultsStreamDiagnostics(diags)
		return
	}
	skip := make(map[int64]bool, len(excluded))
	for _, id := range excluded {
		skip[id] = true
	}
	prefix := cfg.NamePrefix.ValueString()
	filter := mintegral.AudienceFilter{Name: cfg.Name.ValueString(), Platform: cfg.Platform.ValueString()}
	stream.Results = func(push func(list.ListResult) bool) {
		var sent int64
		stopped := false
		err := client.EachAudiencePage(ctx, filter, func(page []mintegral.Audience) bool {
			for i := range page {
				a := &page[i]
				// The List API filters by neither area, prefix nor exclusion.
				if (!cfg.AreaType.IsNull() && int64(a.AreaType) != cfg.AreaType.ValueInt64()) || !strings.HasPrefix(a.Name, prefix) || skip[a.ID] {
					continue
				}
				if req.Limit > 0 && sent >= req.Limit {
					stopped = true
					return false
				}
				sent++
				if !push(audienceListResult(ctx, req, a)) {
					stopped = true
					return false
				}
			}
			return true
		})
		tflog.Debug(ctx, "listed Mintegral audiences for terraform query", transfer.LogFields(map[string]any{"count": sent}))
		if err != nil && !stopped {
			var d diag.Diagnostics
			d.AddError("Listing Mintegral audiences failed", err.Error())
			push(list.ListResult{Diagnostics: d})
		}
	}
}

// audienceListResult is one listed audience: its identity, a display
// name, and, when asked for, the resource as an import would read it
// (files left null: Mintegral does not return data paths).
func audienceListResult(ctx context.Context, req list.ListRequest, a *mintegral.Audience) list.ListResult {
	result := req.NewListResult(ctx)
	result.DisplayName = a.Name
	result.Diagnostics.Append(setIdentity(ctx, result.Identity, a.ID)...)
	if !req.IncludeResource {
		return result
	}
	var m mintegralAudienceModel
	m.setRead(a)
	for name, value := range map[string]attr.Value{
		"id": m.ID, "ta_id": m.TaID, "name": m.Name, "platform": m.Platform, "area_type": m.AreaType,
		"device_types": m.DeviceTypes, "created_at": m.CreatedAt, "updated_at": m.UpdatedAt, "updatable_after": m.UpdatableAfter,
	} {
		result.Diagnostics.Append(result.Resource.SetAttribute(ctx, path.Root(name), value)...)
	}
	return result
}
