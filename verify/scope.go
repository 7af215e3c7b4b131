package verify

import (
	"fmt"
	"strings"

	"github.com/wasmgate/wasmgate/internal/yamlnode"
)

// Scope patterns and their precedence. A repository is named
// "registry/path" ("registry.acme.dev/wasm/app"); an OCI layout is named
// "local/<directory name>" unless Options.Scope names it.
//
//	pattern                 matches                                  specificity
//	registry/path           exactly that repository                  highest
//	registry/prefix/*       repositories one level under prefix      by prefix length, then
//	registry/prefix/**      repositories any depth under prefix      /* before /**
//	*                       every repository                         lowest
//
// The most specific matching pattern of all statements wins. Two
// statements may not list the same pattern (that would leave the choice to
// the order of the file), and a repository no pattern matches is denied.

type scopeClass int

const (
	classWildcard scopeClass = iota // "*"
	classPrefix                     // ".../**" or ".../*"
	classExact
)

// specificity orders patterns: higher wins.
type specificity struct {
	class  scopeClass
	prefix int  // length of the prefix for classPrefix
	single bool // "/*" (one level) rather than "/**"
}

func (a specificity) less(b specificity) bool {
	if a.class != b.class {
		return a.class < b.class
	}
	if a.prefix != b.prefix {
		return a.prefix < b.prefix
	}
	return !a.single && b.single
}

// checkPattern returns why s is not a scope pattern, or "".
func checkPattern(s string) string {
	if s == "*" {
		return ""
	}
	base := strings.TrimSuffix(strings.TrimSuffix(s, "/**"), "/*")
	_, path, _ := strings.Cut(base, "/")
	switch {
	case s == "":
		return "is empty"
	case strings.Contains(base, "*"):
		return `may use * only as "*" alone or as a last "/*" or "/**"`
	case strings.Contains(base, "://"), strings.Contains(base, "@"), strings.Contains(path, ":"):
		return "must be registry/repository, without a scheme, tag or digest"
	case strings.HasPrefix(base, "/"), strings.HasSuffix(base, "/"), strings.Contains(base, "//"):
		return "has an empty path segment"
	case base == s && !strings.Contains(s, "/"):
		return `names a registry alone; write "` + s + `/**" for every repository in it`
	}
	return ""
}

// match reports whether pattern covers repo, and how specifically.
func match(pattern, repo string) (specificity, bool) {
	switch {
	case pattern == "*":
		return specificity{class: classWildcard}, true
	case strings.HasSuffix(pattern, "/**"):
		prefix := strings.TrimSuffix(pattern, "**")
		return specificity{class: classPrefix, prefix: len(prefix)}, strings.HasPrefix(repo, prefix) && len(repo) > len(prefix)
	case strings.HasSuffix(pattern, "/*"):
		prefix := strings.TrimSuffix(pattern, "*")
		rest, ok := strings.CutPrefix(repo, prefix)
		return specificity{class: classPrefix, prefix: len(prefix), single: true}, ok && rest != "" && !strings.Contains(rest, "/")
	}
	return specificity{class: classExact}, pattern == repo
}

// Select returns the statement that governs repo and the pattern that
// chose it, or ErrNoScope.
func (p *Policy) Select(repo string) (*Statement, string, error) {
	var best *Statement
	var bestPattern string
	var bestSpec specificity
	for _, s := range p.statements {
		for _, pattern := range s.Scopes {
			spec, ok := match(pattern, repo)
			if ok && (best == nil || bestSpec.less(spec)) {
				best, bestPattern, bestSpec = s, pattern, spec
			}
		}
	}
	if best == nil {
		return nil, "", fmt.Errorf("%w: %s", ErrNoScope, repo)
	}
	return best, bestPattern, nil
}

// checkScopes refuses two statements listing the same pattern: their
// specificity would be equal and the file's order would decide.
func checkScopes(ss []*Statement) error {
	owner := map[string]*Statement{}
	for i, s := range ss {
		for j, pattern := range s.Scopes {
			if first, dup := owner[pattern]; dup {
				e := &PolicyError{
					Field:  yamlnode.Index(yamlnode.Index("policies", i)+".scopes", j),
					Reason: fmt.Sprintf("scope %q is also claimed by policy %s: scopes of equal specificity overlap; keep it in one policy", pattern, first),
					Err:    ErrPolicyInvalid,
				}
				if j < len(s.scopeLines) { // statements built in Go have no lines
					e.Line, e.Column = s.scopeLines[j][0], s.scopeLines[j][1]
				}
				return e
			}
			owner[pattern] = s
		}
	}
	return nil
}
