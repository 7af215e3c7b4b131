// Package yamlnode is the strict YAML reading shared by wasmgate's two
// policy formats (the permission policy layer and the trust policy): one
// document, plain string keys, no duplicates, no aliases, no unknown
// fields, and a position on every error. The formats convert its *Error
// into their own typed errors at their boundary.
package yamlnode

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Kind says what class of problem an Error is.
type Kind int

const (
	// Syntax: the bytes are not well-formed YAML.
	Syntax Kind = iota + 1
	// UnknownField: a mapping has a key the format does not define.
	UnknownField
	// Invalid: well-formed YAML that breaks the format.
	Invalid
)

// Error is a problem at a position in a document.
type Error struct {
	Kind         Kind
	Field        string // path such as "policies[0].scopes[1]"; empty for the document
	Line, Column int    // 1-based; 0 when unknown
	Reason       string
	Cause        error // the YAML parser's error, or nil
}

func (e *Error) Error() string {
	s := e.Reason
	if e.Field != "" {
		s = e.Field + ": " + s
	}
	if e.Line > 0 {
		s = fmt.Sprintf("line %d, column %d: %s", e.Line, e.Column, s)
	}
	if e.Cause != nil {
		s += ": " + e.Cause.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Cause }

// At returns an Error of kind at node n (nil for no position).
func At(n *yaml.Node, field string, kind Kind, format string, args ...any) *Error {
	e := &Error{Kind: kind, Field: field, Reason: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	return e
}

// Document returns the root node of the only YAML document in data. what
// names the format in messages ("a policy").
func Document(data []byte, what string) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{Kind: Invalid, Reason: "empty document"}
		}
		return nil, &Error{Kind: Syntax, Reason: "cannot parse YAML", Cause: err}
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, &Error{Kind: Syntax, Reason: "cannot parse YAML after the first document", Cause: err}
	default:
		return nil, At(&extra, "", Invalid, "a second YAML document starts here; %s is exactly one document", what)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, At(&doc, "", Invalid, "empty document")
	}
	return doc.Content[0], nil
}

// Mapping checks that n is a mapping whose keys are plain strings, each
// one of known and none repeated, and returns the values by key. hints,
// keyed by field path, explain keys that belong elsewhere.
func Mapping(n *yaml.Node, path string, hints map[string]string, known ...string) (map[string]*yaml.Node, error) {
	if n.Kind == yaml.AliasNode {
		return nil, At(n, path, Invalid, "aliases are not allowed")
	}
	if n.Kind != yaml.MappingNode {
		return nil, At(n, path, Invalid, "must be a mapping, not %s", Describe(n))
	}
	values := make(map[string]*yaml.Node, len(n.Content)/2)
	keys := make(map[string]*yaml.Node, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.ShortTag() != "!!str" {
			return nil, At(k, path, Invalid, "keys must be plain strings, not %s", Describe(k))
		}
		field := Join(path, k.Value)
		if first, dup := keys[k.Value]; dup {
			return nil, At(k, field, Invalid, "duplicate key (first at line %d)", first.Line)
		}
		if !slices.Contains(known, k.Value) {
			reason := fmt.Sprintf("unknown field; allowed here: %s", strings.Join(known, ", "))
			if hint, ok := hints[field]; ok {
				reason += "; " + hint
			}
			return nil, At(k, field, UnknownField, "%s", reason)
		}
		keys[k.Value], values[k.Value] = k, v
	}
	return values, nil
}

// Sequence returns the items of n; a null sequence has none.
func Sequence(n *yaml.Node, path string) ([]*yaml.Node, error) {
	if IsNull(n) {
		return nil, nil
	}
	if n.Kind == yaml.AliasNode {
		return nil, At(n, path, Invalid, "aliases are not allowed")
	}
	if n.Kind != yaml.SequenceNode {
		return nil, At(n, path, Invalid, "must be a list, not %s", Describe(n))
	}
	return n.Content, nil
}

// String returns the value of a string scalar.
func String(n *yaml.Node, path string) (string, error) {
	if n.Kind == yaml.AliasNode {
		return "", At(n, path, Invalid, "aliases are not allowed")
	}
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		return "", At(n, path, Invalid, "must be a string, not %s", Describe(n))
	}
	return n.Value, nil
}

// OptString is String for an optional field: absent or null is "".
func OptString(n *yaml.Node, path string) (string, error) {
	if Present(n) == nil {
		return "", nil
	}
	return String(n, path)
}

// Present returns n, or nil when n is absent or null.
func Present(n *yaml.Node) *yaml.Node {
	if n == nil || IsNull(n) {
		return nil
	}
	return n
}

// IsNull reports whether n is a YAML null.
func IsNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// Describe names what n is, for messages.
func Describe(n *yaml.Node) string {
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
		return fmt.Sprintf("the string %q", Clip(n.Value))
	case "!!int", "!!float":
		return fmt.Sprintf("the number %s", Clip(n.Value))
	case "!!bool":
		return fmt.Sprintf("the boolean %s", Clip(n.Value))
	}
	return fmt.Sprintf("a value tagged %s", Clip(n.Tag))
}

// Clip keeps hostile values from making error messages huge.
func Clip(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	return s[:max] + "..."
}

// Join appends key to a field path.
func Join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// Index appends a list index to a field path.
func Index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

// Bool returns the value of a boolean scalar (true or false only).
func Bool(n *yaml.Node, path string) (bool, error) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
		return false, At(n, path, Invalid, "must be true or false, not %s", Describe(n))
	}
	switch n.Value {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, At(n, path, Invalid, "must be true or false, not %s", Describe(n))
}

// Int returns the value of an integer scalar within [min, max].
func Int(n *yaml.Node, path string, min, max int) (int, error) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
		return 0, At(n, path, Invalid, "must be a whole number, not %s", Describe(n))
	}
	v, err := strconv.Atoi(n.Value)
	if err != nil || v < min || v > max {
		return 0, At(n, path, Invalid, "must be a whole number from %d to %d, not %s", min, max, Clip(n.Value))
	}
	return v, nil
}
