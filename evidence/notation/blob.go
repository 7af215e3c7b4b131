package notation

import (
	"bytes"
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"
	"time"

	"github.com/notaryproject/notation-core-go/signature"
	"github.com/notaryproject/notation-core-go/signature/cose"
	"github.com/notaryproject/notation-core-go/signature/jws"
	"github.com/notaryproject/notation-go/verifier/trustpolicy"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/internal/boundedio"
)

// Blob signature defaults and bounds.
const (
	// DefaultBlobMediaType is the content media type notation blob sign
	// signs when it is given none.
	DefaultBlobMediaType = "application/octet-stream"
	// DefaultMaxBlobBytes bounds the blob [VerifyBlob] reads.
	DefaultMaxBlobBytes = 1 << 30
)

// BlobTrust is the trust material for Notation blob signatures: a blob
// trust policy document (trustpolicy.blob.json) and the certificates of
// every trust store it names, read once by [LoadBlobTrust]. A BlobTrust
// is immutable and safe for concurrent use.
type BlobTrust struct {
	statements []blobStatement
	stores     memoryStore
}

// blobDocument is trustpolicy.blob.json, version 1.0, as the Notary
// Project specifies it: statements chosen by name (or the one marked
// globalPolicy), never by registry scope. notation-go v1.3 reads only the
// OCI document, so the blob document is parsed and validated here, each
// statement by notation-go's own rules (see [parseBlobPolicy]).
type blobDocument struct {
	Version       string          `json:"version"`
	TrustPolicies []blobStatement `json:"trustPolicies"`
}

type blobStatement struct {
	Name                  string                            `json:"name"`
	SignatureVerification trustpolicy.SignatureVerification `json:"signatureVerification"`
	TrustStores           []string                          `json:"trustStores,omitempty"`
	TrustedIdentities     []string                          `json:"trustedIdentities,omitempty"`
	GlobalPolicy          bool                              `json:"globalPolicy,omitempty"`
}

// oci is the statement as an OCI trust policy statement for every scope:
// what notation-go's v1.3 verifier takes. It is the same statement: the
// level, overrides, trust stores and trusted identities are all a blob
// statement holds besides its name.
func (s blobStatement) oci() trustpolicy.TrustPolicy {
	return trustpolicy.TrustPolicy{
		Name:                  s.Name,
		RegistryScopes:        []string{"*"},
		SignatureVerification: s.SignatureVerification,
		TrustStores:           append([]string(nil), s.TrustStores...),
		TrustedIdentities:     append([]string(nil), s.TrustedIdentities...),
	}
}

// LoadBlobTrust reads the blob trust policy at policyPath
// (trustpolicy.blob.json, version 1.0) and, from storeDir, every trust
// store a statement names, as [LoadTrust] reads them for the OCI policy.
// Nothing is read from the user's home: both paths are required.
// Errors wrap [ErrInvalidTrustPolicy] or [ErrInvalidTrustStore].
func LoadBlobTrust(policyPath, storeDir string) (*BlobTrust, error) {
	if policyPath == "" || storeDir == "" {
		return nil, fmt.Errorf("%w: both a blob trust policy file and a trust store directory are required", ErrInvalidTrustPolicy)
	}
	raw, err := boundedio.ReadFile(policyPath, MaxTrustPolicyBytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalidTrustPolicy, policyPath, err)
	}
	doc, err := parseBlobPolicy(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", policyPath, err)
	}
	var statements []trustpolicy.TrustPolicy
	for _, s := range doc.TrustPolicies {
		statements = append(statements, s.oci())
	}
	stores, err := loadStores(storeDir, statements)
	if err != nil {
		return nil, err
	}
	return &BlobTrust{statements: doc.TrustPolicies, stores: stores}, nil
}

// parseBlobPolicy parses and validates a blob trust policy document with
// the rules of notation-go's BlobDocument.Validate (notation-go after
// v1.3): version 1.0, at least one statement, unique names, at most one
// global statement; each statement's level, overrides, trust stores and
// trusted identities are validated by notation-go v1.3's own rules
// (Document.Validate on the statement as an OCI statement). Unknown fields
// are refused: registryScopes there means an OCI policy was given.
func parseBlobPolicy(raw []byte) (*blobDocument, error) {
	var doc blobDocument
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%w: not a blob trust policy (trustpolicy.blob.json): %w", ErrInvalidTrustPolicy, err)
	}
	switch {
	case doc.Version != "1.0":
		return nil, fmt.Errorf("%w: blob trust policy version %q, want \"1.0\"", ErrInvalidTrustPolicy, doc.Version)
	case len(doc.TrustPolicies) == 0:
		return nil, fmt.Errorf("%w: the blob trust policy has no statements", ErrInvalidTrustPolicy)
	}
	names := map[string]bool{}
	global := ""
	for _, s := range doc.TrustPolicies {
		if names[s.Name] {
			return nil, fmt.Errorf("%w: two blob trust policy statements are named %q", ErrInvalidTrustPolicy, s.Name)
		}
		names[s.Name] = true
		if s.GlobalPolicy {
			if global != "" {
				return nil, fmt.Errorf("%w: statements %q and %q both have globalPolicy true; at most one may", ErrInvalidTrustPolicy, global, s.Name)
			}
			global = s.Name
		}
		one := trustpolicy.Document{Version: "1.0", TrustPolicies: []trustpolicy.TrustPolicy{s.oci()}}
		if err := one.Validate(); err != nil {
			return nil, fmt.Errorf("%w: blob trust policy: %w", ErrInvalidTrustPolicy, err)
		}
	}
	return &doc, nil
}

// Names returns the names of the statements, in the document's order, and
// the global one's ("" when none is global).
func (t *BlobTrust) Names() (names []string, global string) {
	for _, s := range t.statements {
		names = append(names, s.Name)
		if s.GlobalPolicy {
			global = s.Name
		}
	}
	return names, global
}

// statement returns the statement named name, or the global one for "".
func (t *BlobTrust) statement(name string) (blobStatement, error) {
	names, global := t.Names()
	for _, s := range t.statements {
		if (name == "" && s.GlobalPolicy) || (name != "" && s.Name == name) {
			return s, nil
		}
	}
	return blobStatement{}, &NoBlobTrustPolicyError{Name: name, Names: names, Global: global}
}

// BlobOptions shape [VerifyBlob]. The zero value verifies under the
// global statement, any content media type, with the default bounds.
type BlobOptions struct {
	// PolicyName names the statement of the blob trust policy to verify
	// under (notation blob verify --policy-name); "" means the statement
	// with globalPolicy true.
	PolicyName string
	// MediaType is the content media type the signature must name
	// (notation blob verify --media-type); "" accepts whatever it names.
	MediaType string
	// UserMetadata must all be present in the signature's signed
	// annotations (--user-metadata).
	UserMetadata map[string]string
	// RevocationTimeout is as Options.RevocationTimeout.
	RevocationTimeout time.Duration
	// MaxBlobBytes bounds the blob read; 0 means DefaultMaxBlobBytes.
	MaxBlobBytes int64
}

// VerifyBlob verifies a Notation blob signature (what notation blob sign
// writes: a detached JWS or COSE envelope, named by envelopeMediaType or,
// for "", told by its bytes: [EnvelopeMediaType]) over the bytes of blob,
// under the statement of trust opts.PolicyName names, else the global one.
//
// The blob is read once, streamed into the digest its signing key calls
// for (SHA-256, SHA-384 or SHA-512, as notation picks it), at most
// opts.MaxBlobBytes, and stops when ctx ends. The envelope is then
// verified by notation-go's verifier, with the same checks, levels,
// timestamps and revocation as [VerifyReferrers]; its payload must name
// the blob's digest and size, and opts.MediaType when set
// ([ErrSubjectMismatch]), and carry opts.UserMetadata ([ErrUserMetadata]).
// It returns the blob's descriptor as read (zero when the blob was not
// read: under level skip, or an envelope refused before).
//
// A bad signature is a failed Result (an envelope over
// [MaxEnvelopeBytes]: [ErrMalformed]). An error means no verdict: no
// statement applies ([*NoBlobTrustPolicyError]), a media type is invalid
// ([ErrInvalidMediaType]), the blob could not be read or exceeds its
// bound (wrapping [artifact.ErrTooLarge]), ctx ended.
func VerifyBlob(ctx context.Context, blob io.Reader, envelope []byte, envelopeMediaType string, trust *BlobTrust, opts BlobOptions) (ocispec.Descriptor, *Result, error) {
	var none ocispec.Descriptor
	if trust == nil {
		return none, nil, fmt.Errorf("%w: no blob trust material", ErrInvalidTrustPolicy)
	}
	if opts.MaxBlobBytes <= 0 {
		opts.MaxBlobBytes = DefaultMaxBlobBytes
	}
	if opts.MediaType != "" {
		if _, _, err := mime.ParseMediaType(opts.MediaType); err != nil {
			return none, nil, fmt.Errorf("%w: content media type %q: %w", ErrInvalidMediaType, opts.MediaType, err)
		}
	}
	envelopeMediaType = orDetected(envelopeMediaType, envelope)
	if envelopeMediaType == "" {
		return none, nil, fmt.Errorf("%w: the signature is neither a JWS (%s) nor a COSE (%s) envelope; name its type", ErrInvalidMediaType, jws.MediaTypeEnvelope, cose.MediaTypeEnvelope)
	}
	if err := envelopeType(envelopeMediaType); err != nil {
		return none, nil, fmt.Errorf("%w: %w", ErrInvalidMediaType, err)
	}
	st, err := trust.statement(opts.PolicyName)
	if err != nil {
		return none, nil, err
	}
	level, err := st.SignatureVerification.GetVerificationLevel()
	if err != nil { // parseBlobPolicy accepted it
		return none, nil, fmt.Errorf("%w: %w", ErrInvalidTrustPolicy, err)
	}
	if level.Name == trustpolicy.LevelSkip.Name {
		r := skipped(st.Name)
		r.Reason = fmt.Sprintf("blob trust policy %q has level skip: no signature was checked", st.Name)
		return none, &r, nil
	}
	r := &Result{Envelope: envelopeName(envelopeMediaType), Level: level.Name, Policy: st.Name}
	if len(envelope) > MaxEnvelopeBytes {
		r.fail(fmt.Errorf("%w: %w: the envelope is %d bytes, more than the %d allowed", ErrMalformed, artifact.ErrTooLarge, len(envelope), MaxEnvelopeBytes))
		return none, r, nil
	}
	signed := signedTarget(envelope, envelopeMediaType)
	desc, err := describeBlob(ctx, blob, signed.alg, opts.MaxBlobBytes)
	if err != nil {
		return none, nil, err
	}
	desc.MediaType = opts.MediaType
	if desc.MediaType == "" {
		// notation blob verify without --media-type checks no media type:
		// the signed one is taken as the blob's, and verified as part of
		// the payload.
		desc.MediaType = signed.mediaType
	}
	rec := &revocationRecorder{}
	doc := trustpolicy.Document{Version: "1.0", TrustPolicies: []trustpolicy.TrustPolicy{st.oci()}}
	v, err := newVerifier(&doc, trust.stores, rec, orDefault(opts.RevocationTimeout, DefaultRevocationTimeout))
	if err != nil {
		return none, nil, err
	}
	// notation-go names the artifact in its errors only; the statement
	// applies to every scope.
	if err := verifyEnvelope(ctx, v, rec, "local/blob@"+desc.Digest.String(), desc, envelope, envelopeMediaType, opts.UserMetadata, r); err != nil {
		return none, nil, err
	}
	return desc, r, nil
}

// target is what an envelope's (still unverified) payload and signing
// certificate say about the blob: the digest algorithm notation uses for
// the signing key, and the signed content media type. They only choose
// what to hash with and which media type to expect when the caller names
// none; the verifier then checks the whole payload against the blob's
// descriptor.
type target struct {
	alg       digest.Algorithm
	mediaType string
}

func signedTarget(raw []byte, mediaType string) target {
	t := target{alg: digest.SHA256, mediaType: DefaultBlobMediaType}
	env, err := signature.ParseEnvelope(mediaType, raw)
	if err != nil {
		return t // the verifier refuses it (integrity)
	}
	content, err := env.Content()
	if err != nil {
		return t
	}
	if chain := content.SignerInfo.CertificateChain; len(chain) > 0 {
		if ks, err := signature.ExtractKeySpec(chain[0]); err == nil {
			switch ks.SignatureAlgorithm().Hash() {
			case crypto.SHA384:
				t.alg = digest.SHA384
			case crypto.SHA512:
				t.alg = digest.SHA512
			}
		}
	}
	var p payload
	if json.Unmarshal(content.Payload.Content, &p) == nil && p.TargetArtifact.MediaType != "" {
		t.mediaType = p.TargetArtifact.MediaType
	}
	return t
}

// describeBlob streams r into alg's digest, at most max bytes, stopping
// when ctx ends.
func describeBlob(ctx context.Context, r io.Reader, alg digest.Algorithm, max int64) (ocispec.Descriptor, error) {
	if r == nil {
		return ocispec.Descriptor{}, errors.New("no blob to verify")
	}
	d := alg.Digester()
	n, err := io.Copy(d.Hash(), io.LimitReader(ctxReader{ctx, r}, max+1))
	switch {
	case err != nil:
		return ocispec.Descriptor{}, fmt.Errorf("reading the blob: %w", err)
	case n > max:
		return ocispec.Descriptor{}, fmt.Errorf("%w: the blob is more than %d bytes (BlobOptions.MaxBlobBytes)", artifact.ErrTooLarge, max)
	}
	return ocispec.Descriptor{Digest: d.Digest(), Size: n}, nil
}

// ctxReader stops a read loop when ctx ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// EnvelopeMediaType tells a Notation envelope's media type by its bytes: a
// JWS envelope is a JSON object, a COSE envelope a CBOR COSE_Sign1 (tag
// 18). It returns "" for anything else.
func EnvelopeMediaType(raw []byte) string {
	trimmed := bytes.TrimLeft(raw, " \t\r\n")
	switch {
	case len(trimmed) > 0 && trimmed[0] == '{':
		return jws.MediaTypeEnvelope
	case len(raw) > 0 && raw[0] == 0xd2: // CBOR major type 6 (tag), value 18
		return cose.MediaTypeEnvelope
	}
	return ""
}

// EnvelopeMediaTypeOf returns the media type a name stands for: "jws" or
// "cose" (any case), or either media type itself; "" for anything else.
func EnvelopeMediaTypeOf(name string) string {
	switch strings.ToLower(name) {
	case EnvelopeJWS, jws.MediaTypeEnvelope:
		return jws.MediaTypeEnvelope
	case EnvelopeCOSE, cose.MediaTypeEnvelope:
		return cose.MediaTypeEnvelope
	}
	return ""
}

func orDetected(mediaType string, raw []byte) string {
	if mediaType != "" {
		return mediaType
	}
	return EnvelopeMediaType(raw)
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}
