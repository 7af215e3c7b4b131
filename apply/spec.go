// Package apply provisions many components declaratively: each entry of a
// components file is verified under a trust policy, its verified wasm and
// policy are written to a directory of its own, and its sandbox (its
// publisher's policy ∩ the grants the file gives it) is checked, so that a
// host can load every component that passed and knows why the others did
// not. It is what `wasmgate apply -f components.yaml` runs.
//
//	version: v1
//	policy: trust.yaml              # the trust policy, relative to this file
//	components:
//	  - name: hello
//	    ref: registry.example/wasm/hello@sha256:...   # pinned: strict mode requires it
//	    policy: other-trust.yaml    # optional: another trust policy
//	    grants:                     # the host ceiling for this component
//	      dirs: ["/data=./data", "/out=./out:rw"]
//	      env: {GREETING: hello, HOME: null}   # a value, or null for the host's
//	      maxMemory: 64Mi
//	      maxTime: 10s
//	      allowNoNetwork: false
//
// Applying is idempotent: a component whose directory already holds the
// files verified for the same digest, under the same trust policy and trust
// material, and whose files still hash to what was verified, is not fetched
// again.
package apply

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"

	"gopkg.in/yaml.v3"

	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/internal/boundedio"
	"github.com/wasmgate/wasmgate/loader"
)

// MaxSpecBytes bounds a components file.
const MaxSpecBytes = 1 << 20

// ErrSpec: the components file is malformed.
var ErrSpec = errors.New("invalid components file")

// Spec is a parsed components file.
type Spec struct {
	Version    string      `yaml:"version"`
	Policy     string      `yaml:"policy"`
	Components []Component `yaml:"components"`
	// Dir is the directory relative paths are resolved against.
	Dir string `yaml:"-"`
}

// Component is one entry.
type Component struct {
	Name   string `yaml:"name"`
	Ref    string `yaml:"ref"`
	Policy string `yaml:"policy"`
	// Grants are what the host allows the component (loader.Grants, the
	// format of run --host-policy too).
	Grants loader.Grants `yaml:"grants"`
}

var componentName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)

// Load reads and checks the components file at path.
func Load(path string) (*Spec, error) {
	raw, err := boundedio.ReadFile(path, MaxSpecBytes)
	if errors.Is(err, boundedio.ErrTooLarge) {
		return nil, fmt.Errorf("%w: %w", ErrSpec, err)
	}
	if err != nil {
		return nil, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	var s Spec
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrSpec, path, err)
	}
	s.Dir = filepath.Dir(path)
	if s.Version != "v1" {
		return nil, fmt.Errorf("%w: %s: version must be v1", ErrSpec, path)
	}
	seen := map[string]bool{}
	for i, c := range s.Components {
		switch {
		case !componentName.MatchString(c.Name) || len(c.Name) > 64:
			return nil, fmt.Errorf("%w: components[%d]: name %q must be lower-case letters, digits, '.', '_', '-' (it names a directory)", ErrSpec, i, c.Name)
		case seen[c.Name]:
			return nil, fmt.Errorf("%w: components[%d]: duplicate name %q", ErrSpec, i, c.Name)
		case c.Ref == "":
			return nil, fmt.Errorf("%w: components[%d] (%s): ref is required", ErrSpec, i, c.Name)
		case c.Policy == "" && s.Policy == "":
			return nil, fmt.Errorf("%w: components[%d] (%s): no trust policy (set policy at the top or on the component)", ErrSpec, i, c.Name)
		}
		seen[c.Name] = true
		if _, err := artifact.ParseReference(c.Ref); err != nil {
			return nil, fmt.Errorf("%w: components[%d] (%s): %w", ErrSpec, i, c.Name, err)
		}
		if _, err := s.host(c); err != nil {
			return nil, fmt.Errorf("%w: components[%d] (%s): %w", ErrSpec, i, c.Name, err)
		}
	}
	return &s, nil
}

// policyPath is the trust policy file of c.
func (s *Spec) policyPath(c Component) string {
	p := c.Policy
	if p == "" {
		p = s.Policy
	}
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(s.Dir, p)
}

// host is the ceiling c's grants describe, relative to the file.
func (s *Spec) host(c Component) (loader.Host, error) {
	return c.Grants.Host(s.Dir)
}
