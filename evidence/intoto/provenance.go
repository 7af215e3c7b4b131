package intoto

import (
	"slices"
	"strings"

	in_toto "github.com/in-toto/attestation/go/v1"

	"github.com/wasmgate/wasmgate/evidence"
)

// Provenance is what a SLSA provenance predicate (v1 or v0.2) says about
// the build, as it says it: a summary for reports and policies, not a
// check. Conditions see the whole predicate.
type Provenance struct {
	// BuilderID: v1 runDetails.builder.id, v0.2 builder.id.
	BuilderID string `json:"builderId,omitempty"`
	// BuildType: v1 buildDefinition.buildType, v0.2 buildType.
	BuildType string `json:"buildType,omitempty"`
	// SourceRepository: v1 buildDefinition.externalParameters.workflow.repository
	// (GitHub Actions), else the first resolved dependency's uri; v0.2
	// invocation.configSource.uri.
	SourceRepository string `json:"sourceRepository,omitempty"`
	// SourceDigest is the source's digest as "alg:value" pairs, sorted and
	// joined by ",": v1 the first resolved dependency's, v0.2
	// invocation.configSource.digest.
	SourceDigest string `json:"sourceDigest,omitempty"`
}

// ProvenanceOf summarizes a SLSA provenance statement; nil for other
// predicate types.
func ProvenanceOf(st *in_toto.Statement) *Provenance {
	p := st.GetPredicate().AsMap()
	switch st.GetPredicateType() {
	case evidence.PredicateTypeSLSAv1:
		bd := object(p, "buildDefinition")
		pr := &Provenance{
			BuilderID:        str(object(object(p, "runDetails"), "builder"), "id"),
			BuildType:        str(bd, "buildType"),
			SourceRepository: str(object(object(bd, "externalParameters"), "workflow"), "repository"),
		}
		if deps, _ := bd["resolvedDependencies"].([]any); len(deps) > 0 {
			dep, _ := deps[0].(map[string]any)
			if pr.SourceRepository == "" {
				pr.SourceRepository = str(dep, "uri")
			}
			pr.SourceDigest = digestSet(object(dep, "digest"))
		}
		return pr
	case evidence.PredicateTypeSLSAv02:
		src := object(object(p, "invocation"), "configSource")
		return &Provenance{
			BuilderID:        str(object(p, "builder"), "id"),
			BuildType:        str(p, "buildType"),
			SourceRepository: str(src, "uri"),
			SourceDigest:     digestSet(object(src, "digest")),
		}
	}
	return nil
}

func object(m map[string]any, k string) map[string]any {
	o, _ := m[k].(map[string]any)
	return o
}

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

// digestSet is an in-toto DigestSet as sorted "alg:value" pairs.
func digestSet(m map[string]any) string {
	var out []string
	for alg, v := range m {
		if s, ok := v.(string); ok {
			out = append(out, alg+":"+s)
		}
	}
	slices.Sort(out)
	return strings.Join(out, ",")
}
