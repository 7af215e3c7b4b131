package referrers

import (
	"context"
	"fmt"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"

	"github.com/wasmgate/wasmgate/evidence"
	"github.com/wasmgate/wasmgate/permissions"
)

// AttachPolicy attaches a Wassette permission policy to subject as a
// referrer of artifact type evidence.ArtifactTypeWasmPolicy, its one layer
// the policy's bytes as given (what a signature of the referrer covers).
// The policy is parsed with package permissions first: nothing is sent
// for a policy that does not parse, and the error is permissions' own
// (*permissions.Error). Discovery classifies the referrer as
// KindPermissionPolicy.
//
// The referrer counts only once signed (wasmgate sign REF@<digest>, or
// cosign) by an authority a trust policy lets sign policies; see
// verify.PermissionPolicyRule.
func AttachPolicy(ctx context.Context, dst oras.Target, subject ocispec.Descriptor, policy []byte, opts AttachOptions) (ocispec.Descriptor, error) {
	if _, err := permissions.Parse(policy); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("attach policy: %w", err)
	}
	layer := Blob{MediaType: evidence.ArtifactTypeWasmPolicy, Data: policy,
		Annotations: map[string]string{ocispec.AnnotationTitle: "policy.yaml"}}
	return Attach(ctx, dst, subject, evidence.ArtifactTypeWasmPolicy, []Blob{layer}, opts)
}
