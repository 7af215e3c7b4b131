package verify

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
	"oras.land/oras-go/v2"

	"github.com/wasmgate/wasmgate/access"
	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/evidence/cosign"
	"github.com/wasmgate/wasmgate/referrers"
	"github.com/wasmgate/wasmgate/remote"
	"github.com/wasmgate/wasmgate/resultcache"
)

// DefaultConcurrency is how many references VerifyAll checks at once.
const DefaultConcurrency = 4

// DefaultTimeout bounds the whole verification of one reference, on top
// of the registry client's per-request stall timeout: a registry that
// answers, slowly, forever, still gets a verdict of undecided.
const DefaultTimeout = 5 * time.Minute

// Options shape a Verifier. The zero value is the defaults.
type Options struct {
	// Scope, when set, is the repository name statements are selected by
	// instead of the reference's own: an OCI layout copied from
	// registry.acme.dev/wasm/app is verified under that name's policy.
	Scope string
	// Discover bounds and steers referrer discovery. Its API field is
	// filled per reference from the Opener.
	Discover referrers.Options
	// CosignFormat, when set, checks cosign signatures of that format
	// only ("bundle" or "legacy"); "" checks both.
	CosignFormat cosign.Format
	// Concurrency bounds VerifyAll; 0 means DefaultConcurrency.
	Concurrency int
	// Timeout bounds the verification of one reference; 0 means
	// DefaultTimeout.
	Timeout time.Duration
	// Now is the time attestation ages are measured at; nil is time.Now.
	Now func() time.Time
	// Results, when set, keeps verified verdicts for ResultTTL, keyed by
	// manifest digest, repository, policy digest and trust material digest
	// (see package resultcache): a later verification of the same digest
	// under the same policy takes the evidence checks from it (the tag is
	// still resolved, and Fetch still fetches and checks every layer it
	// returns), and says so in Result.Cached. Denials and undecided
	// verdicts are never kept. A policy with no digest (built in Go) is
	// not cached.
	Results   *resultcache.Cache
	ResultTTL time.Duration
	// Layers, when set, is shared by the verifications of a run: each
	// layer digest is fetched and hashed once (see LayerMemo).
	Layers *LayerMemo
}

// Verifier runs the pipeline of one policy. It is safe for concurrent use.
type Verifier struct {
	policy *Policy
	opener *access.Opener
	opts   Options
}

// New returns a Verifier of policy that reaches artifacts through opener
// (registries through its one client, OCI layouts, the cache). The policy
// must come from LoadPolicy, ParsePolicy, NewPolicy or OneOffPolicy, which
// validated it; anything else is a *PolicyError wrapping ErrPolicyInvalid.
func New(policy *Policy, opener *access.Opener, opts Options) (*Verifier, error) {
	if policy == nil || len(policy.statements) == 0 {
		return nil, &PolicyError{Reason: "no policy: build one with LoadPolicy, ParsePolicy, NewPolicy or OneOffPolicy", Err: ErrPolicyInvalid}
	}
	if opener == nil {
		return nil, errors.New("verify: New needs an opener")
	}
	return &Verifier{policy: policy, opener: opener, opts: opts}, nil
}

// Policy is the policy the Verifier enforces.
func (v *Verifier) Policy() *Policy { return v.policy }

// Verify runs the pipeline on ref: select the statement by the
// repository, resolve ref once to a manifest digest, check the manifest
// and every layer, discover referrers once, run the verifiers the
// statement needs concurrently over what discovery found, and decide.
//
// The Result is never nil. The error is non-nil when the verdict is
// undecided (a *ReferenceError from the registry, network or time) or the
// reference cannot be verified at all (ErrUnsupportedReference); a denial
// is a verdict, not an error.
func (v *Verifier) Verify(ctx context.Context, ref artifact.Reference) (*Result, error) {
	res, _, err := v.run(ctx, ref, nil)
	return res, err
}

// fetchReq is what Fetch and FetchComponent ask run to keep.
type fetchReq struct {
	component string
	// pickErr: set by run when the component is not there.
	pickErr *ComponentError
}

// Fetch is Verify keeping the wasm and policy layers, as verified, for
// package loader. It returns an Artifact only for the verdict verified,
// whatever the statement's mode: warn and audit let a gate pass, never
// an unverified artifact load. Otherwise the error wraps ErrNotVerified
// (or is the undecided cause) and the Result says why.
//
// A Spin application of several components is refused here with
// ErrMultipleComponents (its ids listed): take one with FetchComponent.
func (v *Verifier) Fetch(ctx context.Context, ref artifact.Reference) (*Artifact, *Result, error) {
	return v.fetch(ctx, ref, &fetchReq{})
}

// FetchComponent is Fetch of one component of a Spin application: the
// whole application is verified as Verify does (the signatures over its
// manifest, the locked application matched against the manifest, every
// component and data layer's digest checked), and the Artifact holds the
// wasm of the component whose id is name (its bytes checked against its
// layer's digest, Artifact.Component its id) with the application's
// permission policy: its policy layer, or a signed policy referrer of
// the application's manifest under permissionPolicy.
//
// A name the locked application does not have, or any name on an
// artifact that is not a Spin application, is a *ComponentError wrapping
// ErrNoSuchComponent that lists the ids; the Result is the verification
// of the artifact, which stands. An empty name is Fetch.
func (v *Verifier) FetchComponent(ctx context.Context, ref artifact.Reference, name string) (*Artifact, *Result, error) {
	return v.fetch(ctx, ref, &fetchReq{component: name})
}

func (v *Verifier) fetch(ctx context.Context, ref artifact.Reference, req *fetchReq) (*Artifact, *Result, error) {
	res, a, err := v.run(ctx, ref, req)
	if err != nil {
		return nil, res, err
	}
	if res.SubjectKind != "" && res.SubjectKind != artifact.SubjectWasm {
		// Only a wasm artifact is ever handed to a host to run, whatever
		// the policy accepted.
		return nil, res, fmt.Errorf("%w: %s is %s, not a wasm artifact: %w", ErrNotVerified, ref, res.SubjectKind, artifact.ErrNotWasmArtifact)
	}
	if res.Verdict == VerdictVerified && req.pickErr != nil {
		e := *req.pickErr
		e.Reference = res.Pinned
		return nil, res, &e
	}
	if res.Verdict != VerdictVerified || a == nil {
		return nil, res, fmt.Errorf("%w: %s is %s: %s", ErrNotVerified, ref, res.Verdict, reasons(res))
	}
	a.result = res
	return a, res, nil
}

// VerifyAll verifies refs with bounded concurrency. Results are in the
// order of refs; errs[i] is Verify's error for refs[i].
func (v *Verifier) VerifyAll(ctx context.Context, refs []artifact.Reference) ([]*Result, []error) {
	results, errs := make([]*Result, len(refs)), make([]error, len(refs))
	n := v.opts.Concurrency
	if n <= 0 {
		n = DefaultConcurrency
	}
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	for i, ref := range refs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			results[i], errs[i] = v.Verify(ctx, ref)
		}()
	}
	wg.Wait()
	return results, errs
}

func reasons(r *Result) string {
	var out []string
	for _, c := range r.Failed() {
		s := c.Name
		if c.Subject != "" {
			s += " " + c.Subject
		}
		if c.Reason != "" {
			s += ": " + c.Reason
		}
		out = append(out, s)
	}
	return strings.Join(out, "; ")
}

// Repository is the name statements are selected by for ref: the scope
// override, "registry/repository", or "local/<directory>" for a layout.
func (v *Verifier) Repository(ref artifact.Reference) string {
	if v.opts.Scope != "" {
		return v.opts.Scope
	}
	return Repository(ref)
}

// Repository is the name of ref's repository for scopes:
// "registry/repository", or "local/<directory name>" for an OCI layout
// (as Notation names layouts).
func Repository(ref artifact.Reference) string {
	switch ref.Kind {
	case artifact.RefRegistry:
		return ref.Registry.Registry + "/" + ref.Registry.Repository
	case artifact.RefLayout:
		return "local/" + filepath.Base(filepath.Clean(ref.Path))
	}
	return ""
}

// run is the pipeline; with req (Fetch), it keeps the artifact's bytes.
func (v *Verifier) run(ctx context.Context, ref artifact.Reference, req *fetchReq) (*Result, *Artifact, error) {
	keep := req != nil
	input := ref.String()
	timeout := v.opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	res := &Result{Reference: input, Mode: ModeEnforce}
	undecided := func(op string, err error) (*Result, *Artifact, error) {
		res.decide()
		return res, nil, &ReferenceError{Op: op, Reference: input, Err: err}
	}
	if ref.Kind != artifact.RefRegistry && ref.Kind != artifact.RefLayout {
		err := fmt.Errorf("%w: %s is a %s; only registry references and OCI layouts carry signatures", ErrUnsupportedReference, input, ref.Kind)
		res.Checks = append(res.Checks, Check{Name: CheckManifest, Status: StatusError, Reason: err.Error(), Err: err})
		return undecided("parse", err)
	}
	res.Repository = v.Repository(ref)

	// The statement is chosen before any request: no scope, no traffic.
	st, pattern, err := v.policy.Select(res.Repository)
	if err != nil {
		res.Checks = append(res.Checks, Check{Name: CheckScope, Status: StatusFailed, Reason: "no policy covers " + res.Repository + ": denied", Err: err})
		res.decide()
		return res, nil, nil
	}
	res.Policy, res.Scope, res.Mode = st.Name, pattern, st.Mode
	res.Insecure = st.insecure()
	res.Checks = planChecks(st)
	res.check(CheckScope, "").pass(fmt.Sprintf("policy %s (scope %s)", st.Name, pattern))
	if st.RequireDigest {
		c := res.check(CheckDigest, "")
		if ref.Digest == "" {
			c.fail(fmt.Errorf("%w: %s; the policy %s requires ref@sha256:...", ErrNotPinned, input, st.Name))
			res.decide()
			return res, nil, nil
		}
		c.pass("pinned by " + ref.Digest.String())
	}

	src, err := v.opener.Source(ref)
	if err != nil {
		res.check(CheckManifest, "").error(err)
		return undecided("open", err)
	}
	// Resolve once: every later step uses this manifest's digest.
	subj, err := access.FetchSubject(ctx, src, ref.Object(), 0)
	if err != nil {
		err = classify(ref, "resolve", err)
		if artifact.IsBadContent(err) || errors.Is(err, artifact.ErrInvalidManifest) {
			res.check(CheckManifest, "").fail(err)
			res.decide()
			return res, nil, nil
		}
		res.check(CheckManifest, "").error(err)
		return undecided("resolve", err)
	}
	if subj.Compat != nil && st.accepts(artifact.SubjectWasm) && (keep || !st.accepts(artifact.SubjectImage)) {
		// A Docker image of one layer is Istio's compat variant when that
		// layer holds plugin.wasm: read it so (the wasm rules, the layer
		// extracted) where the statement expects wasm, and for a host
		// that will load it; a statement that also takes images verifies
		// it as one.
		subj = subj.AsWasm()
	}
	subject := subj.Descriptor
	res.Digest, res.Pinned = subject.Digest, ref.WithDigest(subject.Digest).String()
	res.SubjectKind, res.ArtifactType = subj.Kind, subj.ArtifactType()
	if !st.accepts(subj.Kind) {
		// Denied, not undecided: the subject is what it is, and the
		// statement says what it must be.
		res.check(CheckManifest, "").fail(kindError(st, subj))
		res.decide()
		return res, nil, nil
	}
	res.check(CheckManifest, "").pass(subjectWords(subj))
	each := subj.Index != nil && st.Platforms == PlatformsEach
	if each {
		res.Checks = append(res.Checks, platformChecks(subj.Index)...)
	}

	if c := res.check(CheckPermissionPolicy, ""); c != nil {
		switch {
		case subj.Wasm == nil:
			c.pass("not a wasm artifact: no permission policy applies")
		case subj.Wasm.Layers.Policy != nil:
			c.pass("the artifact's policy layer " + subj.Wasm.Layers.Policy.Digest.String() + " (policy referrers are not read)")
		}
	}

	key := v.resultKey(res.Repository, subject.Digest)
	// Fetch of an artifact whose policy comes from a referrer takes
	// nothing from the cache: the policy's bytes must be fetched, and then
	// their signatures checked, anyway.
	cached := !(keep && readsPolicyReferrers(st, subj)) && v.cached(key, res)
	if cached && !keep {
		res.decide()
		return res, nil, nil
	}

	var a *Artifact
	var pol *policyOut
	var g errgroup.Group
	c := res.check(CheckLayers, "")
	rules := st.Layers
	if st.PermissionPolicy != nil {
		// The permission policy check decides: a referrer may hold it.
		rules.RequirePolicy = false
	}
	g.Go(func() error {
		var err error
		switch {
		case subj.Wasm != nil:
			var out *layersOut
			component := ""
			if keep {
				component = req.component
			}
			if out, err = checkLayers(ctx, src, subj.Wasm, rules, keep, component, v.opts.Layers); err == nil {
				res.Layers = out.report
				if out.report.Policy != "" {
					res.PermissionPolicy = &PermissionPolicyReport{PolicySource: out.source(), Permissions: out.report.Permissions}
				}
				c.pass(out.summary())
				switch {
				case keep && out.pickErr != nil:
					req.pickErr = out.pickErr
				case keep:
					a = out.artifact(res.Pinned, res.Repository, subj.Wasm)
				}
			}
		case subj.Index != nil:
			if each {
				c.pass("an image index has no layers of its own; each platform manifest's are checked with it")
			} else {
				c.pass("an image index has no layers of its own; its platform manifests are not checked (platforms: index)")
			}
		default:
			var out *ContentReport
			if out, err = checkContent(ctx, src, subj.Manifest, st.Layers, v.opts.Layers); err == nil {
				res.Content = out
				c.pass(out.summary())
			}
		}
		switch {
		case err == nil:
		case artifact.IsBadContent(err) || errors.Is(err, ErrLayers):
			c.fail(err)
		default:
			c.error(classify(ref, "layers", err))
		}
		return nil
	})
	if !cached && (st.requiresEvidence() || readsPolicyReferrers(st, subj)) {
		g.Go(func() error {
			pol = v.checkEvidence(ctx, newMemo(src), ref, res, st, subj)
			return nil
		})
	}
	if !cached && each {
		g.Go(func() error {
			v.checkPlatforms(ctx, src, ref, res, st, subj.Index)
			return nil
		})
	}
	_ = g.Wait()
	if a != nil && pol != nil && pol.raw != nil {
		// As if it were the layer: the loader's sandbox reads it unchanged.
		a.policy, a.perms, a.source = pol.raw, pol.perms, pol.report.PolicySource
	}
	res.decide()
	if !cached && res.Verdict == VerdictVerified && v.opts.Results != nil {
		// A failure to keep it costs the next run a verification, no more.
		_ = v.opts.Results.Put(key, res, v.opts.ResultTTL)
	}
	for _, c := range res.Checks {
		if c.Status == StatusError {
			return res, nil, &ReferenceError{Op: c.Name, Reference: input, Err: c.Err}
		}
	}
	return res, a, nil
}

// classify turns a registry error into remote's sentinels.
func classify(ref artifact.Reference, op string, err error) error {
	if ref.Kind == artifact.RefRegistry {
		return remote.Classify(op, ref.Registry.Registry, err)
	}
	return err
}

// planChecks lists every check st requires, not yet run: a verdict of
// verified needs each to have passed.
func planChecks(st *Statement) []Check {
	checks := []Check{{Name: CheckScope}}
	if st.RequireDigest {
		checks = append(checks, Check{Name: CheckDigest})
	}
	checks = append(checks, Check{Name: CheckManifest}, Check{Name: CheckLayers})
	if st.Threshold > 0 {
		checks = append(checks, Check{Name: CheckSignatures})
	}
	for _, r := range st.Attestations {
		checks = append(checks, Check{Name: CheckAttestation, Subject: r.PredicateType})
	}
	for _, r := range st.Layouts {
		checks = append(checks, Check{Name: CheckLayout, Subject: r.Name})
	}
	if st.PermissionPolicy != nil {
		checks = append(checks, Check{Name: CheckPermissionPolicy})
	}
	for i := range checks {
		checks[i].Status = StatusNotRun
	}
	return checks
}

func (c *Check) pass(reason string) { c.Status, c.Reason, c.Err = StatusPassed, reason, nil }
func (c *Check) fail(err error)     { c.Status, c.Reason, c.Err = StatusFailed, err.Error(), err }
func (c *Check) error(err error)    { c.Status, c.Reason, c.Err = StatusError, err.Error(), err }

// source is what the evidence verifiers read from.
type source = oras.ReadOnlyTarget
