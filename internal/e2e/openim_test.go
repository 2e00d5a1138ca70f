package e2e

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/audiencekit/terraform-provider-audience/internal/client/openim"
	"github.com/audiencekit/terraform-provider-audience/internal/client/transfer"
	"github.com/audiencekit/terraform-provider-audience/internal/filestate"
	"github.com/audiencekit/terraform-provider-audience/internal/sandbox"
)

// startOpenIMSandbox runs the sandbox with its OpenIM API signing POST
// policies for the versitygw server.
func startOpenIMSandbox(t *testing.T, ext *sandbox.ExternalS3) (*sandbox.Server, *openim.Client) {
	t.Helper()
	s, err := sandbox.New(sandbox.Config{Dir: t.TempDir(), ExternalS3: ext})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	env := s.Env()
	return s, openim.New(env["OPENIM_ENDPOINT"], env["OPENIM_TOKEN"], transfer.Options{})
}

// openIMRandomFile writes size random bytes to a file in a temporary directory.
func openIMRandomFile(t *testing.T, name string, size int64) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := io.CopyN(f, rand.Reader, size); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestOpenIMPostPolicyOnVersity uploads through initiate_form_data, an S3
// POST policy form that versitygw verifies, and complete_form_data (which
// stats the object on versitygw), then reads the object back.
func TestOpenIMPostPolicyOnVersity(t *testing.T) {
	ext := startVersity(t)
	s, c := startOpenIMSandbox(t, ext)
	src := openIMRandomFile(t, "segment.csv", 3<<20+17)
	rec, err := filestate.Hash(src, true)
	if err != nil {
		t.Fatal(err)
	}
	sum := rec.MD5

	res, err := c.Upload(context.Background(), openim.UploadInput{Path: src, MD5: sum, Name: "audiences/segment.csv", Group: "audience"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(res.URL, sandbox.PrefixOpenIM+"/object/audiences/segment.csv") {
		t.Fatalf("url = %s", res.URL)
	}
	if s.Requests(sandbox.PrefixS3) != 0 {
		t.Fatal("the form went to the built-in store instead of versitygw")
	}
	objs := s.OpenIMObjects()
	if len(objs) != 1 || objs[0].Bucket != ext.Bucket {
		t.Fatalf("confirmed objects %+v", objs)
	}
	assertStoredObject(t, ext, objs[0].Key, src)
}

// TestOpenIMPolicyMistakeOnVersity proves the real server, not only the
// sandbox, refuses a form field the policy does not cover.
func TestOpenIMPolicyMistakeOnVersity(t *testing.T) {
	ext := startVersity(t)
	_, c := startOpenIMSandbox(t, ext)
	src := openIMRandomFile(t, "a.csv", 1024)
	f, err := transfer.OpenFile(src, "")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fu, err := c.InitiateFormData(context.Background(), openim.InitiateRequest{Name: "a.csv", Size: f.Size, ContentType: "text/csv"})
	if err != nil {
		t.Fatal(err)
	}
	fu.FormData = append(fu.FormData, transfer.FormField{Name: "x-amz-meta-owner", Value: "me"})
	err = c.PostForm(context.Background(), fu, f, "a.csv", "text/csv")
	var se *transfer.HTTPError
	if !errors.As(err, &se) || se.Code != "AccessDenied" || !strings.Contains(se.Message, "Extra input fields") {
		t.Fatalf("err = %v; want versitygw's AccessDenied for an extra input field", err)
	}
	if _, err := c.CompleteFormData(context.Background(), fu.ID); err == nil || !strings.Contains(err.Error(), "errCode 500") {
		t.Fatalf("complete after a refused upload: %v", err)
	}
}
