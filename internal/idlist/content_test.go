package idlist

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

var (
	ruleIDFA    = IDRule{Name: "IDFA", Kind: KindUUID, Case: CaseUpper}
	ruleGAID    = IDRule{Name: "GAID", Kind: KindUUID, Case: CaseLower}
	ruleIDFAMD5 = IDRule{Name: "IDFA_MD5", Kind: KindMD5, Case: CaseLower}
	ruleIMEI    = IDRule{Name: "IMEI", Kind: KindIMEI}
	ruleOAID    = IDRule{Name: "OAID", Kind: KindOAID}
)

// Real IDs of every kind pass their rule and the rule that takes any ID.
func TestCheckContentAcceptsEachKind(t *testing.T) {
	cases := []struct {
		rule IDRule
		ids  []string
	}{
		{ruleIDFA, []string{"6D92078A-8246-4BA4-AE5B-76104861E7DC", "AEBE52E7-03EE-455A-B3C4-E57283966239", "12345678-1234-1234-1234-123456789012"}},
		{ruleGAID, []string{"38400000-8cf0-11bd-b23e-10b96e40000d", "7268ceb0-5411-4004-b7cb-bd1fee4b6277"}},
		{ruleIDFAMD5, []string{"d41d8cd98f00b204e9800998ecf8427e", "77d06cb28c1771e8019be4f4fb6e1938"}},
		{ruleIMEI, []string{"358240051111110", "35824005111111", "3582400511111101", "a000002c9060f7", "A000002C9060F7", "270113177609000012"}},
		// Huawei's UUID form, Xiaomi's 16 digits, vivo and OPPO's 64.
		{ruleOAID, []string{"fa4a4a8b-6a6c-4c2a-9f8e-1f0c0d3b2a10", "a4f3b3c2d1e0f987", strings.Repeat("0123456789abcdef", 4)}},
	}
	for _, tc := range cases {
		for _, rule := range []IDRule{tc.rule, {}} {
			in := strings.ToLower(tc.rule.Name) + "\n" + strings.Join(tc.ids, "\n") + "\n"
			s, err := CheckContent(strings.NewReader(in), "ids.txt", rule)
			if err != nil || s.Entries != int64(len(tc.ids)) || !s.Header || len(s.Findings) != 0 {
				t.Errorf("%s under %q: %+v, %v; want %d entries after a header, no finding", tc.rule.Name, rule.Name, s, err, len(tc.ids))
			}
		}
	}
}

// An ID of another kind fails with the line, what the rule wants and what
// the line looks like.
func TestCheckContentRefusesAnotherKind(t *testing.T) {
	idfa := "6D92078A-8246-4BA4-AE5B-76104861E7DC"
	cases := []struct {
		rule IDRule
		in   string
		want string
	}{
		{ruleIMEI, "imei\n358240051111110\n" + idfa + "\n", "ids.txt, line 3: the line is not an IMEI: an IMEI is 14 to 16 digits (such as 358240051111110), or a MEID (14 hexadecimal digits, or 18 digits), and it is a UUID"},
		{ruleIDFA, "idfa\n358240051111110\n", "ids.txt, line 2: the line is not an IDFA: an IDFA is a UUID (8-4-4-4-12 hexadecimal digits, such as 6D92078A-8246-4BA4-AE5B-76104861E7DC), and it is 15 digits, as IMEIs are (\"358240051111110\")"},
		{ruleIDFAMD5, idfa + "\n", "line 1: the line is not an IDFA_MD5: an IDFA_MD5 is an MD5 digest (32 hexadecimal digits, such as d41d8cd98f00b204e9800998ecf8427e), and it is a UUID, as IDFAs, IDFVs and GAIDs are"},
		{ruleGAID, "d41d8cd98f00b204e9800998ecf8427e\n", "line 1: the line is not a GAID: a GAID is a UUID (8-4-4-4-12 hexadecimal digits, such as 38400000-8cf0-11bd-b23e-10b96e40000d), and it is 32 hexadecimal digits, as MD5 digests are"},
		{ruleOAID, "oaid\n0a1b2c3d\n", "line 2: the line is not an OAID: an OAID is 16 to 64 hexadecimal digits and dashes (its makers write it in several forms), and it has 8 characters"},
		{ruleIDFA, "idfa\n" + idfa + "\n00000000-0000-0000-0000-000000000000\n", "line 3: the line is the all-zero IDFA that a device reports when its user limits ad tracking"},
		{ruleOAID, "0000000000000000\n", "line 1: the line is the all-zero OAID"},
		// Apple writes IDFAs in uppercase, Android GAIDs in lowercase: a
		// file whose every ID has the other case holds the other type.
		{ruleGAID, "gaid\n" + idfa + "\nAEBE52E7-03EE-455A-B3C4-E57283966239\n", "ids.txt: every ID with letters (2, from line 2) is in uppercase, and GAIDs are written in lowercase: the file seems to hold another type of device ID. Check the device type; if these are GAIDs written in uppercase, rewrite them with the audience_id_list data source and case = \"lower\""},
		{ruleIDFA, "38400000-8cf0-11bd-b23e-10b96e40000d\n", "every ID with letters (1, from line 1) is in lowercase, and IDFAs are written in uppercase"},
	}
	for _, tc := range cases {
		_, err := CheckContent(strings.NewReader(tc.in), "ids.txt", tc.rule)
		if !errors.Is(err, ErrDeviceType) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s, %q:\n got %v\nwant %s", tc.rule.Name, tc.in, err, tc.want)
		}
	}
}

// No e-mail address, phone number, web address or text reaches a
// platform, whatever the rule; a header is still allowed.
func TestCheckContentRefusesPersonalData(t *testing.T) {
	idfa := "6D92078A-8246-4BA4-AE5B-76104861E7DC\n"
	cases := []struct {
		in, want string
	}{
		{"anna.ivanova@example.com\n", `ids.txt, line 1: the line looks like an e-mail address ("a********a@example.com"); no personal data may reach an ad platform. Upload device IDs only: extract the device ID column with the audience_id_list data source`},
		{"email\n" + strings.Repeat(idfa, 15) + "boris@example.com\n", "line 17: the line looks like an e-mail address"},
		{"idfa\n" + idfa + "+49 170 1234567\n", "line 3: the line looks like a phone number"},
		{idfa + "(030) 1234567\n", "line 2: the line looks like a phone number"},
		{idfa + "138 0013 8000\n", "line 2: the line looks like a phone number"},
		{idfa + "13800138000\n", "line 2: the line looks like a phone number"},
		{"+8613800138000\n", "line 1: the line looks like a phone number"},
		{idfa + "https://example.com/u/1\n", "line 2: the line looks like a web address"},
		{idfa + "www.example.com\n", "line 2: the line looks like a web address"},
		{idfa + "Anna Ivanova\n", `line 2: the line holds words separated by spaces, as a name or an address does ("A********a")`},
		{idfa + "Zoë\n", "line 2: the line holds non-ASCII characters"},
		{idfa + "张伟\n", "line 2: the line holds non-ASCII characters"},
		{idfa + "ivanova\n", "line 2: the line holds 'i', and a device ID has only digits, letters a to f and dashes: it may be a name or an account"},
		{idfa + "user_0001\n", "line 2: the line holds 'u'"},
	}
	for _, tc := range cases {
		for _, rule := range []IDRule{{}, ruleIDFA} {
			_, err := CheckContent(strings.NewReader(tc.in), "ids.txt", rule)
			if !errors.Is(err, ErrPersonalData) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("rule %q, %q:\n got %v\nwant %s", rule.Name, tc.in, err, tc.want)
			}
		}
	}
}

// Headers, and lines that may be device IDs, pass without a rule; the
// header is not an entry.
func TestCheckContentHeaders(t *testing.T) {
	cases := []struct {
		in      string
		entries int64
		header  bool
	}{
		{"device id\n1\n", 1, true},
		{"设备号\n6D92078A-8246-4BA4-AE5B-76104861E7DC\n", 1, true},
		{"idfa_v2\n6D92078A-8246-4BA4-AE5B-76104861E7DC\n", 1, true},
		{"IDFA MD5\nd41d8cd98f00b204e9800998ecf8427e\n", 1, true},
		{"358240051111110\n490154203237518\n", 2, false},
		{"1\n5\n0a1b2c3d\n", 3, false},
		{"abcdef\n0a1b2c3d\n", 1, true}, // no digit: a header, as before device types were checked
	}
	for _, tc := range cases {
		s, err := CheckContent(strings.NewReader(tc.in), "ids.txt", IDRule{})
		if err != nil || s.Entries != tc.entries || s.Header != tc.header {
			t.Errorf("%q: %+v, %v; want %d entries, header %v", tc.in, s, err, tc.entries, tc.header)
		}
	}
	// Under a rule, a first line of its kind is an ID, even without a digit.
	s, err := CheckContent(strings.NewReader("abcdefabcdefabcdefabcdefabcdefab\n"), "ids.txt", ruleIDFAMD5)
	if err != nil || s.Entries != 1 || s.Header {
		t.Errorf("an MD5 without digits on line 1: %+v, %v", s, err)
	}
}

// A byte order mark, CRLF line ends, blanks, another case and repeats are
// findings with their counts and first lines, not errors.
func TestCheckContentFindings(t *testing.T) {
	a, b, c := "6D92078A-8246-4BA4-AE5B-76104861E7DC", "AEBE52E7-03EE-455A-B3C4-E57283966239", "F7A1C2D3-03EE-455A-B3C4-E57283966239"
	in := "\xEF\xBB\xBFidfa\r\n" + a + "\r\n" + b + "\r\n" + a + "\r\n" + " " + c + "\r\n" + strings.ToLower(b) + "\r\n" + a + "\r\n" + b
	s, err := CheckContent(strings.NewReader(in), "ids.txt", ruleIDFA)
	if err != nil {
		t.Fatal(err)
	}
	want := []Finding{
		{Kind: IrregularBOM, Count: 1, Lines: []int64{1}},
		{Kind: IrregularCRLF, Count: 7, Lines: []int64{1, 2, 3, 4, 5}},
		{Kind: IrregularBlanks, Count: 1, Lines: []int64{5}},
		{Kind: IrregularCase, Count: 1, Lines: []int64{6}, Case: CaseUpper, Name: "IDFA"},
		{Kind: IrregularDuplicate, Count: 3, Lines: []int64{4, 7, 8}},
	}
	if s.Lines != 8 || s.Entries != 7 || !s.Header || !reflect.DeepEqual(s.Findings, want) {
		t.Fatalf("got %+v\nwant 8 lines, 7 entries, findings %+v", s, want)
	}
	got := DescribeFindings("ids.txt", s.Findings)
	for _, part := range []string{
		"ids.txt: a UTF-8 byte order mark (EF BB BF) before line 1; ",
		"7 lines end in CRLF (\\r\\n) rather than \\n (lines 1, 2, 3, 4, 5, …); ",
		"1 line has spaces or carriage returns around the ID (line 5); ",
		"1 ID holds lowercase letters, while IDFAs are written in uppercase (line 6); ",
		"3 IDs repeat an earlier line (lines 4, 7, 8)",
	} {
		if !strings.Contains(got, part) {
			t.Errorf("DescribeFindings = %s\nwant it to hold %q", got, part)
		}
	}
	// The case of a lowercase copy of b is not the same ID for repeats.
	if plain, err := CheckContent(strings.NewReader(a+"\n"+b+"\n"), "ids.txt", ruleIDFA); err != nil || plain.Findings != nil {
		t.Errorf("a clean list: %+v, %v", plain, err)
	}
}

// More distinct IDs than the set holds: repeats are counted among the
// first IDs, up to MaxTrackedIDs distinct ones, and the finding says so.
func TestCheckContentDuplicatesBeyondTheCap(t *testing.T) {
	n := MaxTrackedIDs + 200
	// Line 10 repeats line 1 and is counted; the set is full at line
	// MaxTrackedIDs+2 (MaxTrackedIDs+1 IDs examined), so the repeat at
	// line MaxTrackedIDs+100 is not.
	src := &idLines{n: n, repeatAt: map[int]bool{10: true, MaxTrackedIDs + 100: true}}
	s, err := CheckContent(src, "big.txt", ruleIDFA)
	if err != nil {
		t.Fatal(err)
	}
	dup := s.Findings[len(s.Findings)-1]
	if s.Entries != int64(n+2) || dup.Kind != IrregularDuplicate || dup.Count != 1 || dup.Among != MaxTrackedIDs+1 {
		t.Fatalf("entries %d, findings %+v", s.Entries, s.Findings)
	}
	if got := dup.String(); !strings.Contains(got, fmt.Sprintf("1 ID repeats an earlier line (counted among the first %d IDs only: duplicates are tracked for at most %d distinct IDs) (line 10)", MaxTrackedIDs+1, MaxTrackedIDs)) {
		t.Errorf("finding reads %q", got)
	}
}

// The set of IDs is the only memory that grows with the content, and it
// stops growing at MaxTrackedIDs: its table of 2^21 hashes (16 MiB), plus
// the smaller tables it grew from.
func TestCheckContentMemoryIsBounded(t *testing.T) {
	const budget = 36 << 20
	for _, n := range []int{MaxTrackedIDs + 1000, MaxTrackedIDs + MaxTrackedIDs/2} {
		allocated := allocatedBy(func() {
			if _, err := CheckContent(&idLines{n: n}, "big.txt", ruleIDFA); err != nil {
				t.Fatal(err)
			}
		})
		if allocated > budget {
			t.Errorf("%d IDs: the check allocated %d bytes, want at most %d", n, allocated, budget)
		}
	}
}

// Told the size of a large list before its content (as the plan's pass
// over a file tells it), the check makes its set of IDs once, at its
// final size, instead of growing it by doubling: one 16 MiB table, not
// the 32 MiB of all the sizes on the way.
func TestContentCheckSizeHint(t *testing.T) {
	const n = fullSetBytes/37 + 1 // UUIDs
	const size = n * 37
	for _, hint := range []bool{true, false} {
		c := NewContentCheck("big.txt", false, ruleIDFA)
		allocated := allocatedBy(func() {
			if hint {
				c.SizeHint(size)
			}
			if _, err := io.Copy(c, &idLines{n: n}); err != nil {
				t.Fatal(err)
			}
		})
		if _, err := c.Close(); err != nil || c.Entries() != n {
			t.Fatalf("hint %v: %d entries, %v", hint, c.Entries(), err)
		}
		if table := uint64(2 * MaxTrackedIDs * 8); hint != (allocated < table+table/8) {
			t.Errorf("hint %v: the check allocated %d bytes; the full table is %d", hint, allocated, table)
		}
	}
}

// A check that ends hands its set of IDs on: the next check of a plan
// (which checks its lists a few at a time) takes the tables it needs from
// those of the checks before it rather than allocating its own.
func TestContentChecksReuseSets(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop items at random")
	}
	// One P, one pool to take from; no collection, which empties pools.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	runtime.GC()
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	const n = 300_000 // a table of 2^20 slots, 8 MiB, and the smaller ones on the way
	allocated := func() uint64 {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.TotalAlloc
	}
	check := func(rule IDRule) uint64 {
		before := allocated()
		if _, err := CheckContent(&idLines{n: n}, "ids.txt", rule); err != nil {
			t.Fatal(err)
		}
		return allocated() - before
	}
	check(ruleIDFA)
	// Without reuse, 16 MiB: the tables of 2^12 to 2^20 slots.
	if again := check(ruleIDFA); again > 1<<20 {
		t.Errorf("the next check allocated %d bytes; want it to reuse the tables of the one before", again)
	}
}

// idLines yields n distinct uppercase UUIDs, one a line, and on the lines
// of repeatAt (1-based) the first one again (not counted in n).
type idLines struct {
	n        int
	repeatAt map[int]bool
	line     int
	emitted  int
	buf      []byte
	pending  []byte // the rest of buf to read
}

func (r *idLines) Read(p []byte) (int, error) {
	w := 0
	for w < len(p) {
		if len(r.pending) == 0 {
			if r.emitted == r.n {
				break
			}
			r.line++
			id := 0
			if !r.repeatAt[r.line] {
				id = r.emitted
				r.emitted++
			}
			r.buf = append(r.buf[:0], "6D92078A-8246-4BA4-AE5B-000000000000\n"...)
			for i := 35; id > 0; i, id = i-1, id>>4 {
				r.buf[i] = "0123456789ABCDEF"[id&15]
			}
			r.pending = r.buf
		}
		k := copy(p[w:], r.pending)
		r.pending = r.pending[k:]
		w += k
	}
	if w == 0 {
		return 0, io.EOF
	}
	return w, nil
}

// Fed in writes of any size, plain or gzip, a check finds what
// CheckContent finds: errors, entries and findings.
func TestContentCheckAgreesAtOddWriteSizes(t *testing.T) {
	inputs := []struct {
		rule IDRule
		in   string
	}{
		{ruleIDFA, "\xEF\xBB\xBFidfa\r\n6D92078A-8246-4BA4-AE5B-76104861E7DC\r\n 6D92078A-8246-4BA4-AE5B-76104861E7DC \r\naebe52e7-03ee-455a-b3c4-e57283966239\r\nAEBE52E7-03EE-455A-B3C4-E57283966239"},
		{ruleGAID, "gaid\n38400000-8cf0-11bd-b23e-10b96e40000d\nanna@example.com\n"},
		{IDRule{}, "1\n2\n1\n3\n2\n"},
		{ruleIMEI, "imei\n358240051111110\n6D92078A-8246-4BA4-AE5B-76104861E7DC\n"},
		{IDRule{}, "\xEF\xBB"},
	}
	for _, tc := range inputs {
		want, wantErr := CheckContent(strings.NewReader(tc.in), "ids.txt", tc.rule)
		for _, size := range []int{1, 2, 3, 5, 7, 64 << 10} {
			for _, gz := range []bool{false, true} {
				content := []byte(tc.in)
				if gz {
					content = gzipBytes(t, tc.in)
				}
				c := NewContentCheck("ids.txt", gz, tc.rule)
				_, err := writeInPieces(c, content, size)
				if fmt.Sprint(err) != fmt.Sprint(wantErr) || !reflect.DeepEqual(c.Summary(), want) || c.Entries() != want.Entries || !reflect.DeepEqual(c.Findings(), want.Findings) {
					t.Errorf("%q in writes of %d, gzip %v:\n got %+v, %v\nwant %+v, %v", tc.in, size, gz, c.Summary(), err, want, wantErr)
				}
			}
		}
	}
}

// dedupe writes each value once and counts the rest; a byte order mark
// and CRLF line ends never reach the output.
func TestExtractDedupe(t *testing.T) {
	in := "\xEF\xBB\xBFidfa\r\n6d92078a-8246-4ba4-ae5b-76104861e7dc\r\nAEBE52E7-03EE-455A-B3C4-E57283966239\r\n6D92078A-8246-4BA4-AE5B-76104861E7DC\r\n AEBE52E7-03EE-455A-B3C4-E57283966239 \r\n"
	out, res, err := extract(t, in, Options{Column: "idfa", Case: CaseUpper, Dedupe: true})
	want := "6D92078A-8246-4BA4-AE5B-76104861E7DC\nAEBE52E7-03EE-455A-B3C4-E57283966239\n"
	if err != nil || out != want || res.Entries != 2 || res.Duplicates != 2 {
		t.Fatalf("got %q, %+v, %v; want %q with 2 duplicates", out, res, err, want)
	}
	// Without dedupe the repeats stay, and still no BOM or CR.
	out, res, err = extract(t, in, Options{Column: "idfa", Case: CaseUpper})
	if err != nil || res.Entries != 4 || res.Duplicates != 0 || strings.ContainsAny(out, "\r\uFEFF") {
		t.Fatalf("got %q, %+v, %v", out, res, err)
	}
	// The output passes the content check with no finding but repeats.
	s, err := CheckContent(strings.NewReader(out), "out.txt", ruleIDFA)
	if err != nil || len(s.Findings) != 1 || s.Findings[0].Kind != IrregularDuplicate {
		t.Fatalf("the extracted list: %+v, %v", s, err)
	}
}

// More distinct values than dedupe remembers fail, naming the line, and
// never write a list that is only partly de-duplicated.
func TestExtractDedupeBeyondTheCap(t *testing.T) {
	src := io.MultiReader(strings.NewReader("idfa\n"), &idLines{n: MaxTrackedIDs + 1})
	var out bytes.Buffer
	res, err := Extract(context.Background(), src, "big.csv", &out, Options{Column: "idfa", Dedupe: true})
	var ie *Error
	if !errors.As(err, &ie) || ie.Line != MaxTrackedIDs+2 || !strings.Contains(err.Error(), fmt.Sprintf("dedupe remembers at most %d distinct values, and the list has more. Split the export", MaxTrackedIDs)) {
		t.Fatalf("got %+v, %v", res, err)
	}
}
