package artifact

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// ComponentInfo is what a component imports and exports, read from its
// binary by [ComponentInterfaces]. Its JSON form is the shape of wkg's
// config field "component" (without "target").
type ComponentInfo struct {
	Imports []string `json:"imports"`
	Exports []string `json:"exports"`
}

// ReadComponentInfo reads a component's imports and exports (see
// [ComponentInterfaces]); the lists are empty, not nil, when there are none.
func ReadComponentInfo(wasm []byte) (*ComponentInfo, error) {
	imports, exports, err := ComponentInterfaces(wasm)
	if err != nil {
		return nil, err
	}
	if imports == nil {
		imports = []string{}
	}
	if exports == nil {
		exports = []string{}
	}
	return &ComponentInfo{Imports: imports, Exports: exports}, nil
}

// ComponentBuffer is a writer that keeps the bytes of a component, so
// that a stream being hashed can be read by [ReadComponentInfo] without a
// second pass. It keeps nothing of a core module or anything else whose
// first bytes are not a component's preamble. Max bounds what it keeps:
// over it, Info fails with [ErrTooLarge]; callers set it to the layer
// limit they already enforce.
type ComponentBuffer struct {
	Max    int64
	header WasmHeader
	buf    bytes.Buffer
	n      int64
}

// Write keeps p when the stream is a component; it accepts every byte.
func (c *ComponentBuffer) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	if len(c.header.Bytes()) < HeaderSize {
		c.header.Write(p)
	}
	if c.n <= c.Max && c.isComponent() {
		c.buf.Write(p)
	}
	return len(p), nil
}

// isComponent reports whether the header so far is, or may still become,
// a component's preamble.
func (c *ComponentBuffer) isComponent() bool {
	h := c.header.Bytes()
	pre := []byte("\x00asm\x0d\x00\x01\x00")
	return bytes.HasPrefix(pre, h) || bytes.HasPrefix(h, pre)
}

// Header is the first [HeaderSize] bytes written, for [DetectKind].
func (c *ComponentBuffer) Header() []byte { return c.header.Bytes() }

// Info reads the component's imports and exports; nil, nil when the
// stream was not a component.
func (c *ComponentBuffer) Info() (*ComponentInfo, error) {
	if kind, err := DetectKind(c.header.Bytes()); err != nil || kind != KindComponent {
		return nil, nil
	}
	if c.n > c.Max {
		return nil, &SizeError{What: "component", Limit: c.Max, Actual: c.n, Err: ErrTooLarge}
	}
	return ReadComponentInfo(c.buf.Bytes())
}

// configComponent is wkg's config field "component" (oci-wasm's
// Component: exports, imports, target), as wkg writes it from the
// component's world: interface imports by their full name
// ("wasi:sockets/tcp@0.2.0"), the others by their plain name.
type configComponent struct {
	Imports *[]string `json:"imports"`
	Exports *[]string `json:"exports"`
	Target  *string   `json:"target"`
}

// CheckComponent compares the config's description of a component (wkg's
// "component" field) with what the binary imports, read by
// [ReadComponentInfo]. A config that describes imports must list every one
// the binary has: one that leaves an import out hides a capability from
// whoever reads the config and not the binary, and is refused with a
// [*FormatError] wrapping [ErrConfigHidesImport]. A config without the
// field, or whose field lists no "imports", describes nothing and passes;
// a field that is not wkg's shape is [ErrInvalidConfig]. Imports the
// config lists and the binary lacks are harmless and pass.
func (c Config) CheckComponent(what string, info *ComponentInfo) error {
	if info == nil || len(c.Component) == 0 || string(c.Component) == "null" {
		return nil
	}
	var cc configComponent
	dec := json.NewDecoder(bytes.NewReader(c.Component))
	if err := dec.Decode(&cc); err != nil {
		return &FormatError{What: what, Err: fmt.Errorf("%w: component is not wkg's {\"imports\": [...], \"exports\": [...]}: %w", ErrInvalidConfig, err)}
	}
	if cc.Imports == nil {
		return nil
	}
	var hidden []string
	for _, imp := range info.Imports {
		if !slices.Contains(*cc.Imports, imp) {
			hidden = append(hidden, imp)
		}
	}
	if len(hidden) > 0 {
		return &FormatError{What: what, Err: fmt.Errorf("%w: the component imports %s, which component.imports leaves out",
			ErrConfigHidesImport, strings.Join(hidden, ", "))}
	}
	return nil
}
