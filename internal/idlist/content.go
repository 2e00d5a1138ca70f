package idlist

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// What a one-column device list may hold. The kinds are those of the ad
// platforms' device types (Mintegral: IMEI, IDFA, GAID, OAID, IDFV and
// their MD5): digits, letters a to f and dashes only, so a line holding
// anything else is no device ID, and is refused as possible personal data.

// IDKind is the shape every ID of a list has.
type IDKind uint8

// ID kinds.
const (
	// KindAny takes any line that may be a device ID.
	KindAny IDKind = iota
	// KindUUID is 8-4-4-4-12 hexadecimal digits (IDFA, IDFV, GAID); the
	// all-zero ID of a device that limits ad tracking matches nobody.
	KindUUID
	// KindMD5 is an MD5 digest: 32 hexadecimal digits.
	KindMD5
	// KindIMEI is an IMEI (15 digits, 14 without the check digit, 16 for
	// an IMEISV) or a MEID (14 hexadecimal digits, or 18 decimal ones).
	// The check is liberal: no check digit is verified.
	KindIMEI
	// KindOAID is an OAID. The MSA standard leaves its format to each
	// maker: Huawei documents a UUID (its ads kit "OAID" page), others
	// send 16 or 64 hexadecimal digits. So 16 to 64 hexadecimal digits
	// and dashes, at least 16 of them digits, not all zero.
	KindOAID
)

// IDRule is what each line of a list must be. The zero rule takes any
// line that may be a device ID.
type IDRule struct {
	// Name is the platform's name of the type, for messages ("IDFA").
	Name string
	Kind IDKind
	// Case is the letter case the type is written in (CaseUpper,
	// CaseLower), or "" when it has none. Another case is reported as
	// a Finding; a list whose every ID is of the other case is refused
	// for a UUID, since case is what tells an IDFA from a GAID.
	Case Case
}

// Causes of an *Error about what a list holds.
var (
	// ErrPersonalData: a line looks like personal data (an e-mail
	// address, a phone number, a name) and cannot be a device ID.
	ErrPersonalData = errors.New("the list holds personal data")
	// ErrDeviceType: a line is not of the rule's kind.
	ErrDeviceType = errors.New("the list holds IDs of another type")
)

// PersonalDataFix points at the data source that extracts device IDs.
const PersonalDataFix = "Upload device IDs only: extract the device ID column with the audience_id_list data source"

// Byte classes of a line, one bit each, OR-ed over the line in one pass.
const (
	cDigit    uint16 = 1 << iota
	cHexLower        // a-f
	cHexUpper        // A-F
	cLower           // g-z
	cUpper           // G-Z
	cDash
	cSpace // ' ' and a carriage return that does not end the line
	cSep   // ',', '\t', ';': a second column
	cQuote
	cAt
	cPlus
	cParen
	cDot
	cNonASCII
	cOther
)

const cHex = cDigit | cHexLower | cHexUpper

var lineClass = func() (t [256]uint16) {
	for i := range t {
		switch c := byte(i); {
		case '0' <= c && c <= '9':
			t[i] = cDigit
		case 'a' <= c && c <= 'f':
			t[i] = cHexLower
		case 'A' <= c && c <= 'F':
			t[i] = cHexUpper
		case 'g' <= c && c <= 'z':
			t[i] = cLower
		case 'G' <= c && c <= 'Z':
			t[i] = cUpper
		case c >= 0x80:
			t[i] = cNonASCII
		default:
			t[i] = cOther
		}
	}
	t['-'], t[' '], t['\r'] = cDash, cSpace, cSpace
	t[','], t['\t'], t[';'], t['"'] = cSep, cSep, cSep, cQuote
	t['@'], t['+'], t['('], t[')'], t['.'] = cAt, cPlus, cParen, cParen, cDot
	return t
}()

// pairClass is lineClass of two bytes at once, indexed by them as a
// little-endian uint16: half the lookups, and the entries an ID's bytes
// use fit in a few cache lines.
var pairClass = func() *[1 << 16]uint16 {
	t := new([1 << 16]uint16)
	for i := range t {
		t[i] = lineClass[i&0xff] | lineClass[i>>8]
	}
	return t
}()

// classOf ORs the classes of v's bytes. Four accumulators let the
// lookups of a word proceed together rather than one after another: this
// runs on every line of every list a plan checks.
func classOf(v []byte) uint16 {
	var m0, m1, m2, m3 uint16
	t := pairClass
	for len(v) >= 8 {
		w := v[:8:8]
		m0 |= t[binary.LittleEndian.Uint16(w[0:])]
		m1 |= t[binary.LittleEndian.Uint16(w[2:])]
		m2 |= t[binary.LittleEndian.Uint16(w[4:])]
		m3 |= t[binary.LittleEndian.Uint16(w[6:])]
		v = v[8:]
	}
	for _, c := range v {
		m0 |= lineClass[c]
	}
	return m0 | m1 | m2 | m3
}

// personalData says why a line is personal data for certain: an e-mail
// address, a web address or a phone number, which no header is either.
// The mask spares most lines, which hold hex digits and dashes only, any
// search.
func personalData(v []byte, mask uint16) string {
	switch {
	case mask&cAt != 0:
		return "looks like an e-mail address"
	case mask&(cOther|cLower|cUpper) != 0 && (bytes.Contains(v, []byte("://")) || len(v) > 4 && strings.EqualFold(string(v[:4]), "www.")):
		return "looks like a web address (URL)"
	case looksLikePhone(v, mask):
		return "looks like a phone number"
	}
	return ""
}

// looksLikePhone: digits written as people write phone numbers (a +, a
// parenthesis, spaces or dots between groups), or 7 to 13 digits alone,
// which no device ID has (an IMEI has 14 to 18, other IDs are longer).
func looksLikePhone(v []byte, mask uint16) bool {
	if mask&^(cDigit|cSpace|cPlus|cParen|cDash|cDot) != 0 || mask&cDigit == 0 {
		return false
	}
	digits := 0
	for _, c := range v {
		if '0' <= c && c <= '9' {
			digits++
		}
	}
	if mask&(cSpace|cPlus|cParen|cDot) != 0 {
		return digits >= 6 && digits <= 15
	}
	return digits >= 7 && digits <= 13
}

// notDeviceID says why a line that is no certain personal data still
// cannot be a device ID, or "" when it may be one.
func notDeviceID(v []byte, mask uint16) string {
	switch {
	case mask&cSpace != 0:
		return "holds words separated by spaces, as a name or an address does"
	case mask&cNonASCII != 0:
		return "holds non-ASCII characters, as names and addresses do"
	case mask&^(cHex|cDash) != 0:
		i := bytes.IndexFunc(v, func(r rune) bool { return r >= 0x80 || lineClass[byte(r)]&(cHex|cDash) == 0 })
		return fmt.Sprintf("holds %q, and a device ID has only digits, letters a to f and dashes: it may be a name or an account", v[i])
	}
	return ""
}

// maybeHeader reports whether line 1 can be a header rather than an ID:
// it has no digit (the rule before device types were checked), or holds
// what no device ID holds, such as the letters of "idfa_v2" or "设备号".
func maybeHeader(mask uint16) bool {
	return mask&cDigit == 0 || mask&^(cHex|cDash) != 0
}

// shapeOK reports whether v is of kind k, and whether it is the
// all-zero ID of a device that limits ad tracking, which matches nobody.
func shapeOK(k IDKind, v []byte, mask uint16) (ok, zero bool) {
	switch k {
	case KindUUID:
		return isUUID(v, mask), string(v) == zeroUUID
	case KindMD5:
		return len(v) == 32 && mask&^cHex == 0, false
	case KindIMEI:
		digits := mask&^cDigit == 0
		return digits && (len(v) >= 14 && len(v) <= 16 || len(v) == 18) || len(v) == 14 && mask&^cHex == 0, false
	case KindOAID:
		hexDigits := len(v) - bytes.Count(v, []byte{'-'})
		if len(v) < 16 || len(v) > 64 || mask&^(cHex|cDash) != 0 || hexDigits < 16 {
			return false, false
		}
		return true, bytes.Count(v, []byte{'0'}) == hexDigits
	}
	return true, false
}

// isUUID reports whether v is 8-4-4-4-12 hexadecimal digits (checkUUID
// without its refusal of the all-zero ID, and faster: the mask already
// says every byte is a hex digit or a dash).
func isUUID(v []byte, mask uint16) bool {
	return len(v) == 36 && mask&^(cHex|cDash) == 0 && v[8] == '-' && v[13] == '-' && v[18] == '-' && v[23] == '-' && bytes.Count(v, []byte{'-'}) == 4
}

// kindText describes what an ID of the rule is.
func (r IDRule) kindText() string {
	switch r.Kind {
	case KindUUID:
		example := "6D92078A-8246-4BA4-AE5B-76104861E7DC"
		if r.Case == CaseLower {
			example = "38400000-8cf0-11bd-b23e-10b96e40000d"
		}
		return "a UUID (8-4-4-4-12 hexadecimal digits, such as " + example + ")"
	case KindMD5:
		return "an MD5 digest (32 hexadecimal digits, such as d41d8cd98f00b204e9800998ecf8427e)"
	case KindIMEI:
		return "14 to 16 digits (such as 358240051111110), or a MEID (14 hexadecimal digits, or 18 digits)"
	case KindOAID:
		return "16 to 64 hexadecimal digits and dashes (its makers write it in several forms)"
	}
	return "a device ID"
}

// resembles names what v looks like, for an ID of the wrong kind.
func resembles(v []byte, mask uint16) string {
	switch {
	case isUUID(v, mask):
		if mask&cHexLower != 0 && mask&cHexUpper == 0 {
			return "it is a lowercase UUID, as GAIDs are"
		}
		return "it is a UUID, as IDFAs, IDFVs and GAIDs are"
	case len(v) == 32 && mask&^cHex == 0:
		return "it is 32 hexadecimal digits, as MD5 digests are"
	case mask&^cDigit == 0 && len(v) >= 14 && len(v) <= 16:
		return fmt.Sprintf("it is %d digits, as IMEIs are", len(v))
	}
	return fmt.Sprintf("it has %d characters", len(v))
}

func article(name string) string {
	if name != "" && strings.ContainsRune("AEFHILMNORSX", rune(name[0])) {
		return "an " + name
	}
	return "a " + name
}

// Irregularity is a kind of line a platform takes as it is, but which
// is likely not what was meant: Finding reports them.
type Irregularity string

// Irregularities.
const (
	IrregularBOM       Irregularity = "bom"
	IrregularCRLF      Irregularity = "crlf"
	IrregularBlanks    Irregularity = "blanks"
	IrregularCase      Irregularity = "case"
	IrregularDuplicate Irregularity = "duplicate"
)

// FindingLines is how many line numbers a Finding keeps.
const FindingLines = 5

// Finding is one kind of irregular line and where it occurs.
type Finding struct {
	Kind  Irregularity
	Count int64   // lines (or IDs) concerned
	Lines []int64 // the first FindingLines of them
	// Among is, for duplicates, the number of IDs among which they were
	// counted when there were more than MaxTrackedIDs distinct ones; 0
	// when every ID was.
	Among int64
	// Case is, for IrregularCase, the case the rule expects, and Name its
	// type.
	Case Case
	Name string
}

func (f Finding) String() string {
	n := f.Count
	var s string
	switch f.Kind {
	case IrregularBOM:
		return "a UTF-8 byte order mark (EF BB BF) before line 1"
	case IrregularCRLF:
		s = plural(n, "line ends", "lines end") + " in CRLF (\\r\\n) rather than \\n"
	case IrregularBlanks:
		s = plural(n, "line has", "lines have") + " spaces or carriage returns around the ID"
	case IrregularCase:
		other := "lowercase"
		if f.Case == CaseLower {
			other = "uppercase"
		}
		s = fmt.Sprintf("%s %s letters, while %ss are written in %s", plural(n, "ID holds", "IDs hold"), other, f.Name, caseName(f.Case))
	case IrregularDuplicate:
		s = plural(n, "ID repeats", "IDs repeat") + " an earlier line"
		if f.Among > 0 {
			s += fmt.Sprintf(" (counted among the first %d IDs only: duplicates are tracked for at most %d distinct IDs)", f.Among, MaxTrackedIDs)
		}
	default:
		s = plural(n, "line", "lines") + " " + string(f.Kind)
	}
	return s + " (" + lineList(f.Lines, n) + ")"
}

func caseName(c Case) string {
	if c == CaseLower {
		return "lowercase"
	}
	return "uppercase"
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.FormatInt(n, 10) + " " + many
}

func lineList(lines []int64, n int64) string {
	parts := make([]string, len(lines))
	for i, l := range lines {
		parts[i] = strconv.FormatInt(l, 10)
	}
	s := "line"
	if len(lines) > 1 {
		s = "lines"
	}
	s += " " + strings.Join(parts, ", ")
	if n > int64(len(lines)) {
		s += ", …"
	}
	return s
}

// DescribeFindings says in one sentence what a file's findings are.
func DescribeFindings(file string, findings []Finding) string {
	parts := make([]string, len(findings))
	for i, f := range findings {
		parts[i] = f.String()
	}
	return file + ": " + strings.Join(parts, "; ")
}

// ContentSummary is what a check found in a list it passed (or read up
// to its first error).
type ContentSummary struct {
	Lines   int64 // lines read
	Entries int64 // IDs: lines, the header excluded
	Header  bool  // line 1 is a header
	// Findings are the irregular lines, in the order of Irregularity's
	// constants; empty when there is none.
	Findings []Finding
}

// findings collects irregularities as lines are checked.
type findings struct {
	bom, crlf, blanks, wrongCase, dupes Finding
	rightCase                           int64 // IDs with letters in the rule's case
}

func (f *findings) note(x *Finding, kind Irregularity, line int64) {
	x.Kind = kind
	x.Count++
	if len(x.Lines) < FindingLines {
		x.Lines = append(x.Lines, line)
	}
}

func (f *findings) list() []Finding {
	var out []Finding
	for _, x := range []Finding{f.bom, f.crlf, f.blanks, f.wrongCase, f.dupes} {
		if x.Count > 0 {
			out = append(out, x)
		}
	}
	return out
}
