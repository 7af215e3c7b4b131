package sigstoretest

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"testing"
	"time"

	"github.com/digitorus/timestamp"
	intoto "github.com/in-toto/attestation/go/v1"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	rekortilespb "github.com/sigstore/rekor-tiles/v2/pkg/generated/protobuf"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/sign"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/sigstore/sigstore/pkg/signature/options"
	"golang.org/x/mod/sumdb/note"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
)

// Identities used when a Sig names none.
const (
	DefaultIssuer    = "https://oauth2.sigstoretest.example/auth"
	DefaultEmail     = "signer@sigstoretest.example"
	DefaultURI       = "https://sigstoretest.example/signer"
	DefaultOtherName = "signer!sigstoretest.example"
)

// InTotoPayloadType is the DSSE payload type of in-toto statements.
const InTotoPayloadType = "application/vnd.in-toto+json"

// The bundle media types Sig.BundleVersion chooses from.
const (
	MediaTypeV01 = "application/vnd.dev.sigstore.bundle+json;version=0.1"
	MediaTypeV02 = "application/vnd.dev.sigstore.bundle+json;version=0.2"
	MediaTypeV03 = "application/vnd.dev.sigstore.bundle.v0.3+json"
)

// Tlog is the transparency log a signature is recorded in.
type Tlog int

// The transparency logs.
const (
	// RekorV1 is a Rekor v1 entry: hashedrekord 0.0.1 for a message
	// signature, dsse 0.0.1 for an envelope, with integrated time, signed
	// entry timestamp and inclusion proof.
	RekorV1 Tlog = iota
	// RekorV2 is a Rekor v2 entry: hashedrekord 0.0.2 (for an envelope, over
	// its PAE), integrated time 0, an inclusion proof and no promise. It
	// gives no time: keyless verification needs a TSA timestamp too.
	RekorV2
	// NoTlog is no transparency log entry.
	NoTlog
)

// Sig says how to sign. The zero value is the common case: a keyless
// signature by DefaultEmail from DefaultIssuer with an ECDSA P-256 key, a
// valid SCT, a Rekor v1 entry, no timestamp authority, a v0.3 bundle.
type Sig struct {
	// SAN is the certificate's subject alternative name, of type SANType;
	// empty means DefaultEmail, DefaultURI or DefaultOtherName.
	SAN     string
	SANType SANType
	// Issuer is the OIDC issuer, written in both issuer extensions; empty
	// means DefaultIssuer.
	Issuer string
	// Extensions are further Fulcio extensions for the certificate (their
	// Issuer is ignored: see Issuer).
	Extensions certificate.Extensions
	// GitHub, when set, is the GitHub Actions run that signs: SAN, SANType,
	// Issuer and Extensions are then what Fulcio certifies for it
	// (GitHubWorkflow.Identity).
	GitHub *GitHubWorkflow
	// SCT is the certificate's SCT.
	SCT SCTKind

	// PublicKey signs with a key and no certificate: the bundle's
	// verification material is the key's hint (base64 SHA-256 of its DER
	// form), and the key is trusted through [Signed.KeyMaterial].
	PublicKey bool
	// Algorithm is the signing key's algorithm; zero means
	// PKIX_ECDSA_P256_SHA_256. The message digest uses the algorithm's hash
	// (P-384: SHA2_384, P-521: SHA2_512).
	Algorithm protocommon.PublicKeyDetails

	// Tlog is the transparency log.
	Tlog Tlog
	// Witnesses is how many witnesses co-sign the Rekor v2 checkpoint
	// (see [Sigstore.WitnessKeys]).
	Witnesses int
	// LegacyDSSEEntry records an envelope in Rekor v2 as the deprecated
	// dsse 0.0.2 entry rekor-tiles v1 wrote, instead of hashedrekord 0.0.2.
	// sigstore-go v1.3.0 cannot load such a bundle ([Signed.LoadErr]).
	LegacyDSSEEntry bool

	// TSA adds an RFC 3161 timestamp over the signature, requested as
	// sigstore-go's (and cosign v3's) client requests it: no certReq, so
	// the response has no certificate.
	TSA bool
	// TSACert requests the timestamp (it implies TSA) with certReq set and
	// a nonce, so the response embeds the TSA's signing certificate.
	TSACert bool

	// Time is when the certificate is issued (its notBefore, whole
	// seconds) and the SCT's time; zero means now.
	Time time.Time
	// ObservedAfter is how long after Time the TSA, Rekor and witnesses see
	// the signature; zero means one second. Past 10 minutes the
	// certificate has expired when they do.
	ObservedAfter time.Duration

	// BundleVersion is the bundle's version: "v0.3" (the default, as
	// sigstore-go and cosign v3 write it: a single certificate), "v0.2"
	// (the certificate as an X509CertificateChain) or "v0.1" (also without
	// inclusion proofs, only promises: the oldest bundles' shape).
	BundleVersion string
}

func (g *Sig) issuer() string {
	if g.Issuer == "" {
		return DefaultIssuer
	}
	return g.Issuer
}

// identity is the SAN, its type and the extensions to certify.
func (g *Sig) identity() (string, SANType, certificate.Extensions) {
	if g.GitHub != nil {
		san, ext := g.GitHub.Identity()
		return san, SANURI, ext
	}
	ext := g.Extensions
	ext.Issuer = g.issuer()
	san := g.SAN
	if san == "" {
		switch g.SANType {
		case SANEmail:
			san = DefaultEmail
		case SANURI:
			san = DefaultURI
		case SANOtherName:
			san = DefaultOtherName
		}
	}
	return san, g.SANType, ext
}

// Subject is a subject of an in-toto statement.
type Subject struct {
	Name string
	// Digest maps algorithm names (sha256, sha512, ...) to hex digests.
	Digest map[string]string
}

// SubjectOf is the subject name with artifact's SHA-256 digest.
func SubjectOf(name string, artifact []byte) Subject {
	sum := sha256.Sum256(artifact)
	return Subject{Name: name, Digest: map[string]string{"sha256": hex.EncodeToString(sum[:])}}
}

// Statement is an in-toto Statement v1.
type Statement struct {
	Subjects []Subject
	// PredicateType defaults to SLSA provenance v1.
	PredicateType string
	// Predicate defaults to an empty object.
	Predicate map[string]any
}

// DefaultPredicateType is the predicate type of statements that name none.
const DefaultPredicateType = "https://slsa.dev/provenance/v1"

// JSON is the statement as in-toto's Go bindings write it, compact.
func (st Statement) JSON() ([]byte, error) {
	pt := st.PredicateType
	if pt == "" {
		pt = DefaultPredicateType
	}
	pred, err := structpb.NewStruct(st.Predicate)
	if err != nil {
		return nil, err
	}
	s := &intoto.Statement{Type: intoto.StatementTypeUri, PredicateType: pt, Predicate: pred}
	for _, sub := range st.Subjects {
		s.Subject = append(s.Subject, &intoto.ResourceDescriptor{Name: sub.Name, Digest: sub.Digest})
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	raw, err := protojson.Marshal(s)
	if err != nil {
		return nil, err
	}
	// protojson varies its whitespace on purpose; statements are compact.
	var compact bytes.Buffer
	if err := json.Compact(&compact, raw); err != nil {
		return nil, err
	}
	return compact.Bytes(), nil
}

// Signed is a signature's bundle and what a test needs to verify it.
type Signed struct {
	// Bundle is the bundle as sigstore-go loads it (bundle.NewBundle). When
	// sigstore-go refuses it (LoadErr), Bundle wraps the protobuf
	// unchecked.
	Bundle *bundle.Bundle
	// LoadErr is why sigstore-go's bundle.NewBundle refused the bundle, or
	// nil.
	LoadErr error
	// JSON is the bundle as a .sigstore.json file.
	JSON []byte
	// Content is what was signed: the artifact, or the DSSE payload (the
	// statement's JSON).
	Content []byte
	// Certificate is the leaf certificate; nil when signed with a key.
	Certificate *x509.Certificate
	// PublicKey is the signing key's public half.
	PublicKey crypto.PublicKey
	// SAN and Issuer are the certified identity; empty when signed with a
	// key.
	SAN, Issuer string
	// SignedAt is when the certificate was issued (Sig.Time); ObservedAt
	// is when the TSA, Rekor and witnesses saw the signature.
	SignedAt, ObservedAt time.Time
	// TimestampTime is the TSA timestamp's time, zero without one.
	TimestampTime time.Time
	// IntegratedTime is the Rekor v1 integrated time, zero otherwise.
	IntegratedTime time.Time

	start time.Time
}

// Identity is the exact identity to require of the certificate: its SAN
// and issuer.
func (r *Signed) Identity(t testing.TB) verify.CertificateIdentity {
	t.Helper()
	id, err := verify.NewShortCertificateIdentity(r.Issuer, "", r.SAN, "")
	if err != nil {
		t.Fatalf("sigstoretest: %v", err)
	}
	return id
}

// KeyMaterial trusts the signing key under its hint, valid from the
// deployment's start with no end; combine it with the trusted root
// (root.TrustedMaterialCollection) to verify a key-signed bundle.
func (r *Signed) KeyMaterial(t testing.TB) *root.TrustedPublicKeyMaterial {
	t.Helper()
	v, err := signature.LoadDefaultVerifier(r.PublicKey)
	if err != nil {
		t.Fatalf("sigstoretest: %v", err)
	}
	hint := r.Bundle.GetVerificationMaterial().GetPublicKey().GetHint()
	return root.NewTrustedPublicKeyMaterialFromMapping(map[string]*root.ExpiringKey{
		hint: root.NewExpiringKey(v, r.start, time.Time{}),
	})
}

// PublicKeyPEM is the signing key's public half as a PEM PUBLIC KEY
// block, for `cosign verify-blob --key`.
func (r *Signed) PublicKeyPEM(t testing.TB) []byte {
	t.Helper()
	p, err := cryptoutils.MarshalPublicKeyToPEM(r.PublicKey)
	if err != nil {
		t.Fatalf("sigstoretest: %v", err)
	}
	return p
}

// Sign signs artifact: the bundle's content is a message signature over
// it.
func (s *Sigstore) Sign(t testing.TB, artifact []byte, g Sig) *Signed {
	t.Helper()
	return s.sign(t, &sign.PlainData{Data: artifact}, artifact, g)
}

// Attest signs the statement: the bundle's content is a DSSE envelope of
// type application/vnd.in-toto+json.
func (s *Sigstore) Attest(t testing.TB, st Statement, g Sig) *Signed {
	t.Helper()
	payload, err := st.JSON()
	if err != nil {
		t.Fatalf("sigstoretest: statement: %v", err)
	}
	return s.sign(t, &sign.DSSEData{Data: payload, PayloadType: InTotoPayloadType}, payload, g)
}

func (s *Sigstore) sign(t testing.TB, content sign.Content, signed []byte, g Sig) *Signed {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("sigstoretest: "+format, args...)
	}
	at := g.Time
	if at.IsZero() {
		at = time.Now()
	}
	at = at.UTC().Truncate(time.Second)
	if at.Before(s.start) {
		fail("signing time %s is before the deployment's start %s (Options.Start)", at, s.start)
	}
	after := g.ObservedAfter
	if after == 0 {
		after = time.Second
	}
	observed := at.Add(after)
	if g.TSACert {
		g.TSA = true
	}
	_, isDSSE := content.(*sign.DSSEData)
	if g.Witnesses > 0 && g.Tlog != RekorV2 {
		fail("witnesses co-sign Rekor v2 checkpoints only")
	}
	if g.LegacyDSSEEntry && (!isDSSE || g.Tlog != RekorV2) {
		fail("LegacyDSSEEntry is for envelopes in Rekor v2")
	}

	keypair, err := sign.NewEphemeralKeypair(&sign.EphemeralKeypairOptions{Algorithm: g.Algorithm})
	if err != nil {
		fail("key: %v", err)
	}
	opts := sign.BundleOptions{Context: t.Context()}
	var f *fulcio
	if !g.PublicKey {
		f = &fulcio{s: s, sig: &g, at: at}
		opts.CertificateProvider = f
	}
	if g.TSA && !g.TSACert {
		opts.TimestampAuthorities = []*sign.TimestampAuthority{sign.NewTimestampAuthority(&sign.TimestampAuthorityOptions{
			URL: TSAURL, Transport: tsaTransport{s: s, at: observed},
		})}
	}
	var witnesses []note.Signer
	if g.Witnesses > 0 {
		ws, err := s.witnessesFor(g.Witnesses)
		if err != nil {
			fail("witnesses: %v", err)
		}
		for _, w := range ws {
			witnesses = append(witnesses, cosigner{w: w, at: observed})
		}
	}
	switch g.Tlog {
	case RekorV1:
		opts.TransparencyLogs = []sign.Transparency{sign.NewRekor(&sign.RekorOptions{
			BaseURL: RekorV1URL, Version: 1, Client: &rekorV1Client{log: s.v1, at: observed},
		})}
	case RekorV2:
		if !g.LegacyDSSEEntry {
			opts.TransparencyLogs = []sign.Transparency{sign.NewRekor(&sign.RekorOptions{
				BaseURL: RekorV2URL, Version: 2, ClientV2: &rekorV2Client{s: s, witnesses: witnesses},
			})}
		}
	case NoTlog:
	default:
		fail("unknown Tlog %d", g.Tlog)
	}

	pb, err := sign.Bundle(content, keypair, opts)
	if err != nil {
		fail("signing: %v", err)
	}
	sigBytes := pb.GetMessageSignature().GetSignature()
	if env := pb.GetDsseEnvelope(); env != nil {
		sigBytes = env.GetSignatures()[0].GetSig()
	}
	vm := pb.GetVerificationMaterial()

	if g.TSA && g.TSACert {
		tsr, err := s.certReqTimestamp(sigBytes, observed)
		if err != nil {
			fail("timestamp: %v", err)
		}
		vm.TimestampVerificationData = &protobundle.TimestampVerificationData{
			Rfc3161Timestamps: []*protocommon.RFC3161SignedTimestamp{{SignedTimestamp: tsr}},
		}
	}
	if g.LegacyDSSEEntry {
		v, err := rekorVerifier(keypair.GetPublicKey(), f)
		if err != nil {
			fail("rekor v2: %v", err)
		}
		env := pb.GetDsseEnvelope()
		tle, err := s.v2.append(legacyDSSEEntry(env.GetPayload(), [][]byte{sigBytes}, v), witnesses)
		if err != nil {
			fail("rekor v2: %v", err)
		}
		vm.TlogEntries = append(vm.TlogEntries, tle)
	}

	switch g.BundleVersion {
	case "", "v0.3", "0.3":
	case "v0.2", "0.2", "v0.1", "0.1":
		pb.MediaType = MediaTypeV02
		if cert := vm.GetCertificate(); cert != nil {
			vm.Content = &protobundle.VerificationMaterial_X509CertificateChain{
				X509CertificateChain: &protocommon.X509CertificateChain{Certificates: []*protocommon.X509Certificate{cert}},
			}
		}
		if g.BundleVersion == "v0.1" || g.BundleVersion == "0.1" {
			pb.MediaType = MediaTypeV01
			for _, e := range vm.TlogEntries {
				e.InclusionProof = nil
			}
		}
	default:
		fail("unknown bundle version %q", g.BundleVersion)
	}

	out := &Signed{
		Content:    signed,
		PublicKey:  keypair.GetPublicKey(),
		SignedAt:   at,
		ObservedAt: observed,
		start:      s.start,
	}
	if f != nil {
		out.Certificate = f.issued
		out.SAN, _, _ = g.identity()
		out.Issuer = g.issuer()
		if g.GitHub != nil {
			out.Issuer = GitHubIssuer
		}
	}
	for _, ts := range vm.GetTimestampVerificationData().GetRfc3161Timestamps() {
		parsed, err := timestamp.ParseResponse(ts.GetSignedTimestamp())
		if err != nil {
			fail("timestamp: %v", err)
		}
		out.TimestampTime = parsed.Time
	}
	for _, e := range vm.GetTlogEntries() {
		if e.GetIntegratedTime() != 0 {
			out.IntegratedTime = time.Unix(e.GetIntegratedTime(), 0).UTC()
		}
	}
	if out.JSON, err = protojson.Marshal(pb); err != nil {
		fail("bundle JSON: %v", err)
	}
	if out.Bundle, out.LoadErr = bundle.NewBundle(pb); out.LoadErr != nil {
		out.Bundle = &bundle.Bundle{Bundle: pb}
	}
	return out
}

// rekorVerifier is the verifier of a rekor-tiles entry: the certificate
// when there is one, else the public key, with the key's algorithm.
func rekorVerifier(pub crypto.PublicKey, f *fulcio) (*rekortilespb.Verifier, error) {
	details, err := signature.GetDefaultAlgorithmDetails(pub, options.WithED25519ph())
	if err != nil {
		return nil, err
	}
	v := &rekortilespb.Verifier{KeyDetails: details.GetSignatureAlgorithm()}
	if f != nil && f.issued != nil {
		v.Verifier = &rekortilespb.Verifier_X509Certificate{X509Certificate: &protocommon.X509Certificate{RawBytes: f.issued.Raw}}
		return v, nil
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	v.Verifier = &rekortilespb.Verifier_PublicKey{PublicKey: &rekortilespb.PublicKey{RawBytes: der}}
	return v, nil
}
