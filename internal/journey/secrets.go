package journey

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

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
	return s.scan(where, strings.NewReader(text))
}

// scanFile reports the leaks in a file; a missing file has none.
func (s *secretScanner) scanFile(path string) ([]leak, error) {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return s.scan(path, f), nil
}

func (s *secretScanner) scan(where string, r io.Reader) []leak {
	s.extendTokens()
	var leaks []leak
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		at := fmt.Sprintf("%s:%d", where, n)
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
		if len(leaks) > 20 {
			break
		}
	}
	return leaks
}

// around cuts a line to the secret and some context.
func around(line string, i, n int) string {
	from, to := max(i-60, 0), min(i+n+60, len(line))
	return line[from:to]
}
