package verify

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/wasmgate/wasmgate/evidence/cosign"
	"github.com/wasmgate/wasmgate/sigstoreroot"
)

// CosignSpec is one cosign authority as its users write it: the cosign:
// entry of a trust policy, or cosign verify's flags (--key,
// --certificate-identity, --certificate-github-workflow-*, --trusted-root,
// ...). [CosignSpec.Build] reads the files it names and obtains the
// Sigstore trust roots it needs.
type CosignSpec struct {
	// Keys are PEM public key files; KeyValidFrom and KeyValidUntil, when
	// set, bound when they may have signed.
	Keys                        []string
	KeyValidFrom, KeyValidUntil time.Time
	// The keyless identity: issuer and subject (SAN), each exact or a
	// regular expression.
	Issuer, IssuerRegexp, Subject, SubjectRegexp string
	// GitHub Actions workflow claims a keyless certificate must carry
	// exactly (cosign's --certificate-github-workflow-* flags).
	GitHubWorkflowTrigger, GitHubWorkflowSHA, GitHubWorkflowName, GitHubWorkflowRepository, GitHubWorkflowRef string
	// GitHub is the identity of `gh attestation verify`: a workflow of
	// this owner or repository (or exactly this signer workflow), on the
	// public-good instance or GitHub's own.
	GitHub GitHubSpec
	// TrustedRoot is a sigstore trusted_root.json file; TUFMirror and
	// TUFRoot (a root.json file) a TUF repository to fetch it from. With
	// neither, the public-good instance's through TUF.
	TrustedRoot        string
	TUFMirror, TUFRoot string
	// TlogThreshold (0: 1) and TimestampThreshold (0: none) are the log
	// entries and RFC 3161 timestamps a signature must carry.
	TlogThreshold, TimestampThreshold int
	// InsecureIgnoreTlog and InsecureIgnoreSCT drop the log entry and the
	// certificate's SCT; both are reported as insecure.
	InsecureIgnoreTlog, InsecureIgnoreSCT bool
}

// GitHubSpec is `gh attestation verify`'s --owner, --repo and
// --signer-workflow.
type GitHubSpec struct {
	Owner, Repo, SignerWorkflow string
}

func (g GitHubSpec) set() bool { return g != GitHubSpec{} }

// The fields of a CosignSpec, as a SpecError names them: the trust
// policy's keys under cosign:.
const (
	FieldKey                = "key"
	FieldKeyValidFrom       = "keyValidFrom"
	FieldKeyValidUntil      = "keyValidUntil"
	FieldKeyless            = "keyless"
	FieldIssuer             = "keyless.issuer"
	FieldSubject            = "keyless.subject"
	FieldWorkflow           = "keyless.githubWorkflowRepository"
	FieldGitHub             = "github"
	FieldTrustedRoot        = "trustedRoot"
	FieldTUF                = "tuf"
	FieldTUFRoot            = "tuf.root"
	FieldTlogThreshold      = "tlogThreshold"
	FieldTimestampThreshold = "timestampThreshold"
)

// SpecError says which field of a CosignSpec is wrong and why. It wraps
// ErrPolicyInvalid (the spec contradicts itself) or ErrTrustMaterial (a
// file or trust root cannot be loaded), and the cause.
type SpecError struct {
	Field  string
	Reason string
	Err    error
	Cause  error
}

func (e *SpecError) Error() string {
	s := e.Field + ": " + e.Reason
	if e.Cause != nil {
		s += ": " + e.Cause.Error()
	}
	return s
}

func (e *SpecError) Unwrap() []error {
	if e.Cause == nil {
		return []error{e.Err}
	}
	return []error{e.Err, e.Cause}
}

func invalid(field, format string, args ...any) error {
	return &SpecError{Field: field, Reason: fmt.Sprintf(format, args...), Err: ErrPolicyInvalid}
}

// SpecEnv is what building a spec needs from its caller.
type SpecEnv struct {
	// Roots obtains Sigstore trust roots through TUF; nil allows only
	// trusted root files.
	Roots *sigstoreroot.Provider
	// ReadFile reads a file of trust material the spec names (bounded, and
	// recorded in the policy's trust digest); field is the spec's field.
	ReadFile func(field, file string) ([]byte, error)
	// Record records trust material obtained otherwise (a TUF target).
	Record func(name string, d digest.Digest)
	// Option names an option as the spec's source writes it, for the
	// insecure lines every result prints ("insecureIgnoreTlog" in a trust
	// policy, "--insecure-ignore-tlog" on a command line); nil keeps the
	// trust policy's names.
	Option func(name string) string
}

func (env SpecEnv) option(name string) string {
	if env.Option == nil {
		return name
	}
	return env.Option(name)
}

// Built is a built CosignSpec.
type Built struct {
	Authority   cosign.Authority
	Kind        AuthorityKind
	Description string
	// Insecure lists each check the spec dropped, as every result reports.
	Insecure []string
	// Warnings say how trust roots were obtained when a user should know
	// (offline, an embedded snapshot, an expired one).
	Warnings []string
}

// Build checks the spec and builds its authority: it reads the keys and
// trusted root files, and obtains the trust roots (a trusted root file, a
// TUF mirror, or the public-good instance, and GitHub's own instance for a
// GitHub identity) through env.
func (s CosignSpec) Build(ctx context.Context, env SpecEnv) (*Built, error) {
	b := &Built{}
	a := &b.Authority
	for _, file := range s.Keys {
		raw, err := env.ReadFile(FieldKey, file)
		if err != nil {
			return nil, err
		}
		pub, err := cosign.PEMPublicKey(raw)
		if err != nil {
			return nil, &SpecError{Field: FieldKey, Reason: file + " is not a PEM public key", Err: ErrTrustMaterial, Cause: err}
		}
		a.Keys = append(a.Keys, cosign.Key{Public: crypto.PublicKey(pub), ValidFrom: s.KeyValidFrom, ValidUntil: s.KeyValidUntil})
	}
	if len(s.Keys) == 0 && (!s.KeyValidFrom.IsZero() || !s.KeyValidUntil.IsZero()) {
		return nil, invalid(FieldKeyValidFrom, "a validity window needs a key")
	}
	if !s.KeyValidFrom.IsZero() && !s.KeyValidUntil.IsZero() && !s.KeyValidUntil.After(s.KeyValidFrom) {
		return nil, invalid(FieldKeyValidUntil, "is not after keyValidFrom")
	}
	if err := s.identity(a); err != nil {
		return nil, err
	}
	if len(a.Keys) > 0 && len(a.Identities) > 0 {
		return nil, invalid(FieldKeyless, "a cosign authority has a key or a keyless identity, not both; list two authorities for both")
	}
	if len(a.Keys) == 0 && len(a.Identities) == 0 {
		return nil, invalid(FieldKey, "say who may sign: a key, a keyless identity (issuer and subject), or a GitHub owner or repository")
	}
	b.Kind = KindCosignKey
	if len(a.Identities) > 0 {
		b.Kind = KindCosignKeyless
	}
	if err := s.roots(ctx, env, b); err != nil {
		return nil, err
	}
	b.Description = s.describe(b)
	return b, nil
}

func (s CosignSpec) identity(a *cosign.Authority) error {
	ext := certificate.Extensions{
		GithubWorkflowTrigger: s.GitHubWorkflowTrigger, GithubWorkflowSHA: s.GitHubWorkflowSHA,
		GithubWorkflowName: s.GitHubWorkflowName, GithubWorkflowRepository: s.GitHubWorkflowRepository,
		GithubWorkflowRef: s.GitHubWorkflowRef,
	}
	explicit := s.Issuer != "" || s.IssuerRegexp != "" || s.Subject != "" || s.SubjectRegexp != ""
	if s.GitHub.set() {
		if explicit {
			return invalid(FieldGitHub, "sets the issuer and subject itself; leave out issuer and subject")
		}
		id, err := cosign.GitHubIdentity(s.GitHub.Owner, s.GitHub.Repo, s.GitHub.SignerWorkflow)
		if err != nil {
			return &SpecError{Field: FieldGitHub, Reason: "cannot name a GitHub identity", Err: ErrPolicyInvalid, Cause: err}
		}
		id.Extensions = ext
		a.Identities = []cosign.Identity{id}
		return nil
	}
	if !explicit {
		if ext != (certificate.Extensions{}) {
			return invalid(FieldWorkflow, "GitHub workflow claims narrow a keyless identity; give the issuer and subject too")
		}
		return nil
	}
	for _, re := range []struct{ field, v string }{{FieldIssuer, s.IssuerRegexp}, {FieldSubject, s.SubjectRegexp}} {
		if _, err := regexp.Compile(re.v); err != nil {
			return &SpecError{Field: re.field + "RegExp", Reason: "is not a regular expression", Err: ErrPolicyInvalid, Cause: err}
		}
	}
	if (s.Issuer == "") == (s.IssuerRegexp == "") {
		return invalid(FieldIssuer, "needs exactly one of issuer and issuerRegExp")
	}
	if (s.Subject == "") == (s.SubjectRegexp == "") {
		return invalid(FieldSubject, "needs exactly one of subject and subjectRegExp")
	}
	a.Identities = []cosign.Identity{{Issuer: s.Issuer, IssuerRegexp: s.IssuerRegexp, SAN: s.Subject, SANRegexp: s.SubjectRegexp, Extensions: ext}}
	return nil
}

// roots obtains the trust roots and sets their thresholds.
func (s CosignSpec) roots(ctx context.Context, env SpecEnv, b *Built) error {
	if s.TlogThreshold < 0 || s.TimestampThreshold < 0 {
		return invalid(FieldTlogThreshold, "thresholds cannot be negative")
	}
	if s.InsecureIgnoreTlog && s.TlogThreshold > 0 {
		return invalid(FieldTlogThreshold, "contradicts insecureIgnoreTlog: true")
	}
	if s.TrustedRoot != "" && (s.TUFMirror != "" || s.TUFRoot != "") {
		return invalid(FieldTUF, "a trusted root file and a TUF mirror are two sources of the same material; give one")
	}
	if (s.TUFMirror == "") != (s.TUFRoot == "") {
		return invalid(FieldTUF, "a TUF mirror needs its initial root.json, and a root.json its mirror: give both")
	}
	if s.InsecureIgnoreSCT && b.Kind != KindCosignKeyless {
		return invalid(FieldKey, "insecureIgnoreSCT concerns keyless certificates, not keys")
	}
	custom := cosign.TrustedRoot{TlogThreshold: s.TlogThreshold, TimestampThreshold: s.TimestampThreshold,
		IgnoreTlogUnsafe: s.InsecureIgnoreTlog, IgnoreSCTUnsafe: s.InsecureIgnoreSCT}
	if s.InsecureIgnoreTlog {
		b.Insecure = append(b.Insecure, env.option("insecureIgnoreTlog")+": no transparency-log entry required")
	}
	if s.InsecureIgnoreSCT {
		b.Insecure = append(b.Insecure, env.option("insecureIgnoreSCT")+": certificates need no signed certificate timestamp")
	}
	needsRoot := b.Kind == KindCosignKeyless || !s.InsecureIgnoreTlog || s.TimestampThreshold > 0 || !s.KeyValidFrom.IsZero() || !s.KeyValidUntil.IsZero()
	switch {
	case s.TrustedRoot != "":
		raw, err := env.ReadFile(FieldTrustedRoot, s.TrustedRoot)
		if err != nil {
			return err
		}
		tr, err := root.NewTrustedRootFromJSON(raw)
		if err != nil {
			return &SpecError{Field: FieldTrustedRoot, Reason: s.TrustedRoot + " is not a sigstore trusted root", Err: ErrTrustMaterial, Cause: err}
		}
		custom.Name, custom.Material = filepath.Base(s.TrustedRoot), tr
		b.Authority.Roots = append(b.Authority.Roots, custom)
	case !needsRoot:
		// A key checked alone, offline: insecureIgnoreTlog says so.
	case env.Roots == nil:
		return invalid(FieldTrustedRoot, "needs a trusted root file (no TUF client here) for keyless identities and transparency-log or timestamp checks; for a key used offline, set insecureIgnoreTlog: true")
	case s.TUFMirror != "":
		anchor, err := env.ReadFile(FieldTUFRoot, s.TUFRoot)
		if err != nil {
			return err
		}
		r, err := env.Roots.Mirror(ctx, s.TUFMirror, anchor)
		if err != nil {
			return &SpecError{Field: FieldTUF, Reason: "cannot obtain the trusted root of " + s.TUFMirror, Err: ErrTrustMaterial, Cause: err}
		}
		custom.Name, custom.Material = r.Name, r.TrustedRoot
		b.Authority.Roots = append(b.Authority.Roots, custom)
		b.note(env, r)
	default:
		r, err := env.Roots.PublicGood(ctx)
		if err != nil {
			return &SpecError{Field: FieldTrustedRoot, Reason: "cannot obtain the public-good trusted root (give a trusted root file to verify without it)", Err: ErrTrustMaterial, Cause: err}
		}
		custom.Name, custom.Material = sigstoreroot.PublicGood, r.TrustedRoot
		b.Authority.Roots = append(b.Authority.Roots, custom)
		b.note(env, r)
	}
	if s.GitHub.set() && s.TrustedRoot == "" && s.TUFMirror == "" && env.Roots != nil {
		r, err := env.Roots.GitHub(ctx)
		switch {
		case errors.Is(err, sigstoreroot.ErrUnavailable):
			// Public-good attestations (public repositories) still verify;
			// say what cannot.
			b.Warnings = append(b.Warnings, fmt.Sprintf("GitHub's trust root is unavailable, so attestations signed by GitHub's own instance (private repositories) cannot verify: %v", err))
		case err != nil:
			return &SpecError{Field: FieldGitHub, Reason: "cannot obtain GitHub's trusted root (give a trusted root file to verify without it)", Err: ErrTrustMaterial, Cause: err}
		default:
			b.Authority.Roots = append(b.Authority.Roots, GitHubTrustedRoot(r.TrustedRoot))
			b.note(env, r)
		}
	}
	return nil
}

// GitHubTrustedRoot is GitHub's own Sigstore instance as `gh attestation
// verify` checks its signatures: its Fulcio logs to no CT log and its
// attestations to no Rekor; the signing time and its binding come from
// GitHub's timestamp authority, which must have stamped every signature.
func GitHubTrustedRoot(m root.TrustedMaterial) cosign.TrustedRoot {
	return cosign.TrustedRoot{Name: sigstoreroot.GitHub, Material: m, TimestampThreshold: 1, IgnoreTlogUnsafe: true, IgnoreSCTUnsafe: true}
}

func (b *Built) note(env SpecEnv, r *sigstoreroot.Root) {
	if env.Record != nil {
		env.Record("sigstore trusted root "+r.Name, r.Digest)
	}
	for _, w := range r.Warnings {
		b.Warnings = append(b.Warnings, r.Name+" trust root: "+w)
	}
}

func (s CosignSpec) describe(b *Built) string {
	var parts []string
	for i, k := range b.Authority.Keys {
		parts = append(parts, "key "+cosign.KeyID(k.Public)[:16]+" ("+s.Keys[i]+")")
	}
	for _, id := range b.Authority.Identities {
		parts = append(parts, "keyless "+orElse(id.SAN, id.SANRegexp)+" from "+orElse(id.Issuer, id.IssuerRegexp))
	}
	var roots []string
	for _, r := range b.Authority.Roots {
		roots = append(roots, r.Name)
	}
	d := "cosign " + strings.Join(parts, ", ")
	if len(roots) > 0 {
		d += " under " + strings.Join(roots, " or ")
	}
	return d
}

// errSpec reports whether err is a SpecError.
func errSpec(err error) (*SpecError, bool) {
	var se *SpecError
	ok := errors.As(err, &se)
	return se, ok
}
