package attest_test

import (
	"errors"
	"strings"
	"testing"

	in_toto "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/wasmgate/wasmgate/attest"
	"github.com/wasmgate/wasmgate/evidence"
)

func provenanceStatement(t testing.TB) *in_toto.Statement {
	t.Helper()
	p, err := structpb.NewStruct(map[string]any{
		"buildDefinition": map[string]any{
			"buildType":          "https://actions.github.io/buildtypes/workflow/v1",
			"externalParameters": map[string]any{"workflow": map[string]any{"repository": "https://github.com/acme/tiny", "ref": "refs/heads/main", "path": ".github/workflows/release.yml"}},
		},
		"runDetails": map[string]any{"builder": map[string]any{"id": "https://github.com/acme/builder@v1"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return &in_toto.Statement{
		Type:          evidence.StatementTypeV1,
		Subject:       []*in_toto.ResourceDescriptor{{Name: "tiny", Digest: map[string]string{"sha256": strings.Repeat("a", 64)}}},
		PredicateType: evidence.PredicateTypeSLSAv1,
		Predicate:     p,
	}
}

func TestConditionEval(t *testing.T) {
	st := provenanceStatement(t)
	for _, tc := range []struct {
		src  string
		want bool
	}{
		{`predicate.runDetails.builder.id == "https://github.com/acme/builder@v1"`, true},
		{`predicate.buildDefinition.externalParameters.workflow.repository.startsWith("https://github.com/acme/")`, true},
		{`predicateType == "https://slsa.dev/provenance/v1"`, true},
		{`subject.exists(s, s.digest.sha256.size() == 64 && s.name == "tiny")`, true},
		{`predicate.runDetails.builder.id == "https://github.com/evil/builder@v1"`, false},
		{`has(predicate.runDetails.metadata)`, false},
	} {
		t.Run(tc.src, func(t *testing.T) {
			c, err := attest.Compile(tc.src)
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.Eval(st)
			if err != nil || got != tc.want {
				t.Fatalf("Eval = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func TestConditionCompileErrors(t *testing.T) {
	for _, tc := range []struct {
		src          string
		line, column int
	}{
		{`predicate.runDetails.builder.id ==`, 1, 35},
		{"predicateType == \"x\" &&\n  nosuchvar", 2, 3},
		{`predicateType`, 1, 1},            // a string, not a bool
		{`predicateType.size() + 1`, 1, 1}, // an int
	} {
		t.Run(tc.src, func(t *testing.T) {
			_, err := attest.Compile(tc.src)
			var ce *attest.ConditionError
			if !errors.Is(err, attest.ErrConditionInvalid) || !errors.As(err, &ce) {
				t.Fatalf("err = %v", err)
			}
			if ce.Line != tc.line || ce.Column != tc.column {
				t.Fatalf("position %d:%d, want %d:%d (%v)", ce.Line, ce.Column, tc.line, tc.column, err)
			}
		})
	}
}

// runaway is a condition that does 10^6 iterations: far over the budget.
const runaway = `[0,1,2,3,4,5,6,7,8,9].all(a, [0,1,2,3,4,5,6,7,8,9].all(b, [0,1,2,3,4,5,6,7,8,9].all(c, [0,1,2,3,4,5,6,7,8,9].all(d, [0,1,2,3,4,5,6,7,8,9].all(e, [0,1,2,3,4,5,6,7,8,9].all(f, a+b+c+d+e+f >= 0))))))`

func TestConditionCostLimit(t *testing.T) {
	c, err := attest.Compile(runaway)
	if err != nil {
		t.Fatal(err)
	}
	ok, err := c.Eval(provenanceStatement(t))
	if ok || !errors.Is(err, attest.ErrConditionCost) {
		t.Fatalf("Eval = %v, %v; want ErrConditionCost", ok, err)
	}
}

// A missing field is an evaluation error, never true.
func TestConditionMissingField(t *testing.T) {
	c := attest.MustCompile(`predicate.nosuch.field == "x"`)
	ok, err := c.Eval(provenanceStatement(t))
	if ok || err == nil || errors.Is(err, attest.ErrConditionCost) {
		t.Fatalf("Eval = %v, %v", ok, err)
	}
}

func TestPredicateTypeURI(t *testing.T) {
	if got := evidence.PredicateTypeURI("slsaprovenance1"); got != evidence.PredicateTypeSLSAv1 {
		t.Fatal(got)
	}
	if got := evidence.PredicateTypeURI("https://example.com/p/v1"); got != "https://example.com/p/v1" {
		t.Fatal(got)
	}
}
