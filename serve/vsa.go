package serve

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"

	"github.com/wasmgate/wasmgate/access"
	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/attest"
	"github.com/wasmgate/wasmgate/evidence"
	"github.com/wasmgate/wasmgate/evidence/cosign"
	"github.com/wasmgate/wasmgate/referrers"
	"github.com/wasmgate/wasmgate/sign"
	"github.com/wasmgate/wasmgate/verify"
)

// DefaultVSAMaxAge is how old a VSA may be to be accepted.
const DefaultVSAMaxAge = time.Hour

// SourceVSA: the verdict is a fresh, signed SLSA Verification Summary
// that a trusted verifier attached to the artifact under the same policy.
const SourceVSA Source = "vsa"

// VSAOptions make verdicts portable across the replicas of a service and
// the hosts of a fleet, through the registry itself (no cluster state of
// wasmgate's own): after a verification it ran passes, a replica with a
// Signer attaches a signed SLSA Verification Summary Attestation to the
// artifact as a referrer; a replica that trusts that key accepts such a
// VSA instead of running every check again, when it is fresh (MaxAge),
// names this VerifierID and states the policy digest this replica's own
// VSA would (verify.VSAPolicyDigest: same statement, policy file and trust
// material). The VSA's signature and subject are checked as every
// attestation is (package attest, by sigstore-go).
type VSAOptions struct {
	// VerifierID names the verifier, in the VSAs written and required
	// in those accepted. Required.
	VerifierID string
	// Signer, when set, signs the VSAs this replica writes (a cosign key
	// bundle). Writing needs push access to the repositories.
	Signer crypto.Signer
	// Trusted are the keys whose VSAs are accepted (this replica's own
	// and its peers'); none accepts no VSA.
	Trusted []crypto.PublicKey
	// MaxAge bounds a VSA's age (timeVerified); 0 means DefaultVSAMaxAge.
	MaxAge time.Duration
}

// vsaSubject is the manifest of pinned, fetched and checked once for
// both byVSA and writeVSA, with the source it came from; nil when no VSA
// is read or written, or the manifest cannot be had (the full
// verification then says why).
type vsaSubject struct {
	src  oras.ReadOnlyTarget
	desc ocispec.Descriptor
}

func (s *Server) vsaSubject(ctx context.Context, pinned artifact.Reference) *vsaSubject {
	if s.opts.VSA == nil {
		return nil
	}
	src, err := s.opts.Opener.Source(pinned)
	if err != nil {
		return nil
	}
	m, err := access.FetchManifest(ctx, src, pinned.Object(), 0)
	if err != nil {
		return nil
	}
	return &vsaSubject{src: src, desc: m.Descriptor}
}

// byVSA looks for a VSA that verifies subj under st's policy, and returns
// the verified Result it stands for.
func (s *Server) byVSA(ctx context.Context, st *state, ref, pinned artifact.Reference, subj *vsaSubject) (*verify.Result, bool) {
	v := s.opts.VSA
	if v == nil || len(v.Trusted) == 0 || subj == nil {
		return nil, false
	}
	repo := st.verifier.Repository(ref)
	policyDigest, err := verify.VSAPolicyDigest(st.policy, repo)
	if err != nil {
		return nil, false
	}
	maxAge := v.MaxAge
	if maxAge <= 0 {
		maxAge = DefaultVSAMaxAge
	}
	cond, err := attest.Compile(fmt.Sprintf(
		`predicate.verifier.id == %s && predicate.policy.digest.sha256 == %s && predicate.verificationResult == "PASSED" && timestamp(predicate.timeVerified) >= timestamp(%s)`,
		strconv.Quote(v.VerifierID), strconv.Quote(policyDigest), strconv.Quote(time.Now().Add(-maxAge).UTC().Format(time.RFC3339))))
	if err != nil {
		s.opts.Logger.Error("VSA condition", "error", err.Error())
		return nil, false
	}
	auth := cosign.Authority{}
	for _, k := range v.Trusted {
		auth.Keys = append(auth.Keys, cosign.NewKey(k))
	}
	rep, err := attest.Check(ctx, subj.src, subj.desc, referrers.Options{API: s.opts.Opener.ReferrersAPI(ref), NoLegacyTags: true},
		auth, attest.Requirement{PredicateType: evidence.PredicateTypeVSA, Conditions: []*attest.Condition{cond}}, attest.Options{})
	if err != nil || !rep.Verified {
		return nil, false
	}
	passed := 0
	for _, r := range rep.Results {
		if r.Verified {
			passed++
		}
	}
	stmt, pattern, _ := st.policy.Select(repo)
	res := &verify.Result{Reference: pinned.String(), Pinned: pinned.String(), Digest: subj.desc.Digest, Repository: repo,
		Policy: stmt.Name, Scope: pattern, Mode: stmt.Mode, Verdict: verify.VerdictVerified, Pass: true,
		Checks: []verify.Check{{Name: "vsa", Status: verify.StatusPassed,
			Reason: fmt.Sprintf("%d fresh VSA by %s under this policy, signed by a trusted key", passed, v.VerifierID)}}}
	return res, true
}

// writeVSA signs a VSA for a verified res and attaches it to subj.
func (s *Server) writeVSA(ctx context.Context, st *state, pinned artifact.Reference, subj *vsaSubject, res *verify.Result) error {
	v := s.opts.VSA
	if v == nil || v.Signer == nil {
		return nil
	}
	if subj == nil || subj.desc.Digest != res.Digest {
		return errors.New("the manifest the VSA would name could not be read")
	}
	summary, err := verify.SummaryOf(res, st.policy, v.VerifierID, "", time.Now())
	if err != nil {
		return err
	}
	statement, err := verify.VSA(summary)
	if err != nil {
		return err
	}
	predicate, err := predicateOf(statement)
	if err != nil {
		return err
	}
	dst, err := s.opts.Opener.Destination(pinned)
	if err != nil {
		return err
	}
	_, err = sign.Attest(ctx, dst, subj.desc, v.Signer, evidence.PredicateTypeVSA, predicate, sign.AttestOptions{})
	return err
}

// predicateOf is the predicate of an in-toto statement, as JSON.
func predicateOf(statement []byte) ([]byte, error) {
	var st struct {
		Predicate json.RawMessage `json:"predicate"`
	}
	if err := json.Unmarshal(statement, &st); err != nil {
		return nil, err
	}
	if len(st.Predicate) == 0 {
		return nil, errors.New("the VSA statement has no predicate")
	}
	return st.Predicate, nil
}
