// Package serve is wasmgate's verification as a service: the verify
// pipeline behind HTTP endpoints that Kubernetes admission calls (an OPA
// Gatekeeper external data provider, a Kyverno service call, validating and
// mutating admission webhooks), verifying once per digest however many
// requests ask.
//
// Every request resolves each tag to its digest (one HEAD; a digest needs
// none), so a moved tag is never answered with another artifact's verdict.
// Verdicts are kept in a resultcache keyed by (manifest digest, repository,
// policy digest, trust-material digest): a pass for Options.VerifiedTTL, a
// denial for Options.DeniedTTL, an undecided verdict never; identical
// concurrent requests share one verification. A reload of the policy or its
// trust material changes the key, so nothing verified under the old one is
// served under the new.
//
// With VSAOptions, replicas share verdicts through the registry: a signed
// Verification Summary Attestation attached after a pass is accepted by a
// replica that trusts its key, under the same policy, while fresh.
//
// Everything a client controls is bounded: the body (MaxBodyBytes), the
// keys per request (MaxKeys), the requests in flight (MaxInFlight: beyond
// it a request is refused at once with 429, never queued), the time a
// request may take (RequestTimeout, shorter than the callers' own), and the
// verifications running against one registry (MaxPerRegistry).
package serve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	dref "github.com/distribution/reference"
	"github.com/opencontainers/go-digest"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/wasmgate/wasmgate/access"
	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/resultcache"
	"github.com/wasmgate/wasmgate/verify"
)

// Defaults for [Options].
const (
	DefaultVerifiedTTL    = 10 * time.Minute
	DefaultDeniedTTL      = 30 * time.Second
	DefaultMaxKeys        = 1000
	DefaultMaxBodyBytes   = 1 << 20
	DefaultMaxInFlight    = 64
	DefaultRequestTimeout = 2500 * time.Millisecond // inside Gatekeeper's 3 s
	DefaultVerifyTimeout  = 30 * time.Second
	DefaultMaxPerRegistry = 16
	DefaultConcurrency    = 16
)

// ErrNoPolicy: the server has no valid policy loaded.
var ErrNoPolicy = errors.New("no trust policy loaded")

// ErrBadKey: a key is not a registry reference.
var ErrBadKey = errors.New("not a registry reference")

// Options configure a [Server]. PolicyFile and Opener are required.
type Options struct {
	// PolicyFile is the trust policy, read by New and by each Reload.
	PolicyFile string
	// Load shapes the loading of the policy (Sigstore trust roots).
	Load verify.LoadOptions
	// Opener reaches registries through its one client: tokens and
	// connections are reused across requests.
	Opener *access.Opener
	// Verify shapes every verification; its Timeout defaults to
	// DefaultVerifyTimeout. A verification outlives the request that
	// started it (the next request is answered from its verdict).
	Verify verify.Options
	// VerifiedTTL keeps a pass, DeniedTTL a denial (negative: not kept).
	// An undecided verdict is never kept. 0 means the default.
	VerifiedTTL, DeniedTTL time.Duration
	// MaxKeys bounds the references of one request; MaxBodyBytes its
	// body; MaxInFlight the requests served at once; RequestTimeout the
	// time one request may take; MaxPerRegistry the verifications running
	// against one registry; Concurrency the references of one request
	// checked at once. 0 means the default.
	MaxKeys        int
	MaxBodyBytes   int64
	MaxInFlight    int
	RequestTimeout time.Duration
	MaxPerRegistry int
	Concurrency    int
	// RegistryTransport, when set, is the registry client's transport: its
	// counts are served on /metrics.
	RegistryTransport *RegistryTransport
	// VSA, when set, carries verdicts across replicas and hosts as signed
	// Verification Summary Attestations on the artifacts (see VSAOptions).
	VSA *VSAOptions
	// Logger receives one line per request and per reload; nil discards.
	Logger *slog.Logger
	// Registerer, when set, also receives the server's metrics (they are
	// always served on /metrics).
	Registerer prometheus.Registerer
}

func (o Options) withDefaults() Options {
	def := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	def(&o.VerifiedTTL, DefaultVerifiedTTL)
	def(&o.DeniedTTL, DefaultDeniedTTL)
	def(&o.RequestTimeout, DefaultRequestTimeout)
	def(&o.Verify.Timeout, DefaultVerifyTimeout)
	defInt := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defInt(&o.MaxKeys, DefaultMaxKeys)
	defInt(&o.MaxInFlight, DefaultMaxInFlight)
	defInt(&o.MaxPerRegistry, DefaultMaxPerRegistry)
	defInt(&o.Concurrency, DefaultConcurrency)
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Server verifies references for the endpoints of [Server.Handler]. It is
// safe for concurrent use.
type Server struct {
	opts     Options
	state    atomic.Pointer[state]
	cache    *resultcache.Cache
	inFlight chan struct{}
	metrics  *metrics

	mu         sync.Mutex
	registries map[string]chan struct{}
}

// state is one loaded policy and its verifier.
type state struct {
	policy   *verify.Policy
	verifier *verify.Verifier
}

// New loads the policy and returns a server. A policy that does not load
// is an error (a *verify.PolicyError): a service never starts without one.
func New(ctx context.Context, opts Options) (*Server, error) {
	if opts.PolicyFile == "" || opts.Opener == nil {
		return nil, errors.New("serve: Options.PolicyFile and Options.Opener are required")
	}
	opts = opts.withDefaults()
	cache, err := resultcache.Open(resultcache.Options{})
	if err != nil {
		return nil, err
	}
	s := &Server{opts: opts, cache: cache, inFlight: make(chan struct{}, opts.MaxInFlight), registries: map[string]chan struct{}{}}
	s.metrics = newMetrics(s)
	if opts.Registerer != nil {
		if err := s.metrics.register(opts.Registerer); err != nil {
			return nil, err
		}
	}
	if err := s.Reload(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Reload reads the policy file again. On success the new policy serves
// every later request (the old verdicts stay in the cache under the old
// key, unreachable, until they expire); on failure the old one stays and
// the error says why.
func (s *Server) Reload(ctx context.Context) error {
	p, err := verify.LoadPolicy(ctx, s.opts.PolicyFile, s.opts.Load)
	if err != nil {
		s.metrics.reloads.WithLabelValues("failed").Inc()
		s.opts.Logger.Error("reload failed: the previous policy stays", "file", s.opts.PolicyFile, "error", err.Error())
		return err
	}
	v, err := verify.New(p, s.opts.Opener, s.opts.Verify)
	if err != nil {
		return err
	}
	old := s.state.Swap(&state{policy: p, verifier: v})
	s.metrics.reloads.WithLabelValues("ok").Inc()
	if old == nil || old.policy.Digest() != p.Digest() || old.policy.TrustDigest() != p.TrustDigest() {
		s.opts.Logger.Info("policy loaded", "file", s.opts.PolicyFile, "policyDigest", p.Digest().String(), "trustDigest", p.TrustDigest().String())
	}
	return nil
}

// Ready reports whether a policy is loaded.
func (s *Server) Ready() bool { return s.state.Load() != nil }

// Policy is the policy in force (nil before one loaded).
func (s *Server) Policy() *verify.Policy {
	if st := s.state.Load(); st != nil {
		return st.policy
	}
	return nil
}

// Source says where a Decision came from.
type Source string

const (
	SourceVerified  Source = "verified"  // this request ran the verification
	SourceCache     Source = "cache"     // a kept verdict, or one shared with a concurrent request
	SourceRefused   Source = "refused"   // the reference was refused before any verification
	SourceUndecided Source = "undecided" // the registry, the network or time: nothing to keep
)

// Decision is the answer for one reference.
type Decision struct {
	Reference string `json:"reference"`
	// Pinned is the reference pinned by the digest that was verified: a
	// mutation replaces the tag with it.
	Pinned  string         `json:"pinned,omitempty"`
	Digest  digest.Digest  `json:"digest,omitempty"`
	Verdict verify.Verdict `json:"verdict"`
	// Allowed is what admission does: the verdict verified, or a statement
	// in warn or audit mode.
	Allowed bool     `json:"allowed"`
	Reasons []string `json:"reasons,omitempty"`
	Source  Source   `json:"source"`
	// Result is the verification, as verify reports it.
	Result *verify.Result `json:"result,omitempty"`
	// Err is why no verdict was reached (Verdict undecided).
	Err error `json:"-"`
}

// Message is the decision in one line, for a kubectl user.
func (d Decision) Message() string {
	switch {
	case d.Allowed && d.Verdict == verify.VerdictVerified:
		return fmt.Sprintf("%s verified as %s", d.Reference, d.Digest)
	case d.Allowed:
		return fmt.Sprintf("%s is %s, allowed by a %s-mode policy: %s", d.Reference, d.Verdict, d.Result.Mode, strings.Join(d.Reasons, "; "))
	case d.Err != nil:
		return fmt.Sprintf("%s could not be verified: %v", d.Reference, d.Err)
	}
	return fmt.Sprintf("%s is %s: %s", d.Reference, d.Verdict, strings.Join(d.Reasons, "; "))
}

// Check decides one reference: a container image as Kubernetes names it
// ("nginx" is docker.io/library/nginx:latest) or any registry reference.
// The tag is resolved now; the verdict comes from the cache when one is
// kept for that digest under this policy, from a verification already
// running for it, or from a new one.
func (s *Server) Check(ctx context.Context, key string) Decision {
	d := Decision{Reference: key, Verdict: verify.VerdictUndecided}
	st := s.state.Load()
	if st == nil {
		d.Source, d.Err = SourceRefused, ErrNoPolicy
		return d
	}
	ref, err := ParseImage(key)
	if err != nil {
		d.Source, d.Err = SourceRefused, err
		return d
	}
	dg := ref.Digest
	if dg == "" {
		// The tag is resolved on every request: a moved tag is a new key.
		if dg, err = s.resolve(ctx, ref); err != nil {
			d.Source, d.Err = SourceUndecided, &verify.ReferenceError{Op: "resolve", Reference: key, Err: err}
			s.metrics.verdict(d)
			return d
		}
	}
	pinned := ref.WithDigest(dg)
	k := resultcache.Key{Manifest: dg, Repository: st.verifier.Repository(ref), Policy: st.policy.Digest(), Trust: st.policy.TrustDigest()}
	e, shared, err := s.cache.Do(ctx, k, func(vctx context.Context) (any, time.Duration, error) {
		vctx, cancel := context.WithTimeout(vctx, s.opts.Verify.Timeout)
		defer cancel()
		release, err := s.acquire(vctx, ref.Registry.Registry)
		if err != nil {
			return nil, 0, err
		}
		defer release()
		subj := s.vsaSubject(vctx, pinned)
		if res, ok := s.byVSA(vctx, st, ref, pinned, subj); ok {
			return kept{Result: res, VSA: true}, s.opts.VerifiedTTL, nil
		}
		res, verr := st.verifier.Verify(vctx, pinned)
		if verr == nil && res.Verdict == verify.VerdictVerified {
			if err := s.writeVSA(vctx, st, pinned, subj, res); err != nil {
				s.opts.Logger.Warn("could not attach a VSA", "reference", pinned.String(), "error", err.Error())
			}
		}
		ttl := time.Duration(0)
		switch {
		case verr != nil:
			// Undecided: shared with the requests waiting now, never kept.
			return kept{Result: res, Error: verr.Error()}, 0, nil
		case res.Verdict == verify.VerdictVerified:
			ttl = s.opts.VerifiedTTL
		case res.Verdict == verify.VerdictDenied:
			ttl = max(s.opts.DeniedTTL, 0)
		}
		return kept{Result: res}, ttl, nil
	})
	d.Source = SourceVerified
	if shared {
		d.Source = SourceCache
	}
	if err != nil {
		d.Source, d.Err = SourceUndecided, err
		s.metrics.verdict(d)
		return d
	}
	var out kept
	if err := json.Unmarshal(e.Value, &out); err != nil || out.Result == nil {
		d.Source, d.Err = SourceUndecided, fmt.Errorf("serve: a kept verdict does not read back: %v", err)
		return d
	}
	res := out.Result
	res.Reference = key
	d.Result, d.Verdict, d.Allowed = res, res.Verdict, res.Pass
	d.Digest, d.Pinned = dg, pinned.String()
	if out.Error != "" {
		d.Verdict, d.Allowed, d.Err = verify.VerdictUndecided, false, errors.New(out.Error)
		d.Source = SourceUndecided
	}
	if out.VSA && !shared {
		d.Source = SourceVSA
	}
	for _, c := range res.Failed() {
		if c.Status == verify.StatusNotRun {
			continue
		}
		r := c.Name
		if c.Subject != "" {
			r += " " + c.Subject
		}
		d.Reasons = append(d.Reasons, r+": "+c.Reason)
	}
	s.metrics.verdict(d)
	return d
}

// resolve is the digest ref's tag names now: one HEAD.
func (s *Server) resolve(ctx context.Context, ref artifact.Reference) (digest.Digest, error) {
	src, err := s.opts.Opener.Source(ref)
	if err != nil {
		return "", err
	}
	desc, err := src.Resolve(ctx, ref.Object())
	if err != nil {
		return "", err
	}
	return desc.Digest, nil
}

// kept is what the cache holds for a verdict: the Result, and the error
// of an undecided one (shared with concurrent waiters only, never kept).
type kept struct {
	Result *verify.Result `json:"result"`
	Error  string         `json:"error,omitempty"`
	// VSA: verified by a trusted verifier's VSA, not by this replica.
	VSA bool `json:"vsa,omitempty"`
}

// acquire takes one of the verification slots of registry host, waiting
// at most as long as ctx.
func (s *Server) acquire(ctx context.Context, host string) (func(), error) {
	s.mu.Lock()
	sem, ok := s.registries[host]
	if !ok {
		sem = make(chan struct{}, s.opts.MaxPerRegistry)
		s.registries[host] = sem
	}
	s.mu.Unlock()
	select {
	case sem <- struct{}{}:
		return func() { <-sem }, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for one of %d verification slots of %s: %w", s.opts.MaxPerRegistry, host, ctx.Err())
	}
}

// ParseImage reads a reference as Kubernetes reads a container image:
// a name without a registry is Docker Hub's ("nginx" is
// docker.io/library/nginx), without a tag or digest it is ":latest".
func ParseImage(s string) (artifact.Reference, error) {
	named, err := dref.ParseNormalizedNamed(s)
	if err != nil {
		return artifact.Reference{}, fmt.Errorf("%w: %q: %v", ErrBadKey, s, err)
	}
	ref, err := artifact.ParseReference(dref.TagNameOnly(named).String())
	if err != nil || ref.Kind != artifact.RefRegistry {
		return artifact.Reference{}, fmt.Errorf("%w: %q", ErrBadKey, s)
	}
	return ref, nil
}
