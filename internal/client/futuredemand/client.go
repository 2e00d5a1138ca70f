// Package futuredemand is a client for the Future Demand client API's
// storage uploads: Bearer auth (a static token, or a login refreshed before
// expiry), single presigned PUT, and presigned S3 multipart with abort.
// The request and response shapes are in wire.go.
package futuredemand

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/audiencekit/terraform-provider-audience/internal/client/transfer"
)

// DefaultEndpoint is the production client API.
const DefaultEndpoint = "https://client-api.prd.future-demand.com/api/v3"

// DefaultUploadType is the X-Upload-Type of audience lists.
const DefaultUploadType = "audience_csv"

// tokenMargin is how long before its expiry a login token is refreshed.
const tokenMargin = 2 * time.Minute

// Client talks to the Future Demand client API. Authenticate with
// AccessToken, or with Username and Password (exchanged at POST /auth and
// refreshed before they expire). Use one Client per goroutine group; it
// is safe for concurrent use.
type Client struct {
	Endpoint    string
	AccessToken string
	Username    string
	Password    string
	PartnerID   string
	HTTP        *http.Client
	Log         transfer.Logger
	// Retry applies to API calls (429 and 5xx carry no Retry-After);
	// zero means the first try plus up to 5 retries with backoff.
	Retry transfer.Retry
	// PartRetry applies to each multipart part and to the single PUT.
	PartRetry transfer.Retry
	// Now is the clock used for token expiry.
	Now func() time.Time

	mu      sync.Mutex
	token   string
	refresh string
	expires time.Time
}

// APIError is a non-success answer of the client API.
type APIError struct {
	Op      string // e.g. "POST /storage/multipart-upload"
	Status  int
	Code    string
	Message string
}

func (e *APIError) Error() string {
	msg := fmt.Sprintf("Future Demand %s: HTTP %d", e.Op, e.Status)
	if e.Code != "" {
		msg += " " + e.Code
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if h := e.hint(); h != "" {
		msg += " (" + h + ")"
	}
	return msg
}

func (e *APIError) hint() string {
	switch {
	case e.Status == http.StatusUnauthorized && strings.HasPrefix(e.Op, "POST "+pathAuth):
		return "check futuredemand.username and futuredemand.password (FUTUREDEMAND_USERNAME, FUTUREDEMAND_PASSWORD)"
	case e.Status == http.StatusUnauthorized:
		return "the token was rejected: check futuredemand.access_token (FUTUREDEMAND_ACCESS_TOKEN), or use username and password"
	case e.Status == http.StatusForbidden:
		return "check futuredemand.partner_id (FUTUREDEMAND_PARTNER_ID): the account must belong to that partner"
	case e.Status == http.StatusNotFound && !strings.Contains(e.Op, pathMultipart):
		return "is futuredemand.endpoint right? It must end in /api/v3"
	case e.Status == http.StatusTooManyRequests:
		return "the partner's rate limit was hit; try again later"
	}
	return ""
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return http.DefaultClient
}

func (c *Client) apiRetry() transfer.Retry {
	r := c.Retry
	if r.Attempts <= 0 {
		r.Attempts = 6 // the first try and up to 5 retries
	}
	return r
}

// check reports configuration a request cannot work without.
func (c *Client) check() error {
	switch {
	case c.Endpoint == "":
		return errors.New("futuredemand: no endpoint")
	case c.PartnerID == "":
		return errors.New("futuredemand: no partner id")
	case c.AccessToken == "" && (c.Username == "" || c.Password == ""):
		return errors.New("futuredemand: set an access token, or a username and a password")
	}
	return nil
}

// bearer returns a token for the Authorization header: the static one, or
// the login token, logging in or refreshing it when it is missing or about
// to expire. force discards a login token the API has just rejected.
func (c *Client) bearer(ctx context.Context, force bool) (string, error) {
	if c.AccessToken != "" {
		return c.AccessToken, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if force {
		c.token = ""
	}
	if c.token != "" && c.now().Before(c.expires.Add(-tokenMargin)) {
		return c.token, nil
	}
	if c.refresh != "" && !force {
		tok, err := c.authCall(ctx, pathRefresh, refreshRequest{RefreshToken: c.refresh})
		if err == nil {
			transfer.OrNop(c.Log).Debug(ctx, "refreshed the Future Demand access token", map[string]any{"expires_in": tok.ExpiresIn})
			return c.keep(tok), nil
		}
		// A refresh token can expire or be revoked: log in again.
		transfer.OrNop(c.Log).Info(ctx, "refreshing the Future Demand token failed; logging in again", map[string]any{"error": err.Error()})
	}
	tok, err := c.authCall(ctx, pathAuth, authRequest{Username: c.Username, Password: c.Password})
	if err != nil {
		return "", err
	}
	transfer.OrNop(c.Log).Debug(ctx, "logged in to Future Demand", map[string]any{"expires_in": tok.ExpiresIn})
	return c.keep(tok), nil
}

func (c *Client) keep(tok *tokenResponse) string {
	c.token = tok.AccessToken
	if tok.RefreshToken != "" {
		c.refresh = tok.RefreshToken
	}
	ttl := time.Duration(tok.ExpiresIn) * time.Second
	if ttl <= 0 {
		ttl = time.Hour // ExpiresIn is 3600 in the vendor's example
	}
	c.expires = c.now().Add(ttl)
	return c.token
}

func (c *Client) authCall(ctx context.Context, path string, in any) (*tokenResponse, error) {
	var tok tokenResponse
	if err := c.do(ctx, http.MethodPost, path, "", false, in, &tok); err != nil {
		return nil, err
	}
	if tok.AccessToken == "" {
		return nil, fmt.Errorf("futuredemand POST %s: the answer has no AccessToken", path)
	}
	if tok.TokenType != "" && !strings.EqualFold(tok.TokenType, "Bearer") {
		return nil, fmt.Errorf("futuredemand POST %s: token type %q, want Bearer", path, tok.TokenType)
	}
	return &tok, nil
}

// call sends a storage API call with the Bearer token, partner and upload
// type headers, retrying 429 and 5xx, and decodes the JSON answer.
func (c *Client) call(ctx context.Context, method, path, uploadType string, in, out any) error {
	return c.do(ctx, method, path, uploadType, true, in, out)
}

func (c *Client) do(ctx context.Context, method, path, uploadType string, authed bool, in, out any) error {
	if err := c.check(); err != nil {
		return err
	}
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	u := strings.TrimRight(c.Endpoint, "/") + path
	op := method + " " + path
	retry := c.apiRetry()
	log := transfer.OrNop(c.Log)
	reauthed := false
	var lastErr error
	for attempt := 1; attempt <= retry.Attempts; attempt++ {
		if attempt > 1 {
			wait := retry.Backoff(attempt - 1)
			log.Info(ctx, "retrying Future Demand API call", map[string]any{"op": op, "attempt": attempt, "wait": wait.String(), "error": lastErr.Error()})
			if err := transfer.Sleep(ctx, wait); err != nil {
				return fmt.Errorf("futuredemand %s: %w (last error: %v)", op, err, lastErr)
			}
		}
		req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json")
		req.Header.Set(headerPartner, c.PartnerID)
		if authed {
			tok, err := c.bearer(ctx, false)
			if err != nil {
				return err
			}
			req.Header.Set("Authorization", "Bearer "+tok)
			req.Header.Set(headerUploadType, uploadType)
		}
		resp, err := c.httpClient().Do(req)
		if err != nil {
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err
			}
			lastErr = fmt.Errorf("futuredemand %s: %w", op, err)
			if ctx.Err() != nil {
				return lastErr
			}
			continue
		}
		raw, rerr := transfer.ReadSmall(resp.Body, 1<<20)
		_ = resp.Body.Close()
		if rerr != nil {
			lastErr = fmt.Errorf("futuredemand %s: reading the answer: %w", op, rerr)
			continue
		}
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			if out == nil || len(bytes.TrimSpace(raw)) == 0 {
				return nil
			}
			if err := json.Unmarshal(raw, out); err != nil {
				return fmt.Errorf("futuredemand %s: HTTP %d with an answer that is not the expected JSON (is futuredemand.endpoint right?): %v", op, resp.StatusCode, err)
			}
			return nil
		}
		code, msg := errorMessage(raw)
		apiErr := &APIError{Op: op, Status: resp.StatusCode, Code: code, Message: msg}
		if resp.StatusCode == http.StatusUnauthorized && authed && c.AccessToken == "" && !reauthed {
			// The login token was revoked or expired early: log in again once.
			reauthed = true
			lastErr = apiErr
			if _, err := c.bearer(ctx, true); err != nil {
				return err
			}
			attempt--
			continue
		}
		if !transfer.Transient(resp.StatusCode) {
			return apiErr
		}
		lastErr = apiErr
	}
	return fmt.Errorf("giving up after %d attempts: %w", retry.Attempts, lastErr)
}
