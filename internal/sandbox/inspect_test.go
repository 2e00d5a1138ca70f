package sandbox

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestInspectMintegralFiles(t *testing.T) {
	s := startSandbox(t)
	ids, err := s.SeedMintegralAudiences(1, MintegralSeed{NamePrefix: "console-ios-", Platform: 2, DeviceType: 2})
	if err != nil {
		t.Fatal(err)
	}
	list := s.MintegralAudiences()
	if len(list) != 1 || list[0].ID != ids[0] {
		t.Fatalf("audiences = %+v, want %v", list, ids)
	}
	dp := list[0].Files[0].DataPath
	obj, err := s.MintegralFile(dp)
	if err != nil || obj.Size != int64(len(seedDeviceIDs)) || obj.MD5 != md5Of([]byte(seedDeviceIDs)) {
		t.Fatalf("MintegralFile(%s) = %+v, %v", dp, obj, err)
	}
	if _, err := s.MintegralFile("s3://mintegral-audience/never-issued.txt"); err == nil {
		t.Fatal("MintegralFile of a data_path never issued succeeded")
	}
	presigned := uploadedDataPath(t, s, "2", false)
	if _, err := s.MintegralFile(presigned); !errors.Is(err, ErrNoSuchObject) {
		t.Fatalf("MintegralFile of a data_path whose upload never happened: %v", err)
	}
	uploaded := uploadedDataPath(t, s, "1", true)
	files, err := s.MintegralStoredFiles()
	if err != nil || len(files) != 2 {
		t.Fatalf("MintegralStoredFiles = %+v, %v; want the console's file and %s", files, err, uploaded)
	}
	paths := s.MintegralDataPaths()
	if len(paths) != 3 {
		t.Fatalf("MintegralDataPaths = %v, want the console's, the presigned and the uploaded one", paths)
	}
}

// Exports are counted per source, and a task's age and expiry follow the
// sandbox clock.
func TestInspectAltcraftExportsPerSource(t *testing.T) {
	s := startAltcraftSandbox(t)
	start := func(typ string, id int) string {
		t.Helper()
		return altcraftCall(t, s, "profiles/get_all", fmt.Sprintf(`{%s,"source_type":%q,"source_id":%d}`, altcraftTok, typ, id)).Data.TaskID
	}
	task := start("database", 2)
	start("database", 2)
	start("segment", 7)
	if got := s.AltcraftExportsStartedFor("database", 2); got != 2 {
		t.Fatalf("database 2: %d exports counted, want 2", got)
	}
	if got := s.AltcraftExportsStartedFor("segment", 7); got != 1 {
		t.Fatalf("segment 7: %d exports counted, want 1", got)
	}
	if got := s.AltcraftExportsStartedFor("database", 1); got != 0 {
		t.Fatalf("database 1: %d exports counted, want 0", got)
	}
	if info, ok := s.AltcraftTask(task); !ok || info.Status != "" || info.Age != 0 || info.SourceType != "database" || info.SourceID != 2 {
		t.Fatalf("a running task: %+v, %v", info, ok)
	}
	altcraftPollToEnd(t, s, task)
	s.Advance(25 * time.Hour)
	info, ok := s.AltcraftTask(task)
	if !ok || info.Status != "completed" || info.Age < 25*time.Hour || info.Age > 26*time.Hour || info.Expired {
		t.Fatalf("a finished task 25 h later: %+v, %v", info, ok)
	}
	s.Advance(AltcraftResultLifetime - 25*time.Hour)
	if info, _ := s.AltcraftTask(task); !info.Expired {
		t.Fatalf("a task past its result's lifetime: %+v", info)
	}
	if _, ok := s.AltcraftTask("task_unknown"); ok {
		t.Fatal("an unknown task was found")
	}
}
