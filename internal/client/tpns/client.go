// Package tpns is a client for Tencent Cloud TPNS's account package upload
// API: HTTP Basic auth, a direct multipart/form-data upload streamed from
// disk, and the body-level retCode/errMsg answers.
package tpns

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/audiencekit/terraform-provider-audience/internal/client/transfer"
)

// DefaultRegion is the service access point used when none is given.
const DefaultRegion = "guangzhou"

// RegionEndpoints maps each service access point to its API host. Data is
// isolated per access point: an application exists only in its own.
var RegionEndpoints = map[string]string{
	"guangzhou": "https://api.tpns.tencent.com",
	"shanghai":  "https://api.tpns.sh.tencent.com",
	"hongkong":  "https://api.tpns.hk.tencent.com",
	"singapore": "https://api.tpns.sgp.tencent.com",
}

// Regions lists the known service access points, sorted.
func Regions() []string {
	out := make([]string, 0, len(RegionEndpoints))
	for r := range RegionEndpoints {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

// EndpointFor returns the API host of a service access point ("" means
// DefaultRegion).
func EndpointFor(region string) (string, error) {
	if region == "" {
		region = DefaultRegion
	}
	ep, ok := RegionEndpoints[region]
	if !ok {
		return "", fmt.Errorf("unknown TPNS region %q; use one of %s", region, strings.Join(Regions(), ", "))
	}
	return ep, nil
}

// Client uploads packages to one TPNS application.
type Client struct {
	Endpoint  string // API base URL, e.g. https://api.tpns.tencent.com
	AccessID  string
	SecretKey string
	http      *transfer.Platform
}

// New returns a client of the TPNS API at endpoint.
func New(endpoint, accessID, secretKey string, o transfer.Options) *Client {
	return &Client{Endpoint: endpoint, AccessID: accessID, SecretKey: secretKey, http: transfer.NewPlatform("TPNS", o)}
}

// APIError is an answer with retCode != 0.
type APIError struct {
	Status  int // HTTP status
	RetCode int
	ErrMsg  string
}

func (e *APIError) Error() string {
	return transfer.Describe(fmt.Sprintf("TPNS retCode %d", e.RetCode), "", e.ErrMsg, Explain(e.RetCode))
}

// UploadRequest describes one package upload.
type UploadRequest struct {
	Path     string // local file
	FileName string // name sent to TPNS; its extension tells TPNS the format
	// FileMD5 is the md5 (lowercase hex) recorded at plan time; the upload
	// fails if the bytes sent hash differently.
	FileMD5 string
}

// UploadResult is the outcome of an upload.
type UploadResult struct {
	UploadID int64
	FileMD5  string
	FileSize int64
}

// UploadPackage streams the file as the multipart field "file" with a
// fixed Content-Length and returns TPNS's upload id.
func (c *Client) UploadPackage(ctx context.Context, r UploadRequest) (*UploadResult, error) {
	file, err := transfer.OpenFile(r.Path, r.FileMD5)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	u := strings.TrimRight(c.Endpoint, "/") + UploadPath
	// The header carries the secret: it is never logged (transfer logs
	// only the redacted URL) and never part of an error.
	header := http.Header{}
	header.Set("Authorization", BasicAuth(c.AccessID, c.SecretKey))
	header.Set("Accept", "application/json")
	log := c.http.Log()
	log.Info(ctx, "uploading package to TPNS", map[string]any{"endpoint": transfer.RedactURL(c.Endpoint), "file_name": r.FileName, "size": file.Size})
	res, err := c.http.PostForm(ctx, transfer.FormPost{
		URL:             u,
		Header:          header,
		FileField:       fileField,
		FileName:        r.FileName,
		FileContentType: contentType(r.FileName),
		File:            file,
		Label:           "TPNS upload of " + r.FileName,
		SuccessCodes:    transfer.AnsweredStatuses,
		ToAPI:           true,
		// A second copy of a package is harmless: TPNS has no list of
		// packages, and an uploadId nothing pushes to costs nothing. So an
		// upload whose answer was lost (a dropped connection, a 502) is
		// sent again rather than failing the apply.
		Duplicate:   transfer.DuplicateHarmless,
		RetryIf:     retryable,
		RateLimited: rateLimited,
	})
	if err != nil {
		return nil, err
	}
	op := http.MethodPost + " " + UploadPath
	a, isObject, ok := readAnswer(res.Body)
	switch {
	case !ok && isObject && res.Status >= 200 && res.Status < 300:
		return nil, transfer.NewShapeError(platformName, op, res.Status, transfer.RequestID(res.Header), "retCode", res.Body)
	case !ok:
		return nil, fmt.Errorf("TPNS API: POST %s: HTTP %d with a body that is not the TPNS API's JSON (is tpns.endpoint right?)", transfer.RedactURL(u), res.Status)
	case a.RetCode != CodeOK:
		return nil, &APIError{Status: res.Status, RetCode: a.RetCode, ErrMsg: a.ErrMsg}
	}
	// The reader withheld the last byte had the content changed, so TPNS
	// only ever sees the planned bytes; this is a last size check.
	if err := file.Verify(); err != nil {
		return nil, err
	}
	if a.UploadID <= 0 {
		return nil, transfer.NewShapeError(platformName, op, res.Status, transfer.RequestID(res.Header), "uploadId", res.Body)
	}
	log.Info(ctx, "TPNS accepted the package", map[string]any{"upload_id": a.UploadID, "file_name": r.FileName})
	return &UploadResult{UploadID: a.UploadID, FileMD5: file.SentMD5(), FileSize: file.Size}, nil
}
