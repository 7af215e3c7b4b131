package sigstoreroot

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/tuf"

	"github.com/wasmgate/wasmgate/cache"
	"github.com/wasmgate/wasmgate/sigstoreroot/embedded"
)

// The built-in deployments' TUF repositories.
const (
	PublicGoodMirror = tuf.DefaultMirror
	GitHubMirror     = "https://tuf-repo.github.com"
	// TrustedRootTarget is the TUF target that holds a trusted_root.json.
	TrustedRootTarget = "trusted_root.json"
)

// Names of the built-in deployments, as [Root.Name] says them.
const (
	PublicGood = "public-good"
	GitHub     = "github"
)

// DefaultTimeout bounds one refresh from a mirror.
const DefaultTimeout = 30 * time.Second

// Options shape a Provider. The zero value is the defaults.
type Options struct {
	// CacheDir holds the TUF metadata and targets, one directory per
	// mirror; "" is the "tuf" directory of wasmgate's cache
	// ($WASMGATE_CACHE, else the user cache directory).
	CacheDir string
	// Offline never contacts a mirror: the cache, else the embedded
	// snapshot.
	Offline bool
	// CacheValidity is how long a refresh stays fresh: within it, a root
	// is read from the cache with no request. 0 means one day, as the
	// GitHub CLI keeps it; negative means refresh every time.
	CacheValidity time.Duration
	// Timeout bounds one refresh; 0 means DefaultTimeout.
	Timeout time.Duration
	// HTTPClient reaches the mirrors; nil is a client with Timeout.
	HTTPClient *http.Client
	// Now is the time snapshots are judged at; nil is time.Now.
	Now func() time.Time
}

// Root is a trusted root obtained by a Provider, and how.
type Root struct {
	// Name is the deployment: PublicGood, GitHub, or the mirror's URL.
	Name string
	// TrustedRoot is the parsed trusted_root.json.
	TrustedRoot *root.TrustedRoot
	// JSON is the trusted_root.json bytes, and Digest their SHA-256: what
	// a report or a cache key names the material by.
	JSON   []byte
	Digest digest.Digest
	// Source says where the bytes came from: "TUF <mirror>", "TUF cache
	// of <mirror>", or "embedded snapshot of <date>".
	Source string
	// Warnings say what a user should know: offline, a stale cache, an
	// expired snapshot.
	Warnings []string
}

// Provider obtains trusted roots, each at most once for its lifetime, and
// is safe for concurrent use. What it obtained — a root, or the error that
// no root could be had — is kept for its lifetime (a caller's cancellation
// excepted); a long-running process that wants fresh roots makes a new
// Provider, as it reloads its policy.
type Provider struct {
	opts Options
	mu   sync.Mutex
	got  map[string]*pending
}

type pending struct {
	done chan struct{}
	root *Root
	err  error
}

// NewProvider returns a Provider with opts.
func NewProvider(opts Options) *Provider {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.CacheValidity == 0 {
		opts.CacheValidity = 24 * time.Hour
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: opts.Timeout}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Provider{opts: opts, got: map[string]*pending{}}
}

// PublicGood is the public-good instance's trusted root: what cosign and
// sigstore-go trust by default.
func (p *Provider) PublicGood(ctx context.Context) (*Root, error) {
	snap, err := embedded.PublicGood()
	anchor := tuf.DefaultRoot()
	if err == nil {
		anchor = snap.TUFRoot
	}
	return p.get(ctx, source{name: PublicGood, mirror: PublicGoodMirror, anchor: anchor, snapshot: embedded.PublicGood})
}

// GitHub is GitHub's own instance's trusted root, from the TUF root the
// GitHub CLI embeds.
func (p *Provider) GitHub(ctx context.Context) (*Root, error) {
	return p.get(ctx, source{name: GitHub, mirror: GitHubMirror, anchor: embedded.GitHubTUFRoot(), snapshot: embedded.GitHub})
}

// Mirror is the trusted root of the TUF repository at mirrorURL, trusting
// tufRoot (a root.json) as its initial root. There is no embedded
// snapshot to fall back to.
func (p *Provider) Mirror(ctx context.Context, mirrorURL string, tufRoot []byte) (*Root, error) {
	u, err := url.Parse(mirrorURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, &Error{Mirror: mirrorURL, Err: ErrInvalidMirror, Cause: fmt.Errorf("not an http(s) URL")}
	}
	if len(tufRoot) == 0 {
		return nil, &Error{Mirror: mirrorURL, Err: ErrInvalidMirror, Cause: fmt.Errorf("no initial TUF root.json")}
	}
	return p.get(ctx, source{name: strings.TrimSuffix(mirrorURL, "/"), mirror: strings.TrimSuffix(mirrorURL, "/"), anchor: tufRoot})
}

type source struct {
	name, mirror string
	anchor       []byte
	snapshot     func() (*embedded.Snapshot, error)
}

func (p *Provider) get(ctx context.Context, src source) (*Root, error) {
	key := src.mirror + "\x00" + string(digest.FromBytes(src.anchor))
	p.mu.Lock()
	pd, ok := p.got[key]
	if !ok {
		pd = &pending{done: make(chan struct{})}
		p.got[key] = pd
		p.mu.Unlock()
		pd.root, pd.err = p.fetch(ctx, src)
		if pd.err != nil && ctx.Err() != nil {
			// A caller's cancellation is not the mirror's verdict: let the
			// next caller try again.
			p.mu.Lock()
			delete(p.got, key)
			p.mu.Unlock()
		}
		close(pd.done)
	} else {
		p.mu.Unlock()
		select {
		case <-pd.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return pd.root, pd.err
}

func (p *Provider) cacheDir() (string, error) {
	if p.opts.CacheDir != "" {
		return p.opts.CacheDir, nil
	}
	d, err := cache.DefaultDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "tuf"), nil
}

// fetch is the fall-back rule: the mirror (unless offline), then the
// cache, then the embedded snapshot; a refusal stops it.
func (p *Provider) fetch(ctx context.Context, src source) (*Root, error) {
	dir, err := p.cacheDir()
	if err != nil {
		return nil, &Error{Mirror: src.mirror, Err: ErrUnavailable, Cause: err}
	}
	var warnings []string
	if !p.opts.Offline {
		raw, err := p.tufTarget(ctx, src, dir, false)
		if err == nil {
			return newRoot(src.name, raw, "TUF "+src.mirror, nil)
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if refused(err) {
			return nil, &Error{Mirror: src.mirror, Err: ErrRefused, Cause: err}
		}
		warnings = append(warnings, fmt.Sprintf("%s could not be reached (%v)", src.mirror, err))
	}
	raw, cacheErr := p.tufTarget(ctx, src, dir, true)
	if cacheErr == nil {
		return newRoot(src.name, raw, "TUF cache of "+src.mirror, append(warnings, "using the cached trust root of "+src.mirror+" without refreshing it"))
	}
	if src.snapshot == nil {
		return nil, &Error{Mirror: src.mirror, Err: ErrUnavailable, Cause: errors.Join(errors.New(strings.Join(warnings, "; ")), cacheErr)}
	}
	snap, err := src.snapshot()
	if err != nil {
		return nil, &Error{Mirror: src.mirror, Err: ErrUnavailable, Cause: errors.Join(cacheErr, err)}
	}
	taken := snap.Taken.UTC().Format(time.DateOnly)
	warnings = append(warnings, fmt.Sprintf("no cached trust root of %s: using the snapshot embedded in wasmgate, taken %s", src.mirror, taken))
	if now := p.opts.Now(); now.After(snap.Expires) {
		warnings = append(warnings, fmt.Sprintf("the embedded snapshot expired on %s: connect to %s once to refresh it, or pass a trusted root file",
			snap.Expires.UTC().Format(time.DateOnly), src.mirror))
	}
	return newRoot(src.name, snap.TrustedRoot, "embedded snapshot of "+taken, warnings)
}

// tufTarget reads the trusted_root.json target through sigstore-go's TUF
// client: from the cache only (cached: no request can be made), or
// refreshing it when stale.
func (p *Provider) tufTarget(ctx context.Context, src source, dir string, cached bool) ([]byte, error) {
	opts := tuf.DefaultOptions().
		WithRoot(src.anchor).
		WithRepositoryBaseURL(src.mirror).
		WithCachePath(dir).
		WithFetcher(&fetcher{ctx: ctx, client: p.opts.HTTPClient, offline: cached})
	if cached {
		opts = opts.WithForceCache()
	} else if p.opts.CacheValidity > 0 {
		opts = opts.WithCacheValidity(max(1, int(p.opts.CacheValidity/(24*time.Hour))))
	}
	client, err := tuf.New(opts)
	if err != nil {
		return nil, err
	}
	return client.GetTarget(TrustedRootTarget)
}

func newRoot(name string, raw []byte, source string, warnings []string) (*Root, error) {
	tr, err := root.NewTrustedRootFromJSON(raw)
	if err != nil {
		return nil, &Error{Mirror: name, Err: ErrRefused, Cause: fmt.Errorf("the %s target is not a trusted root: %w", TrustedRootTarget, err)}
	}
	return &Root{Name: name, TrustedRoot: tr, JSON: raw, Digest: digest.FromBytes(raw), Source: source, Warnings: warnings}, nil
}
