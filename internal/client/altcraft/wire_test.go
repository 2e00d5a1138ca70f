package altcraft

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/audiencekit/terraform-provider-audience/internal/client/transfer"
)

// answers serves body to every call.
func answers(t *testing.T, body string, header map[string]string) *Client {
	return fakePanel(t, func(w http.ResponseWriter, _ *http.Request) {
		for k, v := range header {
			w.Header().Set(k, v)
		}
		_, _ = w.Write([]byte(body))
	})
}

// The documented answer and the spellings another panel generation or a
// proxy plausibly sends all read as the same task id.
func TestStartAnswerSpellings(t *testing.T) {
	for _, body := range []string{
		`{"data":{"task_id":"task_1"},"error":0,"error_text":"Successful operation"}`,
		`{"data":{"taskId":"task_1"},"error":0,"errorText":"Successful operation"}`,
		`{"Data":{"TaskId":"task_1"},"Error":"0","ErrorText":"Successful operation"}`,
		`{"task_id":"task_1","error":0,"error_text":"Successful operation"}`,
		`{"code":0,"message":"ok","data":{"id":"task_1"}}`,
		`{"data":{"task_id":"task_1"}}`,
	} {
		id, err := answers(t, body, nil).StartExport(context.Background(), ExportRequest{SourceType: "database", SourceID: 1})
		if err != nil || id != "task_1" {
			t.Errorf("%s: read %q, %v", body, id, err)
		}
	}
}

func TestStatusAnswerSpellings(t *testing.T) {
	want := Task{ID: "task_1", Status: "completed", Progress: 100, Total: 1343, SourceID: 1, Type: "database",
		URLs: []string{"/api/download/data/x/1_database_export.csv"}, Errors: []string{"row 3: bad email"}}
	for _, body := range []string{
		// The help page's answer.
		`{"data":{"status":"completed","progress":100,"result":{"errors":["row 3: bad email"],"source_id":1,"total":1343,"type":"database",
			"urls":["/api/download/data/x/1_database_export.csv"]}},"error":0,"error_text":"Successful operation"}`,
		`{"data":{"status":"completed","progress":"100","result":{"errors":["row 3: bad email"],"sourceId":1,"total":"1343","type":"database",
			"urls":"/api/download/data/x/1_database_export.csv"}},"error":0,"errorText":"Successful operation"}`,
		`{"Data":{"Status":"completed","Progress":100.0,"Result":{"Errors":"row 3: bad email","SourceId":1,"Total":1343,"Type":"database",
			"Urls":["/api/download/data/x/1_database_export.csv"]}},"Error":0}`,
		// Fields beside status instead of in result, and beside error
		// instead of in data.
		`{"status":"completed","progress":100,"errors":["row 3: bad email"],"source_id":1,"total_count":1343,"source_type":"database",
			"urls":["/api/download/data/x/1_database_export.csv"],"error":0}`,
	} {
		got, err := answers(t, body, nil).Status(context.Background(), "task_1")
		if err != nil {
			t.Errorf("%s: %v", body, err)
			continue
		}
		if !reflect.DeepEqual(*got, want) {
			t.Errorf("%s:\nread %+v\nwant %+v", body, *got, want)
		}
	}
}

// A task still running has no result yet: that is no shape error.
func TestRunningTaskNeedsNoResult(t *testing.T) {
	got, err := answers(t, `{"data":{"status":"processing","progress":40},"error":0,"error_text":"ok"}`, nil).Status(context.Background(), "task_1")
	if err != nil || got.Status != "processing" || got.Progress != 40 || got.URLs != nil {
		t.Fatalf("read %+v, %v", got, err)
	}
}

// An answer in no spelling the client knows is a ShapeError naming the
// method, the status, the request id and the answer's keys and types,
// never its values (the download path, the token).
func TestUnknownAnswerIsShapeError(t *testing.T) {
	cases := []struct {
		name, body, method, missing, shape string
		call                               func(*Client) error
	}{
		{
			name:   "get_all, keys renamed",
			body:   `{"zzdataRenamed":{"zztask_idRenamed":"task_secret"},"zzerrorRenamed":0,"zzerror_textRenamed":"Successful operation"}`,
			method: methodStartExport, missing: "error or task_id",
			shape: `{"zzdataRenamed": {"zztask_idRenamed": string}, "zzerrorRenamed": number, "zzerror_textRenamed": string}`,
			call: func(c *Client) error {
				_, err := c.StartExport(context.Background(), ExportRequest{SourceType: "database", SourceID: 1})
				return err
			},
		},
		{
			name:   "status, keys renamed",
			body:   `{"zzdataRenamed":{"zzstatusRenamed":"completed","zzresultRenamed":{"zzurlsRenamed":["/api/download/secret/1.csv"]}},"zzerrorRenamed":0}`,
			method: "tasks/status", missing: "error or status",
			shape: `{"zzdataRenamed": {"zzresultRenamed": {"zzurlsRenamed": [string]}, "zzstatusRenamed": string}, "zzerrorRenamed": number}`,
			call: func(c *Client) error {
				_, err := c.Status(context.Background(), "task_1")
				return err
			},
		},
		{
			name:   "status, completed without urls",
			body:   `{"data":{"status":"completed","progress":100,"result":{"files":[{"href":"/api/download/secret/1.csv"}]}},"error":0,"error_text":"ok"}`,
			method: "tasks/status", missing: "result.urls",
			shape: `{"data": {"progress": number, "result": {"files": [{"href": string}]}, "status": string}, "error": number, "error_text": string}`,
			call: func(c *Client) error {
				_, err := c.Status(context.Background(), "task_1")
				return err
			},
		},
		{
			name:   "status, urls not strings",
			body:   `{"data":{"status":"completed","result":{"urls":[{"href":"/api/download/secret/1.csv"}]}},"error":0}`,
			method: "tasks/status", missing: "result.urls as a list of strings",
			shape: `{"data": {"result": {"urls": [{"href": string}]}, "status": string}, "error": number}`,
			call: func(c *Client) error {
				_, err := c.Status(context.Background(), "task_1")
				return err
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call(answers(t, tc.body, map[string]string{"X-Request-Id": "req-9"}))
			var se *transfer.ShapeError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v; want a ShapeError", err)
			}
			if se.Platform != "Altcraft" || se.Op != tc.method || se.Status != http.StatusOK || se.RequestID != "X-Request-Id: req-9" || se.Missing != tc.missing || se.Shape != tc.shape {
				t.Fatalf("got %+v\nwant method %s, missing %q, shape %s", *se, tc.method, tc.missing, tc.shape)
			}
			msg := err.Error()
			for _, want := range []string{"Altcraft " + tc.method, "HTTP 200", "req-9", "Please report"} {
				if !strings.Contains(msg, want) {
					t.Errorf("%q lacks %q", msg, want)
				}
			}
			for _, secret := range []string{"secret", token, "Successful operation"} {
				if strings.Contains(msg, secret) {
					t.Errorf("%q holds %q", msg, secret)
				}
			}
		})
	}
}

// A failure keeps its code and text in every spelling.
func TestErrorEnvelopeSpellings(t *testing.T) {
	for _, body := range []string{
		`{"errorCode":401,"errorText":"Invalid token"}`,
		`{"code":401,"message":"Invalid token"}`,
	} {
		_, err := answers(t, body, nil).StartExport(context.Background(), ExportRequest{SourceType: "database", SourceID: 1})
		var ae *APIError
		if !errors.As(err, &ae) || ae.Code != 401 || ae.Text != "Invalid token" || !strings.Contains(err.Error(), "altcraft.token") {
			t.Errorf("%s: %v", body, err)
		}
	}
}
