package verify

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	"gopkg.in/yaml.v3"

	"github.com/wasmgate/wasmgate/attest"
	"github.com/wasmgate/wasmgate/evidence"
	"github.com/wasmgate/wasmgate/evidence/intoto"
	"github.com/wasmgate/wasmgate/evidence/notation"
	"github.com/wasmgate/wasmgate/internal/boundedio"
	"github.com/wasmgate/wasmgate/internal/yamlnode"
	"github.com/wasmgate/wasmgate/permissions"
	"github.com/wasmgate/wasmgate/sigstoreroot"
)

// LoadOptions shape LoadPolicy and ParsePolicy. The zero value reads
// Sigstore trusted roots only from the files a policy names.
type LoadOptions struct {
	// Roots obtains the Sigstore trusted roots a cosign authority needs
	// and names no file for (the public-good instance, GitHub's, a TUF
	// mirror) through TUF. nil makes trustedRoot required.
	Roots *sigstoreroot.Provider
}

// LoadPolicy reads the trust policy file at path and the trust material
// it names; relative paths in it are relative to the file's directory.
// Every error is a *PolicyError with the line of the offending field.
func LoadPolicy(ctx context.Context, path string, opts LoadOptions) (*Policy, error) {
	data, err := boundedio.ReadFile(path, MaxPolicyBytes)
	if errors.Is(err, boundedio.ErrTooLarge) {
		return nil, &PolicyError{File: path, Reason: fmt.Sprintf("larger than %d bytes", MaxPolicyBytes), Err: ErrPolicyInvalid}
	}
	if err != nil {
		return nil, &PolicyError{File: path, Reason: "cannot read", Err: ErrTrustMaterial, Cause: err}
	}
	return ParsePolicy(ctx, data, path, opts)
}

// ParsePolicy parses a trust policy and loads the trust material it
// names. file is the policy's path: relative paths in the policy are
// relative to its directory, and errors name it. It may be "" for a policy
// that names no files.
func ParsePolicy(ctx context.Context, data []byte, file string, opts LoadOptions) (*Policy, error) {
	p := &parser{ctx: ctx, opts: opts, file: file, dir: filepath.Dir(file), trust: map[string]digest.Digest{}}
	if file == "" {
		p.dir = "."
	}
	pol, err := p.parse(data)
	if err != nil {
		var ne *yamlnode.Error
		if errors.As(err, &ne) {
			sentinel := ErrPolicyInvalid
			switch ne.Kind {
			case yamlnode.Syntax:
				sentinel = ErrPolicySyntax
			case yamlnode.UnknownField:
				sentinel = ErrPolicyUnknownField
			}
			return nil, &PolicyError{File: file, Field: ne.Field, Line: ne.Line, Column: ne.Column, Reason: ne.Reason, Err: sentinel, Cause: ne.Cause}
		}
		var pe *PolicyError
		if errors.As(err, &pe) {
			pe.File = file
		}
		return nil, err
	}
	return pol, nil
}

type parser struct {
	// ctx bounds the trust roots obtained through TUF while parsing; the
	// parser lives for one call.
	ctx       context.Context
	opts      LoadOptions
	file, dir string
	// trust maps each trust material file read to its digest.
	trust map[string]digest.Digest
	// digestsNode is the layers.digests of the statement being parsed.
	digestsNode *yaml.Node
}

func (p *parser) parse(data []byte) (*Policy, error) {
	if len(data) > MaxPolicyBytes {
		return nil, &PolicyError{Reason: fmt.Sprintf("larger than %d bytes", MaxPolicyBytes), Err: ErrPolicyInvalid}
	}
	root, err := yamlnode.Document(data, "a trust policy")
	if err != nil {
		return nil, err
	}
	// A permission policy is the other file people pass by mistake (push
	// once took it as --policy, as verify takes this one); say so rather
	// than blame its keys.
	if n := permissionPolicyKey(root); n != nil {
		return nil, &PolicyError{Line: n.Line, Column: n.Column, Err: ErrPermissionPolicy,
			Reason: "this is a permission policy (permissions:), not a trust policy; a permission policy is packed into the artifact " +
				"(wasmgate push --permissions FILE) or names a local module's permissions (run --permissions FILE); " +
				"--policy wants a trust policy (version: v1, policies:)"}
	}
	f, err := yamlnode.Mapping(root, "", nil, "version", "policies")
	if err != nil {
		return nil, err
	}
	if v := f["version"]; v == nil {
		return nil, yamlnode.At(root, "version", yamlnode.Invalid, "is missing; write version: %s", PolicyVersion)
	} else if s, err := yamlnode.String(v, "version"); err != nil {
		return nil, err
	} else if s != PolicyVersion {
		return nil, yamlnode.At(v, "version", yamlnode.Invalid, "is %q; only %s is supported", yamlnode.Clip(s), PolicyVersion)
	}
	items, err := yamlnode.Sequence(orNull(f["policies"]), "policies")
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, yamlnode.At(root, "policies", yamlnode.Invalid, "at least one policy is required")
	}
	pol := &Policy{file: p.file, digest: digest.FromBytes(data)}
	names := map[string]int{}
	for i, n := range items {
		s, err := p.statement(n, yamlnode.Index("policies", i))
		if err != nil {
			return nil, err
		}
		if first, dup := names[s.Name]; dup {
			return nil, yamlnode.At(n, yamlnode.Index("policies", i)+".name", yamlnode.Invalid, "duplicate policy name %q (first at line %d)", s.Name, first)
		}
		names[s.Name] = s.Line
		pol.statements = append(pol.statements, s)
	}
	if err := checkScopes(pol.statements); err != nil {
		return nil, err
	}
	// What the checks above did with lines, once more for the whole.
	if err := pol.validate(); err != nil {
		return nil, err
	}
	pol.trustDigest = p.trustDigest()
	return pol, nil
}

// permissionPolicyKey returns the permissions key of a document that has
// one and no policies key: a permission policy given as a trust policy.
func permissionPolicyKey(root *yaml.Node) *yaml.Node {
	if root.Kind != yaml.MappingNode {
		return nil
	}
	var perms *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		switch k := root.Content[i]; {
		case k.Kind != yaml.ScalarNode:
		case k.Value == "policies":
			return nil
		case k.Value == "permissions":
			perms = k
		}
	}
	return perms
}

func orNull(n *yaml.Node) *yaml.Node {
	if n == nil {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null"}
	}
	return n
}

// namePattern is a name without its length limit (maxName): a counted
// repetition such as {0,63} compiles to 63 copies of the class, 860
// allocations at every start-up.
var namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// maxName is the longest name, in bytes (namePattern admits only ASCII).
const maxName = 64

// isName reports whether s is a name: a letter or digit, then letters,
// digits, '.', '_' and '-', at most maxName in all.
func isName(s string) bool { return len(s) <= maxName && namePattern.MatchString(s) }

func (p *parser) name(n *yaml.Node, at *yaml.Node, path string) (string, error) {
	if n == nil {
		return "", yamlnode.At(at, path, yamlnode.Invalid, "is required")
	}
	s, err := yamlnode.String(n, path)
	if err != nil {
		return "", err
	}
	if !isName(s) {
		return "", yamlnode.At(n, path, yamlnode.Invalid, "%q is not a name: letters, digits, '.', '_' and '-', at most 64", yamlnode.Clip(s))
	}
	return s, nil
}

func (p *parser) statement(n *yaml.Node, path string) (*Statement, error) {
	f, err := yamlnode.Mapping(n, path, nil, "name", "scopes", "artifacts", "platforms", "signatures", "attestations", "layouts", "layers", "requireDigest", "mode", "allowUnsigned", "permissionPolicy")
	if err != nil {
		return nil, err
	}
	s := &Statement{Line: n.Line, Mode: ModeEnforce}
	p.digestsNode = nil
	if s.Name, err = p.name(f["name"], n, yamlnode.Join(path, "name")); err != nil {
		return nil, err
	}
	scopes, err := yamlnode.Sequence(orNull(f["scopes"]), yamlnode.Join(path, "scopes"))
	if err != nil {
		return nil, err
	}
	if len(scopes) == 0 {
		return nil, yamlnode.At(n, yamlnode.Join(path, "scopes"), yamlnode.Invalid, `at least one scope is required ("registry/repository", "registry/prefix/*", "registry/prefix/**" or "*")`)
	}
	seen := map[string]bool{}
	for i, sn := range scopes {
		sp := yamlnode.Index(yamlnode.Join(path, "scopes"), i)
		v, err := yamlnode.String(sn, sp)
		if err != nil {
			return nil, err
		}
		if reason := checkPattern(v); reason != "" {
			return nil, yamlnode.At(sn, sp, yamlnode.Invalid, "%q %s", yamlnode.Clip(v), reason)
		}
		if seen[v] {
			return nil, yamlnode.At(sn, sp, yamlnode.Invalid, "%q is listed twice", v)
		}
		seen[v] = true
		s.Scopes = append(s.Scopes, v)
		s.scopeLines = append(s.scopeLines, [2]int{sn.Line, sn.Column})
	}
	if v := yamlnode.Present(f["signatures"]); v != nil {
		if err := p.signatures(s, v, yamlnode.Join(path, "signatures")); err != nil {
			return nil, err
		}
	}
	if v := yamlnode.Present(f["permissionPolicy"]); v != nil {
		if s.PermissionPolicy, err = p.permissionPolicy(s, v, yamlnode.Join(path, "permissionPolicy")); err != nil {
			return nil, err
		}
	}
	if v := yamlnode.Present(f["attestations"]); v != nil {
		items, err := yamlnode.Sequence(v, yamlnode.Join(path, "attestations"))
		if err != nil {
			return nil, err
		}
		for i, an := range items {
			r, err := p.attestation(s, an, yamlnode.Index(yamlnode.Join(path, "attestations"), i))
			if err != nil {
				return nil, err
			}
			s.Attestations = append(s.Attestations, r)
		}
	}
	if v := yamlnode.Present(f["layouts"]); v != nil {
		items, err := yamlnode.Sequence(v, yamlnode.Join(path, "layouts"))
		if err != nil {
			return nil, err
		}
		for i, ln := range items {
			lp := yamlnode.Index(yamlnode.Join(path, "layouts"), i)
			r, err := p.layout(ln, lp, i)
			if err != nil {
				return nil, err
			}
			for _, other := range s.Layouts {
				if other.Name == r.Name {
					return nil, yamlnode.At(ln, lp+".name", yamlnode.Invalid, "duplicate layout name %q", r.Name)
				}
			}
			s.Layouts = append(s.Layouts, r)
		}
	}
	s.Layers.MaxBytes = DefaultMaxLayerBytes
	if v := yamlnode.Present(f["layers"]); v != nil {
		if s.Layers, err = p.layers(v, yamlnode.Join(path, "layers")); err != nil {
			return nil, err
		}
	}
	if v := yamlnode.Present(f["requireDigest"]); v != nil {
		if s.RequireDigest, err = yamlnode.Bool(v, yamlnode.Join(path, "requireDigest")); err != nil {
			return nil, err
		}
	}
	if v := yamlnode.Present(f["allowUnsigned"]); v != nil {
		if s.AllowUnsignedUnsafe, err = yamlnode.Bool(v, yamlnode.Join(path, "allowUnsigned")); err != nil {
			return nil, err
		}
	}
	if v := yamlnode.Present(f["mode"]); v != nil {
		m, err := yamlnode.String(v, yamlnode.Join(path, "mode"))
		if err != nil {
			return nil, err
		}
		switch Mode(m) {
		case ModeEnforce, ModeWarn, ModeAudit:
			s.Mode = Mode(m)
		default:
			return nil, yamlnode.At(v, yamlnode.Join(path, "mode"), yamlnode.Invalid, "must be enforce, warn or audit, not %q", yamlnode.Clip(m))
		}
	}
	if err := p.subjectRules(s, f, n, path); err != nil {
		return nil, err
	}
	if !s.requiresEvidence() && !s.AllowUnsignedUnsafe {
		return nil, yamlnode.At(n, yamlnode.Join(path, "signatures"), yamlnode.Invalid,
			"requires no signature, no attestation and no layout, so an unsigned artifact would pass; add signatures, attestations or layouts, or say allowUnsigned: true")
	}
	return s, nil
}

// subjectRules parses artifacts and platforms, and checks them and
// layers.digests against each other, each error at its line.
func (p *parser) subjectRules(s *Statement, f map[string]*yaml.Node, n *yaml.Node, path string) error {
	if v := yamlnode.Present(f["artifacts"]); v != nil {
		ap := yamlnode.Join(path, "artifacts")
		items, err := yamlnode.Sequence(v, ap)
		if err != nil {
			return err
		}
		if len(items) == 0 {
			return yamlnode.At(v, ap, yamlnode.Invalid, "lists no kind: leave it out for [wasm], or list wasm, image, index, artifact or any")
		}
		for i, kn := range items {
			k, err := yamlnode.String(kn, yamlnode.Index(ap, i))
			if err != nil {
				return err
			}
			s.Artifacts = append(s.Artifacts, ArtifactKind(k))
			if j, reason := checkArtifacts(s.Artifacts); reason != "" {
				return yamlnode.At(items[j], yamlnode.Index(ap, j), yamlnode.Invalid, "%s", reason)
			}
		}
	}
	if v := yamlnode.Present(f["platforms"]); v != nil {
		pl, err := yamlnode.String(v, yamlnode.Join(path, "platforms"))
		if err != nil {
			return err
		}
		s.Platforms = Platforms(pl)
	}
	if field, reason := s.checkSubjectRules(); reason != "" {
		at := n
		switch field {
		case "platforms":
			at = f["platforms"]
		case "layers.digests":
			at = p.digestsNode
		}
		return yamlnode.At(at, yamlnode.Join(path, field), yamlnode.Invalid, "%s", reason)
	}
	return nil
}

func (p *parser) signatures(s *Statement, n *yaml.Node, path string) error {
	f, err := yamlnode.Mapping(n, path, nil, "threshold", "authorities")
	if err != nil {
		return err
	}
	items, err := yamlnode.Sequence(orNull(f["authorities"]), yamlnode.Join(path, "authorities"))
	if err != nil {
		return err
	}
	if len(items) == 0 {
		return yamlnode.At(n, yamlnode.Join(path, "authorities"), yamlnode.Invalid, "at least one authority is required; leave signatures out to require none")
	}
	for i, an := range items {
		ap := yamlnode.Index(yamlnode.Join(path, "authorities"), i)
		a, err := p.authority(an, ap)
		if err != nil {
			return err
		}
		if s.authority(a.Name) != nil {
			return yamlnode.At(an, ap+".name", yamlnode.Invalid, "duplicate authority name %q", a.Name)
		}
		s.Authorities = append(s.Authorities, a)
	}
	s.Threshold = 1
	if v := yamlnode.Present(f["threshold"]); v != nil {
		if s.Threshold, err = yamlnode.Int(v, yamlnode.Join(path, "threshold"), 1, 1<<20); err != nil {
			return err
		}
		if s.Threshold > len(s.Authorities) {
			return yamlnode.At(v, yamlnode.Join(path, "threshold"), yamlnode.Invalid, "is %d, but only %d authorities are listed: it could never be met", s.Threshold, len(s.Authorities))
		}
	}
	return nil
}

func (p *parser) authority(n *yaml.Node, path string) (*Authority, error) {
	f, err := yamlnode.Mapping(n, path, nil, "name", "cosign", "notation")
	if err != nil {
		return nil, err
	}
	a := &Authority{}
	if a.Name, err = p.name(f["name"], n, yamlnode.Join(path, "name")); err != nil {
		return nil, err
	}
	c, nt := yamlnode.Present(f["cosign"]), yamlnode.Present(f["notation"])
	switch {
	case c != nil && nt != nil:
		return nil, yamlnode.At(nt, yamlnode.Join(path, "notation"), yamlnode.Invalid, "an authority is either cosign or notation; list two authorities for both")
	case c != nil:
		return a, p.cosign(a, c, yamlnode.Join(path, "cosign"))
	case nt != nil:
		return a, p.notation(a, nt, yamlnode.Join(path, "notation"))
	}
	return nil, yamlnode.At(n, path, yamlnode.Invalid, "needs cosign: {key: ...} or {keyless: ...}, or notation: {trustPolicy: ..., trustStore: ...}")
}

func (p *parser) cosign(a *Authority, n *yaml.Node, path string) error {
	f, err := yamlnode.Mapping(n, path, nil, "key", "keyValidFrom", "keyValidUntil", "keyless", "github", "trustedRoot", "tuf",
		"tlogThreshold", "timestampThreshold", "insecureIgnoreTlog", "insecureIgnoreSCT")
	if err != nil {
		return err
	}
	var spec CosignSpec
	// nodes maps a spec field to its node, so that a SpecError points at
	// the line that caused it.
	nodes := map[string]*yaml.Node{"": n}
	str := func(field string, v *yaml.Node, dst *string) error {
		if v = yamlnode.Present(v); v == nil {
			return nil
		}
		nodes[field] = v
		var err error
		*dst, err = yamlnode.String(v, yamlnode.Join(path, field))
		return err
	}
	var key string
	if err := str(FieldKey, f["key"], &key); err != nil {
		return err
	}
	if key != "" {
		spec.Keys = []string{key}
	}
	for _, t := range []struct {
		field string
		dst   *time.Time
	}{{FieldKeyValidFrom, &spec.KeyValidFrom}, {FieldKeyValidUntil, &spec.KeyValidUntil}} {
		var s string
		if err := str(t.field, f[t.field], &s); err != nil {
			return err
		}
		if s == "" {
			continue
		}
		if *t.dst, err = time.Parse(time.RFC3339, s); err != nil {
			return yamlnode.At(nodes[t.field], yamlnode.Join(path, t.field), yamlnode.Invalid, "is not an RFC 3339 time (2026-01-02T15:04:05Z)")
		}
	}
	if kl := yamlnode.Present(f["keyless"]); kl != nil {
		nodes[FieldKeyless] = kl
		kp := yamlnode.Join(path, "keyless")
		kf, err := yamlnode.Mapping(kl, kp, nil, "trustedRoot", "issuer", "issuerRegExp", "subject", "subjectRegExp",
			"githubWorkflowTrigger", "githubWorkflowSha", "githubWorkflowName", "githubWorkflowRepository", "githubWorkflowRef")
		if err != nil {
			return err
		}
		for _, x := range []struct {
			key string
			dst *string
		}{{"issuer", &spec.Issuer}, {"issuerRegExp", &spec.IssuerRegexp}, {"subject", &spec.Subject}, {"subjectRegExp", &spec.SubjectRegexp},
			{"githubWorkflowTrigger", &spec.GitHubWorkflowTrigger}, {"githubWorkflowSha", &spec.GitHubWorkflowSHA},
			{"githubWorkflowName", &spec.GitHubWorkflowName}, {"githubWorkflowRepository", &spec.GitHubWorkflowRepository},
			{"githubWorkflowRef", &spec.GitHubWorkflowRef}} {
			if err := str("keyless."+x.key, kf[x.key], x.dst); err != nil {
				return err
			}
		}
		if r := yamlnode.Present(kf["trustedRoot"]); r != nil {
			if rn := yamlnode.Present(f["trustedRoot"]); rn != nil {
				return yamlnode.At(rn, yamlnode.Join(path, "trustedRoot"), yamlnode.Invalid, "is also set under keyless; set it once")
			}
			if err := str(FieldTrustedRoot, r, &spec.TrustedRoot); err != nil {
				return err
			}
		}
	}
	if gh := yamlnode.Present(f["github"]); gh != nil {
		nodes[FieldGitHub] = gh
		gf, err := yamlnode.Mapping(gh, yamlnode.Join(path, "github"), nil, "owner", "repo", "signerWorkflow")
		if err != nil {
			return err
		}
		for _, x := range []struct {
			key string
			dst *string
		}{{"owner", &spec.GitHub.Owner}, {"repo", &spec.GitHub.Repo}, {"signerWorkflow", &spec.GitHub.SignerWorkflow}} {
			if err := str("github."+x.key, gf[x.key], x.dst); err != nil {
				return err
			}
		}
		if !spec.GitHub.set() {
			return yamlnode.At(gh, yamlnode.Join(path, "github"), yamlnode.Invalid, "needs owner or repo (and optionally signerWorkflow)")
		}
	}
	if spec.TrustedRoot == "" {
		if err := str(FieldTrustedRoot, f["trustedRoot"], &spec.TrustedRoot); err != nil {
			return err
		}
	}
	if t := yamlnode.Present(f["tuf"]); t != nil {
		nodes[FieldTUF] = t
		tf, err := yamlnode.Mapping(t, yamlnode.Join(path, "tuf"), nil, "mirror", "root")
		if err != nil {
			return err
		}
		if err := str("tuf.mirror", tf["mirror"], &spec.TUFMirror); err != nil {
			return err
		}
		if err := str(FieldTUFRoot, tf["root"], &spec.TUFRoot); err != nil {
			return err
		}
	}
	for _, x := range []struct {
		key string
		min int
		dst *int
	}{{FieldTlogThreshold, 1, &spec.TlogThreshold}, {FieldTimestampThreshold, 0, &spec.TimestampThreshold}} {
		if v := yamlnode.Present(f[x.key]); v != nil {
			nodes[x.key] = v
			if *x.dst, err = yamlnode.Int(v, yamlnode.Join(path, x.key), x.min, 16); err != nil {
				return err
			}
		}
	}
	for _, x := range []struct {
		key string
		dst *bool
	}{{"insecureIgnoreTlog", &spec.InsecureIgnoreTlog}, {"insecureIgnoreSCT", &spec.InsecureIgnoreSCT}} {
		if v := yamlnode.Present(f[x.key]); v != nil {
			nodes[x.key] = v
			if *x.dst, err = yamlnode.Bool(v, yamlnode.Join(path, x.key)); err != nil {
				return err
			}
		}
	}
	built, err := spec.Build(p.ctx, SpecEnv{
		Roots: p.opts.Roots,
		ReadFile: func(field, file string) ([]byte, error) {
			return p.read(nodes[field], yamlnode.Join(path, field), file)
		},
		Record: func(name string, d digest.Digest) { p.trust[name] = d },
	})
	if err != nil {
		se, ok := errSpec(err)
		if !ok {
			return err
		}
		at := nodes[se.Field]
		if at == nil {
			at = n
		}
		if errors.Is(err, ErrPolicyInvalid) {
			return yamlnode.At(at, yamlnode.Join(path, se.Field), yamlnode.Invalid, "%s", strings.TrimPrefix(se.Error(), se.Field+": "))
		}
		return p.materialError(at, yamlnode.Join(path, se.Field), se.Reason, se.Cause)
	}
	a.Kind, a.Cosign, a.Description = built.Kind, &built.Authority, built.Description
	for _, w := range built.Insecure {
		a.Insecure = append(a.Insecure, a.Name+": "+w)
	}
	a.Warnings = built.Warnings
	return nil
}

func (p *parser) notation(a *Authority, n *yaml.Node, path string) error {
	f, err := yamlnode.Mapping(n, path, nil, "trustPolicy", "trustStore", "scope", "userMetadata")
	if err != nil {
		return err
	}
	a.Kind = KindNotation
	na := &NotationAuthority{}
	a.Notation = na
	var files [2]string
	for i, key := range []string{"trustPolicy", "trustStore"} {
		v := f[key]
		if yamlnode.Present(v) == nil {
			return yamlnode.At(n, yamlnode.Join(path, key), yamlnode.Invalid, "is required")
		}
		s, err := yamlnode.String(v, yamlnode.Join(path, key))
		if err != nil {
			return err
		}
		files[i] = p.resolve(s)
	}
	if err := p.hashTree(f["trustPolicy"], yamlnode.Join(path, "trustPolicy"), files[0]); err != nil {
		return err
	}
	if err := p.hashTree(f["trustStore"], yamlnode.Join(path, "trustStore"), files[1]); err != nil {
		return err
	}
	if na.Trust, err = notation.LoadTrust(files[0], files[1]); err != nil {
		return p.materialError(f["trustPolicy"], yamlnode.Join(path, "trustPolicy"), "cannot load the Notation trust policy and store", err)
	}
	if na.Scope, err = yamlnode.OptString(f["scope"], yamlnode.Join(path, "scope")); err != nil {
		return err
	}
	if v := yamlnode.Present(f["userMetadata"]); v != nil {
		mp := yamlnode.Join(path, "userMetadata")
		if v.Kind != yaml.MappingNode {
			return yamlnode.At(v, mp, yamlnode.Invalid, "must be a mapping of key: value, not %s", yamlnode.Describe(v))
		}
		na.UserMetadata = map[string]string{}
		for i := 0; i+1 < len(v.Content); i += 2 {
			k, err := yamlnode.String(v.Content[i], mp)
			if err != nil {
				return err
			}
			if na.UserMetadata[k], err = yamlnode.String(v.Content[i+1], yamlnode.Join(mp, k)); err != nil {
				return err
			}
		}
	}
	a.Description = "notation trust policy " + filepath.Base(files[0])
	return nil
}

func (p *parser) attestation(s *Statement, n *yaml.Node, path string) (*AttestationRule, error) {
	f, err := yamlnode.Mapping(n, path, nil, "predicateType", "signedBy", "conditions", "maxAge", "minCount")
	if err != nil {
		return nil, err
	}
	r := &AttestationRule{MinCount: 1}
	if yamlnode.Present(f["predicateType"]) == nil {
		return nil, yamlnode.At(n, yamlnode.Join(path, "predicateType"), yamlnode.Invalid, "is required (a URI, or a cosign short name such as slsaprovenance1)")
	}
	if r.PredicateType, err = yamlnode.String(f["predicateType"], yamlnode.Join(path, "predicateType")); err != nil {
		return nil, err
	}
	r.PredicateType = evidence.PredicateTypeURI(r.PredicateType)
	if v := yamlnode.Present(f["signedBy"]); v != nil {
		items, err := yamlnode.Sequence(v, yamlnode.Join(path, "signedBy"))
		if err != nil {
			return nil, err
		}
		for i, sn := range items {
			sp := yamlnode.Index(yamlnode.Join(path, "signedBy"), i)
			name, err := yamlnode.String(sn, sp)
			if err != nil {
				return nil, err
			}
			if s.authority(name) == nil {
				return nil, yamlnode.At(sn, sp, yamlnode.Invalid, "%q is not an authority of this policy (list it under signatures.authorities)", yamlnode.Clip(name))
			}
			r.SignedBy = append(r.SignedBy, name)
		}
	}
	if len(r.SignedBy) == 0 {
		if len(s.Authorities) == 0 {
			return nil, yamlnode.At(n, path, yamlnode.Invalid, "an attestation must be signed by someone: add signatures.authorities (signatures.threshold may then be left at 1)")
		}
		for _, a := range s.Authorities {
			r.SignedBy = append(r.SignedBy, a.Name)
		}
	}
	if v := yamlnode.Present(f["conditions"]); v != nil {
		items, err := yamlnode.Sequence(v, yamlnode.Join(path, "conditions"))
		if err != nil {
			return nil, err
		}
		for i, cn := range items {
			cp := yamlnode.Index(yamlnode.Join(path, "conditions"), i)
			src, err := yamlnode.String(cn, cp)
			if err != nil {
				return nil, err
			}
			c, err := attest.Compile(src)
			if err != nil {
				return nil, &PolicyError{Field: cp, Line: cn.Line, Column: cn.Column, Reason: "CEL condition does not compile", Err: ErrPolicyInvalid, Cause: err}
			}
			r.Conditions = append(r.Conditions, c)
		}
	}
	if v := yamlnode.Present(f["maxAge"]); v != nil {
		ms, err := yamlnode.String(v, yamlnode.Join(path, "maxAge"))
		if err != nil {
			return nil, err
		}
		if r.MaxAge, err = time.ParseDuration(ms); err != nil || r.MaxAge <= 0 {
			return nil, yamlnode.At(v, yamlnode.Join(path, "maxAge"), yamlnode.Invalid, "must be a positive Go duration such as 720h, not %q", yamlnode.Clip(ms))
		}
	}
	if v := yamlnode.Present(f["minCount"]); v != nil {
		if r.MinCount, err = yamlnode.Int(v, yamlnode.Join(path, "minCount"), 1, 32); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// permissionPolicy parses who may sign a policy referrer: signedBy names
// authorities of signatures.authorities or of its own authorities, which
// sign policies only.
func (p *parser) permissionPolicy(s *Statement, n *yaml.Node, path string) (*PermissionPolicyRule, error) {
	f, err := yamlnode.Mapping(n, path, nil, "signedBy", "authorities")
	if err != nil {
		return nil, err
	}
	r := &PermissionPolicyRule{}
	if v := yamlnode.Present(f["authorities"]); v != nil {
		items, err := yamlnode.Sequence(v, yamlnode.Join(path, "authorities"))
		if err != nil {
			return nil, err
		}
		for i, an := range items {
			ap := yamlnode.Index(yamlnode.Join(path, "authorities"), i)
			a, err := p.authority(an, ap)
			if err != nil {
				return nil, err
			}
			if s.policyAuthority(a.Name) != nil || slices.ContainsFunc(r.Authorities, func(o *Authority) bool { return o.Name == a.Name }) {
				return nil, yamlnode.At(an, ap+".name", yamlnode.Invalid, "duplicate authority name %q", a.Name)
			}
			r.Authorities = append(r.Authorities, a)
		}
	}
	sp := yamlnode.Join(path, "signedBy")
	if yamlnode.Present(f["signedBy"]) == nil {
		return nil, yamlnode.At(n, sp, yamlnode.Invalid, "is required: name the authorities (of signatures.authorities or permissionPolicy.authorities) whose signature makes a policy referrer count")
	}
	items, err := yamlnode.Sequence(f["signedBy"], sp)
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, yamlnode.At(f["signedBy"], sp, yamlnode.Invalid, "names no authority: list at least one, or leave permissionPolicy out to read no policy referrer")
	}
	for i, sn := range items {
		ip := yamlnode.Index(sp, i)
		name, err := yamlnode.String(sn, ip)
		if err != nil {
			return nil, err
		}
		own := slices.ContainsFunc(r.Authorities, func(o *Authority) bool { return o.Name == name })
		if s.authority(name) == nil && !own {
			return nil, yamlnode.At(sn, ip, yamlnode.Invalid, "%q is not an authority of this policy (list it under signatures.authorities, or permissionPolicy.authorities for one that signs policies only)", yamlnode.Clip(name))
		}
		if slices.Contains(r.SignedBy, name) {
			return nil, yamlnode.At(sn, ip, yamlnode.Invalid, "%q is listed twice", yamlnode.Clip(name))
		}
		r.SignedBy = append(r.SignedBy, name)
	}
	return r, nil
}

// layout parses one required in-toto layout, the i-th of its statement,
// and loads its owner keys.
func (p *parser) layout(n *yaml.Node, path string, i int) (*LayoutRule, error) {
	f, err := yamlnode.Mapping(n, path, nil, "name", "keys", "product")
	if err != nil {
		return nil, err
	}
	r := &LayoutRule{Name: layoutLabel(i), Product: ProductWasm}
	if yamlnode.Present(f["name"]) != nil {
		if r.Name, err = p.name(f["name"], n, yamlnode.Join(path, "name")); err != nil {
			return nil, err
		}
	}
	keys, err := yamlnode.Sequence(orNull(f["keys"]), yamlnode.Join(path, "keys"))
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		return nil, yamlnode.At(n, yamlnode.Join(path, "keys"), yamlnode.Invalid, "at least one layout owner key is required (a PEM public key file)")
	}
	ids := map[string]bool{}
	for j, kn := range keys {
		kp := yamlnode.Index(yamlnode.Join(path, "keys"), j)
		file, err := yamlnode.String(kn, kp)
		if err != nil {
			return nil, err
		}
		raw, err := p.read(kn, kp, file)
		if err != nil {
			return nil, err
		}
		k, err := intoto.ParseKey(raw)
		if err != nil {
			return nil, p.materialError(kn, kp, file+" is not an in-toto layout key (a PEM public key or certificate)", err)
		}
		if ids[k.KeyID] {
			return nil, yamlnode.At(kn, kp, yamlnode.Invalid, "%s is the key %.8s listed before", yamlnode.Clip(file), k.KeyID)
		}
		ids[k.KeyID] = true
		r.Keys = append(r.Keys, k)
	}
	if v := yamlnode.Present(f["product"]); v != nil {
		s, err := yamlnode.String(v, yamlnode.Join(path, "product"))
		if err != nil {
			return nil, err
		}
		switch LayoutProduct(s) {
		case ProductWasm, ProductManifest:
			r.Product = LayoutProduct(s)
		default:
			return nil, yamlnode.At(v, yamlnode.Join(path, "product"), yamlnode.Invalid,
				"must be wasm (the wasm layer's digest) or manifest (the manifest's), not %q", yamlnode.Clip(s))
		}
	}
	return r, nil
}

func (p *parser) layers(n *yaml.Node, path string) (LayerRules, error) {
	l := LayerRules{MaxBytes: DefaultMaxLayerBytes}
	f, err := yamlnode.Mapping(n, path, nil, "requirePolicy", "allowUnknown", "maxBytes", "digests")
	if err != nil {
		return l, err
	}
	p.digestsNode = nil
	if v := yamlnode.Present(f["digests"]); v != nil {
		p.digestsNode = v
		d, err := yamlnode.String(v, yamlnode.Join(path, "digests"))
		if err != nil {
			return l, err
		}
		switch d {
		case "check":
		case "skip":
			l.SkipDigestsUnsafe = true
		default:
			return l, yamlnode.At(v, yamlnode.Join(path, "digests"), yamlnode.Invalid, "must be check (the default) or skip, not %q", yamlnode.Clip(d))
		}
	}
	if v := yamlnode.Present(f["requirePolicy"]); v != nil {
		if l.RequirePolicy, err = yamlnode.Bool(v, yamlnode.Join(path, "requirePolicy")); err != nil {
			return l, err
		}
	}
	if v := yamlnode.Present(f["allowUnknown"]); v != nil {
		if l.AllowUnknown, err = yamlnode.Bool(v, yamlnode.Join(path, "allowUnknown")); err != nil {
			return l, err
		}
	}
	if v := yamlnode.Present(f["maxBytes"]); v != nil {
		mp := yamlnode.Join(path, "maxBytes")
		if v.Kind != yaml.ScalarNode || (v.ShortTag() != "!!str" && v.ShortTag() != "!!int") {
			return l, yamlnode.At(v, mp, yamlnode.Invalid, "must be a size such as 64Mi, not %s", yamlnode.Describe(v))
		}
		b, err := permissions.ParseBytes(v.Value)
		if err != nil || b > 1<<40 {
			return l, yamlnode.At(v, mp, yamlnode.Invalid, "must be a size from 1 byte to 1Ti, such as 64Mi, not %q", yamlnode.Clip(v.Value))
		}
		l.MaxBytes = int64(b)
	}
	return l, nil
}

// resolve makes a policy-relative path usable.
func (p *parser) resolve(file string) string {
	if filepath.IsAbs(file) {
		return file
	}
	return filepath.Join(p.dir, file)
}

// read reads one file of trust material, bounded, and records its digest.
func (p *parser) read(n *yaml.Node, field, file string) ([]byte, error) {
	path := p.resolve(file)
	raw, err := boundedio.ReadFile(path, maxTrustFileBytes)
	if errors.Is(err, boundedio.ErrTooLarge) {
		return nil, p.materialError(n, field, fmt.Sprintf("%s is larger than %d bytes", file, maxTrustFileBytes), nil)
	}
	if err != nil {
		return nil, p.materialError(n, field, "cannot read "+file, err)
	}
	p.trust[path] = digest.FromBytes(raw)
	return raw, nil
}

// hashTree records the digest of every regular file under path (a file
// or a directory), so that TrustDigest changes when a Notation trust
// store does. Bounded: a store of more than maxTrustFiles files is refused.
func (p *parser) hashTree(n *yaml.Node, field, path string) error {
	const maxTrustFiles = 1024
	count := 0
	err := filepath.WalkDir(path, func(file string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		if count++; count > maxTrustFiles {
			return fmt.Errorf("more than %d files", maxTrustFiles)
		}
		f, err := os.Open(file)
		if err != nil {
			return err
		}
		defer f.Close()
		h := sha256.New()
		n, err := io.Copy(h, io.LimitReader(f, maxTrustFileBytes+1))
		if err != nil {
			return err
		}
		if n > maxTrustFileBytes {
			return fmt.Errorf("%s is larger than %d bytes", file, maxTrustFileBytes)
		}
		p.trust[file] = digest.NewDigest(digest.SHA256, h)
		return nil
	})
	if err != nil {
		return p.materialError(n, field, "cannot read "+path, err)
	}
	return nil
}

func (p *parser) materialError(n *yaml.Node, field, reason string, cause error) error {
	e := &PolicyError{Field: field, Reason: reason, Err: ErrTrustMaterial, Cause: cause}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	return e
}

// trustDigest is the digest of "path digest" lines of every trust file
// read, sorted: what a verdict depends on besides the policy text.
func (p *parser) trustDigest() digest.Digest {
	lines := make([]string, 0, len(p.trust))
	for path, d := range p.trust {
		rel, err := filepath.Rel(p.dir, path)
		if err != nil {
			rel = path
		}
		lines = append(lines, filepath.ToSlash(rel)+" "+d.String()+"\n")
	}
	sort.Strings(lines)
	return digest.FromString(strings.Join(lines, ""))
}

func orElse(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
