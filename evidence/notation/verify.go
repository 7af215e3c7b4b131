package notation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/notaryproject/notation-core-go/signature"
	"github.com/notaryproject/notation-core-go/signature/cose"
	"github.com/notaryproject/notation-core-go/signature/jws"
	notationgo "github.com/notaryproject/notation-go"
	"github.com/notaryproject/notation-go/verifier"
	"github.com/notaryproject/notation-go/verifier/trustpolicy"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"

	"github.com/wasmgate/wasmgate/access"
	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/referrers"
)

// Bounds on what a registry can make the verifier read, and defaults.
const (
	DefaultMaxSignatures     = 32
	MaxEnvelopeBytes         = 1 << 20
	DefaultRevocationTimeout = 5 * time.Second
)

// Options shape [VerifyReferrers]. The zero value is the defaults.
type Options struct {
	// MaxSignatures bounds the signatures tried; 0 means
	// DefaultMaxSignatures.
	MaxSignatures int
	// UserMetadata must all be present in a signature's signed
	// annotations (notation verify --user-metadata).
	UserMetadata map[string]string
	// RevocationTimeout bounds the whole revocation check of one
	// certificate chain (OCSP, then CRL, every certificate), and each HTTP
	// request in it; 0 means DefaultRevocationTimeout. A check that runs
	// out of time ends with an unknown status, which fails the signature
	// where the policy enforces revocation (strict), is logged where it
	// logs it (permissive, audit), and is never started where it skips it
	// (skip, or an override "revocation": "skip").
	RevocationTimeout time.Duration
}

func (o Options) withDefaults() Options {
	if o.MaxSignatures <= 0 {
		o.MaxSignatures = DefaultMaxSignatures
	}
	if o.RevocationTimeout <= 0 {
		o.RevocationTimeout = DefaultRevocationTimeout
	}
	return o
}

// VerifyReferrers verifies every Notation signature among refs (as
// [referrers.Discover] returns them for subject) with notation-go's
// verifier against trust, and returns one Result per signature tried. The
// subject is verified when any Result is ([Verified]).
//
// scope picks the trust policy statement, as notation picks it from the
// artifact reference: "host[:port]/repository" for a registry, and for an
// OCI layout the scope the user names in the policy (notation verify
// --oci-layout --scope), conventionally "local/<name>". It must be a
// scope the policy covers, or "*" must be there: else a
// [*NoTrustPolicyError] ([ErrNoTrustPolicy]) naming scope@digest.
//
// Under a statement of level skip, no signature is fetched or checked, as
// notation defines skip: one Result says so, with Verified true, Level
// "skip" and every check skipped.
//
// An error means no verdict (the registry failed to serve a signature it
// listed, the scope is invalid, no statement applies); a bad signature is
// a failed Result.
func VerifyReferrers(ctx context.Context, src oras.ReadOnlyTarget, scope string, subject ocispec.Descriptor, refs []referrers.Referrer, trust *Trust, opts Options) ([]Result, error) {
	if trust == nil {
		return nil, fmt.Errorf("%w: no trust material", ErrInvalidTrustPolicy)
	}
	opts = opts.withDefaults()
	if err := validScope(scope, subject.Digest); err != nil {
		return nil, err
	}
	artifactRef := scope + "@" + subject.Digest.String()
	policy, level, err := trust.applicable(scope, subject.Digest)
	if err != nil {
		return nil, err
	}
	if level.Name == trustpolicy.LevelSkip.Name {
		return []Result{skipped(policy.Name)}, nil
	}
	rec := &revocationRecorder{}
	v, err := trust.verifier(rec, opts.RevocationTimeout)
	if err != nil {
		return nil, err
	}
	var out []Result
	tried := 0
	for _, ref := range refs {
		if ref.Kind != referrers.KindNotation {
			continue
		}
		if tried >= opts.MaxSignatures {
			r := &Result{Level: level.Name, Policy: policy.Name}
			return append(out, *r.fail(fmt.Errorf("%w: stopped after %d", ErrTooManySignatures, opts.MaxSignatures))), nil
		}
		tried++
		r := &Result{Referrer: ref.Digest, Level: level.Name, Policy: policy.Name}
		if len(ref.Manifest.Layers) != 1 {
			out = append(out, *r.fail(fmt.Errorf("%w: %d layers, want one envelope", ErrMalformed, len(ref.Manifest.Layers))))
			continue
		}
		layer := ref.Manifest.Layers[0]
		r.Envelope = envelopeName(layer.MediaType)
		if layer.MediaType != jws.MediaTypeEnvelope && layer.MediaType != cose.MediaTypeEnvelope {
			out = append(out, *r.fail(fmt.Errorf("%w: envelope media type %q, want %q or %q", ErrMalformed, layer.MediaType, jws.MediaTypeEnvelope, cose.MediaTypeEnvelope)))
			continue
		}
		blob, err := access.FetchVerified(ctx, src, layer, MaxEnvelopeBytes, "notation signature envelope")
		if err != nil {
			if artifact.IsBadContent(err) {
				out = append(out, *r.fail(fmt.Errorf("%w: %w", ErrMalformed, err)))
				continue
			}
			return out, err
		}
		rec.reset()
		outcome, verr := v.Verify(ctx, subject, blob, notationgo.VerifierVerifyOptions{
			ArtifactReference:  artifactRef,
			SignatureMediaType: layer.MediaType,
			UserMetadata:       opts.UserMetadata,
		})
		if err := ctx.Err(); err != nil {
			return out, err
		}
		describe(r, subject, outcome, verr, rec)
		out = append(out, *r)
	}
	return out, nil
}

func envelopeName(mediaType string) string {
	switch mediaType {
	case jws.MediaTypeEnvelope:
		return EnvelopeJWS
	case cose.MediaTypeEnvelope:
		return EnvelopeCOSE
	}
	return mediaType
}

func skipped(policy string) Result {
	r := Result{Verified: true, Level: trustpolicy.LevelSkip.Name, Policy: policy,
		Reason: fmt.Sprintf("trust policy %q has level skip for this scope: no signature was checked", policy)}
	for _, name := range checkNames {
		r.Checks = append(r.Checks, CheckResult{Name: name, Action: ActionSkip, Status: StatusSkipped})
	}
	return r
}

var checkNames = []string{CheckIntegrity, CheckAuthenticity, CheckAuthenticTimestamp, CheckExpiry, CheckRevocation}

// verifier builds notation-go's verifier over the loaded trust, with
// revocation validators bounded by timeout and recorded by rec.
func (t *Trust) verifier(rec *revocationRecorder, timeout time.Duration) (notationgo.Verifier, error) {
	codeSigning, timestamping, err := revocationValidators(rec, timeout)
	if err != nil {
		return nil, err
	}
	doc := t.Policy()
	v, err := verifier.NewWithOptions(&doc, t.stores, nil, verifier.VerifierOptions{
		RevocationCodeSigningValidator:  codeSigning,
		RevocationTimestampingValidator: timestamping,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidTrustPolicy, err)
	}
	return v, nil
}

// validScope checks scope as notation-go will when it selects the
// statement for subject in it.
func validScope(scope string, subject digest.Digest) error {
	if scope == "" || strings.ContainsAny(scope, "@*") {
		return fmt.Errorf("%w: %q: want host[:port]/repository or a local scope such as local/name", ErrInvalidScope, scope)
	}
	// notation-go validates the scope as it selects the policy; ask it now
	// so that a bad scope is a configuration error, not a failed signature.
	doc := trustpolicy.Document{Version: "1.0", TrustPolicies: []trustpolicy.TrustPolicy{{Name: "scope", RegistryScopes: []string{"*"}}}}
	if _, err := doc.GetApplicableTrustPolicy(scope + "@" + subject.String()); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidScope, err)
	}
	return nil
}

// payload is the Notary Project signature payload.
type payload struct {
	TargetArtifact ocispec.Descriptor `json:"targetArtifact"`
}

// describe fills r from notation-go's outcome. Failures are classified
// from the outcome's typed parts (the validation type that failed,
// notation-core-go's error types, the envelope content, the revocation
// results) and never from error text.
func describe(r *Result, subject ocispec.Descriptor, outcome *notationgo.VerificationOutcome, verr error, rec *revocationRecorder) {
	if outcome == nil {
		r.fail(fmt.Errorf("%w: %w", ErrInconclusive, verr))
		return
	}
	if outcome.VerificationLevel != nil {
		r.Level = outcome.VerificationLevel.Name
	}
	var chainExpired bool
	if c := outcome.EnvelopeContent; c != nil {
		info := c.SignerInfo
		r.SigningScheme = string(info.SignedAttributes.SigningScheme)
		r.SigningTime = info.SignedAttributes.SigningTime
		r.Expiry = info.SignedAttributes.Expiry
		r.Timestamped = len(info.UnsignedAttributes.TimestampSignature) > 0
		now := time.Now()
		for i, cert := range info.CertificateChain {
			if i == 0 {
				r.Signer = cert.Subject.String()
			}
			r.Chain = append(r.Chain, cert.Subject.String())
			if now.After(cert.NotAfter) || now.Before(cert.NotBefore) {
				chainExpired = true
			}
		}
	}
	var enforced error
	ran := map[string]bool{}
	for _, vr := range outcome.VerificationResults {
		if vr == nil {
			continue
		}
		name := string(vr.Type)
		ran[name] = true
		c := CheckResult{Name: name, Action: string(vr.Action), Status: StatusPassed}
		if vr.Error != nil {
			c.Status = StatusFailed
			c.Err = classify(vr, chainExpired, rec)
			c.Error = c.Err.Error()
			if vr.Action == trustpolicy.ActionEnforce && enforced == nil {
				enforced = c.Err
			}
		}
		r.Checks = append(r.Checks, c)
	}
	if outcome.VerificationLevel != nil {
		for _, name := range checkNames {
			if ran[name] {
				continue
			}
			action := outcome.VerificationLevel.Enforcement[trustpolicy.ValidationType(name)]
			status := StatusNotReached
			if action == trustpolicy.ActionSkip {
				status = StatusSkipped
			}
			r.Checks = append(r.Checks, CheckResult{Name: name, Action: string(action), Status: status})
		}
	}
	if verr == nil {
		r.Verified = true
		if logged := r.Logged(); len(logged) > 0 {
			names := make([]string, len(logged))
			for i, c := range logged {
				names[i] = c.Name
			}
			r.Reason = fmt.Sprintf("verified under level %s with logged failures: %s", r.Level, strings.Join(names, ", "))
		}
		return
	}
	switch {
	case enforced != nil:
		r.fail(enforced)
	case errors.As(verr, new(notationgo.UserMetadataVerificationFailedError)):
		r.fail(fmt.Errorf("%w: %w", ErrUserMetadata, verr))
	case outcome.EnvelopeContent != nil && !targets(outcome.EnvelopeContent.Payload.Content, subject):
		r.fail(fmt.Errorf("%w: %w", ErrSubjectMismatch, verr))
	default:
		// VerificationInconclusiveError (a plugin the signature asks for)
		// or an error notation-go does not type.
		r.fail(fmt.Errorf("%w: %w", ErrInconclusive, verr))
	}
}

// targets reports whether a signature payload names subject (media type,
// digest and size, as notation-go compares them).
func targets(raw []byte, subject ocispec.Descriptor) bool {
	var p payload
	if err := json.Unmarshal(raw, &p); err != nil {
		return false
	}
	t := p.TargetArtifact
	return t.Digest == subject.Digest && t.Size == subject.Size && t.MediaType == subject.MediaType
}

// classify maps a failed validation to a sentinel, wrapping notation-go's
// error.
func classify(vr *notationgo.ValidationResult, chainExpired bool, rec *revocationRecorder) error {
	err := vr.Error
	var sentinel error
	switch vr.Type {
	case trustpolicy.TypeIntegrity:
		var integrity *signature.SignatureIntegrityError
		var invalid *signature.InvalidSignatureError
		switch {
		case errors.As(err, &integrity):
			sentinel = ErrIntegrity
		case errors.As(err, &invalid):
			sentinel = ErrInvalidSignature
		default:
			// Unparseable envelopes (notation-go flattens the parser's
			// error) and unexpected parser failures.
			sentinel = ErrMalformed
		}
	case trustpolicy.TypeAuthenticity:
		// notation-go runs the trust store check first and, when it
		// passes (or is only logged), the trusted-identity check, whose
		// errors are untyped: the typed errors are the trust store's.
		var authenticity *signature.SignatureAuthenticityError
		switch {
		case errors.As(err, &authenticity), errors.As(err, new(notationgo.VerificationInconclusiveError)),
			isTrustStoreError(err):
			sentinel = ErrAuthenticity
		default:
			sentinel = ErrUntrustedIdentity
		}
	case trustpolicy.TypeExpiry:
		sentinel = ErrExpired
	case trustpolicy.TypeAuthenticTimestamp:
		if chainExpired {
			sentinel = ErrExpired
		} else {
			sentinel = ErrTimestamp
		}
	case trustpolicy.TypeRevocation:
		if rec.revoked() {
			sentinel = ErrRevoked
		} else {
			sentinel = ErrRevocationUnknown
			if rerr := rec.error(); rerr != nil {
				// Keep the cause (a deadline, a refused connection)
				// reachable with errors.Is.
				return fmt.Errorf("%w: %w: %w", sentinel, err, rerr)
			}
		}
	default:
		sentinel = ErrInconclusive
	}
	return fmt.Errorf("%w: %w", sentinel, err)
}
