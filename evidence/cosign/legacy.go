package cosign

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"

	"github.com/opencontainers/go-digest"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/verify"

	"github.com/wasmgate/wasmgate/evidence"
)

// SimpleSigning is the payload cosign signs in its legacy format.
type SimpleSigning struct {
	Critical struct {
		Identity struct {
			DockerReference string `json:"docker-reference"`
		} `json:"identity"`
		Image struct {
			DockerManifestDigest string `json:"docker-manifest-digest"`
		} `json:"image"`
		Type string `json:"type"`
	} `json:"critical"`
	Optional map[string]any `json:"optional"`
}

// rekorBundle is the SET annotation: Rekor's signed promise to include
// the entry.
type rekorBundle struct {
	SignedEntryTimestamp []byte `json:"SignedEntryTimestamp"`
	Payload              struct {
		Body           string `json:"body"` // base64 canonicalized entry
		IntegratedTime int64  `json:"integratedTime"`
		LogIndex       int64  `json:"logIndex"`
		LogID          string `json:"logID"` // hex
	} `json:"Payload"`
}

// VerifyLegacy verifies one legacy signature layer: payload is the
// simple-signing JSON the layer holds, annotations the layer's. The
// payload must name subject as its docker-manifest-digest; the signature,
// certificate and Rekor SET are checked by sigstore-go, as the v0.1
// bundle they amount to.
func VerifyLegacy(payload []byte, annotations map[string]string, subject digest.Digest, auth Authority) *Result {
	r := &Result{Format: FormatLegacy}
	b, err := legacyBundle(payload, annotations)
	if err != nil {
		return r.fail(err)
	}
	// sigstore-go checks the signature over the payload; that the payload
	// names the subject is cosign's own rule, checked once it has.
	check := subjectCheck{require: func(verify.SignedEntity) error {
		var ss SimpleSigning
		if err := json.Unmarshal(payload, &ss); err != nil {
			return fmt.Errorf("%w: payload: %w", ErrMalformed, err)
		}
		if got := ss.Critical.Image.DockerManifestDigest; got != subject.String() {
			return fmt.Errorf("%w: the payload's docker-manifest-digest is %q, not %s", ErrSubjectMismatch, got, subject)
		}
		return nil
	}}
	return verifyEntity(b, verify.WithArtifact(bytes.NewReader(payload)), check, auth, r)
}

// legacyBundle builds the v0.1 bundle a legacy layer is equivalent to: a
// message signature over the payload, the public-key hint or the
// certificate chain, and the Rekor entry with its SET when there is one.
func legacyBundle(payload []byte, ann map[string]string) (*bundle.Bundle, error) {
	sig, err := base64.StdEncoding.DecodeString(ann[evidence.AnnotationCosignSignature])
	if err != nil || len(sig) == 0 {
		return nil, fmt.Errorf("%w: the %s annotation is not a base64 signature", ErrMalformed, evidence.AnnotationCosignSignature)
	}
	sum := sha256.Sum256(payload)
	vm, err := legacyMaterial(ann)
	if err != nil {
		return nil, err
	}
	pb := &protobundle.Bundle{
		MediaType:            "application/vnd.dev.sigstore.bundle+json;version=0.1",
		VerificationMaterial: vm,
		Content: &protobundle.Bundle_MessageSignature{MessageSignature: &protocommon.MessageSignature{
			MessageDigest: &protocommon.HashOutput{Algorithm: protocommon.HashAlgorithm_SHA2_256, Digest: sum[:]},
			Signature:     sig,
		}},
	}
	b, err := bundle.NewBundle(pb)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return b, nil
}

func pemCertificates(data []byte) ([]*protocommon.X509Certificate, error) {
	var out []*protocommon.X509Certificate
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type == "CERTIFICATE" {
			out = append(out, &protocommon.X509Certificate{RawBytes: block.Bytes})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no certificate in %s", ErrMalformed, evidence.AnnotationCosignCertificate)
	}
	return out, nil
}

func tlogEntry(raw []byte) (*protorekor.TransparencyLogEntry, error) {
	var rb rekorBundle
	if err := json.Unmarshal(raw, &rb); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrMalformed, evidence.AnnotationCosignRekorBundle, err)
	}
	body, err := base64.StdEncoding.DecodeString(rb.Payload.Body)
	if err != nil {
		return nil, fmt.Errorf("%w: %s body: %w", ErrMalformed, evidence.AnnotationCosignRekorBundle, err)
	}
	logID, err := hex.DecodeString(rb.Payload.LogID)
	if err != nil {
		return nil, fmt.Errorf("%w: %s logID: %w", ErrMalformed, evidence.AnnotationCosignRekorBundle, err)
	}
	var kv struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	if err := json.Unmarshal(body, &kv); err != nil {
		return nil, fmt.Errorf("%w: %s body: %w", ErrMalformed, evidence.AnnotationCosignRekorBundle, err)
	}
	return &protorekor.TransparencyLogEntry{
		LogIndex:          rb.Payload.LogIndex,
		LogId:             &protocommon.LogId{KeyId: logID},
		KindVersion:       &protorekor.KindVersion{Kind: kv.Kind, Version: kv.APIVersion},
		IntegratedTime:    rb.Payload.IntegratedTime,
		InclusionPromise:  &protorekor.InclusionPromise{SignedEntryTimestamp: rb.SignedEntryTimestamp},
		CanonicalizedBody: body,
	}, nil
}

// legacyMaterial is the verification material of a legacy layer's
// annotations: the public-key hint, or the certificate chain, and the
// Rekor entry with its SET when there is one.
func legacyMaterial(ann map[string]string) (*protobundle.VerificationMaterial, error) {
	vm := &protobundle.VerificationMaterial{}
	if certPEM := ann[evidence.AnnotationCosignCertificate]; certPEM != "" {
		chain, err := pemCertificates([]byte(certPEM + "\n" + ann[evidence.AnnotationCosignChain]))
		if err != nil {
			return nil, err
		}
		vm.Content = &protobundle.VerificationMaterial_X509CertificateChain{X509CertificateChain: &protocommon.X509CertificateChain{Certificates: chain}}
	} else {
		vm.Content = &protobundle.VerificationMaterial_PublicKey{PublicKey: &protocommon.PublicKeyIdentifier{}}
	}
	if raw := ann[evidence.AnnotationCosignRekorBundle]; raw != "" {
		entry, err := tlogEntry([]byte(raw))
		if err != nil {
			return nil, err
		}
		vm.TlogEntries = []*protorekor.TransparencyLogEntry{entry}
	}
	return vm, nil
}
