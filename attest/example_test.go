package attest_test

import (
	"fmt"

	in_toto "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/wasmgate/wasmgate/attest"
	"github.com/wasmgate/wasmgate/evidence"
)

func ExampleCompile() {
	c, err := attest.Compile(`predicate.runDetails.builder.id == "https://github.com/acme/builder@v1"`)
	if err != nil {
		panic(err)
	}
	p, _ := structpb.NewStruct(map[string]any{"runDetails": map[string]any{"builder": map[string]any{"id": "https://github.com/acme/builder@v1"}}})
	ok, err := c.Eval(&in_toto.Statement{Type: evidence.StatementTypeV1, PredicateType: evidence.PredicateTypeSLSAv1, Predicate: p})
	fmt.Println(ok, err)

	_, err = attest.Compile(`predicate.runDetails.builder.id ==`)
	fmt.Println(err != nil)
	// Output:
	// true <nil>
	// true
}
