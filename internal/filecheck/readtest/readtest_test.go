package readtest

import (
	"errors"
	"io"
	"strings"
	"testing"
)

// Every cut passes the input on whole, and the small cuts do cut it.
func TestCuts(t *testing.T) {
	in := strings.Repeat("0123456789", 10)
	for _, cut := range Cuts() {
		for _, size := range CallerSizes {
			got, err := ReadAll(cut.Wrap(strings.NewReader(in)), size)
			if string(got) != in || err != nil {
				t.Fatalf("%s, buffer of %d bytes: %q, %v", cut.Name, size, got, err)
			}
		}
	}
	p := &Pieces{R: strings.NewReader(in), Sizes: []int{3, 1}}
	buf := make([]byte, 8)
	for i, want := range []int{3, 1, 3, 1} {
		if n, _ := p.Read(buf); n != want {
			t.Fatalf("read %d: %d bytes, want %d", i, n, want)
		}
	}
}

// ReadAll ends at the first error, and gives up on a reader that makes no
// progress.
func TestReadAll(t *testing.T) {
	boom := errors.New("boom")
	got, err := ReadAll(io.MultiReader(strings.NewReader("ab"), &failing{boom}), 1)
	if string(got) != "ab" || !errors.Is(err, boom) {
		t.Fatalf("%q, %v", got, err)
	}
	if _, err := ReadAll(&failing{}, 4); !errors.Is(err, io.ErrNoProgress) {
		t.Fatalf("a reader returning nothing: %v", err)
	}
}

type failing struct{ err error }

func (f *failing) Read([]byte) (int, error) { return 0, f.err }
