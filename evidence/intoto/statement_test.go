package intoto_test

import (
	"errors"
	"strings"
	"testing"

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
		ok := `{"_type":"` + typ + `","subject":[{"name":"app","digest":{"sha256":"` + hex + `"}}],"predicateType":"https://slsa.dev/provenance/v1","predicate":{"buildDefinition":{}}}`
		if _, err := intoto.ParseStatement([]byte(ok), subject); err != nil {
			t.Errorf("%s: a valid statement: %v", typ, err)
		}
	}
}
