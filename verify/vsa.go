package verify

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/wasmgate/wasmgate/evidence"
)

// Summary is what a passed verification states in a VSA: who verified
// what, under which policy, from which evidence.
type Summary struct {
	// VerifierID names the verifier, e.g. "https://github.com/wasmgate/wasmgate/verify@v1".
	VerifierID string
	// Resource is the artifact: its repository ("host/path") and digest.
	Repository string
	Digest     digest.Digest
	// Policy is what was required (keys, identities, trust policies,
	// attestation rules), in any stable JSON-marshalable form; the VSA
	// records its digest.
	Policy    any
	PolicyURI string
	// Inputs are the signatures and attestations that were verified, by
	// referrer digest.
	Inputs []digest.Digest
	// Time is when verification passed.
	Time time.Time
	// Insecure is what the policy gave up (Result.Insecure), stated in the
	// VSA so that whoever trusts it knows.
	Insecure []string
}

// SummaryOf is the Summary of a verified result under p: the policy's
// statement, scope and mode, the policy and trust material by digest, the
// checks that passed, the evidence that passed by referrer digest, and
// what the policy gave up. verifierID names the verifier; policyURI where
// the policy is ("" for one built from flags). A result that is not
// verified has no summary (ErrNotVerified): warn and audit modes pass a
// gate, but a VSA states a verification that passed.
func SummaryOf(res *Result, p *Policy, verifierID, policyURI string, now time.Time) (Summary, error) {
	if res == nil || res.Verdict != VerdictVerified {
		return Summary{}, fmt.Errorf("%w: a VSA states only a verification that passed", ErrNotVerified)
	}
	var inputs []digest.Digest
	seen := map[digest.Digest]bool{}
	add := func(verified bool, d digest.Digest) {
		if verified && d != "" && !seen[d] {
			seen[d] = true
			inputs = append(inputs, d)
		}
	}
	if s := res.Signatures; s != nil {
		for _, a := range s.Authorities {
			for _, r := range a.Cosign {
				add(r.Verified, r.Referrer)
			}
			for _, r := range a.Notation {
				add(r.Verified, r.Referrer)
			}
		}
	}
	for _, a := range res.Attestations {
		for _, r := range a.Results {
			add(r.Verified, r.Referrer)
		}
	}
	for _, l := range res.Layouts {
		add(l.Verified, l.Layout)
		for _, d := range l.Links {
			add(l.Verified, d)
		}
	}
	policy := summaryPolicy(p, res.Policy, res.Scope, res.Mode, res.Checks)
	return Summary{VerifierID: verifierID, Repository: res.Repository, Digest: res.Digest, Policy: policy,
		PolicyURI: policyURI, Inputs: inputs, Time: now, Insecure: res.Insecure}, nil
}

// summaryPolicy is what a VSA states was required: the statement, its
// scope and mode, the policy and trust material by digest, the checks, and
// what each required layout requires (its owner keys and product), which
// for a policy built in Go no file digest covers.
func summaryPolicy(p *Policy, statement, scope string, mode Mode, checks []Check) map[string]any {
	st := p.statement(statement)
	policy := map[string]any{"policy": statement, "scope": scope, "mode": mode, "trustMaterial": p.TrustDigest().String()}
	if st != nil && len(st.Layouts) > 0 {
		layouts := []any{}
		for _, r := range st.Layouts {
			layouts = append(layouts, map[string]any{"name": r.Name, "ownerKeyIds": r.KeyIDs(), "product": r.Product})
		}
		policy["layouts"] = layouts
	}
	if p.Digest() != "" {
		policy["policyFile"] = p.Digest().String()
	}
	names := []string{}
	for _, ch := range checks {
		names = append(names, strings.TrimSpace(ch.Name+" "+ch.Subject))
	}
	policy["checks"] = names
	return policy
}

// VSAPolicyDigest is the hex SHA-256 that a VSA written under p for an
// artifact of repo states as its policy digest (predicate.policy.digest.
// sha256): the same statement, scope, mode, checks, policy file and trust
// material. A verifier that trusts another's VSAs requires this digest, so
// that a VSA written under any other policy is not taken for its own.
func VSAPolicyDigest(p *Policy, repo string) (string, error) {
	st, pattern, err := p.Select(repo)
	if err != nil {
		return "", err
	}
	raw, err := json.Marshal(summaryPolicy(p, st.Name, pattern, st.Mode, planChecks(st)))
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:]), nil
}

// VSA returns the in-toto Statement v1 of a SLSA Verification Summary for
// s, with verificationResult PASSED: a VSA is written only for a passed
// verification, so that downstream consumers can check the verdict
// instead of repeating the work.
func VSA(s Summary) ([]byte, error) {
	if s.VerifierID == "" || s.Digest == "" {
		return nil, fmt.Errorf("verify: a VSA needs a verifier ID and the artifact digest")
	}
	policy, err := json.Marshal(s.Policy)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(policy)
	inputs := make([]any, 0, len(s.Inputs))
	sorted := append([]digest.Digest(nil), s.Inputs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	for _, d := range sorted {
		inputs = append(inputs, map[string]any{
			"uri":    "oci://" + s.Repository + "@" + d.String(),
			"digest": map[string]any{string(d.Algorithm()): d.Encoded()},
		})
	}
	policyURI := s.PolicyURI
	if policyURI == "" {
		policyURI = "wasmgate:verify-flags"
	}
	fields := map[string]any{
		"verifier":           map[string]any{"id": s.VerifierID},
		"timeVerified":       s.Time.UTC().Format(time.RFC3339),
		"resourceUri":        "oci://" + s.Repository + "@" + s.Digest.String(),
		"policy":             map[string]any{"uri": policyURI, "digest": map[string]any{"sha256": hex.EncodeToString(sum[:])}},
		"inputAttestations":  inputs,
		"verificationResult": "PASSED",
		"verifiedLevels":     []any{},
		"slsaVersion":        "1.0",
	}
	if len(s.Insecure) > 0 {
		fields["insecure"] = stringsAny(s.Insecure)
	}
	pred, err := structpb.NewStruct(fields)
	if err != nil {
		return nil, err
	}
	st := &intoto.Statement{
		Type: intoto.StatementTypeUri,
		Subject: []*intoto.ResourceDescriptor{{
			Name:   s.Repository,
			Digest: map[string]string{string(s.Digest.Algorithm()): s.Digest.Encoded()},
		}},
		PredicateType: evidence.PredicateTypeVSA,
		Predicate:     pred,
	}
	if err := st.Validate(); err != nil {
		return nil, err
	}
	return protojson.Marshal(st)
}

func stringsAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
