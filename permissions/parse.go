package permissions

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
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

// ParseReader reads at most [MaxSize]+1 bytes from r and parses them with
// [Parse]. A read error is returned wrapped, not as an [*Error].
func ParseReader(r io.Reader) (*Policy, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("permissions: reading policy: %w", err)
	}
	return Parse(data)
}

// document returns the root node of the only YAML document in data.
func document(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{Err: ErrInvalid, Reason: `empty document; a policy needs at least version: "1.0" and permissions`}
		}
		return nil, &Error{Err: ErrSyntax, Reason: "cannot parse YAML", Cause: err}
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, &Error{Err: ErrSyntax, Reason: "cannot parse YAML after the first document", Cause: err}
	default:
		return nil, errAt(&extra, "", ErrInvalid, "a second YAML document starts here; a policy is exactly one document")
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, errAt(&doc, "", ErrInvalid, "empty document; a policy needs at least version and permissions")
	}
	return doc.Content[0], nil
}

func decodePolicy(root *yaml.Node) (*Policy, error) {
	if root.Kind != yaml.MappingNode {
		return nil, errAt(root, "", ErrInvalid, "the document must be a mapping with version and permissions, not %s", describe(root))
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

// mapping checks that n is a mapping whose keys are plain strings, each one
// of known and none repeated, and returns the values by key.
func mapping(n *yaml.Node, path string, known ...string) (map[string]*yaml.Node, error) {
	if n.Kind == yaml.AliasNode {
		return nil, errAt(n, path, ErrInvalid, "aliases are not allowed in a policy")
	}
	if n.Kind != yaml.MappingNode {
		return nil, errAt(n, path, ErrInvalid, "must be a mapping, not %s", describe(n))
	}
	values := make(map[string]*yaml.Node, len(n.Content)/2)
	keys := make(map[string]*yaml.Node, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.ShortTag() != "!!str" {
			return nil, errAt(k, path, ErrInvalid, "keys must be plain strings, not %s", describe(k))
		}
		field := join(path, k.Value)
		if first, dup := keys[k.Value]; dup {
			return nil, errAt(k, field, ErrInvalid, "duplicate key (first at line %d)", first.Line)
		}
		if !slices.Contains(known, k.Value) {
			reason := fmt.Sprintf("unknown field; allowed here: %s", strings.Join(known, ", "))
			if hint, ok := misplaced[field]; ok {
				reason += "; " + hint
			}
			return nil, errAt(k, field, ErrUnknownField, "%s", reason)
		}
		keys[k.Value], values[k.Value] = k, v
	}
	return values, nil
}

// sequence returns the items of n; a null sequence has none.
func sequence(n *yaml.Node, path string) ([]*yaml.Node, error) {
	if isNull(n) {
		return nil, nil
	}
	if n.Kind == yaml.AliasNode {
		return nil, errAt(n, path, ErrInvalid, "aliases are not allowed in a policy")
	}
	if n.Kind != yaml.SequenceNode {
		return nil, errAt(n, path, ErrInvalid, "must be a list, not %s", describe(n))
	}
	return n.Content, nil
}

// str returns the value of a string scalar.
func str(n *yaml.Node, path string) (string, error) {
	if n.Kind == yaml.AliasNode {
		return "", errAt(n, path, ErrInvalid, "aliases are not allowed in a policy")
	}
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		return "", errAt(n, path, ErrInvalid, "must be a string, not %s", describe(n))
	}
	return n.Value, nil
}

func optString(n *yaml.Node, path string) (string, error) {
	if present(n) == nil {
		return "", nil
	}
	return str(n, path)
}

// present returns n, or nil when n is absent or null: Wassette's optional
// sections read both as "not set".
func present(n *yaml.Node) *yaml.Node {
	if n == nil || isNull(n) {
		return nil
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.DocumentNode:
		return "a document"
	}
	switch n.ShortTag() {
	case "!!null":
		return "null"
	case "!!str":
		return fmt.Sprintf("the string %q", clip(n.Value))
	case "!!int", "!!float":
		return fmt.Sprintf("the number %s", clip(n.Value))
	case "!!bool":
		return fmt.Sprintf("the boolean %s", clip(n.Value))
	}
	return fmt.Sprintf("a value tagged %s", clip(n.Tag))
}

// clip keeps hostile values from making error messages huge.
func clip(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	return s[:max] + "..."
}

func errAt(n *yaml.Node, field string, sentinel error, format string, args ...any) *Error {
	e := &Error{Field: field, Reason: fmt.Sprintf(format, args...), Err: sentinel}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	return e
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }
