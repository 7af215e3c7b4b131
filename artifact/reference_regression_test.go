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

// Regression (FuzzParseReference, testdata/fuzz/FuzzParseReference/9094f319508d722e):
// a layout path that ends like a tag (":0", from "oci-layout::0/") printed
// without its slash and read back as an empty path with tag 0.
func TestLayoutStringKeepsPathThatEndsLikeATag(t *testing.T) {
	ref, err := artifact.ParseReference("oci-layout:dir:v1/")
	if err != nil {
		t.Fatal(err)
	}
	again, err := artifact.ParseReference(ref.String())
	if err != nil || again.Path != ref.Path || again.Tag != "" || ref.Path != "dir:v1" {
		t.Fatalf("%q -> %q -> %+v, %v", "oci-layout:dir:v1/", ref.String(), again, err)
	}
}
