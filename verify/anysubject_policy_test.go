package verify_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wasmgate/wasmgate/verify"
)

// The fields that say which subjects a statement accepts: the good
// forms, what each means, and every bad one at its line and field.
func TestPolicySubjectFields(t *testing.T) {
	dir := writeTrust(t)
	head := "version: v1\npolicies:\n  - name: app\n    scopes: [\"r.test/app\"]\n"
	key := "    signatures:\n      authorities:\n        - name: k\n          cosign: {key: keys/k.pub, insecureIgnoreTlog: true}\n"
	load := func(t *testing.T, doc string) (*verify.Policy, error) {
		t.Helper()
		path := filepath.Join(dir, "trust.yaml")
		if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		return verify.LoadPolicy(context.Background(), path, verify.LoadOptions{})
	}

	good := []struct {
		name      string
		yaml      string
		artifacts []verify.ArtifactKind
		platforms verify.Platforms
		skip      bool
	}{
		{"default is wasm only", head + key, nil, "", false},
		{"any", head + key + "    artifacts: [any]\n", []verify.ArtifactKind{verify.ArtifactAny}, "", false},
		{"a list", head + key + "    artifacts: [wasm, image, index, artifact]\n",
			[]verify.ArtifactKind{verify.ArtifactWasm, verify.ArtifactImage, verify.ArtifactIndex, verify.ArtifactOther}, "", false},
		{"each platform", head + key + "    artifacts: [index, image]\n    platforms: each\n",
			[]verify.ArtifactKind{verify.ArtifactIndex, verify.ArtifactImage}, verify.PlatformsEach, false},
		{"platforms index", head + key + "    artifacts: [any]\n    platforms: index\n", []verify.ArtifactKind{verify.ArtifactAny}, verify.PlatformsIndex, false},
		{"digests skip", head + key + "    artifacts: [image]\n    layers: {digests: skip, maxBytes: 1Gi}\n", []verify.ArtifactKind{verify.ArtifactImage}, "", true},
		{"digests check", head + key + "    layers: {digests: check}\n", nil, "", false},
	}
	for _, tc := range good {
		t.Run(tc.name, func(t *testing.T) {
			p, err := load(t, tc.yaml)
			if err != nil {
				t.Fatal(err)
			}
			st := p.Statements()[0]
			if !slices.Equal(st.Artifacts, tc.artifacts) || st.Platforms != tc.platforms || st.Layers.SkipDigestsUnsafe != tc.skip {
				t.Errorf("artifacts %v platforms %q skip %v, want %v %q %v", st.Artifacts, st.Platforms, st.Layers.SkipDigestsUnsafe, tc.artifacts, tc.platforms, tc.skip)
			}
			explained := p.Explain()
			if tc.skip && !strings.Contains(explained, "! insecure: layers.digests: skip") {
				t.Errorf("Explain does not warn of digests: skip:\n%s", explained)
			}
			if tc.artifacts == nil && !strings.Contains(explained, "wasm artifacts only") {
				t.Errorf("Explain does not say wasm only:\n%s", explained)
			}
			// NewPolicy takes the same statement as it was parsed.
			if _, err := verify.NewPolicy(st); err != nil {
				t.Errorf("NewPolicy of the parsed statement: %v", err)
			}
		})
	}

	bad := []struct {
		name   string
		yaml   string
		line   int
		field  string
		reason string
	}{
		{"unknown kind", head + key + "    artifacts: [wasm, helm]\n", 9, "policies[0].artifacts[1]", `"helm" is not a kind of artifact`},
		{"listed twice", head + key + "    artifacts: [image, image]\n", 9, "policies[0].artifacts[1]", "listed twice"},
		{"any with others", head + key + "    artifacts:\n      - wasm\n      - any\n", 11, "policies[0].artifacts[1]", "list it alone"},
		{"empty list", head + key + "    artifacts: []\n", 9, "policies[0].artifacts", "lists no kind"},
		{"not a list", head + key + "    artifacts: any\n", 9, "policies[0].artifacts", ""},
		{"bad platforms", head + key + "    artifacts: [any]\n    platforms: all\n", 10, "policies[0].platforms", "must be index or each"},
		{"each without index", head + key + "    artifacts: [image]\n    platforms: each\n", 10, "policies[0].platforms", "accepts no index"},
		{"each without signatures", head + "    artifacts: [any]\n    platforms: each\n    allowUnsigned: true\n", 6, "policies[0].platforms", "set signatures.threshold"},
		{"bad digests", head + key + "    artifacts: [any]\n    layers: {digests: maybe}\n", 10, "policies[0].layers.digests", "must be check (the default) or skip"},
		{"skip under wasm only", head + key + "    layers:\n      digests: skip\n", 10, "policies[0].layers.digests", "accepts only wasm"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := load(t, tc.yaml)
			var pe *verify.PolicyError
			if !errors.As(err, &pe) || !errors.Is(err, verify.ErrPolicyInvalid) {
				t.Fatalf("got %v, want a *PolicyError wrapping ErrPolicyInvalid", err)
			}
			if pe.Line != tc.line || pe.Field != tc.field || !strings.Contains(err.Error(), tc.reason) {
				t.Errorf("line %d field %q (%v), want line %d field %q saying %q", pe.Line, pe.Field, err, tc.line, tc.field, tc.reason)
			}
		})
	}

	// NewPolicy refuses the same statements built in Go, naming the field.
	for _, tc := range []struct {
		st    verify.Statement
		field string
	}{
		{verify.Statement{Name: "a", Scopes: []string{"*"}, AllowUnsignedUnsafe: true, Artifacts: []verify.ArtifactKind{"helm"}}, "policies[0].artifacts[0]"},
		{verify.Statement{Name: "a", Scopes: []string{"*"}, AllowUnsignedUnsafe: true, Platforms: verify.PlatformsEach, Artifacts: []verify.ArtifactKind{verify.ArtifactAny}}, "policies[0].platforms"},
		{verify.Statement{Name: "a", Scopes: []string{"*"}, AllowUnsignedUnsafe: true, Layers: verify.LayerRules{SkipDigestsUnsafe: true}}, "policies[0].layers.digests"},
	} {
		_, err := verify.NewPolicy(tc.st)
		var pe *verify.PolicyError
		if !errors.As(err, &pe) || pe.Field != tc.field {
			t.Errorf("NewPolicy(%+v) = %v, want an error at %s", tc.st, err, tc.field)
		}
	}
}
