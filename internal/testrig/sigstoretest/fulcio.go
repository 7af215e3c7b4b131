package sigstoretest

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	ct "github.com/google/certificate-transparency-go"
	cttls "github.com/google/certificate-transparency-go/tls"
	ctx509 "github.com/google/certificate-transparency-go/x509"
	ctx509util "github.com/google/certificate-transparency-go/x509util"
	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/sign"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
)

// leafValidity is how long Fulcio's certificates are valid.
const leafValidity = 10 * time.Minute

// ctLog is a certificate transparency log: only its key and log ID matter.
type ctLog struct {
	key *ecdsa.PrivateKey
	id  [sha256.Size]byte // RFC 6962: SHA-256 of the DER SubjectPublicKeyInfo
}

func newCTLog(key *ecdsa.PrivateKey) (*ctLog, error) {
	der, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return nil, err
	}
	return &ctLog{key: key, id: sha256.Sum256(der)}, nil
}

func (l *ctLog) hexID() string { return hex.EncodeToString(l.id[:]) }

func (l *ctLog) trusted(start, end time.Time) *root.TransparencyLog {
	return &root.TransparencyLog{
		BaseURL: CTLogURL, ID: l.id[:], ValidityPeriodStart: start, ValidityPeriodEnd: end,
		HashFunc: crypto.SHA256, PublicKey: l.key.Public(), SignatureHashFunc: crypto.SHA256,
	}
}

// sct is the log's SCT over a precertificate (RFC 6962 §3.2): its TBS
// without the poison extension, and the hash of its issuer's key.
func (l *ctLog) sct(precert *x509.Certificate, issuer *x509.Certificate, at time.Time) (*ct.SignedCertificateTimestamp, error) {
	tbs, err := ctx509.BuildPrecertTBS(precert.RawTBSCertificate, nil)
	if err != nil {
		return nil, err
	}
	sct := &ct.SignedCertificateTimestamp{
		SCTVersion: ct.V1,
		LogID:      ct.LogID{KeyID: l.id},
		Timestamp:  uint64(at.UnixMilli()),
	}
	input, err := ct.SerializeSCTSignatureInput(*sct, ct.LogEntry{Leaf: ct.MerkleTreeLeaf{
		Version:  ct.V1,
		LeafType: ct.TimestampedEntryLeafType,
		TimestampedEntry: &ct.TimestampedEntry{
			Timestamp: sct.Timestamp,
			EntryType: ct.PrecertLogEntryType,
			PrecertEntry: &ct.PreCert{
				IssuerKeyHash:  sha256.Sum256(issuer.RawSubjectPublicKeyInfo),
				TBSCertificate: tbs,
			},
		},
	}})
	if err != nil {
		return nil, err
	}
	sig, err := cttls.CreateSignature(*l.key, cttls.SHA256, input)
	if err != nil {
		return nil, err
	}
	sct.Signature = ct.DigitallySigned(sig)
	return sct, nil
}

// SANType is the kind of subject alternative name in a certificate.
type SANType int

// The subject alternative names Fulcio writes.
const (
	// SANEmail is an rfc822Name: tokens with a verified email.
	SANEmail SANType = iota
	// SANURI is a uniformResourceIdentifier: SPIFFE IDs, CI workflows
	// (GitHub Actions), Kubernetes service accounts.
	SANURI
	// SANOtherName is Fulcio's "username" identity, and nothing else: an
	// otherName with type-id 1.3.6.1.4.1.57264.1.7 and a UTF8String value,
	// in a SAN extension marked critical because the certificate has no
	// subject. Go's crypto/x509 does not parse it and leaves the extension
	// in UnhandledCriticalExtensions.
	SANOtherName
)

// SCTKind is how (and whether) a certificate carries an SCT.
type SCTKind int

// The SCTs a leaf certificate can carry.
const (
	// SCTValid is an SCT by the deployment's CT log, embedded as Fulcio
	// embeds it.
	SCTValid SCTKind = iota
	// SCTUnknownLog is a valid SCT by a CT log that is not in the trusted
	// root.
	SCTUnknownLog
	// SCTBadSignature is an SCT by the deployment's CT log whose signature
	// does not verify (its last byte is changed).
	SCTBadSignature
	// SCTNone is no SCT at all: a Fulcio without a CT log.
	SCTNone
)

// fulcio issues certificates as Fulcio does for one signing: it is the
// sign.CertificateProvider handed to sigstore-go's signer.
type fulcio struct {
	s   *Sigstore
	sig *Sig
	at  time.Time
	// issued is the leaf, once issued.
	issued *x509.Certificate
}

var _ sign.CertificateProvider = (*fulcio)(nil)

// GetCertificate issues a leaf for the keypair's public key. Fulcio would
// first check an OIDC token and a proof of possession; the identity here
// comes from the Sig instead.
func (f *fulcio) GetCertificate(_ context.Context, keypair sign.Keypair, _ *sign.CertificateProviderOptions) ([]byte, error) {
	leaf, err := f.s.issue(keypair.GetPublicKey(), f.sig, f.at)
	if err != nil {
		return nil, err
	}
	f.issued = leaf
	return leaf.Raw, nil
}

// issue makes a leaf as Fulcio does: the template of
// fulcio/pkg/ca.MakeX509 with the principal's SAN and extensions (in the
// order fulcio's certificate.Extensions.Render writes them), issued as a
// precertificate, logged, and reissued with the SCT list.
func (s *Sigstore) issue(pub crypto.PublicKey, sig *Sig, at time.Time) (*x509.Certificate, error) {
	skid, err := cryptoutils.SKID(pub)
	if err != nil {
		return nil, err
	}
	serial, err := cryptoutils.GenerateSerialNumber()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		NotBefore:    at,
		NotAfter:     at.Add(leafValidity),
		SubjectKeyId: skid,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
	}
	san, sanType, ext := sig.identity()
	switch sanType {
	case SANEmail:
		tmpl.EmailAddresses = []string{san}
	case SANURI:
		u, err := url.Parse(san)
		if err != nil || u.Scheme == "" {
			return nil, fmt.Errorf("URI SAN %q is not an absolute URI", san)
		}
		tmpl.URIs = []*url.URL{u}
	case SANOtherName:
		e, err := cryptoutils.MarshalOtherNameSAN(san, true)
		if err != nil {
			return nil, err
		}
		tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, *e)
	default:
		return nil, fmt.Errorf("unknown SAN type %d", sanType)
	}
	rendered, err := renderExtensions(ext)
	if err != nil {
		return nil, err
	}
	tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, rendered...)

	if sig.SCT == SCTNone {
		return createCertificate(tmpl, s.fulcioInter, pub, s.fulcioKey)
	}

	// The precertificate: the same certificate with the critical poison
	// extension last (RFC 6962 §3.1), signed by the issuing CA itself.
	tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, pkix.Extension{
		Id: asn1.ObjectIdentifier(ctx509.OIDExtensionCTPoison), Critical: true, Value: asn1.NullBytes,
	})
	precert, err := createCertificate(tmpl, s.fulcioInter, pub, s.fulcioKey)
	if err != nil {
		return nil, err
	}
	log := s.ctLog
	if sig.SCT == SCTUnknownLog {
		log = s.unknownCTLog
	}
	sct, err := log.sct(precert, s.fulcioInter, at)
	if err != nil {
		return nil, err
	}
	if sig.SCT == SCTBadSignature {
		sct.Signature.Signature[len(sct.Signature.Signature)-1] ^= 0x01
	}
	list, err := ctx509util.MarshalSCTsIntoSCTList([]*ct.SignedCertificateTimestamp{sct})
	if err != nil {
		return nil, err
	}
	listBytes, err := cttls.Marshal(*list)
	if err != nil {
		return nil, err
	}
	sctExt, err := asn1.Marshal(listBytes)
	if err != nil {
		return nil, err
	}

	// The final certificate, as fulcio's IssueFinalCertificate makes it:
	// the precertificate's extensions in the same order, the poison
	// replaced by the SCT list, so that its TBS without the SCT list is
	// the TBS the log signed.
	var exts []pkix.Extension
	for _, e := range precert.Extensions {
		if !e.Id.Equal(asn1.ObjectIdentifier(ctx509.OIDExtensionCTPoison)) {
			exts = append(exts, e)
		}
	}
	exts = append(exts, pkix.Extension{Id: asn1.ObjectIdentifier(ctx509.OIDExtensionCTSCT), Value: sctExt})
	final := &x509.Certificate{
		SerialNumber:    precert.SerialNumber,
		NotBefore:       precert.NotBefore,
		NotAfter:        precert.NotAfter,
		ExtraExtensions: exts,
	}
	leaf, err := createCertificate(final, s.fulcioInter, pub, s.fulcioKey)
	if err != nil {
		return nil, err
	}
	if _, err := ctx509.RemoveSCTList(leaf.RawTBSCertificate); err != nil {
		return nil, fmt.Errorf("final certificate: %w", err)
	}
	return leaf, nil
}

// renderExtensions writes Fulcio's certificate extensions as fulcio's
// pkg/certificate Extensions.Render does: the deprecated issuer and GitHub
// extensions as raw strings, then the issuer again and the CI extensions
// as DER UTF8Strings, each only when set.
func renderExtensions(e certificate.Extensions) ([]pkix.Extension, error) {
	if e.Issuer == "" {
		return nil, errors.New("extensions must have a non-empty issuer url")
	}
	var exts []pkix.Extension
	raw := func(oid asn1.ObjectIdentifier, v string) {
		if v != "" {
			exts = append(exts, pkix.Extension{Id: oid, Value: []byte(v)})
		}
	}
	raw(certificate.OIDIssuer, e.Issuer)
	raw(certificate.OIDGitHubWorkflowTrigger, e.GithubWorkflowTrigger)
	raw(certificate.OIDGitHubWorkflowSHA, e.GithubWorkflowSHA)
	raw(certificate.OIDGitHubWorkflowName, e.GithubWorkflowName)
	raw(certificate.OIDGitHubWorkflowRepository, e.GithubWorkflowRepository)
	raw(certificate.OIDGitHubWorkflowRef, e.GithubWorkflowRef)
	for _, f := range []struct {
		oid asn1.ObjectIdentifier
		v   string
	}{
		{certificate.OIDIssuerV2, e.Issuer},
		{certificate.OIDBuildSignerURI, e.BuildSignerURI},
		{certificate.OIDBuildSignerDigest, e.BuildSignerDigest},
		{certificate.OIDRunnerEnvironment, e.RunnerEnvironment},
		{certificate.OIDSourceRepositoryURI, e.SourceRepositoryURI},
		{certificate.OIDSourceRepositoryDigest, e.SourceRepositoryDigest},
		{certificate.OIDSourceRepositoryRef, e.SourceRepositoryRef},
		{certificate.OIDSourceRepositoryIdentifier, e.SourceRepositoryIdentifier},
		{certificate.OIDSourceRepositoryOwnerURI, e.SourceRepositoryOwnerURI},
		{certificate.OIDSourceRepositoryOwnerIdentifier, e.SourceRepositoryOwnerIdentifier},
		{certificate.OIDBuildConfigURI, e.BuildConfigURI},
		{certificate.OIDBuildConfigDigest, e.BuildConfigDigest},
		{certificate.OIDBuildTrigger, e.BuildTrigger},
		{certificate.OIDRunInvocationURI, e.RunInvocationURI},
		{certificate.OIDSourceRepositoryVisibilityAtSigning, e.SourceRepositoryVisibilityAtSigning},
	} {
		if f.v == "" {
			continue
		}
		der, err := asn1.MarshalWithParams(f.v, "utf8")
		if err != nil {
			return nil, err
		}
		exts = append(exts, pkix.Extension{Id: f.oid, Value: der})
	}
	return exts, nil
}

// GitHubIssuer is the OIDC issuer of GitHub Actions ID tokens.
const GitHubIssuer = "https://token.actions.githubusercontent.com"

// GitHubWorkflow is a GitHub Actions run, as its ID token's claims
// describe it. Zero fields get defaults: a push to refs/heads/main of
// sigstoretest/example running .github/workflows/release.yml on a
// GitHub-hosted runner in a public repository.
type GitHubWorkflow struct {
	// ServerURL is the GitHub instance; default https://github.com.
	ServerURL string
	// Repository is owner/name (claim repository).
	Repository string
	// RepositoryID and OwnerID are the numeric IDs (claims repository_id,
	// repository_owner_id).
	RepositoryID, OwnerID string
	// Ref is the git ref (claim ref).
	Ref string
	// SHA is the commit (claim sha).
	SHA string
	// WorkflowPath is the workflow file in the repository.
	WorkflowPath string
	// Workflow is the workflow's name (claim workflow).
	Workflow string
	// JobWorkflowRef is the workflow that ran the job (claim
	// job_workflow_ref), owner/repo/path@ref; by default the workflow
	// itself, a reusable workflow's when it differs. It is the SAN.
	JobWorkflowRef string
	// JobWorkflowSHA is the commit of JobWorkflowRef (claim
	// job_workflow_sha); default SHA.
	JobWorkflowSHA string
	// Event is the triggering event (claim event_name).
	Event string
	// RunID and RunAttempt identify the run.
	RunID, RunAttempt string
	// RunnerEnvironment is github-hosted or self-hosted.
	RunnerEnvironment string
	// Visibility is the repository's visibility (claim
	// repository_visibility).
	Visibility string
}

// Identity is what Fulcio certifies for the workflow, as its GitHub
// principal embeds it: the URI SAN (ServerURL/JobWorkflowRef), the issuer
// and the extensions, deprecated ones included.
func (w GitHubWorkflow) Identity() (san string, ext certificate.Extensions) {
	def := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	def(&w.ServerURL, "https://github.com")
	def(&w.Repository, "sigstoretest/example")
	def(&w.RepositoryID, "100001")
	def(&w.OwnerID, "200002")
	def(&w.Ref, "refs/heads/main")
	def(&w.SHA, "1f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c")
	def(&w.WorkflowPath, ".github/workflows/release.yml")
	def(&w.Workflow, "Release")
	def(&w.Event, "push")
	def(&w.RunID, "9000000001")
	def(&w.RunAttempt, "1")
	def(&w.RunnerEnvironment, "github-hosted")
	def(&w.Visibility, "public")
	workflowRef := w.Repository + "/" + w.WorkflowPath + "@" + w.Ref
	def(&w.JobWorkflowRef, workflowRef)
	def(&w.JobWorkflowSHA, w.SHA)
	owner, _, _ := strings.Cut(w.Repository, "/")
	base, err := url.Parse(w.ServerURL)
	if err != nil {
		base = &url.URL{Scheme: "https", Host: "github.com"}
	}
	join := func(p ...string) string { return base.JoinPath(p...).String() }
	san = join(w.JobWorkflowRef)
	ext = certificate.Extensions{
		Issuer:                              GitHubIssuer,
		GithubWorkflowTrigger:               w.Event,
		GithubWorkflowSHA:                   w.SHA,
		GithubWorkflowName:                  w.Workflow,
		GithubWorkflowRepository:            w.Repository,
		GithubWorkflowRef:                   w.Ref,
		BuildSignerURI:                      san,
		BuildSignerDigest:                   w.JobWorkflowSHA,
		RunnerEnvironment:                   w.RunnerEnvironment,
		SourceRepositoryURI:                 join(w.Repository),
		SourceRepositoryDigest:              w.SHA,
		SourceRepositoryRef:                 w.Ref,
		SourceRepositoryIdentifier:          w.RepositoryID,
		SourceRepositoryOwnerURI:            join(owner),
		SourceRepositoryOwnerIdentifier:     w.OwnerID,
		BuildConfigURI:                      join(workflowRef),
		BuildConfigDigest:                   w.SHA,
		BuildTrigger:                        w.Event,
		RunInvocationURI:                    join(w.Repository, "actions/runs", w.RunID, "attempts", w.RunAttempt),
		SourceRepositoryVisibilityAtSigning: w.Visibility,
	}
	return san, ext
}
