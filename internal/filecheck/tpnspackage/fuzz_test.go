package tpnspackage

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"strings"
	"testing"
	"unicode/utf8"
)

// refText is a plain, slurping restatement of the txt rules, used as an
// oracle for the streaming checker.
func refText(data string) (int64, bool) {
	data = strings.TrimPrefix(data, "\xEF\xBB\xBF")
	lines := strings.Split(data, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) == 0 {
		return 0, false
	}
	for _, l := range lines {
		l = strings.TrimSuffix(l, "\r")
		n := utf8.RuneCountInString(l)
		if !utf8.ValidString(l) || strings.TrimSpace(l) == "" || n < MinAccountChars || n > MaxAccountChars {
			return 0, false
		}
	}
	return int64(len(lines)), true
}

func FuzzCheckRowsText(f *testing.F) {
	for _, s := range []string{"alice\nbob\n", "ab", "\xEF\xBB\xBFab\r\ncd", "a\n", "\n\n", "ab\n\ncd", "caf\xe9\n", strings.Repeat("x", 5000)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data string) {
		// The BOM is only stripped from the very first row; the oracle
		// strips it from the text, which is the same thing.
		n, err := CheckRows(strings.NewReader(data), "f.txt", "", false, Account)
		want, ok := refText(data)
		if ok != (err == nil) {
			t.Fatalf("CheckRows(%q) = %d, %v; oracle says ok=%v", data, n, err, ok)
		}
		if ok && n != want {
			t.Fatalf("CheckRows(%q) counted %d entries, oracle %d", data, n, want)
		}
		if err != nil && RuleOf(err) == "" {
			t.Fatalf("error without a rule: %v", err)
		}
	})
}

func FuzzCheckRowsCSV(f *testing.F) {
	for _, s := range []string{"alice\nbob\n", "\"a,b\"\n", "a,b\n", "\"say \"\"hi\"\"\"\r\n", "\"open\n", "x\"y\n", "\"ab\"c\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data string) {
		n, err := CheckRows(strings.NewReader(data), "f.csv", "", true, Account)
		if err != nil {
			if RuleOf(err) == "" {
				t.Fatalf("error without a rule: %v", err)
			}
			return
		}
		// What the checker accepts, encoding/csv must read as n records of
		// one field each, every field a valid account.
		r := csv.NewReader(strings.NewReader(strings.TrimPrefix(data, "\xEF\xBB\xBF")))
		r.FieldsPerRecord = 1
		var got int64
		for {
			rec, rerr := r.Read()
			if errors.Is(rerr, io.EOF) {
				break
			}
			if rerr != nil {
				t.Fatalf("accepted %q but encoding/csv says %v", data, rerr)
			}
			if c := utf8.RuneCountInString(rec[0]); c < MinAccountChars || c > MaxAccountChars {
				t.Fatalf("accepted %q with a %d-character field %q", data, c, rec[0])
			}
			got++
		}
		if got != n {
			t.Fatalf("accepted %q as %d entries; encoding/csv reads %d", data, n, got)
		}
	})
}

func FuzzCheckZip(f *testing.F) {
	f.Add(makeZip(f, zipItem{name: "a.txt", content: "alice\nbob\n", method: zip.Deflate}))
	f.Add(makeZip(f, zipItem{name: "a.csv", content: "\"a,b\"\ncd\n"}))
	f.Add(makeZip(f, zipItem{name: "d/"}, zipItem{name: "d/a.txt", content: "ab\n"}))
	f.Add(makeZip(f, zipItem{name: "a.txt", content: "ab\n"}, zipItem{name: "b.txt", content: "ab\n"}))
	f.Add(zip64(f, "a.txt", "alice\nbob\n"))
	f.Add([]byte("PK\x05\x06" + strings.Repeat("\x00", 18)))
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := checkZipBytes(data, Account)
		if err != nil {
			if RuleOf(err) == "" {
				t.Fatalf("error without a rule: %v", err)
			}
			return
		}
		if res.Entries < 1 || (format(res.Entry) != "txt" && format(res.Entry) != "csv") || strings.ContainsAny(res.Entry, `/\`) {
			t.Fatalf("accepted an invalid package: %+v", res)
		}
		// When archive/zip also reads the archive, it must see the same
		// single entry with the same rows.
		zr, zerr := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if zerr != nil || len(zr.File) != 1 {
			return
		}
		rc, zerr := zr.File[0].Open()
		if zerr != nil {
			return
		}
		defer rc.Close()
		n, err := CheckRows(rc, "f.zip", zr.File[0].Name, format(zr.File[0].Name) == "csv", Account)
		if zr.File[0].Name != res.Entry || err != nil || n != res.Entries {
			t.Fatalf("accepted %q with %d entries; archive/zip reads %q: %d, %v", res.Entry, res.Entries, zr.File[0].Name, n, err)
		}
	})
}
