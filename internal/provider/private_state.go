package provider

import (
	"context"
	"encoding/json"

	"github.com/hashicorp/terraform-plugin-framework/diag"
)

// Private state keeps what a resource knows beyond its attributes (the
// content last uploaded, what Mintegral really holds, a removal under
// way), each key holding one JSON value. These two helpers are the one
// way the resources read and write them.

type privateGetter interface {
	GetKey(ctx context.Context, key string) ([]byte, diag.Diagnostics)
}

type privateSetter interface {
	SetKey(ctx context.Context, key string, value []byte) diag.Diagnostics
}

// getPrivate decodes key into v. It reports false when the key is absent
// or unreadable (a record from another version): callers then decide as
// if there were none.
func getPrivate(ctx context.Context, p privateGetter, key string, v any) (bool, diag.Diagnostics) {
	if p == nil {
		return false, nil
	}
	raw, diags := p.GetKey(ctx, key)
	if diags.HasError() || len(raw) == 0 {
		return false, diags
	}
	return json.Unmarshal(raw, v) == nil, diags
}

// setPrivate stores v under key; a nil v removes the key.
func setPrivate(ctx context.Context, p privateSetter, key string, v any) diag.Diagnostics {
	var diags diag.Diagnostics
	if p == nil {
		return diags
	}
	if v == nil {
		return p.SetKey(ctx, key, nil)
	}
	raw, err := json.Marshal(v)
	if err != nil {
		diags.AddError("Cannot record private state", key+": "+err.Error())
		return diags
	}
	return p.SetKey(ctx, key, raw)
}
