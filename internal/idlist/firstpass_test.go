package idlist

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/audiencekit/terraform-provider-audience/internal/filestate"
)

// writeList writes n IDs of several lengths (UUIDs, then 32 hex digits,
// then IMEI-like digits) with irregular lines and repeats among them, and
// tail after them; it returns the content.
func writeList(t *testing.T, path string, n int, tail string) []byte {
	t.Helper()
	var b bytes.Buffer
	b.WriteString("\xEF\xBB\xBFdevice_id\r\n")
	for i := range n {
		switch {
		case i%100_003 == 7:
			fmt.Fprintf(&b, " %08x-0000-4000-8000-%012x\n", i/2, i/2) // blanks
		case i%250_000 == 11:
			b.WriteString("00000000-0000-4000-8000-000000000001\n") // repeats
		case i < n/3:
			fmt.Fprintf(&b, "%08x-0000-4000-8000-%012x\n", i, i)
		case i < 2*n/3:
			fmt.Fprintf(&b, "%032x\r\n", i) // CRLF
		default:
			fmt.Fprintf(&b, "%015d\n", i)
		}
	}
	b.WriteString(tail)
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// The plan's first pass over a new list (MD5 on a goroutine of its own,
// the fingerprint and the content check on the reading one) gives exactly
// what each computes alone over the same bytes: MD5, fingerprint, lines,
// entries, findings, and the first error with its line, even on the last
// line of a file read in many blocks.
func TestFirstPassAgreesWithSequential(t *testing.T) {
	const n = 1_200_000 // beyond MaxTrackedIDs, about 40 MiB: many blocks
	for _, tc := range []struct {
		name, tail string
		wantLine   int64 // of the error; 0 for none
		cause      error
	}{
		{"clean", "", 0, nil},
		{"personal data on the last line", "anna.ivanova@example.com\n", n + 2, ErrPersonalData},
		{"phone number without a line break", "+49 30 1234567", n + 2, ErrPersonalData},
		{"second column", "358240051111110,358240051111111\n", n + 2, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "ids.txt")
			data := writeList(t, p, n, tc.tail)
			want, wantErr := CheckContent(bytes.NewReader(data), p, IDRule{})
			c := NewContentCheck(p, false, IDRule{})
			rec, err := filestate.Hash(p, true, c)
			if err != nil {
				t.Fatal(err)
			}
			_, gotErr := c.Close()
			sum := md5.Sum(data)
			alone, err := filestate.Hash(p, false) // the fingerprint's pieces, in parallel
			if err != nil {
				t.Fatal(err)
			}
			if rec.MD5 != hex.EncodeToString(sum[:]) || rec.Fingerprint != alone.Fingerprint || rec.Size != int64(len(data)) {
				t.Errorf("record %+v; want md5 %x, fingerprint %s, size %d", rec, sum, alone.Fingerprint, len(data))
			}
			if !reflect.DeepEqual(c.Summary(), want) || fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
				t.Errorf("pass: %+v, %v\nalone: %+v, %v", c.Summary(), gotErr, want, wantErr)
			}
			var ie *Error
			switch {
			case tc.wantLine == 0 && gotErr != nil:
				t.Errorf("unexpected error %v", gotErr)
			case tc.wantLine == 0:
				if s := c.Summary(); s.Entries != n || !s.Header || len(s.Findings) != 4 {
					t.Errorf("summary %+v, want %d entries after a header and 4 kinds of finding", s, n)
				}
			case !errors.As(gotErr, &ie) || ie.Line != tc.wantLine || (tc.cause != nil && !errors.Is(gotErr, tc.cause)):
				t.Errorf("error %v, want one on line %d (%v)", gotErr, tc.wantLine, tc.cause)
			}
		})
	}
}
