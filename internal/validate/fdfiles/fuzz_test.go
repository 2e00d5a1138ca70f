package fdfiles

import (
	"bytes"
	"strings"
	"testing"
	"testing/iotest"
)

// The events check reads any input without panicking, and reads it the
// same whatever the size of the reads (characters and lines cut anywhere).
func FuzzCheckEvents(f *testing.F) {
	for _, s := range []string{
		"title,city\nConcert,Berlin\n",
		"\xEF\xBB\xBFtitle\r\n\"a,\"\"b\"\"\nc\"\n",
		"title\nK\xf6ln\n",
		"title;city\n",
		"a,b\n1\n",
		"title\nCaf\xc3",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		n1, err1 := CheckEvents(bytes.NewReader(in), "f.csv")
		n2, err2 := CheckEvents(iotest.OneByteReader(bytes.NewReader(in)), "f.csv")
		if n1 != n2 || (err1 == nil) != (err2 == nil) || (err1 != nil && err1.Error() != err2.Error()) {
			t.Fatalf("whole reads: %d, %v; one byte at a time: %d, %v", n1, err1, n2, err2)
		}
		if err1 != nil && RuleOf(err1) == "" {
			t.Fatalf("error without a rule: %v", err1)
		}
		if err1 == nil && !strings.Contains(string(in), "\n") && n1 > 0 {
			t.Fatalf("%d rows in a single line", n1)
		}
	})
}

// The workbook check reads any input without panicking.
func FuzzCheckWorkbook(f *testing.F) {
	f.Add([]byte("PK\x05\x06" + strings.Repeat("\x00", 18)))
	f.Add([]byte("title,city\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		err := CheckWorkbook(bytes.NewReader(in), int64(len(in)), "f.xlsx")
		if err != nil && RuleOf(err) == "" {
			t.Fatalf("error without a rule: %v", err)
		}
	})
}
