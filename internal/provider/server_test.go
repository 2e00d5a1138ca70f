package provider

import (
	"bytes"
	"context"
	"errors"
	"math/big"
	"reflect"
	"runtime"
	"testing"
	"weak"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
	ctymsgpack "github.com/zclconf/go-cty/cty/msgpack"
)

// The wrapper must be what main.go serves, and hide no RPC of the
// framework's: tf6server finds list resources by type assertion.
func TestNewServerWrapsTheFrameworkServer(t *testing.T) {
	srv := NewServer("test")()
	if _, ok := srv.(*server); !ok {
		t.Fatalf("NewServer served %T, not the wrapper: the framework's server no longer has every RPC of fullProviderServer", srv)
	}
	if _, ok := srv.(tfprotov6.ProviderServerWithListResource); !ok { //nolint:staticcheck // the interface tf6server asserts
		t.Fatal("the served provider hides list resources")
	}
}

// Terraform decodes the state before a refresh from JSON and the refreshed
// state from what the provider sends, then (Terraform 1.10 to 1.14) compares
// the two with reflect.DeepEqual to decide whether refresh-only found
// anything. This test decodes both as Terraform does, with the cty library
// Terraform uses.
func TestRefreshedStateDecodesAsThePriorState(t *testing.T) {
	fileType := tftypes.Object{AttributeTypes: map[string]tftypes.Type{"device_type": tftypes.String, "data_path": tftypes.String}}
	typ := tftypes.Object{AttributeTypes: map[string]tftypes.Type{
		"id":        tftypes.String,
		"ta_id":     tftypes.Number,
		"file_size": tftypes.Number,
		"ratio":     tftypes.Number,
		"huge":      tftypes.Number,
		"negative":  tftypes.Number,
		"enabled":   tftypes.Bool,
		"note":      tftypes.String,
		"tags":      tftypes.Set{ElementType: tftypes.String},
		"files":     tftypes.List{ElementType: fileType},
		"labels":    tftypes.Map{ElementType: tftypes.String},
		"pair":      tftypes.Tuple{ElementTypes: []tftypes.Type{tftypes.String, tftypes.Number}},
		"timeouts":  tftypes.Object{AttributeTypes: map[string]tftypes.Type{"create": tftypes.String}},
		"response":  tftypes.DynamicPseudoType,
		"nested":    tftypes.DynamicPseudoType,
		"nothing":   tftypes.DynamicPseudoType,
	}}
	huge, _, _ := big.ParseFloat("123456789012345678901234567890.5", 10, 512, big.ToNearestEven)
	responseType := tftypes.Object{AttributeTypes: map[string]tftypes.Type{"count": tftypes.Number, "ok": tftypes.Bool}}
	// A dynamic value of every kind of type, whose type travels as JSON.
	nestedType := tftypes.Tuple{ElementTypes: []tftypes.Type{
		tftypes.List{ElementType: tftypes.Number},
		tftypes.Set{ElementType: tftypes.Bool},
		tftypes.Map{ElementType: tftypes.String},
		tftypes.Object{AttributeTypes: map[string]tftypes.Type{"x": tftypes.DynamicPseudoType}},
	}}
	val := tftypes.NewValue(typ, map[string]tftypes.Value{
		"id":        tftypes.NewValue(tftypes.String, "1001"),
		"ta_id":     tftypes.NewValue(tftypes.Number, big.NewFloat(1001)),
		"file_size": tftypes.NewValue(tftypes.Number, big.NewFloat(209715233)),
		"ratio":     tftypes.NewValue(tftypes.Number, big.NewFloat(0.25)),
		"huge":      tftypes.NewValue(tftypes.Number, huge),
		"negative":  tftypes.NewValue(tftypes.Number, big.NewFloat(-7)),
		"enabled":   tftypes.NewValue(tftypes.Bool, true),
		"note":      tftypes.NewValue(tftypes.String, "<quoted \"text\" & ünïcode>\n"),
		"tags":      tftypes.NewValue(tftypes.Set{ElementType: tftypes.String}, []tftypes.Value{tftypes.NewValue(tftypes.String, "b"), tftypes.NewValue(tftypes.String, "a")}),
		"files": tftypes.NewValue(tftypes.List{ElementType: fileType}, []tftypes.Value{
			tftypes.NewValue(fileType, map[string]tftypes.Value{
				"device_type": tftypes.NewValue(tftypes.String, "IDFA"),
				"data_path":   tftypes.NewValue(tftypes.String, "s3://bucket/ios.txt"),
			}),
		}),
		"labels":   tftypes.NewValue(tftypes.Map{ElementType: tftypes.String}, map[string]tftypes.Value{"team": tftypes.NewValue(tftypes.String, "growth")}),
		"pair":     tftypes.NewValue(tftypes.Tuple{ElementTypes: []tftypes.Type{tftypes.String, tftypes.Number}}, []tftypes.Value{tftypes.NewValue(tftypes.String, "x"), tftypes.NewValue(tftypes.Number, big.NewFloat(2))}),
		"timeouts": tftypes.NewValue(tftypes.Object{AttributeTypes: map[string]tftypes.Type{"create": tftypes.String}}, nil),
		"response": tftypes.NewValue(responseType, map[string]tftypes.Value{"count": tftypes.NewValue(tftypes.Number, big.NewFloat(3)), "ok": tftypes.NewValue(tftypes.Bool, false)}),
		"nested": tftypes.NewValue(nestedType, []tftypes.Value{
			tftypes.NewValue(tftypes.List{ElementType: tftypes.Number}, []tftypes.Value{tftypes.NewValue(tftypes.Number, big.NewFloat(1))}),
			tftypes.NewValue(tftypes.Set{ElementType: tftypes.Bool}, []tftypes.Value{tftypes.NewValue(tftypes.Bool, true)}),
			tftypes.NewValue(tftypes.Map{ElementType: tftypes.String}, map[string]tftypes.Value{"k": tftypes.NewValue(tftypes.String, "v")}),
			tftypes.NewValue(tftypes.Object{AttributeTypes: map[string]tftypes.Type{"x": tftypes.DynamicPseudoType}}, map[string]tftypes.Value{"x": tftypes.NewValue(tftypes.String, "inner")}),
		}),
		"nothing": tftypes.NewValue(tftypes.DynamicPseudoType, nil),
	})
	// What the framework sends: MessagePack.
	sent, err := tfprotov6.NewDynamicValue(typ, val)
	if err != nil {
		t.Fatal(err)
	}
	// The same type as Terraform knows it from the schema.
	ty := cty.Object(map[string]cty.Type{
		"id":        cty.String,
		"ta_id":     cty.Number,
		"file_size": cty.Number,
		"ratio":     cty.Number,
		"huge":      cty.Number,
		"negative":  cty.Number,
		"enabled":   cty.Bool,
		"note":      cty.String,
		"tags":      cty.Set(cty.String),
		"files":     cty.List(cty.Object(map[string]cty.Type{"device_type": cty.String, "data_path": cty.String})),
		"labels":    cty.Map(cty.String),
		"pair":      cty.Tuple([]cty.Type{cty.String, cty.Number}),
		"timeouts":  cty.Object(map[string]cty.Type{"create": cty.String}),
		"response":  cty.DynamicPseudoType,
		"nested":    cty.DynamicPseudoType,
		"nothing":   cty.DynamicPseudoType,
	})
	asSent, err := ctymsgpack.Unmarshal(sent.MsgPack, ty)
	if err != nil {
		t.Fatal(err)
	}
	// The state before the refresh: the same object, written to the state
	// file as JSON and read back.
	stored, err := ctyjson.Marshal(asSent, ty)
	if err != nil {
		t.Fatal(err)
	}
	prior, err := ctyjson.Unmarshal(stored, ty)
	if err != nil {
		t.Fatal(err)
	}
	if reflect.DeepEqual(prior, asSent) {
		t.Log("MessagePack decodes as the state file does with this cty version: the JSON re-encoding is no longer needed")
	}

	converted, err := stateAsJSON(&sent, typ)
	if err != nil {
		t.Fatal(err)
	}
	if len(converted.MsgPack) != 0 || len(converted.JSON) == 0 {
		t.Fatalf("re-encoded state: %d bytes of MessagePack, %d of JSON; want JSON only", len(converted.MsgPack), len(converted.JSON))
	}
	refreshed, err := ctyjson.Unmarshal(converted.JSON, ty)
	if err != nil {
		t.Fatalf("Terraform cannot decode the JSON state %s: %v", converted.JSON, err)
	}
	if !refreshed.RawEquals(asSent) {
		t.Fatalf("the JSON state is another value:\n%#v\nwant\n%#v", refreshed, asSent)
	}
	if !reflect.DeepEqual(refreshed, prior) {
		for name := range ty.AttributeTypes() {
			if !reflect.DeepEqual(refreshed.GetAttr(name), prior.GetAttr(name)) {
				t.Errorf("attribute %s decodes unlike the prior state's: refresh-only would report a change", name)
			}
		}
		t.Fatal("the refreshed state is not deeply equal to the prior state")
	}
	if got, want := refreshed.GetAttr("huge"), cty.MustParseNumberVal("123456789012345678901234567890.5"); !got.RawEquals(want) {
		t.Errorf("huge = %#v, want %#v", got, want)
	}
}

// A null state (the object is gone) and a state that does not match the
// type are left as the framework sent them.
func TestStateAsJSONLeavesNullAndMismatchedStates(t *testing.T) {
	typ := tftypes.Object{AttributeTypes: map[string]tftypes.Type{"id": tftypes.String}}
	null, err := tfprotov6.NewDynamicValue(typ, tftypes.NewValue(typ, nil))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stateAsJSON(&null, typ); err == nil {
		t.Error("a null state was re-encoded")
	}
	other := tftypes.Object{AttributeTypes: map[string]tftypes.Type{"id": tftypes.Number}}
	mismatched, err := tfprotov6.NewDynamicValue(other, tftypes.NewValue(other, map[string]tftypes.Value{"id": tftypes.NewValue(tftypes.Number, big.NewFloat(1))}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stateAsJSON(&mismatched, typ); err == nil {
		t.Error("a state of another type was re-encoded")
	}
}

// An unknown dynamic value (which a state should never hold) is an
// error, not an endless descent into its own dynamic type.
func TestWriteJSONValueRefusesAnUnknownDynamicValue(t *testing.T) {
	var b bytes.Buffer
	val := tftypes.NewValue(tftypes.DynamicPseudoType, tftypes.UnknownValue)
	if err := writeJSONValue(&b, val, tftypes.DynamicPseudoType); err == nil {
		t.Fatalf("an unknown dynamic value was written as %s", b.String())
	}
}

// Types travel in Terraform's own JSON form, optional attributes included.
func TestWriteJSONTypeMatchesTerraform(t *testing.T) {
	typ := tftypes.Object{
		AttributeTypes: map[string]tftypes.Type{
			"a": tftypes.String,
			"b": tftypes.List{ElementType: tftypes.Number},
			"c": tftypes.Tuple{ElementTypes: []tftypes.Type{tftypes.Bool, tftypes.DynamicPseudoType}},
			"d": tftypes.Map{ElementType: tftypes.Set{ElementType: tftypes.String}},
		},
		OptionalAttributes: map[string]struct{}{"b": {}, "d": {}},
	}
	want := cty.ObjectWithOptionalAttrs(map[string]cty.Type{
		"a": cty.String,
		"b": cty.List(cty.Number),
		"c": cty.Tuple([]cty.Type{cty.Bool, cty.DynamicPseudoType}),
		"d": cty.Map(cty.Set(cty.String)),
	}, []string{"b", "d"})
	var b bytes.Buffer
	if err := writeJSONType(&b, typ); err != nil {
		t.Fatal(err)
	}
	got, err := ctyjson.UnmarshalType(b.Bytes())
	if err != nil {
		t.Fatalf("Terraform cannot read the type %s: %v", b.Bytes(), err)
	}
	if !got.Equals(want) {
		t.Fatalf("type %s reads as %#v, want %#v", b.Bytes(), got, want)
	}
}

// stubDataServer answers ReadDataSource and GetProviderSchema itself and
// leaves every other RPC to the framework's server.
type stubDataServer struct {
	fullProviderServer
	schema *tfprotov6.Schema
	state  *tfprotov6.DynamicValue
}

func (s *stubDataServer) GetProviderSchema(context.Context, *tfprotov6.GetProviderSchemaRequest) (*tfprotov6.GetProviderSchemaResponse, error) {
	return &tfprotov6.GetProviderSchemaResponse{DataSourceSchemas: map[string]*tfprotov6.Schema{"audience_id_list": s.schema}}, nil
}

func (s *stubDataServer) ReadDataSource(context.Context, *tfprotov6.ReadDataSourceRequest) (*tfprotov6.ReadDataSourceResponse, error) {
	return &tfprotov6.ReadDataSourceResponse{State: s.state}, nil
}

// An output of a number a data source read (entry_count) is compared with
// the stored output by Terraform 1.10 to 1.14 as the refreshed state is:
// the data source's state must decode as the state file does too.
func TestDataSourceStateDecodesAsTheStateFile(t *testing.T) {
	schema := &tfprotov6.Schema{Block: &tfprotov6.SchemaBlock{Attributes: []*tfprotov6.SchemaAttribute{
		{Name: "id", Type: tftypes.String, Computed: true},
		{Name: "entry_count", Type: tftypes.Number, Computed: true},
	}}}
	typ := schema.ValueType()
	sent, err := tfprotov6.NewDynamicValue(typ, tftypes.NewValue(typ, map[string]tftypes.Value{
		"id":          tftypes.NewValue(tftypes.String, "./exports/doctors_idfa.txt"),
		"entry_count": tftypes.NewValue(tftypes.Number, big.NewFloat(11)),
	}))
	if err != nil {
		t.Fatal(err)
	}
	inner, ok := providerserver.NewProtocol6(New("test")())().(fullProviderServer)
	if !ok {
		t.Fatal("the framework's server lacks an RPC")
	}
	srv := &server{fullProviderServer: &stubDataServer{fullProviderServer: inner, schema: schema, state: &sent}}
	resp, err := srv.ReadDataSource(context.Background(), &tfprotov6.ReadDataSourceRequest{TypeName: "audience_id_list"})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.State.JSON) == 0 || len(resp.State.MsgPack) != 0 {
		t.Fatalf("data source state sent as %d bytes of MessagePack, %d of JSON; want JSON", len(resp.State.MsgPack), len(resp.State.JSON))
	}
	ty := cty.Object(map[string]cty.Type{"id": cty.String, "entry_count": cty.Number})
	read, err := ctyjson.Unmarshal(resp.State.JSON, ty)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := ctyjson.Marshal(read, ty)
	if err != nil {
		t.Fatal(err)
	}
	prior, err := ctyjson.Unmarshal(stored, ty)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(read.GetAttr("entry_count"), prior.GetAttr("entry_count")) {
		t.Fatal("entry_count decodes unlike the stored output: refresh-only would count it as changed")
	}
	asSent, err := ctymsgpack.Unmarshal(sent.MsgPack, ty)
	if err != nil {
		t.Fatal(err)
	}
	if reflect.DeepEqual(asSent.GetAttr("entry_count"), prior.GetAttr("entry_count")) {
		t.Log("MessagePack decodes as the state file does with this cty version: the JSON re-encoding is no longer needed")
	}
}

// The framework keeps every request's cancel function until StopProvider
// (lend says why); what it keeps must not hold the request's context, or a
// plan's heap grows with each resource. The framework registers the
// context before it looks the type up, so an unknown type is enough.
func TestServerKeepsNoRequestContext(t *testing.T) {
	srv := NewServer("test")()
	type payloadKey struct{}
	type payload struct{ _ [64 << 10]byte }
	calls := map[string]func(context.Context){
		"ValidateResourceConfig": func(ctx context.Context) {
			_, _ = srv.ValidateResourceConfig(ctx, &tfprotov6.ValidateResourceConfigRequest{TypeName: "audience_none"})
		},
		"UpgradeResourceState": func(ctx context.Context) {
			_, _ = srv.UpgradeResourceState(ctx, &tfprotov6.UpgradeResourceStateRequest{TypeName: "audience_none"})
		},
		"ReadResource": func(ctx context.Context) {
			_, _ = srv.ReadResource(ctx, &tfprotov6.ReadResourceRequest{TypeName: "audience_none"})
		},
		"PlanResourceChange": func(ctx context.Context) {
			_, _ = srv.PlanResourceChange(ctx, &tfprotov6.PlanResourceChangeRequest{TypeName: "audience_none"})
		},
		"ApplyResourceChange": func(ctx context.Context) {
			_, _ = srv.ApplyResourceChange(ctx, &tfprotov6.ApplyResourceChangeRequest{TypeName: "audience_none"})
		},
		"ImportResourceState": func(ctx context.Context) {
			_, _ = srv.ImportResourceState(ctx, &tfprotov6.ImportResourceStateRequest{TypeName: "audience_none"})
		},
		"ValidateDataResourceConfig": func(ctx context.Context) {
			_, _ = srv.ValidateDataResourceConfig(ctx, &tfprotov6.ValidateDataResourceConfigRequest{TypeName: "audience_none"})
		},
		"ReadDataSource": func(ctx context.Context) {
			_, _ = srv.ReadDataSource(ctx, &tfprotov6.ReadDataSourceRequest{TypeName: "audience_none"})
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			p := &payload{}
			kept := weak.Make(p)
			ctx, cancel := context.WithCancel(context.WithValue(context.Background(), payloadKey{}, p))
			call(ctx)
			cancel() // as gRPC cancels a request's context once it is answered
			runtime.GC()
			if kept.Value() != nil {
				t.Fatalf("%s: the server still holds the request's context after answering it", name)
			}
			runtime.KeepAlive(srv)
		})
	}
}

// During the call a lent context is the request's; after it, a canceled
// context without its values.
func TestLendReturnsTheContext(t *testing.T) {
	type key struct{}
	ctx := context.WithValue(context.Background(), key{}, "v")
	var lent context.Context
	_, _ = lend(ctx, 0, func(c context.Context, _ int) (int, error) {
		if c.Value(key{}) != "v" || c.Err() != nil {
			t.Errorf("during the call: value %v, err %v; want v and no error", c.Value(key{}), c.Err())
		}
		lent = c
		return 0, nil
	})
	if lent.Value(key{}) != nil || !errors.Is(lent.Err(), context.Canceled) {
		t.Errorf("after the call: value %v, err %v; want none and canceled", lent.Value(key{}), lent.Err())
	}
	select {
	case <-lent.Done():
	default:
		t.Error("after the call the context is not done")
	}
}
