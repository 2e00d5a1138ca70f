// Package sandbox is a local emulator of every platform API the provider
// talks to, and of the object storage behind them. It enforces the
// platforms' rules (auth, signatures, expiry, field order, Content-Length,
// body-level error codes) so that a client mistake fails here the way it
// would fail in production. It knows nothing of the provider's client code.
package sandbox

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// Path prefixes under which each emulated service is mounted. A single
// listener serves all of them, so one sandbox process covers every platform.
const (
	PrefixMintegral    = "/mintegral"
	PrefixTPNS         = "/tpns"
	PrefixFutureDemand = "/futuredemand"
	PrefixOpenIM       = "/openim"
	PrefixAltcraft     = "/altcraft"
	PrefixS3           = "/s3"
	PrefixOSS          = "/oss"
)

// Credentials the sandbox accepts. Defaults are filled in by New.
type Credentials struct {
	MintegralAccessKey string
	MintegralAPIKey    string

	TPNSAccessID  string
	TPNSSecretKey string

	FutureDemandUsername    string
	FutureDemandPassword    string
	FutureDemandAccessToken string
	FutureDemandPartnerID   string

	OpenIMToken string

	AltcraftToken string
}

// DefaultCredentials are the well-known sandbox credentials printed by
// cmd/audience-sandbox and used by the tests.
func DefaultCredentials() Credentials {
	return Credentials{
		MintegralAccessKey:      "sandbox-access-key",
		MintegralAPIKey:         "sandbox-api-key",
		TPNSAccessID:            "1500000001",
		TPNSSecretKey:           "sandbox-tpns-secret",
		FutureDemandUsername:    "sandbox@example.com",
		FutureDemandPassword:    "sandbox-password",
		FutureDemandAccessToken: "sandbox-fd-token",
		FutureDemandPartnerID:   "42",
		OpenIMToken:             "sandbox-openim-token",
		AltcraftToken:           "sandbox-altcraft-token",
	}
}

// ExternalS3 points presigned URLs at a real S3 implementation instead of
// the sandbox's built-in store. Only path-style addressing is used.
type ExternalS3 struct {
	Endpoint  string // e.g. http://127.0.0.1:7070
	Region    string
	AccessKey string
	SecretKey string
	Bucket    string
}

// Config configures a sandbox.
type Config struct {
	// Dir is where uploaded objects are stored. Required.
	Dir         string
	Credentials Credentials
	// ExternalS3, when set, makes the sandbox presign S3 URLs for that
	// server instead of its own store.
	ExternalS3 *ExternalS3
	// PresignTTL is how long presigned upload information stays valid.
	// Default 300s, as Mintegral documents.
	PresignTTL time.Duration
	// Now lets tests move the sandbox clock. Default time.Now.
	Now func() time.Time
	// MintegralUpdateWindow is how long after a create or update a
	// Mintegral audience refuses another update. Default 12 hours, as
	// Mintegral documents. Longer emulates a platform clock ahead of the
	// client's; shorter is for trying updates by hand, and then the List
	// API reports times shifted so that utime + 12 hours is the moment an
	// update is accepted.
	MintegralUpdateWindow time.Duration
	// OpenIMBackend is the object storage the OpenIM server is configured
	// with, which decides its upload form (default MinIO). Only MinIO and
	// AWS work with ExternalS3.
	OpenIMBackend OpenIMBackend
	// AltcraftPanel is the Altcraft panel's generation (default new):
	// an old one takes a download's token only as ?token=.
	AltcraftPanel AltcraftPanel
	// MintegralIDFVCodes is the device_type number of IDFV: 10 (default,
	// IDFV_MD5 11) as every official Mintegral page lists it, or 12
	// (IDFV_MD5 13) as a newer, unofficial reading does; the other pair is
	// then refused as an unknown device type.
	MintegralIDFVCodes int
	// MintegralAreaOneOnly refuses area_type 2 (mainland China) as an
	// invalid parameter, as an account limited to what Mintegral's current
	// help center lists (area 1 only) would.
	MintegralAreaOneOnly bool
	// RequestLog, when set, is called once per request after it ended
	// (`audience-sandbox -v` prints each record). It may be called from
	// several goroutines at once.
	RequestLog func(RequestRecord)
	// FutureDemandAuthChallenge, when set, makes Future Demand's POST
	// /auth answer a right username and password with this Cognito
	// challenge (ChallengeName, Session) instead of tokens, as an account
	// with MFA or a pending new password does.
	FutureDemandAuthChallenge string
	// FutureDemandCamelCase makes Future Demand's storage calls answer
	// in camelCase spellings, as another server of the family may.
	FutureDemandCamelCase bool
}

// Server is a running sandbox.
type Server struct {
	cfg      Config
	store    *ObjectStore
	mux      *http.ServeMux
	admin    *http.ServeMux // the sandbox's own endpoints, under AdminPrefix
	listener net.Listener
	http     *http.Server
	baseURL  string

	// Credentials of the built-in S3/OSS store (used to sign and verify).
	storageKeyID  string
	storageSecret string

	mu          sync.Mutex
	requests    map[string]int // count of requests per service prefix
	faults      []*pendingFault
	expectedMD5 map[string]string
	exports     []export // declared by each platform's register function

	tpns         *tpnsState
	futuredemand *futureDemandState
	openim       *openIMState
	altcraft     *altcraftState

	mintegralAudience mintegralAudienceState

	multipart s3MultipartState // S3 multipart uploads on the built-in store

	persisted persistence   // state files in Config.Dir
	advanced  time.Duration // how far Advance moved the clock, in total (under mu)
}

// New creates a sandbox; call Start to listen.
func New(cfg Config) (*Server, error) {
	if cfg.Dir == "" {
		return nil, errors.New("sandbox: Config.Dir is required")
	}
	if cfg.Credentials == (Credentials{}) {
		cfg.Credentials = DefaultCredentials()
	}
	if cfg.PresignTTL == 0 {
		cfg.PresignTTL = 300 * time.Second
	}
	if err := cfg.checkMintegralIDFVCodes(); err != nil {
		return nil, err
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	backend, err := ParseOpenIMBackend(string(cfg.OpenIMBackend))
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	cfg.OpenIMBackend = backend
	if cfg.AltcraftPanel, err = ParseAltcraftPanel(string(cfg.AltcraftPanel)); err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	if cfg.ExternalS3 != nil && cfg.OpenIMBackend != OpenIMBackendMinIO && cfg.OpenIMBackend != OpenIMBackendAWS {
		return nil, fmt.Errorf("sandbox: the OpenIM %s backend is served by the built-in store only; drop ExternalS3 or use minio", cfg.OpenIMBackend)
	}
	store, err := NewObjectStore(cfg.Dir)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:           cfg,
		store:         store,
		mux:           http.NewServeMux(),
		requests:      map[string]int{},
		storageKeyID:  "SANDBOXSTORAGEKEY",
		storageSecret: "sandbox-storage-secret-do-not-use",
	}
	s.registerStorage(s.mux)
	s.registerMintegral(s.mux)
	s.registerTPNS(s.mux)
	s.registerFutureDemand(s.mux)
	s.registerOpenIM(s.mux)
	s.registerAltcraft(s.mux)
	s.registerAdmin()
	if err := s.loadMintegral(); err != nil {
		return nil, err
	}
	for _, load := range []func() error{s.keepTPNS, s.keepAltcraft, s.keepFutureDemand, s.keepClock} {
		if err := load(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Start listens on addr ("127.0.0.1:0" picks a free port) and serves in
// the background.
func (s *Server) Start(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("sandbox: listen %s: %w", addr, err)
	}
	s.listener = ln
	s.baseURL = "http://" + ln.Addr().String()
	s.http = &http.Server{Handler: s, ReadHeaderTimeout: 30 * time.Second}
	go func() { _ = s.http.Serve(ln) }()
	return nil
}

// Close stops the server.
func (s *Server) Close() error {
	if s.http == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return s.http.Shutdown(ctx)
}

// URL is the base URL, e.g. http://127.0.0.1:43121.
func (s *Server) URL() string { return s.baseURL }

// Store gives tests access to what was uploaded.
func (s *Server) Store() *ObjectStore { return s.store }

// export is one environment variable the sandbox prints for the
// provider: a path under the sandbox's URL (known only once it listens),
// or a fixed value.
type export struct {
	name, path, value string
	isURL             bool
}

// exportURL declares a variable holding the sandbox URL followed by path.
// Each platform's register function declares its own variables.
func (s *Server) exportURL(name, path string) {
	s.exports = append(s.exports, export{name: name, path: path, isURL: true})
}

// exportValue declares a variable holding a fixed value (a credential).
func (s *Server) exportValue(name, value string) {
	s.exports = append(s.exports, export{name: name, value: value})
}

// Env returns the environment variables that point the provider at this
// sandbox, with the sandbox credentials.
func (s *Server) Env() map[string]string {
	env := make(map[string]string, len(s.exports))
	for _, e := range s.exports {
		if e.isURL {
			env[e.name] = s.baseURL + e.path
		} else {
			env[e.name] = e.value
		}
	}
	return env
}

// ExportLines renders Env as shell export lines in a stable order.
func (s *Server) ExportLines() string {
	env := s.Env()
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "export %s=%q\n", k, env[k])
	}
	return b.String()
}

// Requests reports how many requests reached the service mounted at
// prefix (one of the Prefix constants). Tests use it to prove that a plan
// failed before anything was sent.
func (s *Server) Requests(prefix string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[prefix]
}

// ServeHTTP counts the request, applies an injected fault if one matches,
// routes it, and reports it to Config.RequestLog.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	body := &countingBody{ReadCloser: r.Body}
	r.Body = body
	logged := &loggingWriter{ResponseWriter: w}
	status, fault := s.serve(w, logged, r)
	if log := s.cfg.RequestLog; log != nil {
		log(RequestRecord{
			Start:    start,
			Method:   r.Method,
			Path:     r.URL.Path,
			Status:   status,
			BytesIn:  body.n,
			BytesOut: logged.written,
			Duration: time.Since(start),
			Fault:    fault,
		})
	}
}

// serve handles one request and reports the status sent (0: connection
// reset) and what a fault did. w is the server's own writer, needed to
// reset the connection; logged wraps it.
func (s *Server) serve(w http.ResponseWriter, logged *loggingWriter, r *http.Request) (status int, fault string) {
	if strings.HasPrefix(r.URL.Path, AdminPrefix) {
		s.admin.ServeHTTP(logged, r)
		return logged.statusOr200(), ""
	}
	s.mu.Lock()
	for _, p := range []string{PrefixMintegral, PrefixTPNS, PrefixFutureDemand, PrefixOpenIM, PrefixAltcraft, PrefixS3, PrefixOSS, PrefixOpenIMStorage} {
		if strings.HasPrefix(r.URL.Path, p+"/") || r.URL.Path == p {
			s.requests[p]++
		}
	}
	s.mu.Unlock()
	if p := s.takeFault(r); p != nil {
		return s.applyFault(p, w, logged, r)
	}
	s.route(logged, r)
	return logged.statusOr200(), ""
}

// route hands a platform request to its handler, then saves what the
// platform holds.
func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	s.mux.ServeHTTP(w, r)
	s.persistAfter(r.URL.Path)
}

func (s *Server) now() time.Time { return s.cfg.Now() }
