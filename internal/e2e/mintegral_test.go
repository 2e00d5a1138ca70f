package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/audiencekit/terraform-provider-audience/internal/client/mintegral"
	"github.com/audiencekit/terraform-provider-audience/internal/client/transfer"
	"github.com/audiencekit/terraform-provider-audience/internal/sandbox"
)

func TestMintegralArea1PutToRealS3(t *testing.T) {
	ext := startVersity(t)
	srv := startSandboxFor(t, ext)
	path, sum := writeSource(t, "devices.csv", 3<<20+17)
	c := sandbox.DefaultCredentials()
	client := mintegral.New(srv.URL()+sandbox.PrefixMintegral, c.MintegralAccessKey, c.MintegralAPIKey, transfer.Options{})
	res, err := client.Upload(context.Background(), mintegral.UploadRequest{Path: path, FileName: "devices.csv", AreaType: mintegral.AreaOutsideMainlandChina, FileMD5: sum})
	if err != nil {
		t.Fatal(err)
	}
	key, ok := strings.CutPrefix(res.DataPath, "s3://"+ext.Bucket+"/")
	if !ok {
		t.Fatalf("data_path %q is not in the real server's bucket %s", res.DataPath, ext.Bucket)
	}
	assertStoredObject(t, ext, key, path)
}
