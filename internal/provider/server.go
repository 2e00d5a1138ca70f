package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math/big"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-log/tflog"
)

// NewServer returns the provider's protocol 6 server: the framework's, with
// refreshed state sent back as JSON.
//
// Why JSON: Terraform 1.10 to 1.14 decide whether `plan -refresh-only`
// found anything by comparing the refreshed state with the state before the
// refresh with reflect.DeepEqual, decoded values included. The state before
// the refresh is decoded from JSON, where the number 42 becomes a 512-bit
// big.Float; a refreshed state sent as MessagePack carries 42 as an integer,
// which decodes to a 64-bit big.Float. Equal numbers, different structs: every
// resource with a number attribute counted as changed, and
// `plan -refresh-only -detailed-exitcode` exited 2 while printing "No
// changes". Sent as JSON, the refreshed state decodes exactly as the prior
// one does. (Terraform 1.15 compares the states' JSON instead; OpenTofu
// never had the problem.)
func NewServer(version string) func() tfprotov6.ProviderServer {
	return func() tfprotov6.ProviderServer {
		inner := providerserver.NewProtocol6(New(version)())()
		full, ok := inner.(fullProviderServer)
		if !ok {
			// The framework serves every RPC; if a version ever does not,
			// serve it as it is rather than hide what it does serve.
			return inner
		}
		return &server{fullProviderServer: full}
	}
}

// fullProviderServer is every RPC the framework serves. tf6server finds
// list resources, actions and state stores by type assertion, so a wrapper
// must have all of them to hide none.
type fullProviderServer interface {
	tfprotov6.ProviderServerWithListResource //nolint:staticcheck // tf6server asserts this interface to serve list resources
	tfprotov6.ProviderServerWithActions      //nolint:staticcheck // likewise for actions
	tfprotov6.ProviderServerWithStateStores  //nolint:staticcheck // likewise for state stores
}

// server forwards every RPC to the framework and re-encodes the state
// ReadResource returns.
type server struct {
	fullProviderServer

	typesOnce sync.Once
	types     map[string]tftypes.Type // resource type name -> state type
	dataTypes map[string]tftypes.Type // data source type name -> state type
}

// The RPCs Terraform makes once per resource instance lend the framework
// their context (see lend): the rest, made once per run, are served as
// they are.

// ValidateResourceConfig implements tfprotov6.ResourceServer.
func (s *server) ValidateResourceConfig(ctx context.Context, req *tfprotov6.ValidateResourceConfigRequest) (*tfprotov6.ValidateResourceConfigResponse, error) {
	return lend(ctx, req, s.fullProviderServer.ValidateResourceConfig)
}

// UpgradeResourceState implements tfprotov6.ResourceServer.
func (s *server) UpgradeResourceState(ctx context.Context, req *tfprotov6.UpgradeResourceStateRequest) (*tfprotov6.UpgradeResourceStateResponse, error) {
	return lend(ctx, req, s.fullProviderServer.UpgradeResourceState)
}

// PlanResourceChange implements tfprotov6.ResourceServer.
func (s *server) PlanResourceChange(ctx context.Context, req *tfprotov6.PlanResourceChangeRequest) (*tfprotov6.PlanResourceChangeResponse, error) {
	return lend(ctx, req, s.fullProviderServer.PlanResourceChange)
}

// ApplyResourceChange implements tfprotov6.ResourceServer.
func (s *server) ApplyResourceChange(ctx context.Context, req *tfprotov6.ApplyResourceChangeRequest) (*tfprotov6.ApplyResourceChangeResponse, error) {
	return lend(ctx, req, s.fullProviderServer.ApplyResourceChange)
}

// ImportResourceState implements tfprotov6.ResourceServer.
func (s *server) ImportResourceState(ctx context.Context, req *tfprotov6.ImportResourceStateRequest) (*tfprotov6.ImportResourceStateResponse, error) {
	return lend(ctx, req, s.fullProviderServer.ImportResourceState)
}

// ValidateDataResourceConfig implements tfprotov6.DataSourceServer.
func (s *server) ValidateDataResourceConfig(ctx context.Context, req *tfprotov6.ValidateDataResourceConfigRequest) (*tfprotov6.ValidateDataResourceConfigResponse, error) {
	return lend(ctx, req, s.fullProviderServer.ValidateDataResourceConfig)
}

// ReadResource implements tfprotov6.ResourceServer.
func (s *server) ReadResource(ctx context.Context, req *tfprotov6.ReadResourceRequest) (*tfprotov6.ReadResourceResponse, error) {
	resp, err := lend(ctx, req, s.fullProviderServer.ReadResource)
	if err != nil || resp == nil || resp.NewState == nil || len(resp.NewState.MsgPack) == 0 {
		return resp, err
	}
	typ, ok := s.stateType(ctx, req.TypeName)
	if !ok {
		return resp, nil
	}
	if encoded, err := stateAsJSON(resp.NewState, typ); err != nil {
		// The MessagePack answer is still right; only the refresh-only exit
		// code of older Terraform suffers.
		tflog.Debug(ctx, "refreshed state kept as MessagePack", map[string]any{"resource_type": req.TypeName, "reason": err.Error()})
	} else {
		resp.NewState = encoded
	}
	return resp, nil
}

// ReadDataSource implements tfprotov6.DataSourceServer. A data source's
// state goes back as JSON too: Terraform 1.10 to 1.14 compare the outputs
// a refresh-only plan computes from it with the stored outputs the same
// way, so an output of a number a data source read (an ID list's
// entry_count) counted as changed.
func (s *server) ReadDataSource(ctx context.Context, req *tfprotov6.ReadDataSourceRequest) (*tfprotov6.ReadDataSourceResponse, error) {
	resp, err := lend(ctx, req, s.fullProviderServer.ReadDataSource)
	if err != nil || resp == nil || resp.State == nil || len(resp.State.MsgPack) == 0 {
		return resp, err
	}
	s.loadTypes(ctx)
	typ, ok := s.dataTypes[req.TypeName]
	if !ok {
		return resp, nil
	}
	if encoded, err := stateAsJSON(resp.State, typ); err != nil {
		tflog.Debug(ctx, "data source state kept as MessagePack", map[string]any{"data_source_type": req.TypeName, "reason": err.Error()})
	} else {
		resp.State = encoded
	}
	return resp, nil
}

// lend calls the framework with a context that stops leading to ctx when
// the call returns.
//
// Why: the framework (terraform-plugin-framework v1.19.0,
// internal/proto6server/serve.go, registerContext) derives a cancelable
// context from every request's and appends its cancel function to a list
// it empties only on StopProvider, which Terraform sends only to
// interrupt. Each function keeps its context alive, and with it the whole
// chain beneath: the gRPC stream and the SDK's per-request loggers (about
// 10 KB a request). A plan of 600 resources makes some 2,400 such
// requests, so the provider's heap grew with every one: about 50 MiB of
// its peak RSS for that plan. What the list keeps of a lent context is a
// few words; the framework's cancel functions still cancel it, and it is
// done when the request is.
func lend[Req, Resp any](ctx context.Context, req Req, call func(context.Context, Req) (Resp, error)) (Resp, error) {
	l := &lentContext{}
	l.ctx.Store(&ctx)
	defer l.ctx.Store(nil)
	return call(l, req)
}

// lentContext is ctx until it is taken back, then a canceled context
// without values: as the request's own context would be, had the
// request ended (tflog writes nothing without its logger in the context,
// so nothing unmasked either).
type lentContext struct {
	ctx atomic.Pointer[context.Context]
}

// returned is what a lent context becomes.
var returned = func() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}()

func (l *lentContext) current() context.Context {
	if ctx := l.ctx.Load(); ctx != nil {
		return *ctx
	}
	return returned
}

// Deadline implements context.Context.
func (l *lentContext) Deadline() (time.Time, bool) { return l.current().Deadline() }

// Done implements context.Context.
func (l *lentContext) Done() <-chan struct{} { return l.current().Done() }

// Err implements context.Context.
func (l *lentContext) Err() error { return l.current().Err() }

// Value implements context.Context.
func (l *lentContext) Value(key any) any { return l.current().Value(key) }

// stateType returns the state type of a resource type, from the schema the
// framework serves.
func (s *server) stateType(ctx context.Context, typeName string) (tftypes.Type, bool) {
	s.loadTypes(ctx)
	typ, ok := s.types[typeName]
	return typ, ok
}

// loadTypes reads the state types of every resource and data source from
// the schema the framework serves, once.
func (s *server) loadTypes(ctx context.Context) {
	s.typesOnce.Do(func() {
		s.types, s.dataTypes = map[string]tftypes.Type{}, map[string]tftypes.Type{}
		resp, err := s.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
		if err != nil || resp == nil {
			return
		}
		for name, schema := range resp.ResourceSchemas {
			s.types[name] = schema.ValueType()
		}
		for name, schema := range resp.DataSourceSchemas {
			s.dataTypes[name] = schema.ValueType()
		}
	})
}

// stateAsJSON re-encodes a MessagePack state of type typ as the JSON
// Terraform writes to state files: numbers as decimal literals, dynamic
// values as {"value", "type"}. Null states are not re-encoded.
func stateAsJSON(state *tfprotov6.DynamicValue, typ tftypes.Type) (*tfprotov6.DynamicValue, error) {
	val, err := state.Unmarshal(typ)
	if err != nil {
		return nil, err
	}
	if val.IsNull() {
		return nil, fmt.Errorf("null state")
	}
	var b bytes.Buffer
	if err := writeJSONValue(&b, val, typ); err != nil {
		return nil, err
	}
	return &tfprotov6.DynamicValue{JSON: b.Bytes()}, nil
}

// writeJSONValue writes val, whose schema type is typ, as JSON.
func writeJSONValue(b *bytes.Buffer, val tftypes.Value, typ tftypes.Type) error {
	if !val.IsKnown() {
		return fmt.Errorf("unknown value in state")
	}
	if typ.Is(tftypes.DynamicPseudoType) && !val.IsNull() && !val.Type().Is(tftypes.DynamicPseudoType) {
		// A dynamic value carries its own type, as Terraform stores it.
		b.WriteString(`{"value":`)
		if err := writeJSONValue(b, val, val.Type()); err != nil {
			return err
		}
		b.WriteString(`,"type":`)
		if err := writeJSONType(b, val.Type()); err != nil {
			return err
		}
		b.WriteByte('}')
		return nil
	}
	if val.IsNull() {
		b.WriteString("null")
		return nil
	}
	switch {
	case typ.Is(tftypes.String):
		var s string
		if err := val.As(&s); err != nil {
			return err
		}
		enc, err := json.Marshal(s)
		if err != nil {
			return err
		}
		b.Write(enc)
	case typ.Is(tftypes.Number):
		n := new(big.Float)
		if err := val.As(&n); err != nil {
			return err
		}
		if n.IsInf() {
			return fmt.Errorf("infinite number in state")
		}
		b.WriteString(n.Text('f', -1))
	case typ.Is(tftypes.Bool):
		var v bool
		if err := val.As(&v); err != nil {
			return err
		}
		fmt.Fprint(b, v)
	case typ.Is(tftypes.List{}), typ.Is(tftypes.Set{}), typ.Is(tftypes.Tuple{}):
		var elems []tftypes.Value
		if err := val.As(&elems); err != nil {
			return err
		}
		b.WriteByte('[')
		for i, e := range elems {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeJSONValue(b, e, elementType(typ, i)); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case typ.Is(tftypes.Map{}), typ.Is(tftypes.Object{}):
		var attrs map[string]tftypes.Value
		if err := val.As(&attrs); err != nil {
			return err
		}
		return writeJSONObject(b, attrs, func(name string, v tftypes.Value) error {
			return writeJSONValue(b, v, attributeType(typ, name))
		})
	default:
		return fmt.Errorf("unsupported type %s in state", typ)
	}
	return nil
}

// writeJSONType writes a type as Terraform writes types in JSON:
// "string", ["list","number"], ["object",{"a":"bool"},["a"]] (the optional
// attributes last, when there are any).
func writeJSONType(b *bytes.Buffer, typ tftypes.Type) error {
	switch t := typ.(type) {
	case tftypes.List:
		return writeCollectionType(b, "list", t.ElementType)
	case tftypes.Set:
		return writeCollectionType(b, "set", t.ElementType)
	case tftypes.Map:
		return writeCollectionType(b, "map", t.ElementType)
	case tftypes.Tuple:
		b.WriteString(`["tuple",[`)
		for i, et := range t.ElementTypes {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeJSONType(b, et); err != nil {
				return err
			}
		}
		b.WriteString(`]]`)
	case tftypes.Object:
		b.WriteString(`["object",`)
		if err := writeJSONObject(b, t.AttributeTypes, func(_ string, at tftypes.Type) error { return writeJSONType(b, at) }); err != nil {
			return err
		}
		if len(t.OptionalAttributes) > 0 {
			optional, err := json.Marshal(slices.Sorted(maps.Keys(t.OptionalAttributes)))
			if err != nil {
				return err
			}
			b.WriteByte(',')
			b.Write(optional)
		}
		b.WriteByte(']')
	default:
		switch {
		case typ.Is(tftypes.String):
			b.WriteString(`"string"`)
		case typ.Is(tftypes.Number):
			b.WriteString(`"number"`)
		case typ.Is(tftypes.Bool):
			b.WriteString(`"bool"`)
		case typ.Is(tftypes.DynamicPseudoType):
			b.WriteString(`"dynamic"`)
		default:
			return fmt.Errorf("unsupported type %s in state", typ)
		}
	}
	return nil
}

func writeCollectionType(b *bytes.Buffer, kind string, elem tftypes.Type) error {
	b.WriteString(`["` + kind + `",`)
	if err := writeJSONType(b, elem); err != nil {
		return err
	}
	b.WriteByte(']')
	return nil
}

// writeJSONObject writes a JSON object of m's keys, in order, each value
// written by write.
func writeJSONObject[V any](b *bytes.Buffer, m map[string]V, write func(string, V) error) error {
	b.WriteByte('{')
	for i, name := range slices.Sorted(maps.Keys(m)) {
		if i > 0 {
			b.WriteByte(',')
		}
		key, err := json.Marshal(name)
		if err != nil {
			return err
		}
		b.Write(key)
		b.WriteByte(':')
		if err := write(name, m[name]); err != nil {
			return err
		}
	}
	b.WriteByte('}')
	return nil
}

// elementType is the schema type of element i of a list, set or tuple.
func elementType(typ tftypes.Type, i int) tftypes.Type {
	switch t := typ.(type) {
	case tftypes.List:
		return t.ElementType
	case tftypes.Set:
		return t.ElementType
	case tftypes.Tuple:
		if i < len(t.ElementTypes) {
			return t.ElementTypes[i]
		}
	}
	return tftypes.DynamicPseudoType
}

// attributeType is the schema type of a map element or object attribute.
func attributeType(typ tftypes.Type, name string) tftypes.Type {
	switch t := typ.(type) {
	case tftypes.Map:
		return t.ElementType
	case tftypes.Object:
		if at, ok := t.AttributeTypes[name]; ok {
			return at
		}
	}
	return tftypes.DynamicPseudoType
}
