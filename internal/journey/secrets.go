package journey

import (
	"archive/zip"
	"bufio"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/audiencekit/terraform-provider-audience/internal/sandbox"
)

// secretScanner finds credentials and signed material in text: the
// sandbox's credentials, what is derived from them (Mintegral's token,
// TPNS's Basic header), and what a platform hands out that grants access
// (presigned query strings, POST policies and their signatures, issued
// tokens). Masked values (tflog writes ***) are not leaks.
type secretScanner struct {
	literals map[string]string // secret -> what it is
	apiKey   string            // Mintegral api_key, for tokens
	tokens   map[string]bool   // Mintegral tokens of the timestamps seen so far
	tokensTo int64             // unix second up to which tokens are computed
}

// storageSecrets are the built-in store's own credentials (the sandbox
// signs presigned URLs and policies with them).
var storageSecrets = map[string]string{
	"SANDBOXSTORAGEKEY":                 "the storage access key id (presigned URLs and OSS forms carry it)",
	"sandbox-storage-secret-do-not-use": "the storage secret key",
}

func newSecretScanner(c sandbox.Credentials) *secretScanner {
	s := &secretScanner{literals: map[string]string{}, apiKey: c.MintegralAPIKey, tokens: map[string]bool{}}
	add := func(v, what string) {
		if v != "" {
			s.literals[v] = what
		}
	}
	add(c.MintegralAPIKey, "mintegral.api_key")
	add(c.TPNSSecretKey, "tpns.secret_key")
	add(base64.StdEncoding.EncodeToString([]byte(c.TPNSAccessID+":"+c.TPNSSecretKey)), "TPNS Basic credentials")
	add(c.FutureDemandPassword, "futuredemand.password")
	add(c.FutureDemandAccessToken, "futuredemand.access_token")
	add(c.OpenIMToken, "openim.token")
	add(c.AltcraftToken, "altcraft.token")
	for v, what := range storageSecrets {
		add(v, what)
	}
	s.tokensTo = time.Now().Add(-time.Hour).Unix()
	return s
}

var (
	// hex32 may be a Mintegral token (or an MD5, which is no secret).
	hex32 = regexp.MustCompile(`\b[0-9a-f]{32}\b`)
	// signedMaterial is what grants access whatever the credentials:
	// presigned query parameters, signature and policy values, bearer
	// tokens, tokens in a query string, tokens the platforms issue.
	signedMaterial = []struct {
		re   *regexp.Regexp
		what string
	}{
		{regexp.MustCompile(`(?i)x-amz-(signature|credential|security-token)=[^&\s"*]`), "a presigned URL's query string"},
		{regexp.MustCompile(`(?i)[?&](signature|ossaccesskeyid|expires|token|access_token)=[^&\s"*]`), "a signed query string"},
		{regexp.MustCompile(`(?i)"(signature|policy|x-amz-signature|x-amz-credential)"\s*:\s*"[^"*]{8,}"`), "a signature or policy value"},
		{regexp.MustCompile(`(?i)\b(signature|policy)=[A-Za-z0-9+/]{16,}`), "a signature or policy value"},
		{regexp.MustCompile(`(?i)bearer\s+[A-Za-z0-9._~+/-]{6,}`), "a bearer token"},
		{regexp.MustCompile(`fd-(at|rt|id)-[0-9a-f]{32}`), "a Future Demand token"},
		// An S3/OSS POST policy: base64 JSON starting {"expiration".
		{regexp.MustCompile(`eyJleHBpcmF0aW9u[A-Za-z0-9+/=]{8,}`), "a POST policy document"},
	}
)

// leak is a secret found in some text.
type leak struct {
	where string // file or stream, and line
	what  string
	text  string // the line, cut short around the secret
}

func (l leak) String() string { return fmt.Sprintf("%s: %s in %q", l.where, l.what, l.text) }

// extendTokens computes Mintegral tokens for every second up to now plus
// the timestamp window, so a token signed for any request so far is known.
func (s *secretScanner) extendTokens() {
	to := time.Now().Add(sandbox.MintegralTimestampWindow).Unix()
	for ts := s.tokensTo + 1; ts <= to; ts++ {
		s.tokens[sandbox.MintegralToken(s.apiKey, strconv.FormatInt(ts, 10))] = true
	}
	s.tokensTo = to
}

// scanText reports the leaks in text, named where.
func (s *secretScanner) scanText(where, text string) []leak {
	s.extendTokens()
	var leaks []leak
	for n, line := range strings.Split(text, "\n") {
		if leaks = s.scanLine(fmt.Sprintf("%s:%d", where, n+1), line, leaks); len(leaks) > 20 {
			break
		}
	}
	return leaks
}

// scanFile reports the leaks in a file, read line by line with no limit
// on a line's length; a missing file has none.
func (s *secretScanner) scanFile(path string) ([]leak, error) {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	s.extendTokens()
	var leaks []leak
	r := bufio.NewReader(f)
	for n := 1; len(leaks) <= 20; n++ {
		line, err := r.ReadString('\n')
		leaks = s.scanLine(fmt.Sprintf("%s:%d", path, n), line, leaks)
		if err == io.EOF {
			break
		}
		if err != nil {
			return leaks, fmt.Errorf("reading %s for secrets: %w", path, err)
		}
	}
	return leaks, nil
}

// scanLine adds the leaks in one line to leaks.
func (s *secretScanner) scanLine(at, line string, leaks []leak) []leak {
	for v, what := range s.literals {
		if i := strings.Index(line, v); i >= 0 {
			leaks = append(leaks, leak{at, what, around(line, i, len(v))})
		}
	}
	for _, m := range signedMaterial {
		if loc := m.re.FindStringIndex(line); loc != nil {
			leaks = append(leaks, leak{at, m.what, around(line, loc[0], loc[1]-loc[0])})
		}
	}
	for _, loc := range hex32.FindAllStringIndex(line, -1) {
		if s.tokens[line[loc[0]:loc[1]]] {
			leaks = append(leaks, leak{at, "a Mintegral token", around(line, loc[0], 32)})
		}
	}
	return leaks
}

// base64Run is a run of base64 (standard or URL alphabet) long enough to
// hide a secret.
var base64Run = regexp.MustCompile(`[A-Za-z0-9+/_-]{16,}={0,2}`)

// scanDecoded scans data, and the text each base64 run in it decodes to,
// down to depth levels: state's private data is base64 of JSON whose
// values are base64 again, and a value may be base64 of its own.
func (s *secretScanner) scanDecoded(where string, data []byte, depth int) []leak {
	leaks := s.scanText(where, string(data))
	if depth == 0 {
		return leaks
	}
	for _, run := range base64Run.FindAll(data, -1) {
		if text, ok := decodeBase64Text(run); ok {
			leaks = append(leaks, s.scanDecoded(fmt.Sprintf("%s, base64 %.20s… decoded", where, run), text, depth-1)...)
		}
	}
	return leaks
}

// decodeBase64Text decodes run in any base64 alphabet and padding, if it
// decodes to text.
func decodeBase64Text(run []byte) ([]byte, bool) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		out, err := enc.DecodeString(string(run))
		if err != nil || !utf8.Valid(out) {
			continue
		}
		text := true
		for _, r := range string(out) {
			if r < 0x20 && r != '\n' && r != '\r' && r != '\t' || r == 0x7f {
				text = false
				break
			}
		}
		if text {
			return out, true
		}
	}
	return nil, false
}

// scanArtifact scans a file a command left: a saved plan (a zip file)
// entry by entry, anything else whole, decoding base64 in both.
func (s *secretScanner) scanArtifact(path string) ([]leak, error) {
	if isPlanFile(path) {
		zr, err := zip.OpenReader(path)
		if err != nil {
			return nil, fmt.Errorf("saved plan %s: %w", path, err)
		}
		defer func() { _ = zr.Close() }()
		var leaks []leak
		for _, f := range zr.File {
			rc, err := f.Open()
			if err != nil {
				return nil, fmt.Errorf("saved plan %s: %s: %w", path, f.Name, err)
			}
			data, err := io.ReadAll(rc)
			_ = rc.Close()
			if err != nil {
				return nil, fmt.Errorf("saved plan %s: %s: %w", path, f.Name, err)
			}
			leaks = append(leaks, s.scanDecoded(path+"!"+f.Name, data, 3)...)
		}
		return leaks, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return s.scanDecoded(path, data, 3), nil
}

func isPlanFile(path string) bool {
	base := filepath.Base(path)
	return base == "tfplan" || strings.HasSuffix(base, ".tfplan")
}

// around cuts a line to the secret and some context.
func around(line string, i, n int) string {
	from, to := max(i-60, 0), min(i+n+60, len(line))
	return line[from:to]
}
