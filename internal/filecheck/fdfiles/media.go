package fdfiles

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
)

// Media kinds.
const (
	KindImage = "image"
	KindVideo = "video"
)

// Media is what a media file's first bytes say it is.
type Media struct {
	ContentType string // e.g. image/png
	Kind        string // KindImage or KindVideo
}

// MediaFormats lists, for messages and docs, the formats recognized.
const MediaFormats = "JPEG, PNG, GIF, WebP, AVIF or HEIC images; MP4, QuickTime (.mov), 3GP, WebM, Matroska or AVI videos"

// sniffLen is how much of the start of a file identifies its format.
const sniffLen = 64

// SniffMedia identifies an image or video format by its magic bytes;
// ok is false for anything else.
func SniffMedia(head []byte) (m Media, ok bool) {
	image := func(ct string) (Media, bool) { return Media{ContentType: ct, Kind: KindImage}, true }
	video := func(ct string) (Media, bool) { return Media{ContentType: ct, Kind: KindVideo}, true }
	switch {
	case bytes.HasPrefix(head, []byte{0xFF, 0xD8, 0xFF}):
		return image("image/jpeg")
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		return image("image/png")
	case bytes.HasPrefix(head, []byte("GIF87a")), bytes.HasPrefix(head, []byte("GIF89a")):
		return image("image/gif")
	case len(head) >= 12 && string(head[:4]) == "RIFF" && string(head[8:12]) == "WEBP":
		return image("image/webp")
	case len(head) >= 12 && string(head[:4]) == "RIFF" && string(head[8:12]) == "AVI ":
		return video("video/x-msvideo")
	case bytes.HasPrefix(head, []byte{0x1A, 0x45, 0xDF, 0xA3}): // EBML
		if bytes.Contains(head, []byte("webm")) {
			return video("video/webm")
		}
		if bytes.Contains(head, []byte("matroska")) {
			return video("video/x-matroska")
		}
	case len(head) >= 12 && string(head[4:8]) == "ftyp": // ISO base media file
		return isoMedia(head)
	}
	return Media{}, false
}

// isoMedia reads an ISO base media file's brands: the major brand, then
// the compatible ones, decide between HEIF images and MP4-family videos.
func isoMedia(head []byte) (Media, bool) {
	brands := []string{string(head[8:12])}
	boxLen := int(head[0])<<24 | int(head[1])<<16 | int(head[2])<<8 | int(head[3])
	for i := 16; i+4 <= min(boxLen, len(head)); i += 4 {
		brands = append(brands, string(head[i:i+4]))
	}
	for _, b := range brands {
		switch b {
		case "avif", "avis":
			return Media{ContentType: "image/avif", Kind: KindImage}, true
		case "heic", "heix", "heim", "heis":
			return Media{ContentType: "image/heic", Kind: KindImage}, true
		case "qt  ":
			return Media{ContentType: "video/quicktime", Kind: KindVideo}, true
		case "3gp4", "3gp5", "3gp6", "3gp7", "3ge6", "3ge7", "3gg6":
			return Media{ContentType: "video/3gpp", Kind: KindVideo}, true
		case "3g2a", "3g2b", "3g2c":
			return Media{ContentType: "video/3gpp2", Kind: KindVideo}, true
		case "isom", "iso2", "iso3", "iso4", "iso5", "iso6", "mp41", "mp42", "avc1", "dash", "mmp4", "M4V ", "M4VH", "M4VP", "MSNV", "f4v ":
			return Media{ContentType: "video/mp4", Kind: KindVideo}, true
		}
	}
	return Media{}, false
}

// CheckMedia checks a media file of size bytes: at most MaxMediaSize, and
// an image or a video by its first bytes. declared, when not empty, is the
// content type the user chose; it must name the same kind. The result's
// ContentType is declared, or else the one found.
func CheckMedia(r io.ReaderAt, size int64, file, declared string) (Media, error) {
	if size > MaxMediaSize {
		return Media{}, &Error{File: file, Rule: RuleMediaSize, Problem: fmt.Sprintf("the file is %d bytes, more than %d (50 MiB)", size, MaxMediaSize),
			Fix: "Compress the creative, or send a larger file to Future Demand storage, which takes large files by presigned multipart upload"}
	}
	head := make([]byte, sniffLen)
	n, err := r.ReadAt(head, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return Media{}, err
	}
	head = head[:n]
	m, ok := SniffMedia(head)
	if !ok {
		return Media{}, &Error{File: file, Rule: RuleMediaType, Problem: "its content is not an image or a video format this provider recognizes (it looks like " + describe(head) + ")",
			Fix: "Upload one of: " + MediaFormats}
	}
	if declared == "" {
		return m, nil
	}
	kind := declaredKind(declared)
	if kind != m.Kind {
		return Media{}, &Error{File: file, Rule: RuleMediaDeclared, Problem: fmt.Sprintf("the declared content type is %q, but the content is %s %s (%s)", declared, article(m.Kind), m.Kind, m.ContentType),
			Fix: "Declare a " + m.Kind + "/… type, or none to send the type found in the file"}
	}
	m.ContentType = declared
	return m, nil
}

// declaredKind is the top-level type of a content type ("" when it does
// not parse).
func declaredKind(contentType string) string {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return ""
	}
	kind, sub, ok := strings.Cut(mt, "/")
	if !ok || kind == "" || sub == "" {
		return ""
	}
	return kind
}

func article(kind string) string {
	if kind == KindImage {
		return "an"
	}
	return "a"
}

// describe names what the first bytes look like, for an error.
func describe(head []byte) string {
	if len(head) == 0 {
		return "nothing: the file is empty"
	}
	if looksLikeText(head) {
		return "text"
	}
	ct := http.DetectContentType(head)
	if ct == "application/octet-stream" {
		return "binary data of an unknown format"
	}
	return ct
}
