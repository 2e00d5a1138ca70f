package attrvalidators

import (
	"context"
	"fmt"
	"mime"
	"slices"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
)

// MediaType checks that a string is a MIME type (type/subtype, optional
// parameters), such as text/csv or text/plain; charset=utf-8, and, when
// kinds are given, that its top-level type is one of them (image, video).
func MediaType(kinds ...string) validator.String { return mediaType{kinds: kinds} }

type mediaType struct{ kinds []string }

func (v mediaType) Description(context.Context) string {
	if len(v.kinds) > 0 {
		return "must be a MIME type of type " + strings.Join(v.kinds, " or ")
	}
	return "must be a MIME type such as text/csv"
}

func (v mediaType) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (v mediaType) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if msg := CheckMediaType(req.ConfigValue.ValueString(), v.kinds...); msg != "" {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid content type", msg)
	}
}

// CheckMediaType returns what is wrong with a MIME type, or "". kinds,
// when given, are the top-level types allowed.
func CheckMediaType(v string, kinds ...string) string {
	mt, _, err := mime.ParseMediaType(v)
	if err != nil || !strings.Contains(mt, "/") || strings.HasPrefix(mt, "/") || strings.HasSuffix(mt, "/") {
		return fmt.Sprintf("%q is not a MIME type; use type/subtype such as text/csv or application/octet-stream.", v)
	}
	if kind, _, _ := strings.Cut(mt, "/"); len(kinds) > 0 && !slices.Contains(kinds, kind) {
		return fmt.Sprintf("%q is not of type %s.", v, strings.Join(kinds, " or "))
	}
	return ""
}
