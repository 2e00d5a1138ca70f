// Command floorprovider is the benchmark's second floor (scripts/bench-scale.sh):
// the smallest terraform-plugin-framework provider, served as the framework's
// documentation serves one, with one resource of the scale workspace's shape:
// a required string in, a computed string out. What a plan of it costs is
// what any framework provider of the same versions costs for the same number
// of resources, before it does any work of its own. Not part of the provider.
package main

import (
	"context"
	"log"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	providerschema "github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

func main() {
	err := providerserver.Serve(context.Background(), func() provider.Provider { return floorProvider{} },
		providerserver.ServeOpts{Address: "registry.terraform.io/audiencekit/floor"})
	if err != nil {
		log.Fatal(err)
	}
}

type floorProvider struct{}

func (floorProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "floor"
}

func (floorProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = providerschema.Schema{}
}

func (floorProvider) Configure(context.Context, provider.ConfigureRequest, *provider.ConfigureResponse) {
}

func (floorProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{func() resource.Resource { return dataResource{} }}
}

func (floorProvider) DataSources(context.Context) []func() datasource.DataSource { return nil }

// dataResource is floor_data: output is input, as terraform_data's is.
type dataResource struct{}

type dataModel struct {
	Input  types.String `tfsdk:"input"`
	Output types.String `tfsdk:"output"`
}

func (dataResource) Metadata(_ context.Context, _ resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = "floor_data"
}

func (dataResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{Attributes: map[string]schema.Attribute{
		"input":  schema.StringAttribute{Required: true},
		"output": schema.StringAttribute{Computed: true},
	}}
}

func (dataResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var m dataModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	m.Output = m.Input
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// Read reads and writes the state back, as a provider's Read does around
// its API call.
func (dataResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var m dataModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (dataResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var m dataModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	m.Output = m.Input
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (dataResource) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {}
