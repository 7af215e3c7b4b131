package sign

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/notaryproject/notation-core-go/signature/cose"
	"github.com/notaryproject/notation-core-go/signature/jws"
	"github.com/notaryproject/notation-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"

	"github.com/wasmgate/wasmgate/evidence"
	"github.com/wasmgate/wasmgate/referrers"
)

// Notation envelope formats.
const (
	EnvelopeJWS  = "jws"
	EnvelopeCOSE = "cose"
)

// annotationThumbprints is where Notation lists the SHA-256 thumbprints of
// the signing chain, leaf first.
const annotationThumbprints = "io.cncf.notary.x509chain.thumbprint#S256"

// NotationOptions shape a Notation signature. The zero value is a JWS
// envelope without user metadata or expiry.
type NotationOptions struct {
	// Envelope is EnvelopeJWS (the default, as the notation CLI) or
	// EnvelopeCOSE.
	Envelope string
	// UserMetadata is signed with the target descriptor (notation sign -m).
	UserMetadata map[string]string
	// Expiry, when set, makes the signature expire after it.
	Expiry time.Duration
}

// Notation signs subject with signer (notation-go's; a local key and
// certificate chain: signer.NewFromFiles) and attaches the envelope as a
// referrer in the shape the notation CLI writes: config media type
// application/vnd.cncf.notary.signature, the envelope as the only layer,
// the chain thumbprints annotation. On registries without the Referrers
// API the fallback index is kept.
func Notation(ctx context.Context, dst oras.Target, subject ocispec.Descriptor, signer notation.Signer, opts NotationOptions) (ocispec.Descriptor, error) {
	var mediaType string
	switch opts.Envelope {
	case "", EnvelopeJWS:
		mediaType = jws.MediaTypeEnvelope
	case EnvelopeCOSE:
		mediaType = cose.MediaTypeEnvelope
	default:
		return ocispec.Descriptor{}, fmt.Errorf("%w: envelope %q (jws or cose)", ErrNotationOptions, opts.Envelope)
	}
	target := ocispec.Descriptor{MediaType: subject.MediaType, Digest: subject.Digest, Size: subject.Size}
	for k, v := range opts.UserMetadata {
		if strings.HasPrefix(k, "io.cncf.notary") {
			return ocispec.Descriptor{}, fmt.Errorf("%w: metadata key %q uses the reserved prefix io.cncf.notary", ErrNotationOptions, k)
		}
		if target.Annotations == nil {
			target.Annotations = map[string]string{}
		}
		target.Annotations[k] = v
	}
	env, info, err := signer.Sign(ctx, target, notation.SignerSignOptions{
		SignatureMediaType: mediaType,
		ExpiryDuration:     opts.Expiry,
		SigningAgent:       "wasmgate",
	})
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	thumbprints := make([]string, 0, len(info.CertificateChain))
	for _, c := range info.CertificateChain {
		sum := sha256.Sum256(c.Raw)
		thumbprints = append(thumbprints, hex.EncodeToString(sum[:]))
	}
	tp, err := json.Marshal(thumbprints)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	return referrers.Attach(ctx, dst, subject, "",
		[]referrers.Blob{{MediaType: mediaType, Data: env}},
		referrers.AttachOptions{
			Config: &referrers.Blob{MediaType: evidence.ArtifactTypeNotation, Data: []byte("{}")},
			Annotations: map[string]string{
				annotationThumbprints:     string(tp),
				ocispec.AnnotationCreated: info.SignedAttributes.SigningTime.UTC().Format(time.RFC3339),
			},
		})
}
