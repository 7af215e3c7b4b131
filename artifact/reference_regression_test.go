package artifact_test

import (
	"testing"

	"github.com/wasmgate/wasmgate/artifact"
)

// Regression (FuzzParseReference, testdata/fuzz/FuzzParseReference/076a77c5b8003af2):
// a registry reference whose registry is not host-like ("oci://0/00")
// printed as "0/00", which parses back as a file path.
func TestReferenceStringKeepsSchemeForBareRegistry(t *testing.T) {
	ref, err := artifact.ParseReference("oci://0/00")
	if err != nil {
		t.Fatal(err)
	}
	again, err := artifact.ParseReference(ref.String())
	if err != nil || again.Kind != artifact.RefRegistry || ref.String() != "oci://0/00" {
		t.Fatalf("%q -> %+v, %v", ref.String(), again, err)
	}
}
