package fdfiles

import (
	"bytes"
	"strings"
	"testing"

	"github.com/audiencekit/terraform-provider-audience/internal/filecheck/readtest"
)

// The events check reads any input without panicking, and reads it the
// same whatever the size of the reads (characters and lines cut anywhere).
// testdata/fuzz holds inputs that once failed: a long field of non-ASCII
// text that made the reader return nothing until the CSV reader gave up
// (issue #27).
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
		for _, cut := range readtest.FewCuts() {
			n2, err2 := CheckEvents(cut.Wrap(bytes.NewReader(in)), "f.csv")
			if n1 != n2 || readtest.ErrText(err1) != readtest.ErrText(err2) {
				t.Fatalf("whole reads: %d, %v; %s: %d, %v", n1, err1, cut.Name, n2, err2)
			}
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
