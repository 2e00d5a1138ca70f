package sandbox

import (
	"errors"
	"testing"
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
