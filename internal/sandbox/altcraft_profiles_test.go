package sandbox

import (
	"bytes"
	"strings"
	"testing"
)

func TestAltcraftProfilesChange(t *testing.T) {
	s := startSandbox(t)
	export := func() string {
		t.Helper()
		var b bytes.Buffer
		src := altcraftSource{"segment", 7}
		s.altcraft.mu.Lock()
		defer s.altcraft.mu.Unlock()
		c, _ := s.altcraftContentOf(src)
		if _, err := writeAltcraftExport(&b, src, c, nil); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	var want bytes.Buffer
	if _, err := AltcraftExport(&want, "segment", 7, nil); err != nil {
		t.Fatal(err)
	}
	base := export()
	if base != want.String() {
		t.Fatal("an untouched source differs from AltcraftExport")
	}
	if err := s.SetAltcraftProfiles("segment", 7, 242); err != nil {
		t.Fatal(err)
	}
	grown := export()
	if !strings.HasPrefix(grown, base) || strings.Count(grown, "\n") != strings.Count(base, "\n")+2 {
		t.Fatal("two more profiles did not append two rows")
	}
	if err := s.EditAltcraftProfile("segment", 7, 5); err != nil {
		t.Fatal(err)
	}
	edited := strings.Split(export(), "\n")
	old := strings.Split(grown, "\n")
	changed := 0
	for i := range old {
		if old[i] != edited[i] {
			changed++
			if i != 6 || strings.Split(old[i], ",")[0] != strings.Split(edited[i], ",")[0] {
				t.Errorf("row %d changed: %q -> %q (want only row 6, same _pid)", i, old[i], edited[i])
			}
		}
	}
	if changed != 1 {
		t.Errorf("an edit changed %d rows, want 1", changed)
	}
	if err := s.SetAltcraftProfiles("segment", 99, 1); err == nil {
		t.Error("a source the panel lacks was accepted")
	}
}
