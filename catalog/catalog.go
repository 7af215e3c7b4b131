// Package catalog reads a component catalog: Wassette's
// component-registry.json (a list of components, each a name, a description
// and a uri), extended with an optional digest that pins the entry and an
// optional trust policy that verifies it, and searches it as Wassette does:
// every term, case-insensitively, in the name, the description or the uri.
//
//	{"components": [
//	  {"name": "get-weather-js", "description": "Get the weather for a location",
//	   "uri": "oci://ghcr.io/microsoft/get-weather-js:latest",
//	   "digest": "sha256:…", "trustPolicy": "policies/microsoft.yaml"}
//	]}
package catalog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/internal/boundedio"
)

// MaxSize bounds a catalog file.
const MaxSize = 4 << 20

// ErrInvalid: the catalog does not parse or an entry is malformed.
var ErrInvalid = errors.New("invalid component catalog")

// Catalog is a parsed catalog.
type Catalog struct {
	Components []Entry `json:"components"`
	// Dir is the directory trust policy paths are relative to.
	Dir string `json:"-"`
}

// Entry is one component.
type Entry struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	URI         string `json:"uri"`
	// Digest, when set, pins the entry: Reference uses it instead of
	// the uri's tag.
	Digest digest.Digest `json:"digest,omitempty"`
	// TrustPolicy, when set, is the trust policy file the entry is
	// verified under (relative to the catalog).
	TrustPolicy string `json:"trustPolicy,omitempty"`
}

// Load reads the catalog at path.
func Load(path string) (*Catalog, error) {
	data, err := boundedio.ReadFile(path, MaxSize)
	if errors.Is(err, boundedio.ErrTooLarge) {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if err != nil {
		return nil, err
	}
	c, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	c.Dir = filepath.Dir(path)
	return c, nil
}

// Parse parses a catalog strictly: unknown fields, a missing name or uri,
// duplicate names, a uri that is not a reference and a malformed digest
// are errors wrapping ErrInvalid.
func Parse(data []byte) (*Catalog, error) {
	if len(data) > MaxSize {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrInvalid, MaxSize)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var c Catalog
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: data after the catalog object", ErrInvalid)
	}
	seen := map[string]bool{}
	for i, e := range c.Components {
		switch {
		case e.Name == "":
			return nil, fmt.Errorf("%w: components[%d]: name is required", ErrInvalid, i)
		case seen[e.Name]:
			return nil, fmt.Errorf("%w: components[%d]: duplicate name %q", ErrInvalid, i, e.Name)
		case e.URI == "":
			return nil, fmt.Errorf("%w: components[%d] (%s): uri is required", ErrInvalid, i, e.Name)
		}
		seen[e.Name] = true
		if _, err := artifact.ParseReference(e.URI); err != nil {
			return nil, fmt.Errorf("%w: components[%d] (%s): %w", ErrInvalid, i, e.Name, err)
		}
		if e.Digest != "" {
			if err := e.Digest.Validate(); err != nil {
				return nil, fmt.Errorf("%w: components[%d] (%s): digest: %w", ErrInvalid, i, e.Name, err)
			}
		}
	}
	return &c, nil
}

// Search returns the entries that contain every term of query (split on
// white space), case-insensitively, in the name, description or uri. An
// empty query matches every entry.
func (c *Catalog) Search(query string) []Entry {
	terms := strings.Fields(strings.ToLower(query))
	var out []Entry
	for _, e := range c.Components {
		hay := strings.ToLower(e.Name + "\x00" + e.Description + "\x00" + e.URI)
		ok := true
		for _, t := range terms {
			ok = ok && strings.Contains(hay, t)
		}
		if ok {
			out = append(out, e)
		}
	}
	return out
}

// Reference is the entry's reference, pinned by its digest when it has one.
func (e Entry) Reference() (artifact.Reference, error) {
	ref, err := artifact.ParseReference(e.URI)
	if err != nil || e.Digest == "" {
		return ref, err
	}
	if ref.Digest != "" && ref.Digest != e.Digest {
		return ref, fmt.Errorf("%w: %s: uri pins %s, digest says %s", ErrInvalid, e.Name, ref.Digest, e.Digest)
	}
	return ref.WithDigest(e.Digest), nil
}

// TrustPolicyPath is the entry's trust policy resolved against the
// catalog's directory, or "".
func (c *Catalog) TrustPolicyPath(e Entry) string {
	if e.TrustPolicy == "" || filepath.IsAbs(e.TrustPolicy) {
		return e.TrustPolicy
	}
	return filepath.Join(c.Dir, e.TrustPolicy)
}
