package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/credentials"
	"oras.land/oras-go/v2/registry/remote/errcode"
	"oras.land/oras-go/v2/registry/remote/retry"
)

// DefaultTimeout bounds each wait for a registry: response headers, and
// each pause in a body.
const DefaultTimeout = 30 * time.Second

// DefaultMaxMetadataBytes bounds manifests, indexes and referrer lists.
const DefaultMaxMetadataBytes = 4 << 20

// Options configure a [Client]. The zero value is a client that speaks
// https only, uses Docker's credentials, the default timeout, minimum rate
// and deadline, and writes no trace.
type Options struct {
	// PlainHTTP lists registry hosts ("host" or "host:port") that are spoken
	// to over plain HTTP. Every other host is https only.
	PlainHTTP []string
	// Timeout bounds each wait for response headers and each stall while
	// reading a body. Zero means [DefaultTimeout].
	Timeout time.Duration
	// Credentials is where logins are read and written. Nil means Docker's
	// config.json ($DOCKER_CONFIG or ~/.docker) with its credential helpers.
	Credentials credentials.Store
	// Transport is the base HTTP transport. Nil means a clone of
	// http.DefaultTransport.
	Transport http.RoundTripper
	// UserAgent is sent with every request. Empty means "wasmgate".
	UserAgent string
	// MinRate is the slowest, in bytes per second, that a response body may
	// arrive, averaged over MinRateWindow of waiting for it; a slower body
	// fails with a [*RateError] (an [ErrTimeout]). The stall timeout bounds
	// pauses; this bounds progress, so that a registry sending a byte at a
	// time cannot hold a transfer forever. Zero means [DefaultMinRate];
	// negative turns the check off.
	MinRate int64
	// MinRateWindow is how long a body may stay below MinRate before it
	// fails. Zero means [DefaultMinRateWindow].
	MinRateWindow time.Duration
	// Deadline bounds one whole operation, as [Client.WithDeadline] applies
	// it. Zero means [DefaultDeadline]; negative means none.
	Deadline time.Duration
	// Trace, when set, receives a line for every request (method, URL,
	// relevant headers), response (status, duration, headers) and finished
	// body (its length, never its content), retries and token requests
	// included. Credentials are never written: Authorization shows its
	// scheme only, bodies are not printed, and query parameters that are
	// not known to be harmless (pre-signed URLs' signatures, tokens) are
	// redacted. Writes are serialized: one line per Write.
	Trace io.Writer
}

// Client reaches registries. It is safe for concurrent use; one per
// process is the intent.
type Client struct {
	deadline  time.Duration
	plainHTTP []string
	creds     credentials.Store
	http      *http.Client
	auth      *auth.Client
	// noReferrersAPI holds the registry hosts that answered that they
	// have no Referrers API, and when (time.Time).
	noReferrersAPI sync.Map
}

// New builds a Client.
func New(opts Options) (*Client, error) {
	creds := opts.Credentials
	if creds == nil {
		store, err := credentials.NewStoreFromDocker(credentials.StoreOptions{AllowPlaintextPut: true})
		if err != nil {
			return nil, fmt.Errorf("reading Docker credentials: %w", err)
		}
		creds = store
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	base := opts.Transport
	if base == nil {
		base = http.DefaultTransport.(*http.Transport).Clone()
	}
	// Each attempt gets its own stall timer and rate window, and is traced
	// with the error they gave it; retries wrap attempts.
	var rt http.RoundTripper = &stallTransport{base: base, timeout: timeout}
	if opts.MinRate >= 0 {
		rate := &rateTransport{base: rt, min: opts.MinRate, window: opts.MinRateWindow}
		if rate.min == 0 {
			rate.min = DefaultMinRate
		}
		if rate.window <= 0 {
			rate.window = DefaultMinRateWindow
		}
		rt = rate
	}
	if opts.Trace != nil {
		rt = &traceTransport{base: rt, w: opts.Trace}
	}
	hc := &http.Client{
		Transport:     retry.NewTransport(&digestTransport{base: rt}),
		CheckRedirect: checkRedirect,
	}
	ua := opts.UserAgent
	if ua == "" {
		ua = "wasmgate"
	}
	ac := &auth.Client{
		Client:     hc,
		Header:     http.Header{"User-Agent": {ua}},
		Cache:      auth.NewCache(),
		Credential: credentials.Credential(creds),
	}
	return &Client{deadline: opts.Deadline, plainHTTP: normalizeHosts(opts.PlainHTTP), creds: creds, http: hc, auth: ac}, nil
}

// PlainHTTPHostsFromEnv splits a comma-separated host list, the format of
// the WASMGATE_PLAIN_HTTP environment variable.
func PlainHTTPHostsFromEnv(v string) []string {
	var hosts []string
	for _, h := range strings.Split(v, ",") {
		if h = strings.TrimSpace(h); h != "" {
			hosts = append(hosts, h)
		}
	}
	return hosts
}

func normalizeHosts(hosts []string) []string {
	out := make([]string, 0, len(hosts))
	for _, h := range hosts {
		out = append(out, strings.ToLower(strings.TrimSpace(h)))
	}
	return out
}

// IsPlainHTTP reports whether host is spoken to over plain HTTP.
func (c *Client) IsPlainHTTP(host string) bool {
	return slices.Contains(c.plainHTTP, strings.ToLower(host))
}

// Repository returns an oras-go repository for ref ("host/repo", any tag
// or digest is ignored) that uses this client.
func (c *Client) Repository(ref registry.Reference) *remote.Repository {
	return &remote.Repository{
		Client:           c.auth,
		Reference:        registry.Reference{Registry: ref.Registry, Repository: ref.Repository},
		PlainHTTP:        c.IsPlainHTTP(ref.Registry),
		MaxMetadataBytes: DefaultMaxMetadataBytes,
	}
}

// Login checks username and password against host and, when they work,
// stores them where Docker would (a credential helper or config.json).
func (c *Client) Login(ctx context.Context, host, username, password string) error {
	reg, err := remote.NewRegistry(host)
	if err != nil {
		return fmt.Errorf("login %s: %w", host, err)
	}
	reg.PlainHTTP = c.IsPlainHTTP(host)
	reg.Client = c.auth
	cred := auth.Credential{Username: username, Password: password}
	return Classify("login", host, credentials.Login(ctx, c.creds, reg, cred))
}

// Logout removes the stored credentials for host.
func (c *Client) Logout(ctx context.Context, host string) error {
	return credentials.Logout(ctx, c.creds, host)
}

func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return ErrTooManyRedirects
	}
	if via[0].URL.Scheme == "https" && req.URL.Scheme != "https" {
		return fmt.Errorf("%w: %s to %s", ErrInsecureRedirect, via[0].URL.Host, req.URL.Host)
	}
	// net/http already drops Authorization when the host changes; we add
	// nothing here beyond the scheme rule.
	return nil
}

// HTTPClient is the client's plain HTTP client (retries, stall timeouts,
// the redirect rules; no registry credentials), for https downloads.
func (c *Client) HTTPClient() *http.Client { return c.http }

// DefaultMaxReferrerPages bounds the pages of one Referrers API listing.
const DefaultMaxReferrerPages = 50

// ReferrersAPI returns a lister of the OCI Referrers API only: where the
// registry lacks the API, its Referrers method fails with an error for
// which [IsNoReferrersAPI] is true (errdef.ErrUnsupported, or the status
// the registry sent) instead of silently falling back to the tag schema,
// so the caller knows which path answered. The client remembers, for
// [NoReferrersAPIMemory], a registry that said so: later listers of the
// same registry answer at once, without a request. An unknown repository
// (404 NAME_UNKNOWN) says nothing about the registry and is not
// remembered. maxPages bounds a listing (0: [DefaultMaxReferrerPages]).
func (c *Client) ReferrersAPI(ref registry.Reference, maxPages int) *ReferrersLister {
	repo := c.Repository(ref)
	if maxPages <= 0 {
		maxPages = DefaultMaxReferrerPages
	}
	repo.ReferrerListMaxPages = maxPages
	_ = repo.SetReferrersCapability(true) // a fresh repository: cannot fail
	return &ReferrersLister{client: c, repo: repo}
}

// NoReferrersAPIMemory is how long a client remembers that a registry has
// no Referrers API: a long-lived client (wasmgate serve) asks again after
// it, in case the registry gained one.
const NoReferrersAPIMemory = 10 * time.Minute

// ReferrersLister lists referrers through the Referrers API of one
// repository; see [Client.ReferrersAPI].
type ReferrersLister struct {
	client *Client
	repo   *remote.Repository
}

// Referrers lists the referrers of desc, as oras-go's
// remote.Repository.Referrers does, unless the registry said recently, to
// this client, that it has no Referrers API.
func (l *ReferrersLister) Referrers(ctx context.Context, desc ocispec.Descriptor, artifactType string, fn func([]ocispec.Descriptor) error) error {
	host := strings.ToLower(l.repo.Reference.Registry)
	if at, ok := l.client.noReferrersAPI.Load(host); ok && time.Since(at.(time.Time)) < NoReferrersAPIMemory {
		return fmt.Errorf("%w: %s answered earlier that it has no Referrers API", errdef.ErrUnsupported, host)
	}
	err := l.repo.Referrers(ctx, desc, artifactType, fn)
	if registryHasNoAPI(err) {
		l.client.noReferrersAPI.Store(host, time.Now())
	}
	return err
}

// registryHasNoAPI: err is the registry saying it has no Referrers API,
// not that a repository is unknown (oras-go returns NAME_UNKNOWN's 404 as
// the registry's error response, and other 404s as ErrUnsupported).
func registryHasNoAPI(err error) bool {
	if errors.Is(err, errdef.ErrUnsupported) {
		return true
	}
	var resp *errcode.ErrorResponse
	return errors.As(err, &resp) && resp.StatusCode != http.StatusNotFound && IsNoReferrersAPI(err)
}

// IsNoReferrersAPI reports the answers by which registries say they have
// no Referrers API: oras-go's ErrUnsupported (a 404, or something other
// than an image index), and the odd statuses some registries send for an
// endpoint they do not know (400, 405, 406, 501).
func IsNoReferrersAPI(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, errdef.ErrUnsupported) {
		return true
	}
	var resp *errcode.ErrorResponse
	if errors.As(err, &resp) {
		switch resp.StatusCode {
		case http.StatusBadRequest, http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusNotAcceptable, http.StatusNotImplemented:
			return true
		}
	}
	return false
}
