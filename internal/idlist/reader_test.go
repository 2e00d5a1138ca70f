package idlist

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/audiencekit/terraform-provider-audience/internal/filecheck/readtest"
)

type record struct {
	line   int64
	fields []string
}

func readAll(t *testing.T, in string) ([]record, error) {
	t.Helper()
	return readCut(strings.NewReader(in))
}

// readCut reads every record of in.
func readCut(in io.Reader) ([]record, error) {
	r := NewReader(in)
	var out []record
	for {
		fields, line, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		rec := record{line: line}
		for _, f := range fields {
			rec.fields = append(rec.fields, string(f))
		}
		out = append(out, rec)
	}
}

func TestReaderRFC4180(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want []record
	}{
		{"plain", "a,b\n1,2\n", []record{{1, []string{"a", "b"}}, {2, []string{"1", "2"}}}},
		{"crlf and no final newline", "a,b\r\n1,2", []record{{1, []string{"a", "b"}}, {2, []string{"1", "2"}}}},
		{"bom", "\xEF\xBB\xBFidfa,email\nX,y\n", []record{{1, []string{"idfa", "email"}}, {2, []string{"X", "y"}}}},
		{"quoted comma and quote", "a,b\n\"x,1\",\"say \"\"hi\"\"\"\n", []record{{1, []string{"a", "b"}}, {2, []string{"x,1", `say "hi"`}}}},
		{"quoted newline keeps line numbers", "a,b\n\"1\n2\",3\n4,5\n", []record{{1, []string{"a", "b"}}, {2, []string{"1\n2", "3"}}, {4, []string{"4", "5"}}}},
		{"quoted crlf kept", "a\r\n\"1\r\n2\"\r\n", []record{{1, []string{"a"}}, {2, []string{"1\r\n2"}}}},
		{"empty fields", "a,b,c\n,,\n", []record{{1, []string{"a", "b", "c"}}, {2, []string{"", "", ""}}}},
		{"empty line", "a\n\nb\n", []record{{1, []string{"a"}}, {2, []string{""}}, {3, []string{"b"}}}},
		{"tab separated", "idfa\temail\nX\ty,z\n", []record{{1, []string{"idfa", "email"}}, {2, []string{"X", "y,z"}}}},
		{"semicolon separated", "idfa;email\nX;y\n", []record{{1, []string{"idfa", "email"}}, {2, []string{"X", "y"}}}},
		{"comma wins over semicolon", "a;b,c\n1;2,3\n", []record{{1, []string{"a;b", "c"}}, {2, []string{"1;2", "3"}}}},
		{"single column", "idfa\nX\n", []record{{1, []string{"idfa"}}, {2, []string{"X"}}}},
		{"quoted header separator ignored for detection", "\"a,b\"\tc\n1\t2\n", []record{{1, []string{"a,b", "c"}}, {2, []string{"1", "2"}}}},
		{"separator after a line break in the first record", "\"a\nb\";c\n1;2\n", []record{{1, []string{"a\nb", "c"}}, {3, []string{"1", "2"}}}},
		{"first record ends in a quoted line break", "\"\n\";\"\"\n", []record{{1, []string{"\n", ""}}}},
		{"quoted separator on the first line of the first record ignored", "\"a;\nb\"\tc\n1\t2;3\n", []record{{1, []string{"a;\nb", "c"}}, {3, []string{"1", "2;3"}}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readAll(t, tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestReaderMalformedRowsNameTheLine(t *testing.T) {
	cases := []struct {
		name, in string
		line     int64
		problem  string
	}{
		{"bare quote", "a,b\n1,x\"y\n", 2, "quote inside an unquoted value"},
		{"text after closing quote", "a,b\n\"1\"x,2\n", 2, "text after its closing quote"},
		{"text after closing quote on a later line", "a,b\n\"1\n2\"x,3\n", 3, "text after its closing quote"},
		{"unclosed quote", "a,b\n1,2\n\"3,4\n5,6\n", 3, "not closed before the end of the file"},
		{"line too long", "a\n" + strings.Repeat("x", MaxRecordBytes+10) + "\n", 2, "longer than"},
		{"first record not closed", "\"a,b\n1,2\n", 1, "not closed before the end of the file"},
		{"first record too long", "\"" + strings.Repeat("x,\n", MaxRecordBytes/3+10) + "\"\n", 1, "longer than"},
		{"quoted value too long", "a\n\"" + strings.Repeat("x\n", MaxRecordBytes/2+10) + "\"\n", 2, "longer than"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := readAll(t, tc.in)
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v, want a SyntaxError", err)
			}
			if se.Line != tc.line || !strings.Contains(se.Problem, tc.problem) {
				t.Fatalf("got line %d %q, want line %d containing %q", se.Line, se.Problem, tc.line, tc.problem)
			}
		})
	}
}

// The reader finds the same records, then the same error, whatever the
// size of its input's reads.
func TestReaderSameWhateverTheCuts(t *testing.T) {
	long := strings.Repeat("€", 1500) // a field across the buffers' ends
	for _, in := range []string{
		"a,b\n1,2\n",
		"\xEF\xBB\xBFidfa;email\r\n\"x;\r\ny\";Köln\r\n" + long + ";" + long + "\n",
		"\"a\nb\"\tc\n1\t2;3\n",
		"a,b\n" + long + ",x\n\"3,4\n5,6\n",
		"a,b\n1,x\"y\n",
		"a\n" + strings.Repeat("é", MaxRecordBytes/2+5) + "\n",
		"a\n\"" + strings.Repeat("x\n", MaxRecordBytes/2+10) + "\"\n",
	} {
		whole, wholeErr := readAll(t, in)
		for _, cut := range readtest.Cuts() {
			got, err := readCut(cut.Wrap(strings.NewReader(in)))
			if !reflect.DeepEqual(got, whole) || readtest.ErrText(err) != readtest.ErrText(wholeErr) {
				t.Fatalf("%.30q, %s: %d records, %v; one whole read: %d records, %v", in, cut.Name, len(got), err, len(whole), wholeErr)
			}
		}
	}
}
