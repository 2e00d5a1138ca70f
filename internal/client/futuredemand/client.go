// Package futuredemand is a client for the Future Demand client API's
// uploads: Bearer auth (a static token, or a login refreshed before
// expiry); storage uploads by single presigned PUT or presigned S3
// multipart with abort; and direct multipart uploads to the API itself
// (a transaction summary workbook, a bulk events file on the CR API,
// creative media). The request and response shapes are in wire.go.
package futuredemand

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
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

// Settings locate and authenticate a Future Demand account: AccessToken,
// or Username and Password (exchanged at POST /auth and refreshed before
// they expire).
type Settings struct {
	Endpoint    string
	AccessToken string
	Username    string
	Password    string
	PartnerID   string
	// CRAPIEndpoint is the CR API's base URL, for bulk event uploads.
	CRAPIEndpoint string
	// MediaEndpoint overrides the base URL of POST /media (by default
	// Endpoint without its version segment; see MediaBase).
	MediaEndpoint string
	// CRAPIEndpointSetting and MediaEndpointSetting say where the user
	// sets CRAPIEndpoint and MediaEndpoint, for errors when that host
	// cannot be reached, as transfer.Options.EndpointSetting does for
	// Endpoint. Empty names no setting.
	CRAPIEndpointSetting, MediaEndpointSetting string
}

// Client talks to the Future Demand client API. It is safe for
// concurrent use.
type Client struct {
	Settings
	http *transfer.Platform
	// cr and media carry the calls to the CR API and to the media base,
	// so a host that cannot be reached is named by its own setting.
	cr, media *transfer.Platform

	mu      sync.Mutex
	token   string
	refresh string
	expires time.Time
}

// New returns a client for the account s.
func New(s Settings, o transfer.Options) *Client {
	cr, media := o, o
	cr.EndpointSetting = s.CRAPIEndpointSetting
	if s.MediaEndpoint != "" {
		media.EndpointSetting = s.MediaEndpointSetting
	} // else the media base derives from Endpoint, whose setting o names
	return &Client{
		Settings: s,
		http:     transfer.NewPlatform("Future Demand", o),
		cr:       transfer.NewPlatform("Future Demand CR", cr),
		media:    transfer.NewPlatform("Future Demand", media),
	}
}

// APIError is a non-success answer of the client API.
type APIError struct {
	Op      string // e.g. "POST /storage/multipart-upload"
	Status  int
	Code    string
	Message string
	// afterUnclear: an earlier attempt may have acted, and this answer
	// may describe what it left (transfer.APIResponse.AfterUnclear).
	afterUnclear bool
}

func (e *APIError) Error() string {
	return transfer.Describe(fmt.Sprintf("Future Demand %s: HTTP %d", e.Op, e.Status), e.Code, e.Message, e.hint())
}

func (e *APIError) hint() string {
	switch {
	case e.Status == http.StatusUnauthorized && strings.HasPrefix(e.Op, "POST "+pathAuth):
		return "check futuredemand.username and futuredemand.password (FUTUREDEMAND_USERNAME, FUTUREDEMAND_PASSWORD)"
	case e.Status == http.StatusUnauthorized:
		return "the token was rejected: check futuredemand.access_token (FUTUREDEMAND_ACCESS_TOKEN), or use username and password"
	case e.Status == http.StatusForbidden:
		return "check futuredemand.partner_id (FUTUREDEMAND_PARTNER_ID): the account must belong to that partner"
	case e.Status == http.StatusNotFound && strings.HasSuffix(e.Op, pathMedia):
		return "POST /media is on the API base without its /v3 segment: check futuredemand.media_endpoint (FUTUREDEMAND_MEDIA_ENDPOINT), or futuredemand.endpoint, from which it is derived"
	case e.Status == http.StatusNotFound && strings.HasSuffix(e.Op, pathEventsUpload):
		return "bulk event uploads go to the CR API, not the main API: check futuredemand.cr_api_endpoint (FUTUREDEMAND_CR_API_ENDPOINT), e.g. https://cr.client-api.prd.future-demand.com/api"
	case e.Status == http.StatusNotFound && !strings.Contains(e.Op, pathMultipart):
		return "is futuredemand.endpoint right? It must end in /api/v3"
	case e.Status == http.StatusTooManyRequests:
		return "the partner's rate limit was hit; try again later"
	}
	return ""
}

// ChallengeError is a login the API answered with a challenge (Cognito's
// ChallengeName: multi-factor authentication, a new password) instead of
// tokens. The provider cannot answer one.
type ChallengeError struct {
	Op        string
	Username  string
	Challenge string // e.g. SOFTWARE_TOKEN_MFA, NEW_PASSWORD_REQUIRED
}

func (e *ChallengeError) Error() string {
	what, fix := "another sign-in step", ""
	switch e.Challenge {
	case "NEW_PASSWORD_REQUIRED":
		what = "a new password"
		fix = fmt.Sprintf("; or sign in once to Future Demand's web app as %q and set the new password it asks for, then use that password", e.Username)
	case "SOFTWARE_TOKEN_MFA", "SMS_MFA", "MFA_SETUP", "SELECT_MFA_TYPE", "EMAIL_OTP":
		what = "multi-factor authentication"
	}
	return fmt.Sprintf("Future Demand %s: the account %q is asked for %s (challenge %s) before it gets tokens, and the provider cannot answer challenges. "+
		"Use a service account without multi-factor authentication in futuredemand.username and futuredemand.password (FUTUREDEMAND_USERNAME, FUTUREDEMAND_PASSWORD), "+
		"or set futuredemand.access_token (FUTUREDEMAND_ACCESS_TOKEN) to a token obtained by signing in elsewhere%s", e.Op, e.Username, what, e.Challenge, fix)
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
	if c.token != "" && c.http.Now().Before(c.expires.Add(-tokenMargin)) {
		return c.token, nil
	}
	if c.refresh != "" && !force {
		tok, err := c.authCall(ctx, pathRefresh, refreshRequest{RefreshToken: c.refresh})
		if err == nil {
			c.http.Log().Debug(ctx, "refreshed the Future Demand access token", map[string]any{"expires_in": tok.ExpiresIn})
			return c.keep(tok), nil
		}
		// A refresh token can expire or be revoked: log in again.
		c.http.Log().Info(ctx, "refreshing the Future Demand token failed; logging in again", map[string]any{"error": err.Error()})
	}
	tok, err := c.authCall(ctx, pathAuth, authRequest{Username: c.Username, Password: c.Password})
	if err != nil {
		return "", err
	}
	c.http.Log().Debug(ctx, "logged in to Future Demand", map[string]any{"expires_in": tok.ExpiresIn})
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
	c.expires = c.http.Now().Add(ttl)
	return c.token
}

func (c *Client) authCall(ctx context.Context, path string, in any) (*tokenResponse, error) {
	var tok tokenResponse
	// A second login or refresh issues one more token nobody uses.
	if err := c.do(ctx, http.MethodPost, path, "", false, transfer.DuplicateHarmless, in, &tok); err != nil {
		return nil, err
	}
	if tok.ChallengeName != "" {
		return nil, &ChallengeError{Op: http.MethodPost + " " + path, Username: c.Username, Challenge: tok.ChallengeName}
	}
	if tok.TokenType != "" && !strings.EqualFold(tok.TokenType, "Bearer") {
		return nil, fmt.Errorf("futuredemand POST %s: token type %q, want Bearer", path, tok.TokenType)
	}
	return &tok, nil
}

// call sends a storage API call with the Bearer token, partner and upload
// type headers, retrying 429 and 5xx as dup allows, and decodes the JSON
// answer.
func (c *Client) call(ctx context.Context, method, path, uploadType string, dup transfer.Duplicate, in any, out transfer.AnswerReader) error { //nolint:unparam // every call declares what a duplicate costs, next to it
	return c.do(ctx, method, path, uploadType, true, dup, in, out)
}

func (c *Client) do(ctx context.Context, method, path, uploadType string, authed bool, dup transfer.Duplicate, in any, out transfer.AnswerReader) error {
	if err := c.check(); err != nil {
		return err
	}
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	op := method + " " + path
	for reauth := false; ; reauth = true {
		h := http.Header{}
		h.Set("Content-Type", "application/json")
		h.Set("Accept", "application/json")
		h.Set(headerPartner, c.PartnerID)
		if authed {
			tok, err := c.bearer(ctx, reauth)
			if err != nil {
				return err
			}
			h.Set("Authorization", "Bearer "+tok)
			h.Set(headerUploadType, uploadType)
		}
		resp, err := c.http.Call(ctx, transfer.APIRequest{
			Method: method, URL: strings.TrimRight(c.Endpoint, "/") + path, Header: h, Body: body, Duplicate: dup,
		})
		if err != nil {
			return err
		}
		if resp.Status >= 200 && resp.Status < 300 {
			if out == nil {
				return nil
			}
			if m := out.ReadAnswer(transfer.ParseAnswer(resp.Body)); m != "" {
				return transfer.NewShapeError("Future Demand", op, resp.Status, resp.Header.Get(headerRequestID), m, resp.Body)
			}
			return nil
		}
		if resp.Status == http.StatusUnauthorized && authed && c.AccessToken == "" && !reauth {
			continue // the login token was revoked or expired early: log in again once
		}
		code, msg := errorMessage(resp.Body)
		return &APIError{Op: op, Status: resp.Status, Code: code, Message: msg, afterUnclear: resp.AfterUnclear}
	}
}
