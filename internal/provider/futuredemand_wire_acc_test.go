package provider

import (
	"fmt"
	"net/http"
	"regexp"
	"testing"

	acc "github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/audiencekit/terraform-provider-audience/internal/sandbox"
)

// Future Demand's storage answers are not published. One the provider
// cannot read in any spelling fails the apply naming the call, the status
// and the answer's keys and types, and asks for a report; spelled another
// way (PascalCase, as AWS-style servers answer) it is read; and once the
// server answers as expected again, a rerun uploads.
func TestAccFutureDemandWire_unknownStorageAnswer(t *testing.T) {
	srv := startSandbox(t)
	dir := t.TempDir()
	small := "id\n1\n"
	src := writeFile(t, dir, "list.csv", small)
	big, bigMD5 := writeRandomFile(t, dir, "big.csv", 11<<20, 3)
	presign := fdAPI + "/storage/presigned-url"
	acc.Test(t, acc.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []acc.TestStep{
			{
				PreConfig: func() {
					srv.AddFault(sandbox.Fault{Method: http.MethodPost, PathPrefix: presign, Respell: "unknown"})
				},
				Config:      futureDemandUploadConfig(src, ""),
				ExpectError: regexp.MustCompile(`(?s)Future Demand POST /storage/presigned-url: HTTP 200\s+\(request id .*\) with an answer the.*cannot read: it has no\s+object_key or url.*"zzobject_keyRenamed": string.*report`),
			},
			{
				PreConfig: func() {
					srv.AddFault(sandbox.Fault{Method: http.MethodPost, PathPrefix: presign, Respell: "pascal"})
				},
				Config: futureDemandUploadConfig(src, ""),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(fdRes, tfjsonpath.New("upload_method"), knownvalue.StringExact("presigned")),
				},
				Check: checkFutureDemandObject(srv, md5hex(small), int64(len(small))),
			},
			{
				PreConfig: func() {
					srv.AddFault(sandbox.Fault{Method: http.MethodPost, PathPrefix: fdAPI + "/storage/multipart-upload", Respell: "unknown"})
				},
				Config:      futureDemandUploadConfig(big, multipartSmall),
				ExpectError: regexp.MustCompile(`(?s)Future Demand POST /storage/multipart-upload: HTTP 200.*no\s+object_key or parts or\s+upload_id`),
			},
			{
				Config: futureDemandUploadConfig(big, multipartSmall),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(fdRes, tfjsonpath.New("upload_method"), knownvalue.StringExact("multipart")),
				},
				// The upload whose answer was unreadable stays open: without
				// its id it cannot be aborted (a bucket lifecycle rule ends
				// it). The rerun's own upload is completed.
				Check: func(s *terraform.State) error {
					key := s.RootModule().Resources[fdRes].Primary.Attributes["object_key"]
					obj, err := srv.Store().Get(sandbox.BucketFutureDemand, key)
					if err != nil || obj.MD5 != bigMD5 {
						return fmt.Errorf("object %q: %+v, %v; want md5 %s", key, obj, err, bigMD5)
					}
					if n := srv.PendingMultipartUploads(); n != 1 {
						return fmt.Errorf("%d multipart uploads open, want only the one whose answer was unreadable", n)
					}
					return nil
				},
			},
		},
	})
}
