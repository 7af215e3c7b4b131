package verify

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/attest"
	"github.com/wasmgate/wasmgate/evidence/cosign"
	"github.com/wasmgate/wasmgate/evidence/notation"
	"github.com/wasmgate/wasmgate/referrers"
)

// checkEvidence discovers the subject's referrers once and runs every
// verifier the statement needs over them at the same time: one per
// authority, one per attestation rule and signer, one per layout
// requirement (the layouts and links fetched once for all). They share
// src, whose memo fetches each referrer blob once. A statement with
// permissionPolicy over a wasm artifact without a policy layer has its
// policy referrers verified too; what they hold is returned.
func (v *Verifier) checkEvidence(ctx context.Context, src *memoTarget, ref artifact.Reference, res *Result, st *Statement, subj *artifact.Subject) *policyOut {
	subject := subj.Descriptor
	sig := res.check(CheckSignatures, "")
	attChecks := make([]*Check, len(st.Attestations))
	for i, r := range st.Attestations {
		attChecks[i] = res.check(CheckAttestation, r.PredicateType)
	}
	layoutChecks := make([]*Check, len(st.Layouts))
	for i, r := range st.Layouts {
		layoutChecks[i] = res.check(CheckLayout, r.Name)
	}
	var polCheck *Check
	ropts := v.opts.Discover
	ropts.API, ropts.ArtifactType, ropts.Kinds = v.opener.ReferrersAPI(ref), "", v.kinds(st)
	if readsPolicyReferrers(st, subj) {
		polCheck = res.check(CheckPermissionPolicy, "")
		ropts.Kinds = append(ropts.Kinds, referrers.KindPermissionPolicy)
	}
	found, err := referrers.Discover(ctx, src, subject, ropts)
	if err != nil {
		err = classify(ref, "discover", err)
		if sig != nil {
			sig.error(err)
		}
		for _, c := range append(append(attChecks, layoutChecks...), polCheck) {
			if c != nil {
				c.error(err)
			}
		}
		return nil
	}
	res.Listing, res.Rejected = found.Listing, found.Rejected
	if found.Skipped > 0 {
		names := make([]string, len(ropts.Kinds))
		for i, k := range ropts.Kinds {
			names[i] = string(k)
		}
		res.SkippedReferrers = &SkippedReferrers{Count: found.Skipped, Unfetched: found.Unfetched, ArtifactTypes: found.SkippedTypes,
			Reason: "not of a kind the policy's verifiers read (" + strings.Join(names, ", ") + ")"}
	}

	authorities := make([]AuthorityResult, len(st.Authorities))
	attestations := make([]AttestationReport, len(st.Attestations))
	var wg sync.WaitGroup
	for i, a := range st.Authorities {
		if sig == nil {
			break // attestations only: their signers are checked there
		}
		wg.Go(func() { authorities[i] = v.authority(ctx, src, res.Repository, a, subject, found.Referrers) })
	}
	for i, r := range st.Attestations {
		wg.Go(func() {
			attestations[i] = v.attestation(ctx, src, res.Repository, st, r, subject, found.Referrers, ropts)
		})
	}
	var pol *policyOut
	var polErr error
	if polCheck != nil {
		wg.Go(func() {
			pol, polErr = v.policyReferrers(ctx, src, res.Repository, st, subject, found.Referrers, ropts)
			if polErr != nil && !isPolicyRefusal(polErr) {
				polErr = classify(ref, "policy referrer", polErr)
			}
		})
	}
	layouts := make([]LayoutReport, len(st.Layouts))
	// noProduct[i] is set when layout i names a digest the subject lacks.
	noProduct := make([]error, len(st.Layouts))
	if len(st.Layouts) > 0 {
		// The layouts and links are read once for every requirement.
		evidence := sync.OnceValues(func() (*layoutEvidence, error) {
			ev, err := fetchLayoutEvidence(ctx, src, found.Referrers)
			if err != nil {
				err = classify(ref, "layout", err)
			}
			return ev, err
		})
		for i, r := range st.Layouts {
			if r.Product != ProductManifest && subj.Wasm == nil {
				noProduct[i] = fmt.Errorf("%w: product: wasm names the wasm layer, and %s has none; use product: manifest", ErrLayout, kindWords(subj))
				layouts[i] = LayoutReport{Name: r.Name, OwnerKeys: r.KeyIDs(), Product: r.Product, Results: []LayoutResult{}}
				continue
			}
			product := subject.Digest
			if r.Product != ProductManifest {
				product = subj.Wasm.Layers.Wasm.Digest
			}
			wg.Go(func() {
				ev, err := evidence()
				layouts[i] = v.layout(r, product, ev, err)
			})
		}
	}
	wg.Wait()

	if sig != nil {
		res.Signatures = &SignatureReport{Threshold: st.Threshold, Authorities: authorities}
		thresholdCheck(sig, res.Signatures)
	}
	res.Attestations = attestations
	for i := range attestations {
		attestationCheck(attChecks[i], &attestations[i])
	}
	if len(layouts) > 0 {
		res.Layouts = layouts
	}
	for i := range layouts {
		if noProduct[i] != nil {
			layoutChecks[i].fail(noProduct[i])
			continue
		}
		layoutCheck(layoutChecks[i], &layouts[i])
	}
	if polCheck == nil {
		return nil
	}
	if pol != nil && (pol.raw != nil || len(pol.report.Results) > 0) {
		res.PermissionPolicy = pol.report
	}
	policyCheck(polCheck, st, pol, polErr)
	if polErr != nil {
		return nil
	}
	return pol
}

// kinds are the kinds of referrer the verifiers st requires read: only
// those are fetched (see referrers.Options.Kinds).
func (v *Verifier) kinds(st *Statement) []referrers.Kind {
	var out []referrers.Kind
	if st.Threshold > 0 {
		for _, a := range st.Authorities {
			if a.Kind == KindNotation {
				out = append(out, referrers.KindNotation)
			} else {
				out = append(out, cosign.Kinds(v.opts.CosignFormat)...)
			}
		}
	}
	if len(st.Attestations) > 0 {
		out = append(out, attest.Kinds()...)
	}
	if len(st.Layouts) > 0 {
		out = append(out, referrers.KindInTotoLayout, referrers.KindInTotoLink)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func (v *Verifier) authority(ctx context.Context, src *memoTarget, repo string, a *Authority, subject ocispec.Descriptor, refs []referrers.Referrer) AuthorityResult {
	out := AuthorityResult{Name: a.Name, Kind: a.Kind, Description: a.Description}
	var err error
	switch a.Kind {
	case KindNotation:
		scope := a.Notation.Scope
		if scope == "" {
			scope = repo
		}
		out.Notation, err = notation.VerifyReferrers(ctx, src, scope, subject, refs, a.Notation.Trust, notation.Options{UserMetadata: a.Notation.UserMetadata})
		out.Satisfied = notation.Verified(out.Notation)
	default:
		out.Cosign, err = cosign.VerifyReferrers(ctx, src, subject, refs, *a.Cosign, cosign.Options{Format: v.opts.CosignFormat})
		out.Satisfied = cosign.Verified(out.Cosign)
	}
	if err != nil {
		out.Satisfied, out.Err, out.Error = false, err, err.Error()
	}
	return out
}

// thresholdCheck passes when Threshold distinct authorities are satisfied.
// Short of it, an authority that could not decide makes the check an
// error (it might have been met), else it fails.
func thresholdCheck(c *Check, rep *SignatureReport) {
	var missing []string
	var undecided error
	for _, a := range rep.Authorities {
		switch {
		case a.Satisfied:
			rep.Satisfied++
		case a.Err != nil:
			undecided = errors.Join(undecided, fmt.Errorf("authority %s: %w", a.Name, a.Err))
			missing = append(missing, a.Name+" (could not decide)")
		default:
			missing = append(missing, a.Name+" ("+authorityReason(a)+")")
		}
	}
	names := func() string {
		var ok []string
		for _, a := range rep.Authorities {
			if a.Satisfied {
				ok = append(ok, a.Name)
			}
		}
		return strings.Join(ok, ", ")
	}
	switch {
	case rep.Satisfied >= rep.Threshold:
		c.pass(fmt.Sprintf("%d of %d required authorities signed: %s", rep.Satisfied, rep.Threshold, names()))
	case undecided != nil:
		c.error(undecided)
	default:
		c.fail(fmt.Errorf("%w: %d of %d required authorities signed; missing %s", ErrThreshold, rep.Satisfied, rep.Threshold, strings.Join(missing, "; ")))
	}
}

func authorityReason(a AuthorityResult) string {
	var reasons []string
	for _, r := range a.Cosign {
		reasons = append(reasons, r.Reason)
	}
	for _, r := range a.Notation {
		reasons = append(reasons, r.Reason)
	}
	if len(reasons) == 0 {
		return "no signature found"
	}
	return strings.Join(dedupe(reasons), "; ")
}

func (v *Verifier) attestation(ctx context.Context, src *memoTarget, repo string, st *Statement, r *AttestationRule, subject ocispec.Descriptor, refs []referrers.Referrer, ropts referrers.Options) AttestationReport {
	out := AttestationReport{PredicateType: r.PredicateType, SignedBy: r.SignedBy, MinCount: r.MinCount, Results: []AttestationResult{}}
	req := attest.Requirement{PredicateType: r.PredicateType, Conditions: r.Conditions, MaxAge: r.MaxAge, MinCount: r.MinCount}
	passed := map[string]bool{}
	for _, name := range r.SignedBy {
		a := st.authority(name)
		var auth cosign.Authority
		opts := attest.Options{Discover: ropts, Now: v.opts.Now}
		if a.Kind == KindNotation {
			scope := a.Notation.Scope
			if scope == "" {
				scope = repo
			}
			opts.Notation = &attest.NotationTrust{Trust: a.Notation.Trust, Scope: scope, Options: notation.Options{UserMetadata: a.Notation.UserMetadata}}
		} else {
			auth = *a.Cosign
		}
		rep, err := attest.Verify(ctx, src, subject, refs, auth, req, opts)
		if err != nil {
			out.Err = errors.Join(out.Err, fmt.Errorf("signed by %s: %w", name, err))
			continue
		}
		for _, ar := range rep.Results {
			out.Results = append(out.Results, AttestationResult{Authority: name, Result: ar})
			if ar.Verified {
				passed[fmt.Sprintf("%s/%d", ar.Referrer, ar.Layer)] = true
			}
		}
	}
	out.Passed = len(passed)
	out.Verified = out.Passed >= r.MinCount
	if out.Err != nil {
		out.Error = out.Err.Error()
	}
	return out
}

// attestationCheck passes with MinCount distinct attestations verified by
// any signer the rule names.
func attestationCheck(c *Check, rep *AttestationReport) {
	switch {
	case rep.Verified:
		c.pass(fmt.Sprintf("%d of %d required verified (signed by %s)", rep.Passed, rep.MinCount, strings.Join(rep.SignedBy, " or ")))
	case rep.Err != nil:
		c.error(rep.Err)
	default:
		var reasons []string
		for _, r := range rep.Results {
			if !r.Verified {
				reasons = append(reasons, r.Reason)
			}
		}
		why := "no attestation of this type found"
		if len(reasons) > 0 {
			why = strings.Join(dedupe(reasons), "; ")
		}
		c.fail(fmt.Errorf("%w: %d of %d required verified: %s", ErrAttestation, rep.Passed, rep.MinCount, why))
	}
}

func dedupe(ss []string) []string {
	sort.Strings(ss)
	out := ss[:0]
	for i, s := range ss {
		if s != "" && (i == 0 || s != ss[i-1]) {
			out = append(out, s)
		}
	}
	return out
}
