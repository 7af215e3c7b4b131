package artifact

import (
	"fmt"
	"unicode/utf8"
)

// Bounds on what [ComponentInterfaces] reads. Both are far above what a
// toolchain writes (a WASI 0.2 command imports about 30 interfaces, and
// their names are a few dozen bytes) and low enough that a hostile binary
// cannot make a caller hold more than a few megabytes of names.
const (
	// MaxComponentNames bounds the imports and exports, together, of one
	// component.
	MaxComponentNames = 10_000
	// MaxComponentNameLen bounds one import or export name, in bytes.
	MaxComponentNameLen = 1024
)

// The sections of the component binary format (WebAssembly/component-model,
// design/mvp/Binary.md) that ComponentInterfaces reads; every other one,
// custom sections, nested core modules (1) and nested components (4)
// included, is skipped by its declared size, which is checked against the
// bytes left first.
const (
	componentImportSection = 10
	componentExportSection = 11
)

// ComponentInterfaces returns the names of what a WebAssembly component
// imports and exports at its top level, in the order of the binary:
// interface names such as "wasi:sockets/tcp@0.2.0" and plain names such
// as "add". Imports and exports of the core modules and components nested
// inside it are not the component's own and are not read.
//
// It reads the preamble (magic, version 0x0d, layer 1), then the sections
// by id and size: the import section (10) and the export section (11) are
// decoded, every other section is skipped. It trusts no declared length or
// count: a section, name or entry count that does not fit in the bytes
// left, a name that is not UTF-8, more than [MaxComponentNames] entries or
// a name longer than [MaxComponentNameLen] is a [*FormatError] wrapping
// [ErrInvalidComponent]; so is a core module. Nothing is allocated by a
// declared count. It does not validate the component (types, indices):
// that is a runtime's job, which it does before it runs anything.
func ComponentInterfaces(wasm []byte) (imports, exports []string, err error) {
	kind, err := DetectKind(wasm)
	if err != nil {
		return nil, nil, &FormatError{What: "component", Err: fmt.Errorf("%w: %w", ErrInvalidComponent, err)}
	}
	if kind != KindComponent {
		return nil, nil, &FormatError{What: "component", Err: fmt.Errorf("%w: a core module, not a component", ErrInvalidComponent)}
	}
	r := &binReader{b: wasm, off: HeaderSize}
	names := 0
	for r.off < len(r.b) {
		id, err := r.byte()
		if err != nil {
			return nil, nil, err
		}
		size, err := r.u32()
		if err != nil {
			return nil, nil, err
		}
		start := r.off
		body, err := r.take(size, "section")
		if err != nil {
			return nil, nil, err
		}
		if id != componentImportSection && id != componentExportSection {
			continue
		}
		s := &binReader{b: body, base: start}
		count, err := s.u32()
		if err != nil {
			return nil, nil, err
		}
		// Every entry takes at least four bytes (a name tag, a length, a
		// descriptor or sort, an index); the count must fit in the body.
		if uint64(count)*4 > uint64(len(s.b)-s.off) {
			return nil, nil, s.fail("section %d declares %d entries in %d bytes", id, count, len(s.b)-s.off)
		}
		if names+int(count) > MaxComponentNames {
			return nil, nil, s.fail("more than %d imports and exports", MaxComponentNames)
		}
		names += int(count)
		for range count {
			name, err := s.externName()
			if err != nil {
				return nil, nil, err
			}
			if id == componentImportSection {
				err = s.externDesc()
				imports = append(imports, name)
			} else {
				err = s.exportTail()
				exports = append(exports, name)
			}
			if err != nil {
				return nil, nil, err
			}
		}
		if s.off != len(s.b) {
			return nil, nil, s.fail("section %d has %d bytes after its last entry", id, len(s.b)-s.off)
		}
	}
	return imports, exports, nil
}

// binReader reads b from off; base is b's offset in the whole binary, for
// the error messages.
type binReader struct {
	b         []byte
	off, base int
}

func (r *binReader) fail(format string, a ...any) error {
	return &FormatError{What: fmt.Sprintf("component at byte %d", r.base+r.off),
		Err: fmt.Errorf("%w: "+format, append([]any{ErrInvalidComponent}, a...)...)}
}

func (r *binReader) byte() (byte, error) {
	if r.off >= len(r.b) {
		return 0, r.fail("truncated")
	}
	r.off++
	return r.b[r.off-1], nil
}

// u32 reads an unsigned LEB128 value of at most 32 bits (5 bytes).
func (r *binReader) u32() (uint32, error) {
	var v uint64
	for i := 0; i < 5; i++ {
		if r.off >= len(r.b) {
			return 0, r.fail("truncated LEB128 value")
		}
		c := r.b[r.off]
		r.off++
		v |= uint64(c&0x7f) << (7 * i)
		if c&0x80 == 0 {
			if v > 1<<32-1 {
				return 0, r.fail("LEB128 value over 32 bits")
			}
			return uint32(v), nil
		}
	}
	return 0, r.fail("LEB128 value longer than 5 bytes")
}

// s33 skips a signed LEB128 value of at most 33 bits (5 bytes), the
// encoding of a valtype.
func (r *binReader) s33() error {
	for i := 0; i < 5; i++ {
		c, err := r.byte()
		if err != nil {
			return err
		}
		if c&0x80 == 0 {
			return nil
		}
	}
	return r.fail("LEB128 value longer than 5 bytes")
}

// take returns the next n bytes, refusing an n beyond the bytes left.
func (r *binReader) take(n uint32, what string) ([]byte, error) {
	if uint64(n) > uint64(len(r.b)-r.off) {
		return nil, r.fail("%s of %d bytes, only %d left", what, n, len(r.b)-r.off)
	}
	b := r.b[r.off : r.off+int(n)]
	r.off += int(n)
	return b, nil
}

func (r *binReader) name(limit int) (string, error) {
	n, err := r.u32()
	if err != nil {
		return "", err
	}
	if uint64(n) > uint64(limit) {
		return "", r.fail("name of %d bytes, over the limit of %d", n, limit)
	}
	b, err := r.take(n, "name")
	if err != nil {
		return "", err
	}
	if !utf8.Valid(b) {
		return "", r.fail("name is not UTF-8")
	}
	return string(b), nil
}

// externName reads an importname' or exportname': 0x00 and the name, or
// 0x01, the name and a version suffix (Binary.md's 🔗 feature), which is
// read and not reported.
func (r *binReader) externName() (string, error) {
	tag, err := r.byte()
	if err != nil {
		return "", err
	}
	if tag > 0x01 {
		return "", r.fail("unknown name tag 0x%02x", tag)
	}
	name, err := r.name(MaxComponentNameLen)
	if err != nil {
		return "", err
	}
	if tag == 0x01 {
		if _, err := r.name(MaxComponentNameLen); err != nil {
			return "", err
		}
	}
	return name, nil
}

// externDesc reads an externdesc: what an import is (a core module, a
// function, a value, a type, a component or an instance) and its type.
func (r *binReader) externDesc() error {
	kind, err := r.byte()
	if err != nil {
		return err
	}
	switch kind {
	case 0x00: // core module: 0x11 and a core type index
		if b, err := r.byte(); err != nil {
			return err
		} else if b != 0x11 {
			return r.fail("core extern 0x%02x is not a module", b)
		}
		_, err = r.u32()
	case 0x01, 0x04, 0x05: // func, component, instance: a type index
		_, err = r.u32()
	case 0x02: // value: a value index or a valtype
		var b byte
		if b, err = r.byte(); err != nil {
			return err
		}
		switch b {
		case 0x00:
			_, err = r.u32()
		case 0x01:
			err = r.s33()
		default:
			err = r.fail("unknown value bound 0x%02x", b)
		}
	case 0x03: // type: equal to a type index, or a fresh resource
		var b byte
		if b, err = r.byte(); err != nil {
			return err
		}
		switch b {
		case 0x00:
			_, err = r.u32()
		case 0x01:
		default:
			err = r.fail("unknown type bound 0x%02x", b)
		}
	default:
		err = r.fail("unknown extern kind 0x%02x", kind)
	}
	return err
}

// exportTail reads what follows an export's name: the sort and index of
// what it exports, and an optional externdesc that ascribes its type.
func (r *binReader) exportTail() error {
	sort, err := r.byte()
	if err != nil {
		return err
	}
	switch sort {
	case 0x00: // a core sort follows
		if _, err := r.byte(); err != nil {
			return err
		}
	case 0x01, 0x02, 0x03, 0x04, 0x05:
	default:
		return r.fail("unknown sort 0x%02x", sort)
	}
	if _, err := r.u32(); err != nil {
		return err
	}
	opt, err := r.byte()
	switch {
	case err != nil:
		return err
	case opt == 0x01:
		return r.externDesc()
	case opt != 0x00:
		return r.fail("bad type ascription flag 0x%02x", opt)
	}
	return nil
}
