package intoto_test

import (
	"errors"
	"strings"
	"testing"

	slsa "github.com/in-toto/attestation/go/predicates/provenance/v1"
	in_toto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"

	"github.com/wasmgate/wasmgate/evidence/intoto"
)

// A statement that breaks the in-toto attestation spec is refused for what
// it breaks, named by the attestation library's validator, before any
// check of its subject; a valid one (v1 or v0.1) is accepted.
func TestParseStatementValidates(t *testing.T) {
	subject := digest.FromString("the artifact")
	hex := subject.Encoded()
	for _, tc := range []struct {
		name, statement string
		want            error
	}{
		{"empty subject", `{"_type":"https://in-toto.io/Statement/v1","subject":[],"predicateType":"https://slsa.dev/provenance/v1","predicate":{}}`, in_toto.ErrSubjectRequired},
		{"short sha256", `{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"abcd"}}],"predicateType":"https://slsa.dev/provenance/v1","predicate":{}}`, in_toto.ErrIncorrectDigestLength},
		{"sha256 not hex", `{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"` + strings.Repeat("z", 64) + `"}}],"predicateType":"https://slsa.dev/provenance/v1","predicate":{}}`, in_toto.ErrInvalidDigestEncoding},
		{"no predicate type", `{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"` + hex + `"}}],"predicate":{}}`, in_toto.ErrPredicateTypeRequired},
		{"no predicate", `{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"` + hex + `"}}],"predicateType":"https://slsa.dev/provenance/v1"}`, in_toto.ErrPredicateRequired},
		{"subject without name, uri or digest", `{"_type":"https://in-toto.io/Statement/v1","subject":[{}],"predicateType":"x","predicate":{}}`, in_toto.ErrRDRequiredField},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := intoto.ParseStatement([]byte(tc.statement), subject)
			if !errors.Is(err, intoto.ErrInvalidStatement) || !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want ErrInvalidStatement and %v", err, tc.want)
			}
		})
	}
	for _, typ := range []string{"https://in-toto.io/Statement/v1", "https://in-toto.io/Statement/v0.1"} {
		ok := `{"_type":"` + typ + `","subject":[{"name":"app","digest":{"sha256":"` + hex + `"}}],"predicateType":"https://slsa.dev/provenance/v1","predicate":` + provenance("") + `}`
		if _, err := intoto.ParseStatement([]byte(ok), subject); err != nil {
			t.Errorf("%s: a valid statement: %v", typ, err)
		}
	}
}

// provenance is a SLSA v1 provenance predicate with a builder and a build
// type; dependency, when given, is one resolved dependency.
func provenance(dependency string) string {
	deps := ""
	if dependency != "" {
		deps = `,"resolvedDependencies":[` + dependency + `]`
	}
	return `{"buildDefinition":{"buildType":"https://example.com/build/v1","externalParameters":{"ref":"main"}` + deps + `},"runDetails":{"builder":{"id":"https://example.com/builder"}}}`
}

// The predicates whose shape the attestation library defines are validated
// by its validators, ResourceDescriptors included; the statement is
// refused for what the predicate breaks.
func TestParseStatementValidatesPredicates(t *testing.T) {
	subject := digest.FromString("the artifact")
	statement := func(predicateType, predicate string) []byte {
		return []byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"` + subject.Encoded() + `"}}],"predicateType":"` + predicateType + `","predicate":` + predicate + `}`)
	}
	const slsaV1, vsaV1 = "https://slsa.dev/provenance/v1", "https://slsa.dev/verification_summary/v1"
	goodDigest := `{"sha256":"` + subject.Encoded() + `"}`
	for _, tc := range []struct {
		name, predicateType, predicate string
		want                           error // nil: valid
	}{
		{"provenance", slsaV1, provenance(`{"uri":"git+https://example.com/repo","digest":{"gitCommit":"` + strings.Repeat("a", 40) + `"}}`), nil},
		{"provenance without builder id", slsaV1, `{"buildDefinition":{"buildType":"https://example.com/build/v1","externalParameters":{"ref":"main"}},"runDetails":{"builder":{"version":{"go":"1.26"}}}}`, slsa.ErrBuilderIdRequired},
		{"provenance without build type", slsaV1, `{"buildDefinition":{"externalParameters":{"ref":"main"}},"runDetails":{"builder":{"id":"https://example.com/builder"}}}`, slsa.ErrBuildTypeRequired},
		{"provenance with a dependency whose digest is short", slsaV1, provenance(`{"uri":"git+https://example.com/repo","digest":{"sha256":"abcd"}}`), in_toto.ErrIncorrectDigestLength},
		{"provenance with an empty dependency", slsaV1, provenance(`{}`), in_toto.ErrRDRequiredField},
		{"verification summary", vsaV1, `{"verifier":{"id":"https://wasmgate.dev"},"policy":{"uri":"https://example.com/policy","digest":` + goodDigest + `},"inputAttestations":[{"uri":"oci://example/att","digest":` + goodDigest + `}],"verificationResult":"PASSED"}`, nil},
		{"verification summary input attestation with a bad digest", vsaV1, `{"verifier":{"id":"https://wasmgate.dev"},"inputAttestations":[{"uri":"oci://example/att","digest":{"sha256":"` + strings.Repeat("z", 64) + `"}}],"verificationResult":"PASSED"}`, in_toto.ErrInvalidDigestEncoding},
		{"another predicate type is not read here", "https://example.com/custom/v1", `{"anything":true}`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := intoto.ParseStatement(statement(tc.predicateType, tc.predicate), subject)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("valid statement refused: %v", err)
				}
				return
			}
			if !errors.Is(err, intoto.ErrInvalidStatement) || !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want ErrInvalidStatement and %v", err, tc.want)
			}
		})
	}
}
