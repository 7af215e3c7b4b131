package permissions

import (
	"errors"
	"fmt"
	"io"

	"gopkg.in/yaml.v3"

	"github.com/wasmgate/wasmgate/internal/boundedio"
	"github.com/wasmgate/wasmgate/internal/yamlnode"
)

// MaxSize is the largest policy, in bytes, that [Parse] reads. Real
// policies are a few hundred bytes; the bound keeps a hostile layer from
// costing more than a bounded parse.
const MaxSize = 1 << 20

// Parse parses and validates a policy document: Wassette's policy v1.0 YAML,
// plus wasmgate's permissions.resources.limits.timeout.
//
// Parse is strict. It rejects input over [MaxSize] before parsing, anything
// but exactly one YAML document, unknown or duplicate keys, aliases, values
// of the wrong type, and values outside the format. Every error it returns
// is an [*Error] wrapping one of the sentinels in errors.go.
func Parse(data []byte) (*Policy, error) {
	if len(data) > MaxSize {
		return nil, &Error{Err: ErrTooLarge, Reason: fmt.Sprintf("%d bytes; at most %d (MaxSize) are allowed", len(data), MaxSize)}
	}
	root, err := document(data)
	if err != nil {
		return nil, err
	}
	return decodePolicy(root)
}

// ParseReader reads at most [MaxSize] bytes from r and parses them with
// [Parse]. A read error is returned wrapped, not as an [*Error].
func ParseReader(r io.Reader) (*Policy, error) {
	data, err := boundedio.ReadAll(r, MaxSize)
	if errors.Is(err, boundedio.ErrTooLarge) {
		return nil, &Error{Err: ErrTooLarge, Reason: fmt.Sprintf("more than %d bytes (MaxSize)", MaxSize)}
	}
	if err != nil {
		return nil, fmt.Errorf("permissions: reading policy: %w", err)
	}
	return Parse(data)
}

// document returns the root node of the only YAML document in data.
func document(data []byte) (*yaml.Node, error) {
	root, err := yamlnode.Document(data, "a policy")
	var e *yamlnode.Error
	if errors.As(err, &e) && e.Kind == yamlnode.Invalid && e.Line == 0 {
		e.Reason = `empty document; a policy needs at least version: "1.0" and permissions`
	}
	return root, fromNode(err)
}

func decodePolicy(root *yaml.Node) (*Policy, error) {
	if root.Kind != yaml.MappingNode {
		return nil, errAt(root, "", ErrInvalid, "the document must be a mapping with version and permissions, not %s", describe(root))
	}
	// A trust policy is the other file people pass by mistake (push once
	// took this one as --policy, verify takes that one); say so rather
	// than blame its version.
	if n := trustPolicyKey(root); n != nil {
		return nil, errAt(n, "", ErrTrustPolicy,
			`this is a trust policy (version: v1, policies:), not a permission policy; a trust policy is given to verify, run or pull --verified as --policy, `+
				`and a permission policy has version: "1.0" and permissions:`)
	}
	// The version decides what every other key means, so it is checked
	// before the keys are: a "2.0" document is reported as such, not as a
	// list of unknown fields.
	if err := checkVersion(root); err != nil {
		return nil, err
	}
	f, err := mapping(root, "", "$schema", "version", "description", "permissions")
	if err != nil {
		return nil, err
	}
	p := &Policy{Version: Version}
	if p.Schema, err = optString(f["$schema"], "$schema"); err != nil {
		return nil, err
	}
	if p.Description, err = optString(f["description"], "description"); err != nil {
		return nil, err
	}
	n := f["permissions"]
	if n == nil || isNull(n) {
		at := root
		if n != nil {
			at = n
		}
		return nil, errAt(at, "permissions", ErrInvalid, "is required; write permissions: {} to grant nothing")
	}
	if p.Permissions, err = decodePermissions(n, "permissions"); err != nil {
		return nil, err
	}
	return p, nil
}

// trustPolicyKey returns the node that shows root is a trust policy
// rather than a permission policy: a policies key, or version v1, in a
// document without a permissions key. nil otherwise, including for a
// permission policy with a wrong version, which checkVersion reports.
func trustPolicyKey(root *yaml.Node) *yaml.Node {
	var policies, v1 *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			continue
		}
		switch k.Value {
		case "permissions":
			return nil
		case "policies":
			policies = k
		case "version":
			if v.Kind == yaml.ScalarNode && v.Value == "v1" {
				v1 = v
			}
		}
	}
	if policies != nil {
		return policies
	}
	return v1
}

// checkVersion accepts "1.0" as a string and 1.0 as a YAML number, since
// people write both; Wassette's own files quote it.
func checkVersion(root *yaml.Node) error {
	var n *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		if k := root.Content[i]; k.Kind == yaml.ScalarNode && k.Value == "version" {
			n = root.Content[i+1]
			break
		}
	}
	if n == nil {
		return errAt(root, "version", ErrUnsupportedVersion, `is missing; write version: "1.0"`)
	}
	tag := n.ShortTag()
	if n.Kind != yaml.ScalarNode || (tag != "!!str" && tag != "!!float") {
		return errAt(n, "version", ErrUnsupportedVersion, `must be "1.0", not %s`, describe(n))
	}
	if n.Value != Version {
		return errAt(n, "version", ErrUnsupportedVersion, `is %q; only "1.0" is supported`, n.Value)
	}
	return nil
}

func decodePermissions(n *yaml.Node, path string) (Permissions, error) {
	var p Permissions
	f, err := mapping(n, path, "storage", "network", "environment", "resources", "runtime", "ipc")
	if err != nil {
		return p, err
	}
	if v := present(f["storage"]); v != nil {
		if p.Storage, err = decodeStorage(v, join(path, "storage")); err != nil {
			return p, err
		}
	}
	if v := present(f["network"]); v != nil {
		if p.Network, err = decodeNetwork(v, join(path, "network")); err != nil {
			return p, err
		}
	}
	if v := present(f["environment"]); v != nil {
		if p.Environment, err = decodeEnvironment(v, join(path, "environment")); err != nil {
			return p, err
		}
	}
	if v := present(f["resources"]); v != nil {
		if p.Resources, err = decodeResources(v, join(path, "resources")); err != nil {
			return p, err
		}
	}
	if v := present(f["runtime"]); v != nil {
		if p.Runtime, err = decodeRuntime(v, join(path, "runtime")); err != nil {
			return p, err
		}
	}
	if v := present(f["ipc"]); v != nil {
		if p.IPC, err = decodeIPC(v, join(path, "ipc")); err != nil {
			return p, err
		}
	}
	return p, nil
}

// misplaced gives a hint for keys that are valid elsewhere in the format.
var misplaced = map[string]string{
	"resources":                     "resources belong under permissions: permissions.resources.limits",
	"permissions.limits":            "limits belong under resources: permissions.resources.limits",
	"permissions.resources.timeout": "timeout belongs under limits: permissions.resources.limits.timeout",
	"permissions.environment.deny":  "the format has no environment deny list; leave a key out to deny it",
}

// The strict YAML reading is package yamlnode's; these wrappers turn its
// errors into this package's *Error.

func mapping(n *yaml.Node, path string, known ...string) (map[string]*yaml.Node, error) {
	m, err := yamlnode.Mapping(n, path, misplaced, known...)
	return m, fromNode(err)
}

func sequence(n *yaml.Node, path string) ([]*yaml.Node, error) {
	items, err := yamlnode.Sequence(n, path)
	return items, fromNode(err)
}

func str(n *yaml.Node, path string) (string, error) {
	s, err := yamlnode.String(n, path)
	return s, fromNode(err)
}

func optString(n *yaml.Node, path string) (string, error) {
	s, err := yamlnode.OptString(n, path)
	return s, fromNode(err)
}

var (
	present  = yamlnode.Present
	isNull   = yamlnode.IsNull
	describe = yamlnode.Describe
	clip     = yamlnode.Clip
	join     = yamlnode.Join
	index    = yamlnode.Index
)

// fromNode converts a *yamlnode.Error into an *Error; nil stays nil.
func fromNode(err error) error {
	var e *yamlnode.Error
	if !errors.As(err, &e) {
		return err
	}
	sentinel := ErrInvalid
	switch e.Kind {
	case yamlnode.Syntax:
		sentinel = ErrSyntax
	case yamlnode.UnknownField:
		sentinel = ErrUnknownField
	}
	return &Error{Field: e.Field, Line: e.Line, Column: e.Column, Reason: e.Reason, Err: sentinel, Cause: e.Cause}
}

func errAt(n *yaml.Node, field string, sentinel error, format string, args ...any) *Error {
	e := &Error{Field: field, Reason: fmt.Sprintf(format, args...), Err: sentinel}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	return e
}
