package artifact

import (
	"bytes"
	"fmt"
)

// Kind is what a wasm binary is: a core module or a component.
type Kind string

const (
	KindModule    Kind = "module"
	KindComponent Kind = "component"
)

// HeaderSize is how many leading bytes [DetectKind] needs.
const HeaderSize = 8

var (
	wasmMagic = []byte{0x00, 'a', 's', 'm'}
	// Core modules carry version 1; components carry version 0x0d with
	// layer 1 (the component model's binary encoding, still pre-1.0).
	moduleVersion    = []byte{0x01, 0x00, 0x00, 0x00}
	componentVersion = []byte{0x0d, 0x00, 0x01, 0x00}
)

// DetectKind reads the wasm preamble. It returns [ErrNotWasm] when header
// does not start with the wasm magic or carries an unknown version.
func DetectKind(header []byte) (Kind, error) {
	if len(header) < HeaderSize || !bytes.Equal(header[:4], wasmMagic) {
		return "", ErrNotWasm
	}
	switch v := header[4:8]; {
	case bytes.Equal(v, moduleVersion):
		return KindModule, nil
	case bytes.Equal(v, componentVersion):
		return KindComponent, nil
	default:
		return "", &FormatError{What: "wasm header", Err: fmt.Errorf("%w: unknown binary version % x", ErrNotWasm, v)}
	}
}

// OS is the config `os` value wkg writes for a kind: WASI preview 1 for
// core modules, preview 2 for components.
func (k Kind) OS() string {
	if k == KindComponent {
		return "wasip2"
	}
	return "wasip1"
}
