package verify

import (
	"fmt"
	"maps"
	"slices"

	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/internal/yamlnode"
)

// NewPolicy builds a policy from statements made in Go, as LoadPolicy builds
// one from a file: the statements are copied (changing them afterwards
// changes nothing) and validated as a whole. An invalid statement is a
// *PolicyError wrapping ErrPolicyInvalid that names its field, e.g.
// "policies[0].signatures.threshold".
//
// Zero fields take the file format's defaults: Mode enforce, Layers.MaxBytes
// DefaultMaxLayerBytes, an attestation's MinCount 1 and, with no SignedBy,
// every authority of the statement; a layout's Name its place
// ("layouts[i]") and its Product ProductWasm. A statement that requires no
// signature and no attestation is refused unless AllowUnsignedUnsafe says
// so.
func NewPolicy(statements ...Statement) (*Policy, error) {
	p := &Policy{}
	for i := range statements {
		s := statements[i].clone()
		s.defaults()
		p.statements = append(p.statements, &s)
	}
	if err := p.validate(); err != nil {
		return nil, err
	}
	return p, nil
}

func (s *Statement) defaults() {
	if s.Mode == "" {
		s.Mode = ModeEnforce
	}
	if s.Layers.MaxBytes == 0 {
		s.Layers.MaxBytes = DefaultMaxLayerBytes
	}
	for i, r := range s.Layouts {
		if r == nil {
			continue // refused by validate
		}
		if r.Name == "" {
			r.Name = layoutLabel(i)
		}
		if r.Product == "" {
			r.Product = ProductWasm
		}
	}
	for _, r := range s.Attestations {
		if r.MinCount == 0 {
			r.MinCount = 1
		}
		if len(r.SignedBy) == 0 {
			for _, a := range s.Authorities {
				r.SignedBy = append(r.SignedBy, a.Name)
			}
		}
	}
}

// layoutLabel is the name of a layout requirement that has none: its
// place in the statement, which no name can be.
func layoutLabel(i int) string { return yamlnode.Index("layouts", i) }

// validate checks what the file format guarantees, for statements from
// any source: the parser has refused most of it already, with lines.
func (p *Policy) validate() error {
	if len(p.statements) == 0 {
		return &PolicyError{Field: "policies", Reason: "at least one statement is required", Err: ErrPolicyInvalid}
	}
	names := map[string]bool{}
	for i, s := range p.statements {
		at := yamlnode.Index("policies", i)
		bad := func(field, format string, args ...any) error {
			return &PolicyError{Field: yamlnode.Join(at, field), Line: s.Line, Reason: fmt.Sprintf(format, args...), Err: ErrPolicyInvalid}
		}
		if !isName(s.Name) {
			return bad("name", "%q is not a name: letters, digits, '.', '_' and '-', at most 64", s.Name)
		}
		if names[s.Name] {
			return bad("name", "duplicate policy name %q", s.Name)
		}
		names[s.Name] = true
		if len(s.Scopes) == 0 {
			return bad("scopes", "at least one scope is required")
		}
		for j, sc := range s.Scopes {
			if reason := checkPattern(sc); reason != "" {
				return bad(yamlnode.Index("scopes", j), "%q %s", sc, reason)
			}
			if slices.Index(s.Scopes, sc) != j {
				return bad(yamlnode.Index("scopes", j), "%q is listed twice", sc)
			}
		}
		switch s.Mode {
		case ModeEnforce, ModeWarn, ModeAudit:
		default:
			return bad("mode", "must be enforce, warn or audit, not %q", s.Mode)
		}
		if s.Layers.MaxBytes < 0 {
			return bad("layers.maxBytes", "cannot be negative")
		}
		if j, reason := checkArtifacts(s.Artifacts); reason != "" {
			return bad(yamlnode.Index("artifacts", j), "%s", reason)
		}
		if field, reason := s.checkSubjectRules(); reason != "" {
			return bad(field, "%s", reason)
		}
		if err := s.validateEvidence(bad); err != nil {
			return err
		}
	}
	return checkScopes(p.statements)
}

func (s *Statement) validateEvidence(bad func(field, format string, args ...any) error) error {
	authorities := map[string]bool{}
	for i, a := range s.Authorities {
		if err := validateAuthority(bad, yamlnode.Index("signatures.authorities", i), a, authorities); err != nil {
			return err
		}
	}
	if s.Threshold < 0 || s.Threshold > len(s.Authorities) {
		return bad("signatures.threshold", "is %d, but %d authorities are listed: it could never be met", s.Threshold, len(s.Authorities))
	}
	for i, r := range s.Attestations {
		field := yamlnode.Index("attestations", i)
		switch {
		case r == nil:
			return bad(field, "is nil")
		case r.PredicateType == "":
			return bad(field+".predicateType", "is required")
		case r.MinCount < 1:
			return bad(field+".minCount", "must be at least 1")
		case r.MaxAge < 0:
			return bad(field+".maxAge", "cannot be negative")
		case len(r.SignedBy) == 0:
			return bad(field+".signedBy", "names no authority: list the authorities whose signature counts")
		}
		for _, name := range r.SignedBy {
			if !authorities[name] {
				return bad(field+".signedBy", "names %q, which is not an authority of this policy", name)
			}
		}
	}
	if err := s.validatePermissionPolicy(bad, authorities); err != nil {
		return err
	}
	layouts := map[string]bool{}
	for i, r := range s.Layouts {
		field := yamlnode.Index("layouts", i)
		switch {
		case r == nil:
			return bad(field, "is nil")
		case r.Name != layoutLabel(i) && !isName(r.Name):
			return bad(field+".name", "%q is not a name: letters, digits, '.', '_' and '-', at most 64", r.Name)
		case layouts[r.Name]:
			return bad(field+".name", "duplicate layout name %q", r.Name)
		case len(r.Keys) == 0:
			return bad(field+".keys", "at least one layout owner key is required")
		}
		layouts[r.Name] = true
		switch r.Product {
		case ProductWasm, ProductManifest:
		default:
			return bad(field+".product", "must be wasm or manifest, not %q", r.Product)
		}
		ids := map[string]bool{}
		for j, k := range r.Keys {
			switch {
			case k.KeyID == "" || k.KeyVal.Public == "":
				return bad(yamlnode.Index(field+".keys", j), "is not a public key: load it with intoto.ParseKey")
			case k.KeyVal.Private != "":
				return bad(yamlnode.Index(field+".keys", j), "is a private key: name the layout owner's public key")
			case ids[k.KeyID]:
				return bad(yamlnode.Index(field+".keys", j), "key %s is listed twice", k.KeyID)
			}
			ids[k.KeyID] = true
		}
	}
	if !s.requiresEvidence() && !s.AllowUnsignedUnsafe {
		return bad("signatures", "requires no signature, no attestation and no layout, so an unsigned artifact would pass; "+
			"add signatures, attestations or layouts, or say allowUnsigned: true")
	}
	return nil
}

// checkArtifacts returns the place and the reason of the first artifact
// kind that is not one, or listed twice, or beside any; "" when all are good.
func checkArtifacts(kinds []ArtifactKind) (int, string) {
	for i, k := range kinds {
		switch {
		case !slices.Contains(ArtifactKinds(), k):
			return i, fmt.Sprintf("%q is not a kind of artifact: wasm, image, index, artifact or any", string(k))
		case slices.Index(kinds, k) != i:
			return i, fmt.Sprintf("%q is listed twice", string(k))
		case k == ArtifactAny && len(kinds) > 1:
			return i, "any accepts every kind: list it alone"
		}
	}
	return 0, ""
}

// checkSubjectRules checks that platforms and layers.digests say something
// the statement's artifacts can use: the field it blames and why, or "".
func (s *Statement) checkSubjectRules() (field, reason string) {
	switch s.Platforms {
	case "", PlatformsIndex:
	case PlatformsEach:
		if !s.accepts(artifact.SubjectIndex) {
			return "platforms", "each checks the platform manifests of an image index, and artifacts " + s.artifactsText() + " accepts no index: add index (or any) to artifacts"
		}
		if s.Threshold == 0 {
			return "platforms", "each checks each platform manifest's signatures, and the statement requires none: set signatures.threshold"
		}
	default:
		return "platforms", fmt.Sprintf("must be index or each, not %q", string(s.Platforms))
	}
	if s.Layers.SkipDigestsUnsafe && !s.acceptsOther() {
		return "layers.digests", "skip applies to subjects that are not wasm (a wasm artifact's layers are always checked), and artifacts " + s.artifactsText() + " accepts only wasm: add the kinds to artifacts, or leave digests out"
	}
	return "", ""
}

// validateAuthority checks one authority and records its name in seen.
func validateAuthority(bad func(field, format string, args ...any) error, field string, a *Authority, seen map[string]bool) error {
	switch {
	case a == nil:
		return bad(field, "is nil")
	case !isName(a.Name):
		return bad(field+".name", "%q is not a name", a.Name)
	case seen[a.Name]:
		return bad(field+".name", "duplicate authority name %q", a.Name)
	}
	seen[a.Name] = true
	switch a.Kind {
	case KindCosignKey, KindCosignKeyless:
		if a.Cosign == nil || a.Notation != nil {
			return bad(field, "a %s authority needs Cosign, and only that", a.Kind)
		}
		if err := a.Cosign.Validate(); err != nil {
			return bad(field+".cosign", "%v", err)
		}
	case KindNotation:
		if a.Notation == nil || a.Notation.Trust == nil || a.Cosign != nil {
			return bad(field, "a notation authority needs Notation with its trust policy and store, and only that")
		}
	default:
		return bad(field, "unknown kind %q", a.Kind)
	}
	return nil
}

// validatePermissionPolicy checks the permission policy rule: its own
// authorities (named apart from the statement's) and SignedBy, which
// names at least one of either.
func (s *Statement) validatePermissionPolicy(bad func(field, format string, args ...any) error, statement map[string]bool) error {
	r := s.PermissionPolicy
	if r == nil {
		return nil
	}
	names := maps.Clone(statement)
	for i, a := range r.Authorities {
		if err := validateAuthority(bad, yamlnode.Index("permissionPolicy.authorities", i), a, names); err != nil {
			return err
		}
	}
	if len(r.SignedBy) == 0 {
		return bad("permissionPolicy.signedBy", "names no authority: list the authorities whose signature makes a policy referrer count")
	}
	for _, name := range r.SignedBy {
		if !names[name] {
			return bad("permissionPolicy.signedBy", "names %q, which is not an authority of this policy", name)
		}
	}
	return nil
}
