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
		if err := envelopeType(layer.MediaType); err != nil {
			out = append(out, *r.fail(err))
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
		if err := verifyEnvelope(ctx, v, rec, artifactRef, subject, blob, layer.MediaType, opts.UserMetadata, r); err != nil {
			return out, err
		}
		out = append(out, *r)
	}
	return out, nil
}

// VerifyEnvelope verifies one Notation signature envelope, as notation
// sign writes it (JWS or COSE, named by envelopeMediaType, or "" to tell
// by its bytes: [EnvelopeMediaType]), over subject, the descriptor of the
// artifact it should be about: offline, with no registry, as notation
// verify would verify it had it fetched this envelope for subject. scope
// picks the statement of trust as for [VerifyReferrers], and the same
// checks run, including that the envelope's payload names subject's media
// type, digest and size ([ErrSubjectMismatch]).
//
// An envelope over [MaxEnvelopeBytes], or of no Notation envelope type, is
// a failed Result ([ErrMalformed]). An error means no verdict: the scope
// is invalid or no statement applies, or ctx ended.
func VerifyEnvelope(ctx context.Context, scope string, subject ocispec.Descriptor, envelope []byte, envelopeMediaType string, trust *Trust, opts Options) (*Result, error) {
	if trust == nil {
		return nil, fmt.Errorf("%w: no trust material", ErrInvalidTrustPolicy)
	}
	opts = opts.withDefaults()
	if err := validScope(scope, subject.Digest); err != nil {
		return nil, err
	}
	policy, level, err := trust.applicable(scope, subject.Digest)
	if err != nil {
		return nil, err
	}
	if level.Name == trustpolicy.LevelSkip.Name {
		r := skipped(policy.Name)
		return &r, nil
	}
	rec := &revocationRecorder{}
	v, err := trust.verifier(rec, opts.RevocationTimeout)
	if err != nil {
		return nil, err
	}
	r := &Result{Level: level.Name, Policy: policy.Name}
	if err := verifyEnvelope(ctx, v, rec, scope+"@"+subject.Digest.String(), subject, envelope, orDetected(envelopeMediaType, envelope), opts.UserMetadata, r); err != nil {
		return nil, err
	}
	return r, nil
}

// verifyEnvelope runs notation-go's verifier on one envelope over subject
// and fills r. Only ctx ending is an error; everything about the envelope
// is in r.
func verifyEnvelope(ctx context.Context, v notationgo.Verifier, rec *revocationRecorder, artifactRef string, subject ocispec.Descriptor, raw []byte, mediaType string, userMetadata map[string]string, r *Result) error {
	r.Envelope = envelopeName(mediaType)
	if err := envelopeType(mediaType); err != nil {
		r.fail(err)
		return nil
	}
	if len(raw) > MaxEnvelopeBytes {
		r.fail(fmt.Errorf("%w: %w: the envelope is %d bytes, more than the %d allowed", ErrMalformed, artifact.ErrTooLarge, len(raw), MaxEnvelopeBytes))
		return nil
	}
	rec.reset()
	outcome, verr := v.Verify(ctx, subject, raw, notationgo.VerifierVerifyOptions{
		ArtifactReference:  artifactRef,
		SignatureMediaType: mediaType,
		UserMetadata:       userMetadata,
	})
	if err := ctx.Err(); err != nil {
		return err
	}
	describe(r, subject, outcome, verr, rec)
	return nil
}

// envelopeType refuses a media type that is not a Notation envelope's.
func envelopeType(mediaType string) error {
	if mediaType != jws.MediaTypeEnvelope && mediaType != cose.MediaTypeEnvelope {
		return fmt.Errorf("%w: envelope media type %q, want %q or %q", ErrMalformed, mediaType, jws.MediaTypeEnvelope, cose.MediaTypeEnvelope)
	}
	return nil
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

// verifier builds notation-go's verifier over a copy of t's policy.
func (t *Trust) verifier(rec *revocationRecorder, timeout time.Duration) (notationgo.Verifier, error) {
	doc := t.Policy()
	return newVerifier(&doc, t.stores, rec, timeout)
}

// newVerifier builds notation-go's verifier over a trust policy document
// and the trust stores read for it, with revocation validators bounded by
// timeout and recorded by rec.
func newVerifier(doc *trustpolicy.Document, stores memoryStore, rec *revocationRecorder, timeout time.Duration) (notationgo.Verifier, error) {
	codeSigning, timestamping, err := revocationValidators(rec, timeout)
	if err != nil {
		return nil, err
	}
	v, err := verifier.NewWithOptions(doc, stores, nil, verifier.VerifierOptions{
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
		r.fail(fmt.Errorf("%w: it names %s, not %s: %w", ErrSubjectMismatch,
			describeTarget(outcome.EnvelopeContent.Payload.Content), describeDescriptor(subject), verr))
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

// describeTarget names the artifact a signature payload is about.
func describeTarget(raw []byte) string {
	var p payload
	if err := json.Unmarshal(raw, &p); err != nil {
		return "an unreadable payload"
	}
	return describeDescriptor(p.TargetArtifact)
}

func describeDescriptor(d ocispec.Descriptor) string {
	return fmt.Sprintf("%s (%d bytes, %s)", d.Digest, d.Size, d.MediaType)
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
