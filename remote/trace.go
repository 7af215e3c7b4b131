package remote

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// traceTransport writes one line per request, response and finished body
// to w: what `cosign -d` and `oras --debug` show, without the secrets.
// Requests are numbered so that concurrent exchanges can be told apart.
//
// What is never written: bodies (a token endpoint answers with the token in
// JSON; an OAuth2 request posts a password or refresh token), the value of
// Authorization and Proxy-Authorization (only the scheme), cookies, any
// header not in the lists below, and the value of every query parameter not
// known to be harmless (pre-signed blob URLs carry X-Amz-Signature, sig,
// token, ...): deny by default, so a parameter nobody thought of is
// redacted too.
type traceTransport struct {
	base http.RoundTripper
	mu   sync.Mutex // one line at a time, whole
	w    io.Writer
	seq  atomic.Int64
}

// Headers worth seeing when debugging a registry exchange.
var (
	traceRequestHeaders  = []string{"Accept", "Content-Type", "Range"}
	traceResponseHeaders = []string{"Content-Type", "Docker-Content-Digest", "Location", "WWW-Authenticate",
		"Retry-After", "Link", "Range", "Docker-Upload-UUID", "OCI-Subject", "OCI-Filters-Applied", "Docker-Distribution-API-Version"}
	traceAuthHeaders = []string{"Authorization", "Proxy-Authorization"}
)

// safeQuery are the query parameters of the distribution API and of token
// requests that carry no secret; every other value is redacted.
var safeQuery = map[string]bool{
	"n": true, "last": true, "digest": true, "mount": true, "from": true, "artifacttype": true,
	"scope": true, "service": true, "account": true, "client_id": true,
}

const redacted = "REDACTED"

func (t *traceTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	id := t.seq.Add(1)
	var b strings.Builder
	fmt.Fprintf(&b, "http #%d > %s %s", id, req.Method, redactURL(req.URL))
	for _, h := range traceAuthHeaders {
		if v := req.Header.Get(h); v != "" {
			fmt.Fprintf(&b, " [%s: %s]", h, redactAuth(v))
		}
	}
	writeHeaders(&b, req.Header, traceRequestHeaders)
	if req.ContentLength > 0 {
		fmt.Fprintf(&b, " [Content-Length: %d]", req.ContentLength)
	}
	t.line(b.String())

	start := time.Now()
	resp, err := t.base.RoundTrip(req)
	took := time.Since(start).Round(time.Microsecond)
	if err != nil {
		t.line(fmt.Sprintf("http #%d < error after %s: %s", id, took, printable(err.Error())))
		return nil, err
	}
	b.Reset()
	fmt.Fprintf(&b, "http #%d < %s (%s)", id, printable(resp.Status), took)
	if resp.ContentLength >= 0 {
		fmt.Fprintf(&b, " [Content-Length: %d]", resp.ContentLength)
	}
	writeHeaders(&b, resp.Header, traceResponseHeaders)
	t.line(b.String())
	if resp.Body != nil && resp.Body != http.NoBody && req.Method != http.MethodHead {
		resp.Body = &traceBody{ReadCloser: resp.Body, t: t, id: id, start: start}
	}
	return resp, nil
}

func (t *traceTransport) line(s string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	io.WriteString(t.w, s+"\n")
}

func writeHeaders(b *strings.Builder, h http.Header, names []string) {
	for _, name := range names {
		v := strings.Join(h.Values(name), ", ")
		if v == "" {
			continue
		}
		switch name {
		case "Location":
			if u, err := url.Parse(v); err == nil {
				v = redactURL(u)
			} else {
				v = redacted
			}
		case "Link":
			v = redactLinks(v)
		}
		fmt.Fprintf(b, " [%s: %s]", name, printable(v))
	}
}

// printable drops control characters, so that a registry cannot forge
// trace lines or terminal escapes through a header.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

// traceBody reports, once, how much of a body was read and how it ended;
// never what it said.
type traceBody struct {
	io.ReadCloser
	t     *traceTransport
	id    int64
	start time.Time
	n     atomic.Int64 // Close may come from another goroutine than Read
	once  sync.Once
}

func (b *traceBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	if err != nil {
		b.done(err)
	}
	return n, err
}

func (b *traceBody) Close() error {
	b.done(nil)
	return b.ReadCloser.Close()
}

func (b *traceBody) done(err error) {
	b.once.Do(func() {
		took := time.Since(b.start).Round(time.Microsecond)
		switch {
		case err == nil:
			b.t.line(fmt.Sprintf("http #%d < body closed after %d bytes (%s)", b.id, b.n.Load(), took))
		case err == io.EOF:
			b.t.line(fmt.Sprintf("http #%d < body %d bytes (%s)", b.id, b.n.Load(), took))
		default:
			b.t.line(fmt.Sprintf("http #%d < body failed after %d bytes (%s): %s", b.id, b.n.Load(), took, printable(err.Error())))
		}
	})
}

// authScheme is an auth-scheme of at most maxAuthScheme bytes; the limit is
// checked apart, as a counted repetition ({0,19}) makes the regexp
// expensive to compile at start-up.
var authScheme = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]*$`)

const maxAuthScheme = 20

// redactAuth is an Authorization value with only its scheme ("Basic
// REDACTED"); a value that does not start with a scheme and a space (a
// bare token) is all REDACTED.
func redactAuth(v string) string {
	if scheme, _, ok := strings.Cut(v, " "); ok && len(scheme) <= maxAuthScheme && authScheme.MatchString(scheme) {
		return scheme + " " + redacted
	}
	return redacted
}

// redactURL is u without user information and with the value of every
// query parameter not in safeQuery replaced by REDACTED.
func redactURL(u *url.URL) string {
	c := *u
	c.User = nil
	if c.RawQuery != "" {
		q, err := url.ParseQuery(c.RawQuery)
		if err != nil {
			c.RawQuery = redacted
		} else {
			for k, vs := range q {
				if !safeQuery[strings.ToLower(k)] {
					for i := range vs {
						vs[i] = redacted
					}
				}
			}
			c.RawQuery = q.Encode()
		}
	}
	c.Fragment = ""
	return c.String()
}

var linkURL = regexp.MustCompile(`<[^>]*>`)

// redactLinks redacts the URLs of a Link header (<url>; rel="next").
func redactLinks(v string) string {
	return linkURL.ReplaceAllStringFunc(v, func(s string) string {
		u, err := url.Parse(s[1 : len(s)-1])
		if err != nil {
			return "<" + redacted + ">"
		}
		return "<" + redactURL(u) + ">"
	})
}
