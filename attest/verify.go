package attest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	in_toto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	"oras.land/oras-go/v2"

	"github.com/wasmgate/wasmgate/access"
	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/evidence"
	"github.com/wasmgate/wasmgate/evidence/cosign"
	"github.com/wasmgate/wasmgate/evidence/intoto"
	"github.com/wasmgate/wasmgate/evidence/notation"
	"github.com/wasmgate/wasmgate/referrers"
)

// Bounds on what a registry can make the verifier read.
const (
	DefaultMaxAttestations = 32
	// MaxEnvelopeBytes bounds a bundle or a legacy DSSE layer.
	MaxEnvelopeBytes = 1 << 20
)

// Requirement is what an artifact's attestations must show.
type Requirement struct {
	// PredicateType is the required predicate type: a URI, or one of
	// cosign's short names (slsaprovenance1, ...). Required.
	PredicateType string
	// Conditions must all be true of the statement.
	Conditions []*Condition
	// MaxAge, when not 0, is how old an attestation may be: measured from
	// the verified time of its signature (a log entry or a signed
	// timestamp) or, for a key signature without either, from the time
	// fields of its predicate (what the signer claims). Without any time
	// the attestation fails with ErrNoTime.
	MaxAge time.Duration
	// MinCount is how many attestations must pass; 0 means 1.
	MinCount int
}

// Options shape [Verify]. The zero value is fine.
type Options struct {
	// MaxAttestations bounds the attestations tried; 0 means
	// DefaultMaxAttestations.
	MaxAttestations int
	// Now is the time ages are measured at; nil means time.Now.
	Now func() time.Time
	// Discover is how the signatures of an unsigned in-toto referrer
	// (Format "in-toto+signature") are discovered: the referrers of that
	// referrer, with ArtifactType ignored. Check sets it to its own
	// discovery options; the zero value asks the tag schema and cosign's
	// legacy tags only, with no Referrers API.
	Discover referrers.Options
	// Notation, when set, also trusts an unsigned in-toto referrer whose
	// manifest carries a Notation signature that passes this trust (as
	// `oras attach` followed by `notation sign` on the referrer leaves it).
	Notation *NotationTrust
}

// NotationTrust is the Notation trust an in-toto referrer's signature is
// checked against: the trust policy and store, and the scope that selects
// the policy (host/repository, or local/<name> for a layout).
type NotationTrust struct {
	Trust   *notation.Trust
	Scope   string
	Options notation.Options
}

// Formats of the attestations this package verifies beyond cosign's two.
const (
	// FormatDSSE is a referrer holding a signed DSSE envelope (artifactType
	// application/vnd.dsse.envelope.v1+json), its signature checked
	// against the authority's keys.
	FormatDSSE cosign.Format = "dsse"
	// FormatInTotoSigned is a referrer holding an unsigned in-toto
	// statement (as `oras attach` writes one), trusted only through a
	// cosign signature over the referrer manifest itself.
	FormatInTotoSigned cosign.Format = "in-toto+signature"
)

// Result is the verdict on one attestation.
type Result struct {
	Referrer      digest.Digest `json:"referrer"`
	Layer         int           `json:"layer,omitempty"` // legacy: the DSSE layer
	Format        cosign.Format `json:"format"`
	PredicateType string        `json:"predicateType"`
	Verified      bool          `json:"verified"`
	// KeyID or Identity is the signer, as the cosign verifier matched it.
	KeyID    string           `json:"keyId,omitempty"`
	Identity *cosign.Identity `json:"identity,omitempty"`
	// NotationSigner is the signing certificate's subject when a Notation
	// signature on an in-toto referrer made it trusted.
	NotationSigner string `json:"notationSigner,omitempty"`
	// Time is the attestation's time, and TimeSource what it comes from:
	// "Tlog" or "TimestampAuthority" (verified), or "predicate" (claimed).
	Time       time.Time `json:"time,omitzero"`
	TimeSource string    `json:"timeSource,omitempty"`
	// Reason says why the attestation failed; Err is the typed error.
	Reason string `json:"reason,omitempty"`
	Err    error  `json:"-"`
	// Provenance summarizes a SLSA provenance predicate (v1 or v0.2) once
	// its signature verified, whether or not the conditions held.
	Provenance *intoto.Provenance `json:"provenance,omitempty"`
}

func (r *Result) fail(err error) *Result {
	r.Verified, r.Err, r.Reason = false, err, err.Error()
	return r
}

// Report is the outcome of [Verify] and [Check].
type Report struct {
	Subject       ocispec.Descriptor `json:"subject"`
	PredicateType string             `json:"predicateType"`
	// Verified: at least MinCount attestations passed.
	Verified bool     `json:"verified"`
	Results  []Result `json:"attestations"`
	// Skipped counts attestations of other predicate types.
	Skipped int `json:"skipped,omitempty"`
	// Reason and Err say why the report is not verified: ErrNoAttestation,
	// or ErrTooFew wrapping the first failure.
	Reason string `json:"reason,omitempty"`
	Err    error  `json:"-"`
	// Listing and Rejected are filled by Check from discovery.
	Listing  referrers.Path       `json:"listing,omitempty"`
	Rejected []referrers.Rejected `json:"rejectedReferrers,omitempty"`
}

// Kinds are the kinds of referrer that hold attestations [Verify] reads:
// what discovery needs to ask for (see [referrers.Options.Kinds]).
func Kinds() []referrers.Kind {
	return []referrers.Kind{referrers.KindSigstoreBundle, referrers.KindCosignAttestation, referrers.KindInToto}
}

// signatureKinds are the kinds of referrer whose signatures over an
// unsigned in-toto referrer Verify checks.
func signatureKinds() []referrers.Kind {
	return []referrers.Kind{referrers.KindSigstoreBundle, referrers.KindCosignSignature, referrers.KindNotation}
}

// Verify verifies the attestations among refs (as [referrers.Discover]
// returns them for subject: cosign's sigstore bundles and legacy .att tag,
// plain DSSE referrers, and unsigned in-toto referrers whose manifest
// carries a cosign signature) whose predicate type is req's, against auth,
// and checks each statement against req. Other predicate types are
// skipped. An error means no verdict (the registry failed to serve what it
// listed); Report.Verified is the verdict.
func Verify(ctx context.Context, src oras.ReadOnlyTarget, subject ocispec.Descriptor, refs []referrers.Referrer, auth cosign.Authority, req Requirement, opts Options) (*Report, error) {
	if req.PredicateType == "" {
		return nil, errors.New("attest: the requirement needs a predicate type")
	}
	for i, c := range req.Conditions {
		if c == nil {
			return nil, fmt.Errorf("attest: condition %d is nil", i)
		}
	}
	v := &verifier{src: src, subject: subject, auth: auth, req: req, want: evidence.PredicateTypeURI(req.PredicateType), now: time.Now, discover: opts.Discover, notation: opts.Notation}
	if opts.Now != nil {
		v.now = opts.Now
	}
	max := opts.MaxAttestations
	if max <= 0 {
		max = DefaultMaxAttestations
	}
	rep := &Report{Subject: subject, PredicateType: v.want, Results: []Result{}}
	tried := 0
	try := func(announced string) (bool, bool) {
		if evidence.PredicateTypeURI(announced) != v.want {
			rep.Skipped++
			return false, true
		}
		if tried >= max {
			r := (&Result{}).fail(fmt.Errorf("%w: stopped after %d", ErrTooManyAttestations, max))
			rep.Results = append(rep.Results, *r)
			return false, false
		}
		tried++
		return true, true
	}
refs:
	for _, ref := range refs {
		switch {
		case ref.Kind == referrers.KindSigstoreBundle && !referrers.IsSignature(ref.Kind, ref.PredicateType):
			do, more := try(ref.PredicateType)
			if !more {
				break refs
			}
			if !do {
				continue
			}
			r, err := v.bundle(ctx, ref)
			if err != nil {
				return nil, err
			}
			rep.Results = append(rep.Results, *r)
		case ref.Kind == referrers.KindCosignAttestation:
			for i, layer := range ref.Manifest.Layers {
				if layer.MediaType != evidence.MediaTypeDSSE {
					continue
				}
				do, more := try(layer.Annotations["predicateType"])
				if !more {
					break refs
				}
				if !do {
					continue
				}
				r, err := v.legacy(ctx, ref, i, layer)
				if err != nil {
					return nil, err
				}
				rep.Results = append(rep.Results, *r)
			}
		case ref.Kind == referrers.KindInToto:
			do, more := try(ref.PredicateType)
			if !more {
				break refs
			}
			if !do {
				continue
			}
			r, err := v.inToto(ctx, ref)
			if err != nil {
				return nil, err
			}
			rep.Results = append(rep.Results, *r)
		}
	}
	rep.verdict(tried, req.MinCount)
	return rep, nil
}

func (rep *Report) verdict(tried, minCount int) {
	if minCount <= 0 {
		minCount = 1
	}
	passed := 0
	var first error
	for _, r := range rep.Results {
		if r.Verified {
			passed++
		} else if first == nil {
			first = r.Err
		}
	}
	switch {
	case passed >= minCount:
		rep.Verified = true
		return
	case tried == 0:
		rep.Err = fmt.Errorf("%w: %s (%d attestations of other types)", ErrNoAttestation, rep.PredicateType, rep.Skipped)
	case first != nil:
		rep.Err = fmt.Errorf("%w: %d of %d required: %w", ErrTooFew, passed, minCount, first)
	default:
		rep.Err = fmt.Errorf("%w: %d of %d required", ErrTooFew, passed, minCount)
	}
	rep.Reason = rep.Err.Error()
}

// Check discovers subject's referrers in src (unless the discovery options
// name kinds, only those of [Kinds]) and verifies its attestations, like
// [Verify].
func Check(ctx context.Context, src oras.ReadOnlyTarget, subject ocispec.Descriptor, discover referrers.Options, auth cosign.Authority, req Requirement, opts Options) (*Report, error) {
	if len(discover.Kinds) == 0 {
		discover.Kinds = Kinds()
	}
	found, err := referrers.Discover(ctx, src, subject, discover)
	if err != nil {
		return nil, err
	}
	opts.Discover = discover
	rep, err := Verify(ctx, src, subject, found.Referrers, auth, req, opts)
	if err != nil {
		return nil, err
	}
	rep.Listing, rep.Rejected = found.Listing, found.Rejected
	return rep, nil
}

type verifier struct {
	src      oras.ReadOnlyTarget
	subject  ocispec.Descriptor
	auth     cosign.Authority
	req      Requirement
	want     string
	now      func() time.Time
	discover referrers.Options
	notation *NotationTrust
}

// bundle verifies a cosign v3 attestation: a sigstore bundle referrer.
func (v *verifier) bundle(ctx context.Context, ref referrers.Referrer) (*Result, error) {
	r := &Result{Referrer: ref.Digest, Format: cosign.FormatBundle, PredicateType: ref.PredicateType}
	if len(ref.Manifest.Layers) != 1 || !strings.HasPrefix(ref.Manifest.Layers[0].MediaType, "application/vnd.dev.sigstore.bundle") {
		return r.fail(fmt.Errorf("%w: a bundle referrer holds one bundle layer", ErrMalformed)), nil
	}
	raw, err := access.FetchVerified(ctx, v.src, ref.Manifest.Layers[0], MaxEnvelopeBytes, "sigstore bundle")
	if err != nil {
		if artifact.IsBadContent(err) {
			return r.fail(fmt.Errorf("%w: %w", ErrMalformed, err)), nil
		}
		return nil, err
	}
	b, err := cosign.ParseBundle(raw)
	if err != nil {
		return r.fail(fmt.Errorf("%w: %w", ErrMalformed, err)), nil
	}
	env, err := b.Envelope()
	if err != nil {
		return r.fail(fmt.Errorf("%w: the bundle holds no DSSE envelope: %w", ErrMalformed, err)), nil
	}
	if err := payloadType(env.PayloadType); err != nil {
		return r.fail(err), nil
	}
	res := cosign.VerifyEntity(b, v.subject.Digest, v.auth)
	return v.check(ctx, r, res, env.Envelope), nil
}

// legacy verifies one DSSE layer of cosign's legacy .att tag.
func (v *verifier) legacy(ctx context.Context, ref referrers.Referrer, i int, layer ocispec.Descriptor) (*Result, error) {
	r := &Result{Referrer: ref.Digest, Layer: i, Format: cosign.FormatLegacy, PredicateType: layer.Annotations[evidence.AnnotationCosignPredicateType]}
	return v.envelope(ctx, r, layer, layer.Annotations)
}

// envelope fetches and verifies one DSSE envelope layer; annotations are
// a legacy layer's (its certificate, chain and Rekor entry), nil for a
// plain DSSE referrer.
func (v *verifier) envelope(ctx context.Context, r *Result, layer ocispec.Descriptor, annotations map[string]string) (*Result, error) {
	raw, err := access.FetchVerified(ctx, v.src, layer, MaxEnvelopeBytes, "DSSE envelope")
	if err != nil {
		if artifact.IsBadContent(err) {
			return r.fail(fmt.Errorf("%w: %w", ErrMalformed, err)), nil
		}
		return nil, err
	}
	var env dsse.Envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		return r.fail(fmt.Errorf("%w: DSSE envelope: %w", ErrMalformed, err)), nil
	}
	if err := payloadType(env.PayloadType); err != nil {
		return r.fail(err), nil
	}
	res, _ := cosign.VerifyLegacyAttestation(raw, annotations, v.subject.Digest, v.auth)
	return v.check(ctx, r, res, &env), nil
}

func payloadType(t string) error {
	if t != evidence.PayloadTypeInToto {
		return fmt.Errorf("%w: payloadType is %q", ErrPayloadType, t)
	}
	return nil
}

// check turns the signature's verdict into the attestation's, then checks
// the verified statement against the requirement.
func (v *verifier) check(ctx context.Context, r *Result, res *cosign.Result, env *dsse.Envelope) *Result {
	r.KeyID, r.Identity = res.KeyID, res.Identity
	if !res.Verified {
		if errors.Is(res.Err, cosign.ErrSubjectMismatch) {
			return r.fail(fmt.Errorf("%w: %w", ErrSubjectMismatch, res.Err))
		}
		return r.fail(fmt.Errorf("%w: %w", ErrSignature, res.Err))
	}
	st, err := intoto.StatementOf(env, v.subject.Digest)
	if err != nil {
		return r.fail(err)
	}
	return v.checkStatement(ctx, r, res, st)
}

// checkStatement checks a statement whose signature verified (res)
// against the requirement.
func (v *verifier) checkStatement(ctx context.Context, r *Result, res *cosign.Result, st *in_toto.Statement) *Result {
	if got := evidence.PredicateTypeURI(st.GetPredicateType()); got != v.want {
		return r.fail(fmt.Errorf("%w: the referrer says %q, the signed statement %q", ErrPredicateTypeMismatch, r.PredicateType, st.GetPredicateType()))
	}
	r.PredicateType = st.GetPredicateType()
	r.Provenance = intoto.ProvenanceOf(st)
	r.Time, r.TimeSource = statementTime(res, st)
	for _, c := range v.req.Conditions {
		ok, err := c.EvalContext(ctx, st)
		switch {
		case errors.Is(err, ErrConditionCost):
			return r.fail(err)
		case err != nil:
			return r.fail(fmt.Errorf("%w: %q: %w", ErrConditionFalse, c, err))
		case !ok:
			return r.fail(fmt.Errorf("%w: %q is false", ErrConditionFalse, c))
		}
	}
	if v.req.MaxAge > 0 {
		if r.Time.IsZero() {
			return r.fail(fmt.Errorf("%w: a key signature without log entry or signed timestamp, and no time in the predicate; drop maxAge or require a transparency log", ErrNoTime))
		}
		age := v.now().Sub(r.Time)
		if age < -maxClockSkew {
			// A time in the future is a claim nobody can check; it must
			// not make an old attestation look fresh.
			return r.fail(fmt.Errorf("%w: its time %s (from %s) is in the future", ErrNoTime, r.Time.Format(time.RFC3339), r.TimeSource))
		}
		if age > v.req.MaxAge {
			return r.fail(fmt.Errorf("%w: %s old (%s, from %s), at most %s allowed", ErrTooOld, age.Round(time.Second), r.Time.Format(time.RFC3339), r.TimeSource, v.req.MaxAge))
		}
	}
	r.Verified = true
	return r
}

// maxClockSkew is how far in the future an attestation's time may be
// before it is refused.
const maxClockSkew = 5 * time.Minute

// statementTime is the earliest verified time of the signature, else the
// predicate's own claim.
func statementTime(res *cosign.Result, st *in_toto.Statement) (time.Time, string) {
	var t time.Time
	var src string
	for _, ts := range res.Timestamps {
		if t.IsZero() || ts.Time.Before(t) {
			t, src = ts.Time, ts.Type
		}
	}
	if !t.IsZero() {
		return t, src
	}
	if pt, ok := intoto.PredicateTime(st); ok {
		return pt.UTC(), "predicate"
	}
	return time.Time{}, ""
}
