package sandbox

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestConsoleAudienceAndInspect(t *testing.T) {
	s := startSandbox(t)
	id, dp, err := s.ConsoleMintegralAudience("console-ios", 1, 2, 2, strings.NewReader("6B1E0A52-0000-4000-8000-000000000001\n"))
	if err != nil {
		t.Fatal(err)
	}
	list := s.MintegralAudiences()
	if len(list) != 1 || list[0].ID != id || list[0].Files[0].DataPath != dp || list[0].Platform != 2 {
		t.Fatalf("audiences = %+v, want console-ios %d on %s", list, id, dp)
	}
	obj, err := s.MintegralFile(dp)
	if err != nil || obj.Size != 37 || obj.MD5 != md5Of([]byte("6B1E0A52-0000-4000-8000-000000000001\n")) {
		t.Fatalf("MintegralFile(%s) = %+v, %v", dp, obj, err)
	}
	// A console-made audience is a real one: its update window runs, and
	// the API lists it.
	q := url.Values{"ta_ids": {"9999"}}
	if a := audienceCall(t, s, http.MethodGet, q, nil); a.Code != MintegralCodeOK {
		t.Fatalf("list: %+v", a)
	}
	if _, err := s.MintegralFile("s3://mintegral-audience/never-issued.txt"); err == nil {
		t.Fatal("MintegralFile of a data_path never issued succeeded")
	}
	presigned := uploadedDataPath(t, s, "2", false)
	if _, err := s.MintegralFile(presigned); !errors.Is(err, ErrNoSuchObject) {
		t.Fatalf("MintegralFile of a data_path whose upload never happened: %v", err)
	}
	files, err := s.MintegralStoredFiles()
	if err != nil || len(files) != 1 {
		t.Fatalf("MintegralStoredFiles = %+v, %v", files, err)
	}
	if _, _, err := s.ConsoleMintegralAudience("x", 3, 2, 2, strings.NewReader("x\n")); err == nil {
		t.Fatal("area 3 was accepted")
	}
}
