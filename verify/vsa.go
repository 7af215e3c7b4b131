package verify

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
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
	pred, err := structpb.NewStruct(map[string]any{
		"verifier":           map[string]any{"id": s.VerifierID},
		"timeVerified":       s.Time.UTC().Format(time.RFC3339),
		"resourceUri":        "oci://" + s.Repository + "@" + s.Digest.String(),
		"policy":             map[string]any{"uri": policyURI, "digest": map[string]any{"sha256": hex.EncodeToString(sum[:])}},
		"inputAttestations":  inputs,
		"verificationResult": "PASSED",
		"verifiedLevels":     []any{},
		"slsaVersion":        "1.0",
	})
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
