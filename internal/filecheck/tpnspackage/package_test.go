package tpnspackage

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/audiencekit/terraform-provider-audience/internal/filecheck/readtest"
)

func check(t *testing.T, content, name string, typ Type) (Result, error) {
	t.Helper()
	return Check(bytes.NewReader([]byte(content)), int64(len(content)), "pkg/"+name, name, typ)
}

func token(n int) string { return strings.Repeat("t", n) }

func TestCheckText(t *testing.T) {
	long := strings.Repeat("é", 100) // 100 characters, 200 bytes
	tests := []struct {
		name    string
		file    string
		content string
		typ     Type
		entries int64
		rule    string
		line    int64
		msg     string // substring of the error
	}{
		{name: "txt", file: "a.txt", content: "alice\nbob\n", entries: 2},
		{name: "no final newline", file: "a.txt", content: "alice\nbob", entries: 2},
		{name: "crlf", file: "a.txt", content: "alice\r\nbob\r\n", entries: 2},
		{name: "bom", file: "a.txt", content: "\xEF\xBB\xBFalice\nbob\n", entries: 2},
		{name: "100 characters", file: "a.txt", content: long + "\n", entries: 1},
		{name: "2 characters", file: "a.txt", content: "ab\n", entries: 1},
		{name: "uppercase extension", file: "a.TXT", content: "ab\n", entries: 1},
		{name: "101 characters", file: "a.txt", content: "ab\n" + long + "x\n", rule: RuleAccountChars, line: 2, msg: "101 characters"},
		{name: "1 character", file: "a.txt", content: "ab\nc\nde\n", rule: RuleAccountChars, line: 2, msg: "1 character long"},
		{name: "blank row", file: "a.txt", content: "ab\n\ncd\n", rule: RuleOneEntry, line: 2, msg: "blank"},
		{name: "whitespace row", file: "a.txt", content: "ab\ncd\n   \n", rule: RuleOneEntry, line: 3},
		{name: "trailing blank row", file: "a.txt", content: "ab\ncd\n\n", rule: RuleOneEntry, line: 3},
		{name: "latin1", file: "a.txt", content: "ab\ncaf\xe9\n", rule: RuleUTF8, line: 2, msg: "offset 3"},
		{name: "utf16", file: "a.txt", content: "\xFF\xFEa\x00b\x00\n\x00", rule: RuleUTF8, line: 1, msg: "UTF-16"},
		{name: "empty file", file: "a.txt", content: "", rule: RuleNotEmpty},
		{name: "bom only", file: "a.txt", content: "\xEF\xBB\xBF", rule: RuleOneEntry, line: 1},
		{name: "huge row", file: "a.txt", content: strings.Repeat("x", MaxLineBytes+10), rule: RuleLineLength, line: 1},
		{name: "cr only line ends", file: "a.txt", content: strings.Repeat("abcdefghij\r", 20), rule: RuleAccountChars, line: 1},
		{name: "token", file: "t.txt", typ: Token, content: token(36) + "\n" + token(36) + "\n", entries: 2},
		{name: "token too short", file: "t.txt", typ: Token, content: token(36) + "\n" + token(35) + "\n", rule: RuleTokenChars, line: 2, msg: "35 characters"},
		{name: "account fine as account", file: "t.txt", content: token(35) + "\n", entries: 1},
		{name: "csv", file: "a.csv", content: "alice\nbob\n", entries: 2},
		{name: "csv quoted", file: "a.csv", content: "\"a,b\"\n\"say \"\"hi\"\"\"\n", entries: 2},
		{name: "csv quoted too short", file: "a.csv", content: "\"a\"\n", rule: RuleAccountChars, line: 1},
		{name: "csv two columns", file: "a.csv", content: "alice\nbob,1\n", rule: RuleCSVColumns, line: 2, msg: "2 columns"},
		{name: "csv three columns quoted", file: "a.csv", content: "\"a,b\",c,\"d\"\n", rule: RuleCSVColumns, line: 1, msg: "3 columns"},
		{name: "csv trailing comma", file: "a.csv", content: "alice,\n", rule: RuleCSVColumns, line: 1},
		{name: "csv bare quote", file: "a.csv", content: "al\"ice\n", rule: RuleCSVColumns, line: 1},
		{name: "csv text after quote", file: "a.csv", content: "\"al\"ice\n", rule: RuleCSVColumns, line: 1},
		{name: "csv quote spans rows", file: "a.csv", content: "\"alice\nbob\"\n", rule: RuleOneEntry, line: 1},
		{name: "csv empty quoted", file: "a.csv", content: "ab\n\"\"\n", rule: RuleOneEntry, line: 2},
		{name: "comma fine in txt", file: "a.txt", content: "alice,1\n", entries: 1},
		{name: "bad extension", file: "a.xlsx", content: "ab\n", rule: RuleExtension},
		{name: "no extension", file: "accounts", content: "ab\n", rule: RuleExtension},
		{name: "gz", file: "a.txt.gz", content: "ab\n", rule: RuleExtension},
		{name: "name too long", file: strings.Repeat("n", 97) + ".txt", content: "ab\n", rule: RuleFileName, msg: "101 characters"},
		{name: "name 100", file: strings.Repeat("n", 96) + ".txt", content: "ab\n", entries: 1},
		{name: "only extension", file: ".txt", content: "ab\n", rule: RuleFileName},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			typ := tc.typ
			if typ == "" {
				typ = Account
			}
			res, err := check(t, tc.content, tc.file, typ)
			if tc.rule == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if res.Entries != tc.entries {
					t.Fatalf("entries = %d, want %d", res.Entries, tc.entries)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want rule %q", tc.rule)
			}
			if got := RuleOf(err); got != tc.rule {
				t.Fatalf("rule = %q, want %q (%v)", got, tc.rule, err)
			}
			e := err.(*Error)
			if e.Line != tc.line {
				t.Fatalf("line = %d, want %d (%v)", e.Line, tc.line, err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "pkg/"+tc.file) || !strings.Contains(msg, tc.rule) || !strings.Contains(msg, tc.msg) {
				t.Fatalf("error %q should name the file, the rule and %q", msg, tc.msg)
			}
			if tc.line > 0 && !strings.Contains(msg, ", line ") {
				t.Fatalf("error %q should name the line", msg)
			}
		})
	}
}

func TestCheckNamePathSeparator(t *testing.T) {
	for _, n := range []string{"a/b.txt", `a\b.txt`, ""} {
		if err := CheckName("x", n); RuleOf(err) != RuleFileName {
			t.Errorf("CheckName(%q) = %v, want rule %q", n, err, RuleFileName)
		}
	}
}

func TestCheckFileSize(t *testing.T) {
	// A sparse file is as big as it claims without using the disk.
	p := filepath.Join(t.TempDir(), "big.txt")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(MaxFileSize + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	_, err = CheckFile(p, "big.txt", Account)
	if RuleOf(err) != RuleFileSize || !strings.Contains(err.Error(), p) {
		t.Fatalf("err = %v, want %q naming %s", err, RuleFileSize, p)
	}
}

func TestCheckFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "list.csv")
	if err := os.WriteFile(p, []byte("alice\nbob\ncarol\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// The name sent to the platform sets the format: as .csv it is valid.
	res, err := CheckFile(p, "upload.csv", Account)
	if err != nil || res.Entries != 3 || res.Format != "csv" {
		t.Fatalf("CheckFile = %+v, %v", res, err)
	}
	if _, err := CheckFile(filepath.Join(t.TempDir(), "missing.txt"), "missing.txt", Account); err == nil || RuleOf(err) != "" {
		t.Fatalf("missing file: err = %v, want a plain I/O error", err)
	}
	if _, err := CheckFile(t.TempDir(), "dir.txt", Account); err == nil {
		t.Fatal("a directory must be refused")
	}
}

func TestParseType(t *testing.T) {
	for in, want := range map[string]Type{"": Account, "account": Account, "token": Token} {
		if got, err := ParseType(in); err != nil || got != want {
			t.Errorf("ParseType(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseType("tokens"); err == nil {
		t.Error("ParseType(tokens) must fail")
	}
}

// The rows check answers the same whatever the cuts of its input's reads.
func TestCheckRowsSameWhateverTheCuts(t *testing.T) {
	long := strings.Repeat("€", 60) // 60 characters, 180 bytes
	for _, in := range []string{
		"alice\nbob\n",
		"\xEF\xBB\xBF" + long + "\r\n" + long + "\n",
		"\"a,b\"\n\"say \"\"hi\"\"\"\r\n",
		strings.Repeat(long+"\n", 100) + "K\xf6ln\n",
		strings.Repeat(long+"\n", 100) + strings.Repeat("€", MaxLineBytes) + "\n",
		strings.Repeat(long+"\n", 100) + "\n",
		long + "\n\"open\n",
		long + "\xe2\x82",
	} {
		for _, csv := range []bool{false, true} {
			rows, err := CheckRows(strings.NewReader(in), "f", "", csv, Account)
			if err != nil && RuleOf(err) == "" {
				t.Fatalf("%.40q: error without a rule: %v", in, err)
			}
			for _, cut := range readtest.Cuts() {
				n, cerr := CheckRows(cut.Wrap(strings.NewReader(in)), "f", "", csv, Account)
				if n != rows || readtest.ErrText(cerr) != readtest.ErrText(err) {
					t.Fatalf("%.40q, csv %v, %s: %d, %v; one whole read: %d, %v", in, csv, cut.Name, n, cerr, rows, err)
				}
			}
		}
	}
}
