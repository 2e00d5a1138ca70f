package transfer

import (
	"strings"
	"testing"
)

func TestAnswerFindsAFieldInAnySpellingAndEnvelope(t *testing.T) {
	for _, body := range []string{
		`{"upload_id":"I","n":"7"}`,
		`{"UploadId":"I","n":7}`,
		`{"data":{"uploadId":"I","n":7}}`,
	} {
		a := ParseAnswer([]byte(body)).In([]string{"data"}, []string{"upload_id"})
		n, ok := a.Int([]string{"n"})
		if a.Str([]string{"upload_id"}) != "I" || !ok || n != 7 {
			t.Errorf("%s: upload_id %q, n %d %v", body, a.Str([]string{"upload_id"}), n, ok)
		}
	}
	if ParseAnswer([]byte(`[1]`)) != nil {
		t.Error("an array is not an object answer")
	}
	if a := ParseAnswer([]byte(`{"id":null}`)); a.Has([]string{"id"}) {
		t.Error("null counts as absent")
	}
}

func TestShapeErrorNamesKeysNeverValues(t *testing.T) {
	err := NewShapeError("Mintegral", "GET /x", 200, "", "data_path", []byte(`{"code":200,"data":{"token":"s3cr3t"}}`))
	msg := err.Error()
	for _, want := range []string{"Mintegral GET /x", "HTTP 200", "request id none sent", "no data_path", `{"code": number, "data": {"token": string}}`, ReportURL} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "s3cr3t") {
		t.Errorf("error leaks a value:\n%s", msg)
	}
}
