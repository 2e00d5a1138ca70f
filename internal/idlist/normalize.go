package idlist

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Case is how letters of a value are changed before it is checked, hashed
// and written.
type Case string

// Cases.
const (
	CaseKeep  Case = "keep"
	CaseLower Case = "lower"
	CaseUpper Case = "upper"
)

// Hash replaces each value by a digest of it (lowercase hex), for the
// platforms' hashed device types (IDFA_MD5, ...) and hashed-email matching.
type Hash string

// Hashes.
const (
	HashNone   Hash = "none"
	HashMD5    Hash = "md5"
	HashSHA256 Hash = "sha256"
)

// Format is the shape every value must have.
type Format string

// Formats.
const (
	FormatAny  Format = "any"
	FormatUUID Format = "uuid" // IDFA, IDFV, GAID, OAID in UUID form
	FormatIMEI Format = "imei"
)

// Cases, Hashes and Formats list the accepted names, for schemas.
var (
	Cases   = []string{string(CaseKeep), string(CaseLower), string(CaseUpper)}
	Hashes  = []string{string(HashNone), string(HashMD5), string(HashSHA256)}
	Formats = []string{string(FormatAny), string(FormatUUID), string(FormatIMEI)}
)

// normalizer turns a raw field into the value written out, reusing its
// buffers so a row costs no allocation.
type normalizer struct {
	opt Options
	buf []byte
	hex []byte
}

// normalize returns the value to write, or a non-empty problem saying why
// the value is invalid. A blank value returns (nil, "").
func (n *normalizer) normalize(raw []byte) (out []byte, problem string) {
	v := bytes.TrimSpace(raw)
	if len(v) == 0 {
		return nil, ""
	}
	switch n.opt.Case {
	case CaseLower:
		v = n.mapCase(v, false)
	case CaseUpper:
		v = n.mapCase(v, true)
	}
	switch n.opt.Format {
	case FormatUUID:
		if p := checkUUID(v); p != "" {
			return nil, p
		}
	case FormatIMEI:
		if p := checkIMEI(v); p != "" {
			return nil, p
		}
	}
	switch n.opt.Hash {
	case HashMD5:
		sum := md5.Sum(v)
		n.hex = hex.AppendEncode(n.hex[:0], sum[:])
		return n.hex, ""
	case HashSHA256:
		sum := sha256.Sum256(v)
		n.hex = hex.AppendEncode(n.hex[:0], sum[:])
		return n.hex, ""
	}
	if !utf8.Valid(v) {
		return nil, "the value is not valid UTF-8"
	}
	if bytes.ContainsAny(v, "\r\n") {
		return nil, "the value holds a line break, and the output has one value per line"
	}
	if bytes.ContainsAny(v, ",;\t\"") {
		return nil, "the value holds a comma, semicolon, tab or quote, which one-column upload files cannot carry (hash it, or pick another column)"
	}
	return v, ""
}

// mapCase changes ASCII letters in place in a copy; other letters through
// the strings package, which is slower but rare in identifiers.
func (n *normalizer) mapCase(v []byte, upper bool) []byte {
	for _, c := range v {
		if c >= utf8.RuneSelf {
			s := strings.ToLower(string(v))
			if upper {
				s = strings.ToUpper(string(v))
			}
			n.buf = append(n.buf[:0], s...)
			return n.buf
		}
	}
	n.buf = append(n.buf[:0], v...)
	for i, c := range n.buf {
		switch {
		case upper && 'a' <= c && c <= 'z':
			n.buf[i] = c - 'a' + 'A'
		case !upper && 'A' <= c && c <= 'Z':
			n.buf[i] = c - 'A' + 'a'
		}
	}
	return n.buf
}

const zeroUUID = "00000000-0000-0000-0000-000000000000"

// checkUUID accepts the 8-4-4-4-12 hexadecimal form, except the all-zero
// value that iOS and Android report when the user limits ad tracking: it
// identifies nobody.
func checkUUID(v []byte) string {
	const want = "a UUID (8-4-4-4-12 hexadecimal digits, such as 6D92078A-8246-4BA4-AE5B-76104861E7DC)"
	if len(v) != len(zeroUUID) {
		return "the value is not " + want
	}
	for i, c := range v {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if c != '-' {
				return "the value is not " + want
			}
			continue
		}
		if !isHex(c) {
			return "the value is not " + want
		}
	}
	if string(v) == zeroUUID {
		return "the value is the all-zero ID a device reports when ad tracking is limited; it matches nobody"
	}
	return ""
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// checkIMEI accepts 15 digits whose last is the Luhn check digit, or the
// 14 digits without it.
func checkIMEI(v []byte) string {
	if len(v) != 14 && len(v) != 15 {
		return fmt.Sprintf("the value is not an IMEI (15 digits, or 14 without the check digit): it has %d characters", utf8.RuneCount(v))
	}
	for _, c := range v {
		if c < '0' || c > '9' {
			return "the value is not an IMEI: an IMEI has digits only"
		}
	}
	if len(v) == 15 && !luhnValid(v) {
		return "the value is not an IMEI: its check digit (the 15th) is wrong"
	}
	return ""
}

func luhnValid(digits []byte) bool {
	sum := 0
	for i := range digits {
		d := int(digits[len(digits)-1-i] - '0')
		if i%2 == 1 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}

// Mask hides a value that may be personal data (an e-mail address, a
// phone number, a name) so it can appear in an error message: it keeps the
// first and last characters, and an e-mail's domain. Values shaped like
// device IDs or digests (hex digits and dashes, or 14 and more digits) are
// shown whole, since the user needs them to find the row.
func Mask(v string) string {
	if !looksPersonal(v) {
		return v
	}
	if local, domain, ok := strings.Cut(v, "@"); ok {
		return maskPart(local) + "@" + domain
	}
	return maskPart(v)
}

func looksPersonal(v string) bool {
	if v == "" || strings.ContainsAny(v, "@ +()") {
		return v != ""
	}
	digits, hexOnly := 0, true
	for _, c := range []byte(v) {
		switch {
		case '0' <= c && c <= '9':
			digits++
		case isHex(c) || c == '-':
		default:
			hexOnly = false
		}
	}
	if !hexOnly {
		return true
	}
	// Only digits and dashes, shorter than an IMEI: a phone number.
	return digits == len(strings.ReplaceAll(v, "-", "")) && digits < 14
}

func maskPart(s string) string {
	r := []rune(s)
	if len(r) <= 2 {
		return strings.Repeat("*", len(r))
	}
	return string(r[0]) + strings.Repeat("*", min(len(r)-2, 8)) + string(r[len(r)-1])
}
