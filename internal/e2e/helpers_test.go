package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

func stringsReader(s string) io.Reader { return strings.NewReader(s) }

func decodePresigned(t *testing.T, resp *http.Response) (string, string) {
	t.Helper()
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("presigned-url: %s", resp.Status)
	}
	var out struct {
		URL       string `json:"url"`
		ObjectKey string `json:"object_key"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out.URL, out.ObjectKey
}
