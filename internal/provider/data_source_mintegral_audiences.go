package provider

import (
	"context"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/datasource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/audiencekit/terraform-provider-audience/internal/client/mintegral"
	"github.com/audiencekit/terraform-provider-audience/internal/client/transfer"
)

var (
	_ datasource.DataSource              = &MintegralAudiencesDataSource{}
	_ datasource.DataSourceWithConfigure = &MintegralAudiencesDataSource{}
)

const mintegralAudiencesType = "audience_mintegral_audiences"

// NewMintegralAudiencesDataSource is the audience_mintegral_audiences
// constructor.
func NewMintegralAudiencesDataSource() datasource.DataSource {
	return &MintegralAudiencesDataSource{}
}

// MintegralAudiencesDataSource lists Mintegral audiences, every page.
type MintegralAudiencesDataSource struct {
	data *providerData
}

type mintegralAudiencesModel struct {
	IDs       []types.Int64                   `tfsdk:"ids"`
	Name      types.String                    `tfsdk:"name"`
	Platform  types.String                    `tfsdk:"platform"`
	Audiences []mintegralAudienceSummaryModel `tfsdk:"audiences"`
	Timeouts  timeouts.Value                  `tfsdk:"timeouts"`
}

type mintegralAudienceSummaryModel struct {
	ID          types.Int64  `tfsdk:"id"`
	Name        types.String `tfsdk:"name"`
	Platform    types.String `tfsdk:"platform"`
	AreaType    types.Int64  `tfsdk:"area_type"`
	DeviceTypes []string     `tfsdk:"device_types"`
	CreatedAt   types.String `tfsdk:"created_at"`
	UpdatedAt   types.String `tfsdk:"updated_at"`
}

// Metadata implements datasource.DataSource.
func (d *MintegralAudiencesDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_mintegral_audiences"
}

// Schema implements datasource.DataSource.
func (d *MintegralAudiencesDataSource) Schema(ctx context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Lists Mintegral audiences (Get Audience List), following every page. All filters are optional and combine; without any, every audience of the account is listed.",
		Attributes: map[string]schema.Attribute{
			"ids": schema.ListAttribute{
				Optional:            true,
				ElementType:         types.Int64Type,
				MarkdownDescription: "Only these audience IDs (`ta_id`).",
				Validators:          []validator.List{listvalidator.SizeAtLeast(1), listvalidator.ValueInt64sAre(int64validator.AtLeast(1))},
			},
			"name": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Only audiences whose name matches, as Mintegral's fuzzy name search does (a part of the name matches).",
				Validators:          []validator.String{stringvalidator.LengthAtLeast(1)},
			},
			"platform": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Only audiences of this platform: `android`, `ios` or `mix`.",
				Validators:          []validator.String{stringvalidator.OneOf(mintegral.PlatformNames()...)},
			},
			"audiences": schema.ListNestedAttribute{
				Computed:            true,
				MarkdownDescription: "The matching audiences, ordered as Mintegral lists them.",
				NestedObject: schema.NestedAttributeObject{
					Attributes: map[string]schema.Attribute{
						"id":           schema.Int64Attribute{Computed: true, MarkdownDescription: "Audience ID (`ta_id`)."},
						"name":         schema.StringAttribute{Computed: true, MarkdownDescription: "Audience name."},
						"platform":     schema.StringAttribute{Computed: true, MarkdownDescription: "`android`, `ios` or `mix`."},
						"area_type":    schema.Int64Attribute{Computed: true, MarkdownDescription: "`1` outside mainland China, `2` mainland China."},
						"device_types": schema.ListAttribute{Computed: true, ElementType: types.StringType, MarkdownDescription: "Device types of the audience's files, e.g. `IDFA`, `GAID_MD5`."},
						"created_at":   schema.StringAttribute{Computed: true, MarkdownDescription: "Creation time (`ctime`), RFC 3339."},
						"updated_at":   schema.StringAttribute{Computed: true, MarkdownDescription: "Last update time (`utime`), RFC 3339; another update is accepted 12 hours later."},
					},
				},
			},
			"timeouts": timeouts.Attributes(ctx),
		},
	}
}

// Configure implements datasource.DataSourceWithConfigure.
func (d *MintegralAudiencesDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = configureData(req.ProviderData, &resp.Diagnostics)
}

// Read implements datasource.DataSource.
func (d *MintegralAudiencesDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	ctx = d.data.logContext(ctx)
	var cfg mintegralAudiencesModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := cfg.Timeouts.Read(ctx, 5*time.Minute)
	resp.Diagnostics.Append(diags...)
	client, diags := d.data.mintegralClient(mintegralAudiencesType)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	filter := mintegral.AudienceFilter{Name: cfg.Name.ValueString(), Platform: cfg.Platform.ValueString()}
	for _, id := range cfg.IDs {
		filter.IDs = append(filter.IDs, id.ValueInt64())
	}
	list, err := client.ListAudiences(ctx, filter)
	if err != nil {
		resp.Diagnostics.AddError("Listing Mintegral audiences failed", err.Error())
		return
	}
	tflog.Debug(ctx, "listed Mintegral audiences", transfer.LogFields(map[string]any{"count": len(list)}))
	cfg.Audiences = make([]mintegralAudienceSummaryModel, len(list))
	for i, a := range list {
		cfg.Audiences[i] = mintegralAudienceSummaryModel{
			ID:          types.Int64Value(a.ID),
			Name:        types.StringValue(a.Name),
			Platform:    types.StringValue(a.Platform),
			AreaType:    types.Int64Value(int64(a.AreaType)),
			DeviceTypes: a.DeviceTypes,
			CreatedAt:   types.StringValue(a.Created.Format(time.RFC3339)),
			UpdatedAt:   types.StringValue(a.Updated.Format(time.RFC3339)),
		}
		if cfg.Audiences[i].DeviceTypes == nil {
			cfg.Audiences[i].DeviceTypes = []string{}
		}
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &cfg)...)
}
