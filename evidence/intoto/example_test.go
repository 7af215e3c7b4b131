package intoto_test

import (
	"errors"
	"fmt"

	"github.com/opencontainers/go-digest"

	"github.com/wasmgate/wasmgate/evidence/intoto"
)

// A statement is evidence about an artifact only when one of its subjects
// names the artifact's digest; its provenance says who built it.
func ExampleParseStatement() {
	artifact := digest.FromString("a wasm manifest")
	raw := []byte(`{"_type": "https://in-toto.io/Statement/v1",
	  "subject": [{"name": "registry.example/wasm/app", "digest": {"sha256": "` + artifact.Encoded() + `"}}],
	  "predicateType": "https://slsa.dev/provenance/v1",
	  "predicate": {"buildDefinition": {"buildType": "https://github.com/acme/builder/wasm@v1", "externalParameters": {"ref": "main"}},
	                "runDetails": {"builder": {"id": "https://github.com/acme/builder@v1"},
	                               "metadata": {"finishedOn": "2026-12-01T10:00:00Z"}}}}`)
	st, err := intoto.ParseStatement(raw, artifact)
	if err != nil {
		panic(err)
	}
	finished, _ := intoto.PredicateTime(st)
	fmt.Println(st.GetPredicateType(), intoto.ProvenanceOf(st).BuilderID, finished.Format("2006-01-02"))

	_, err = intoto.ParseStatement(raw, digest.FromString("another manifest"))
	fmt.Println(errors.Is(err, intoto.ErrSubjectMismatch))
	// Output:
	// https://slsa.dev/provenance/v1 https://github.com/acme/builder@v1 2026-12-01
	// true
}
