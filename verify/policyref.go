package verify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/wasmgate/wasmgate/access"
	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/evidence"
	"github.com/wasmgate/wasmgate/evidence/cosign"
	"github.com/wasmgate/wasmgate/permissions"
	"github.com/wasmgate/wasmgate/referrers"
)

// MaxPolicyReferrers bounds the policy referrers of one subject that are
// verified: each costs a discovery and a verification per authority. A
// subject with more is denied (ErrPolicyReferrer), not judged on a part.
const MaxPolicyReferrers = 16

// policyOut is the permission policy a statement's permissionPolicy found.
type policyOut struct {
	report *PermissionPolicyReport
	raw    []byte
	perms  *permissions.Policy
}

// readsPolicyReferrers: the statement takes a policy from a referrer, and
// the subject is a wasm artifact without a policy layer.
func readsPolicyReferrers(st *Statement, subj *artifact.Subject) bool {
	return st.PermissionPolicy != nil && subj.Wasm != nil && subj.Wasm.Layers.Policy == nil
}

// policyCheck decides the permission policy check from what
// policyReferrers found.
func policyCheck(c *Check, st *Statement, out *policyOut, err error) {
	signers := strings.Join(st.PermissionPolicy.SignedBy, ", ")
	switch {
	case err != nil && isPolicyRefusal(err):
		c.fail(err)
	case err != nil:
		c.error(err)
	case out.raw != nil:
		s := out.report.PolicySource
		c.pass(fmt.Sprintf("policy %s from referrer %s, signed by %s", s.Digest, joinDigests(s.Referrers), strings.Join(s.SignedBy, ", ")))
	case st.Layers.RequirePolicy:
		c.fail(fmt.Errorf("%w: the policy requires one, and the artifact has no policy layer and no policy referrer signed by %s%s", ErrNoPermissionPolicy, signers, ignoredWords(out.report)))
	default:
		c.pass("none: no policy layer and no policy referrer signed by " + signers + ignoredWords(out.report) + "; a strict loader refuses the artifact")
	}
}

func isPolicyRefusal(err error) bool {
	return errors.Is(err, ErrPolicyConflict) || errors.Is(err, ErrPolicyReferrer)
}

func ignoredWords(rep *PermissionPolicyReport) string {
	if rep == nil || len(rep.Results) == 0 {
		return ""
	}
	var why []string
	for _, r := range rep.Results {
		if !r.Counted {
			why = append(why, r.Referrer.String()+": "+r.Reason)
		}
	}
	return fmt.Sprintf(" (%d ignored: %s)", len(why), strings.Join(why, "; "))
}

func joinDigests(ds []digest.Digest) string {
	s := make([]string, len(ds))
	for i, d := range ds {
		s[i] = d.String()
	}
	return strings.Join(s, ", ")
}

// policyReferrers verifies the policy referrers of subject among refs:
// each one's signatures are discovered (the referrer's manifest digest as
// their subject) and checked by every authority of the statement and of
// its permissionPolicy, so that a referrer signed by someone not allowed
// to sign policies is reported as such; only a referrer signed by one of
// SignedBy counts, and only its layer is fetched (at most
// permissions.MaxSize, digest checked) and parsed. The error is a refusal
// (ErrPolicyConflict, ErrPolicyReferrer) or the registry's; the report
// says what became of each referrer read, error or not.
func (v *Verifier) policyReferrers(ctx context.Context, src *memoTarget, repo string, st *Statement, subject ocispec.Descriptor, refs []referrers.Referrer, ropts referrers.Options) (*policyOut, error) {
	rule := st.PermissionPolicy
	var cands []referrers.Referrer
	for _, r := range refs {
		if r.Kind == referrers.KindPermissionPolicy {
			cands = append(cands, r)
		}
	}
	slices.SortFunc(cands, func(a, b referrers.Referrer) int { return strings.Compare(string(a.Digest), string(b.Digest)) })
	out := &policyOut{report: &PermissionPolicyReport{}}
	if len(cands) == 0 {
		return out, nil
	}
	if len(cands) > MaxPolicyReferrers {
		return out, fmt.Errorf("%w: %s has %d policy referrers; at most %d are read", ErrPolicyReferrer, subject.Digest, len(cands), MaxPolicyReferrers)
	}
	auths := append(append([]*Authority(nil), st.Authorities...), rule.Authorities...)
	ropts.ArtifactType, ropts.Kinds = "", signatureKinds(auths, v.opts.CosignFormat)
	results := make([]PolicyReferrerResult, len(cands))
	raws := make([][]byte, len(cands))
	perms := make([]*permissions.Policy, len(cands))
	errs := make([]error, len(cands))
	var wg sync.WaitGroup
	for i, r := range cands {
		wg.Go(func() {
			results[i], raws[i], perms[i], errs[i] = v.policyReferrer(ctx, src, repo, rule, auths, r, ropts)
		})
	}
	wg.Wait()
	out.report.Results = results
	var firstErr error
	for _, err := range errs {
		// A refusal decides; a registry error only if nothing refused.
		if err != nil && (firstErr == nil || isPolicyRefusal(err) && !isPolicyRefusal(firstErr)) {
			firstErr = err
		}
	}
	if firstErr != nil {
		return out, firstErr
	}
	use := -1
	conflict := &PolicyConflictError{Subject: subject.Digest.String()}
	for i, r := range results {
		if !r.Counted {
			continue
		}
		conflict.Referrers, conflict.Policies = append(conflict.Referrers, r.Referrer), append(conflict.Policies, r.Policy)
		if use < 0 {
			use = i
		}
	}
	if use < 0 {
		return out, nil
	}
	source := PolicySource{From: PolicyFromReferrer, Digest: results[use].Policy}
	for i, r := range results {
		if !r.Counted {
			continue
		}
		if !bytes.Equal(raws[i], raws[use]) {
			// Never merged: which one the publisher meant is not ours to
			// guess.
			return out, conflict
		}
		source.Referrers = append(source.Referrers, r.Referrer)
		for _, n := range r.Allowed {
			if !slices.Contains(source.SignedBy, n) {
				source.SignedBy = append(source.SignedBy, n)
			}
		}
	}
	out.report.PolicySource, out.report.Permissions = source, perms[use].Summary()
	out.raw, out.perms = raws[use], perms[use]
	return out, nil
}

// policyReferrer verifies one policy referrer: who signed it, whether
// that counts, and, if it does, its policy.
func (v *Verifier) policyReferrer(ctx context.Context, src *memoTarget, repo string, rule *PermissionPolicyRule, auths []*Authority, r referrers.Referrer, ropts referrers.Options) (PolicyReferrerResult, []byte, *permissions.Policy, error) {
	res := PolicyReferrerResult{Referrer: r.Digest}
	desc := r.Descriptor()
	found, err := referrers.Discover(ctx, src, desc, ropts)
	if err != nil {
		return res, nil, nil, fmt.Errorf("policy referrer %s: discover its signatures: %w", r.Digest, err)
	}
	for _, a := range auths {
		ar := v.authority(ctx, src, repo, a, desc, found.Referrers)
		if ar.Err != nil {
			return res, nil, nil, fmt.Errorf("policy referrer %s: authority %s: %w", r.Digest, a.Name, ar.Err)
		}
		if !ar.Satisfied {
			continue
		}
		res.SignedBy = append(res.SignedBy, a.Name)
		if slices.Contains(rule.SignedBy, a.Name) {
			res.Allowed = append(res.Allowed, a.Name)
		}
	}
	switch {
	case len(res.SignedBy) == 0:
		res.Reason = "no signature of an authority of the policy verified"
		return res, nil, nil, nil
	case len(res.Allowed) == 0:
		res.Reason = "signed by " + strings.Join(res.SignedBy, ", ") + ", not allowed to sign permission policies (permissionPolicy.signedBy: " + strings.Join(rule.SignedBy, ", ") + ")"
		return res, nil, nil, nil
	}
	// Signed by someone allowed: from here on a bad referrer is refused,
	// not ignored.
	refuse := func(format string, args ...any) (PolicyReferrerResult, []byte, *permissions.Policy, error) {
		res.Reason = fmt.Sprintf(format, args...)
		return res, nil, nil, fmt.Errorf("%w: %s (signed by %s): %s", ErrPolicyReferrer, r.Digest, strings.Join(res.Allowed, ", "), res.Reason)
	}
	m := r.Manifest
	if len(m.Layers) != 1 || m.Layers[0].MediaType != evidence.ArtifactTypeWasmPolicy {
		return refuse("a policy referrer has exactly one layer of media type %s", evidence.ArtifactTypeWasmPolicy)
	}
	layer := m.Layers[0]
	if layer.Size > permissions.MaxSize {
		return refuse("its policy is %d bytes; at most %d are read", layer.Size, permissions.MaxSize)
	}
	raw, err := access.FetchVerified(ctx, src, layer, permissions.MaxSize, "policy referrer layer")
	if err != nil {
		if artifact.IsBadContent(err) {
			return refuse("%v", err)
		}
		return res, nil, nil, fmt.Errorf("policy referrer %s: %w", r.Digest, err)
	}
	res.Policy = layer.Digest
	perms, err := permissions.Parse(raw)
	if err != nil {
		res.Reason = "not a valid permission policy: " + err.Error()
		return res, nil, nil, fmt.Errorf("%w: %s (signed by %s): policy %s: %w", ErrPolicyReferrer, r.Digest, strings.Join(res.Allowed, ", "), layer.Digest, err)
	}
	res.Counted = true
	return res, raw, perms, nil
}

// signatureKinds are the kinds of referrer the authorities' verifiers read.
func signatureKinds(auths []*Authority, format cosign.Format) []referrers.Kind {
	var out []referrers.Kind
	for _, a := range auths {
		if a.Kind == KindNotation {
			out = append(out, referrers.KindNotation)
		} else {
			out = append(out, cosign.Kinds(format)...)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
