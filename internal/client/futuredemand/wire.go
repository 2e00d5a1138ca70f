package futuredemand

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Wire shapes of the Future Demand client API.
//
// Login follows the vendor's documentation (seed 002). The storage calls'
// JSON bodies are NOT published by the vendor: they follow the contract in
// DESIGN.md ("Future Demand storage contract"). Everything that may have to
// be corrected when the vendor publishes them lives in this file: paths,
// field names and the error body.

// API paths, relative to the endpoint (which already ends in /api/v3).
const (
	pathAuth          = "/auth"
	pathRefresh       = "/auth/refresh_token"
	pathPresignedURL  = "/storage/presigned-url"
	pathMultipart     = "/storage/multipart-upload"
	headerPartner     = "X-Preferred-Partner-Id"
	headerUploadType  = "X-Upload-Type"
	storageContentTyp = "application/octet-stream"
)

// authRequest is POST /auth.
type authRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// refreshRequest is POST /auth/refresh_token. The body is not documented;
// the refresh token goes in a JSON field.
type refreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

// tokenResponse answers both auth calls (Cognito-style names). A refresh
// may leave RefreshToken empty: the old one stays valid.
type tokenResponse struct {
	AccessToken  string `json:"AccessToken"`
	IDToken      string `json:"IdToken"`
	RefreshToken string `json:"RefreshToken"`
	ExpiresIn    int64  `json:"ExpiresIn"`
	TokenType    string `json:"TokenType"`
}

// presignedURLRequest is POST /storage/presigned-url.
type presignedURLRequest struct {
	FileName    string `json:"file_name"`
	ContentType string `json:"content_type"`
}

type presignedURLResponse struct {
	URL       string `json:"url"`
	ObjectKey string `json:"object_key"`
}

// multipartCreateRequest is POST /storage/multipart-upload.
type multipartCreateRequest struct {
	FileName  string `json:"file_name"`
	FileSize  int64  `json:"file_size"`
	PartSize  int64  `json:"part_size"`
	PartCount int    `json:"part_count"`
}

type multipartCreateResponse struct {
	UploadID  string        `json:"upload_id"`
	ObjectKey string        `json:"object_key"`
	Parts     []wirePartURL `json:"parts"`
}

type wirePartURL struct {
	PartNumber int    `json:"part_number"`
	URL        string `json:"url"`
}

// multipartCompleteRequest is PUT /storage/multipart-upload. ETags go
// without their quotes.
type multipartCompleteRequest struct {
	UploadID  string         `json:"upload_id"`
	ObjectKey string         `json:"object_key"`
	Parts     []wirePartETag `json:"parts"`
}

type wirePartETag struct {
	PartNumber int    `json:"part_number"`
	ETag       string `json:"etag"`
}

type multipartCompleteResponse struct {
	ObjectKey string `json:"object_key"`
}

// multipartAbortRequest is DELETE /storage/multipart-upload.
type multipartAbortRequest struct {
	UploadID  string `json:"upload_id"`
	ObjectKey string `json:"object_key"`
}

// errorMessage extracts the message of an error body. The format is not
// published: FastAPI's {"detail": "..." | [{"msg": ...}]} and the common
// {"message"} / {"error"} / {"code"} shapes are understood.
func errorMessage(body []byte) (code, message string) {
	var doc struct {
		Detail  json.RawMessage `json:"detail"`
		Message string          `json:"message"`
		Error   json.RawMessage `json:"error"`
		Code    json.RawMessage `json:"code"`
	}
	if json.Unmarshal(body, &doc) != nil {
		s := strings.TrimSpace(string(body))
		if len(s) > 300 {
			s = s[:300] + "…"
		}
		return "", s
	}
	code = rawText(doc.Code)
	var parts []string
	if d := rawText(doc.Detail); d != "" {
		parts = append(parts, d)
	} else if len(doc.Detail) > 0 {
		var items []struct {
			Loc []any  `json:"loc"`
			Msg string `json:"msg"`
		}
		if json.Unmarshal(doc.Detail, &items) == nil {
			for _, it := range items {
				parts = append(parts, fmt.Sprintf("%v: %s", it.Loc, it.Msg))
			}
		}
	}
	if doc.Message != "" {
		parts = append(parts, doc.Message)
	}
	if e := rawText(doc.Error); e != "" {
		parts = append(parts, e)
	}
	return code, strings.Join(parts, "; ")
}

// rawText renders a JSON string or number as text ("" for anything else).
func rawText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}
