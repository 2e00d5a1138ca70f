package futuredemand

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/audiencekit/terraform-provider-audience/internal/client/transfer"
)

// The assumed answers are read in every spelling a server of the family
// plausibly sends.
func TestWireReadsTheSpellingsOfAFamily(t *testing.T) {
	for _, body := range []string{
		`{"url":"U","object_key":"K"}`,
		`{"URL":"U","objectKey":"K"}`,
		`{"presignedUrl":"U","key":"K"}`,
		`{"data":{"presigned_url":"U","Key":"K"}}`,
	} {
		var r presignedURLResponse
		if m := r.ReadAnswer(transfer.ParseAnswer([]byte(body))); m != "" || r.URL != "U" || r.ObjectKey != "K" {
			t.Errorf("%s: %+v, missing %q", body, r, m)
		}
	}
	for _, body := range []string{
		`{"upload_id":"I","object_key":"K","parts":[{"part_number":1,"url":"A"},{"part_number":2,"url":"B"}]}`,
		`{"uploadId":"I","objectKey":"K","presignedUrls":[{"partNumber":1,"url":"A"},{"partNumber":"2","presignedUrl":"B"}]}`,
		`{"UploadId":"I","Key":"K","Parts":[{"PartNumber":1,"URL":"A"},{"PartNumber":2,"URL":"B"}]}`,
	} {
		var r multipartCreateResponse
		if m := r.ReadAnswer(transfer.ParseAnswer([]byte(body))); m != "" || r.UploadID != "I" || r.ObjectKey != "K" || len(r.Parts) != 2 || r.Parts[1] != (wirePartURL{2, "B"}) {
			t.Errorf("%s: %+v, missing %q", body, r, m)
		}
	}
	for _, body := range []string{
		`{"AccessToken":"T","RefreshToken":"R","ExpiresIn":3600,"TokenType":"Bearer"}`,
		`{"access_token":"T","refresh_token":"R","expires_in":"3600","token_type":"bearer"}`,
		`{"AuthenticationResult":{"AccessToken":"T","RefreshToken":"R","ExpiresIn":3600,"TokenType":"Bearer"}}`,
	} {
		var r tokenResponse
		if m := r.ReadAnswer(transfer.ParseAnswer([]byte(body))); m != "" || r.AccessToken != "T" || r.RefreshToken != "R" || r.ExpiresIn != 3600 {
			t.Errorf("%s: %+v, missing %q", body, r, m)
		}
	}
	var c multipartCompleteResponse
	if m := c.ReadAnswer(transfer.ParseAnswer([]byte(`"OK"`))); m != "" || c.ObjectKey != "" {
		t.Errorf("complete answered with a string: %+v, missing %q", c, m)
	}
}

// fakeAPI answers POST /auth with login, and the storage calls with
// storage, with an X-Request-Id.
func fakeAPI(t *testing.T, login, storage string) *Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-Id", "req-77")
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(r.URL.Path, pathAuth) {
			_, _ = w.Write([]byte(login))
			return
		}
		_, _ = w.Write([]byte(storage))
	}))
	t.Cleanup(srv.Close)
	return New(Settings{Endpoint: srv.URL + "/api/v3", Username: "ops@example.com", Password: "pw", PartnerID: "42"},
		transfer.Options{Retry: transfer.Retry{Base: time.Millisecond, Max: 5 * time.Millisecond}})
}

func smallFile(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "a.csv")
	if err := os.WriteFile(p, []byte("id\n1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// An answer that fits no known spelling fails naming the call, the
// status, the request id and the answer's keys and types, never its
// values, and asks for a report.
func TestWireUnknownShapeNamesKeysAndTypes(t *testing.T) {
	c := fakeAPI(t, `{"AccessToken":"tok","ExpiresIn":3600,"TokenType":"Bearer"}`,
		`{"signedTarget":"https://bucket.example/secret-sig","ref":{"bucketPath":"partners/42/a.csv"}}`)
	_, err := c.Upload(context.Background(), UploadRequest{Path: smallFile(t), FileName: "a.csv"})
	var se *ShapeError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v (%T), want a *ShapeError", err, err)
	}
	msg := err.Error()
	for _, want := range []string{"POST /storage/presigned-url", "HTTP 200", "request id req-77", "object_key or url",
		`{"ref": {"bucketPath": string}, "signedTarget": string}`, "report"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	for _, secret := range []string{"secret-sig", "partners/42", "bucket.example"} {
		if strings.Contains(msg, secret) {
			t.Errorf("error leaks the value %q:\n%s", secret, msg)
		}
	}
}

// A login answered with a challenge fails naming the account and what to
// do, and never shows the challenge's session.
func TestLoginChallengeNamesTheAccount(t *testing.T) {
	for challenge, want := range map[string]string{
		"SOFTWARE_TOKEN_MFA":    "multi-factor authentication",
		"NEW_PASSWORD_REQUIRED": "web app",
	} {
		c := fakeAPI(t, `{"ChallengeName":"`+challenge+`","Session":"sess-SECRET-value","ChallengeParameters":{}}`, `{}`)
		_, err := c.Upload(context.Background(), UploadRequest{Path: smallFile(t), FileName: "a.csv"})
		var ce *ChallengeError
		if !errors.As(err, &ce) {
			t.Fatalf("%s: err = %v (%T), want a *ChallengeError", challenge, err, err)
		}
		msg := err.Error()
		for _, w := range []string{`"ops@example.com"`, challenge, want, "futuredemand.access_token", "without multi-factor authentication"} {
			if !strings.Contains(msg, w) {
				t.Errorf("%s: error lacks %q:\n%s", challenge, w, msg)
			}
		}
		if strings.Contains(msg, "sess-SECRET") {
			t.Errorf("error leaks the session:\n%s", msg)
		}
	}
}
