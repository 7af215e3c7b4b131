package verify

import (
	"fmt"
	"strings"

	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/evidence/cosign"
)

// Explain says in words what the policy requires, statement by statement,
// with warnings for what it lets through: what `wasmgate policy lint`
// prints.
func (p *Policy) Explain() string {
	var b strings.Builder
	for i, s := range p.statements {
		if i > 0 {
			b.WriteString("\n")
		}
		s.explain(&b)
	}
	b.WriteString("\nA repository that no scope matches is denied.\n")
	return b.String()
}

func (s *Statement) explain(b *strings.Builder) {
	fmt.Fprintf(b, "policy %s (line %d), mode %s\n", s.Name, s.Line, s.Mode)
	switch s.Mode {
	case ModeWarn:
		b.WriteString("  ! warn mode: a denied artifact passes, with a warning\n")
	case ModeAudit:
		b.WriteString("  ! audit mode: a denied artifact passes; only the report records it\n")
	}
	b.WriteString("  applies to:\n")
	for _, sc := range s.Scopes {
		fmt.Fprintf(b, "    %s: %s\n", sc, scopeWords(sc))
	}
	if s.RequireDigest {
		b.WriteString("  the reference must be pinned by digest (name@sha256:...)\n")
	}
	if s.wasmOnly() {
		b.WriteString("  artifacts: wasm artifacts only; any other subject is denied\n")
	} else {
		fmt.Fprintf(b, "  artifacts: %s; the wasm rules below apply to wasm artifacts\n", s.artifactsText())
	}
	if s.accepts(artifact.SubjectIndex) {
		if s.Platforms == PlatformsEach {
			fmt.Fprintf(b, "  an image index and each of its platform manifests (at most %d) must carry the signatures\n", MaxPlatforms)
		} else {
			b.WriteString("  an image index must carry the signatures itself; its platform manifests are not checked\n")
		}
	}
	fmt.Fprintf(b, "  the manifest and every layer digest are checked; each layer at most %s\n", bytesWords(s.Layers.MaxBytes))
	if s.Layers.SkipDigestsUnsafe {
		b.WriteString("  ! insecure: layers.digests: skip: the layers of a subject that is not wasm are not read\n")
	}
	switch {
	case s.PermissionPolicy != nil && s.Layers.RequirePolicy:
		b.WriteString("  a permission policy is required: the artifact's policy layer, or a policy referrer signed by " + strings.Join(s.PermissionPolicy.SignedBy, " or ") + "\n")
	case s.PermissionPolicy != nil:
		b.WriteString("  the permission policy is the artifact's policy layer, or a policy referrer signed by " + strings.Join(s.PermissionPolicy.SignedBy, " or ") + "\n")
	case s.Layers.RequirePolicy:
		b.WriteString("  a permission policy layer is required\n")
	}
	if s.PermissionPolicy != nil {
		for _, a := range s.PermissionPolicy.Authorities {
			fmt.Fprintf(b, "    - %s (signs permission policies only): %s\n", a.Name, a.Description)
			for _, w := range a.Insecure {
				fmt.Fprintf(b, "      ! insecure: %s\n", w)
			}
		}
	}
	if !s.Layers.AllowUnknown {
		b.WriteString("  layers other than wasm and its policy are refused\n")
	}
	switch {
	case !s.requiresEvidence():
		b.WriteString("  ! insecure: allowUnsigned: no signature and no attestation is required; unsigned artifacts pass this policy\n")
	case s.Threshold == 0 && len(s.Authorities) == 0:
		b.WriteString("  no signature of the artifact itself is required\n")
	case s.Threshold == 0:
		b.WriteString("  no signature of the artifact itself is required; the authorities below sign its attestations:\n")
	default:
		if s.Threshold == len(s.Authorities) {
			fmt.Fprintf(b, "  signatures: every one of these %d authorities must have signed:\n", len(s.Authorities))
		} else {
			fmt.Fprintf(b, "  signatures: at least %d of these %d authorities must have signed:\n", s.Threshold, len(s.Authorities))
		}
	}
	for _, a := range s.Authorities {
		fmt.Fprintf(b, "    - %s: %s", a.Name, a.Description)
		if c := a.Cosign; c != nil {
			for _, r := range c.Roots {
				fmt.Fprintf(b, "; under %s: %s", r.Name, rootWords(r, a.Kind == KindCosignKeyless))
			}
		}
		if n := a.Notation; n != nil {
			if n.Scope != "" {
				fmt.Fprintf(b, " (scope %s)", n.Scope)
			}
			for k, v := range n.UserMetadata {
				fmt.Fprintf(b, "; signed metadata %s=%s", k, v)
			}
		}
		b.WriteString("\n")
		for _, w := range a.Warnings {
			fmt.Fprintf(b, "      ! %s\n", w)
		}
		for _, w := range a.Insecure {
			fmt.Fprintf(b, "      ! insecure: %s\n", w)
		}
	}
	for _, r := range s.Attestations {
		fmt.Fprintf(b, "  attestation %s: at least %d, signed by %s", r.PredicateType, r.MinCount, strings.Join(r.SignedBy, " or "))
		if r.MaxAge > 0 {
			fmt.Fprintf(b, ", at most %s old", r.MaxAge)
		}
		b.WriteString("\n")
		for _, c := range r.Conditions {
			fmt.Fprintf(b, "    where %s\n", c)
		}
	}
	for _, r := range s.Layouts {
		ids := make([]string, len(r.Keys))
		for i, k := range r.Keys {
			ids[i] = shortKeyID(k.KeyID)
		}
		what := "the wasm layer's digest"
		if r.Product == ProductManifest {
			what = "the manifest's digest"
		}
		fmt.Fprintf(b, "  in-toto layout %s: a layout attached as a referrer, signed by owner key %s, whose steps' links are attached too, "+
			"and one of whose final products is %s\n", r.Name, strings.Join(ids, " and "), what)
		b.WriteString("    a layout with inspections is not verified here (they run commands): the verdict is then undecided\n")
	}
}

// shortKeyID is a key ID as in-toto's link file names carry it.
func shortKeyID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

func scopeWords(pattern string) string {
	switch {
	case pattern == "*":
		return "every repository not matched more specifically"
	case strings.HasSuffix(pattern, "/**"):
		return "every repository under " + strings.TrimSuffix(pattern, "/**") + ", at any depth"
	case strings.HasSuffix(pattern, "/*"):
		return "every repository directly under " + strings.TrimSuffix(pattern, "/*")
	}
	return "exactly this repository"
}

func bytesWords(n int64) string {
	for _, u := range []struct {
		shift int
		name  string
	}{{40, "TiB"}, {30, "GiB"}, {20, "MiB"}, {10, "KiB"}} {
		if n >= 1<<u.shift && n%(1<<u.shift) == 0 {
			return fmt.Sprintf("%d %s", n>>u.shift, u.name)
		}
	}
	return fmt.Sprintf("%d bytes", n)
}

// rootWords says what evidence a signature needs under r.
func rootWords(r cosign.TrustedRoot, keyless bool) string {
	var need []string
	if n := r.Tlogs(); n > 0 {
		need = append(need, fmt.Sprintf("%d transparency-log entries", n))
	}
	if r.TimestampThreshold > 0 {
		need = append(need, fmt.Sprintf("%d RFC 3161 timestamps", r.TimestampThreshold))
	}
	if keyless && !r.IgnoreSCTUnsafe {
		need = append(need, "an SCT in the certificate")
	}
	if len(need) == 0 {
		return "nothing beyond the signature"
	}
	return strings.Join(need, ", ")
}
