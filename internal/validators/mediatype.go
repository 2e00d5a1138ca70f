package validators

import (
	"context"
	"fmt"
	"mime"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
)

// MediaType checks that a string is a MIME type (type/subtype, optional
// parameters), such as text/csv or text/plain; charset=utf-8.
func MediaType() validator.String { return mediaType{} }

type mediaType struct{}

func (mediaType) Description(context.Context) string {
	return "must be a MIME type such as text/csv"
}

func (v mediaType) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (mediaType) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if msg := CheckMediaType(req.ConfigValue.ValueString()); msg != "" {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid content type", msg)
	}
}

// CheckMediaType returns what is wrong with a MIME type, or "".
func CheckMediaType(v string) string {
	mt, _, err := mime.ParseMediaType(v)
	if err != nil || !strings.Contains(mt, "/") || strings.HasPrefix(mt, "/") || strings.HasSuffix(mt, "/") {
		return fmt.Sprintf("%q is not a MIME type; use type/subtype such as text/csv or application/octet-stream.", v)
	}
	return ""
}
