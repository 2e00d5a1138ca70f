// Package fdfiles checks the files sent to Future Demand's direct
// multipart endpoints before they are sent: a transaction summary is an
// Excel workbook (.xlsx), an events file is UTF-8 CSV with a header row,
// creative media is an image or a video by its content and at most 50 MiB.
// Files are read as streams, or only where a format keeps what matters
// (a zip's directory at its end, a media file's first bytes), so memory
// stays small whatever the size. The provider checks at plan time and the
// sandbox server side with the same rules. It knows nothing of Terraform
// or HTTP.
package fdfiles

import "github.com/audiencekit/terraform-provider-audience/internal/filecheck"

// MaxMediaSize is the largest creative media file: the API document
// sends "creative media up to ~50 MB" by direct multipart.
const MaxMediaSize = 50 << 20

// Rules, as named in errors. Tests match on them.
const (
	RuleWorkbook      = "a transaction summary is an Excel workbook (.xlsx: a zip holding [Content_Types].xml and xl/workbook.xml)"
	RuleEventsUTF8    = "an events file is UTF-8"
	RuleEventsCSV     = "an events file is comma-separated values, every row with as many fields as the header"
	RuleEventsHeader  = "an events file starts with a header row naming its columns"
	RuleEventsNoRows  = "an events file lists at least one event"
	RuleEventsLine    = "a row of an events file is at most 1 MiB"
	RuleMediaType     = "media is an image or a video, by its content"
	RuleMediaSize     = "media is at most 50 MiB"
	RuleMediaDeclared = "a declared content type names the kind of the content (image/… for an image, video/… for a video)"
)

// Error is a broken rule, located as precisely as the format allows: the
// file, the zip entry, the line and column.
type Error = filecheck.RuleError

// RuleOf returns the rule an error broke, or "" when err is not a rule
// violation (an I/O error, for instance).
func RuleOf(err error) string { return filecheck.RuleOf(err) }
