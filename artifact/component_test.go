package artifact_test

import (
	"bytes"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/wasmgate/wasmgate/artifact"
)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("../testdata/wasm/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The fixtures are components built by wasm-tools (testdata/wasm/regen.sh);
// the names are those `wasm-tools component wit` prints for them.
func TestComponentInterfacesFixtures(t *testing.T) {
	for _, tc := range []struct {
		file             string
		imports, exports []string
	}{
		{"component.wasm", nil, []string{"add"}},
		{"sockets.wasm", []string{"wasi:sockets/tcp@0.2.0"}, []string{"run"}},
		{"capabilities.wasm", []string{"wasi:filesystem/types@0.2.0", "wasi:cli/environment@0.2.0", "wasi:http/outgoing-handler@0.2.0"}, []string{"run"}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			imports, exports, err := artifact.ComponentInterfaces(readFixture(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(imports, tc.imports) || !slices.Equal(exports, tc.exports) {
				t.Errorf("imports %q exports %q, want %q %q", imports, exports, tc.imports, tc.exports)
			}
		})
	}
}

// component builds a component binary from raw sections: hostile inputs
// made in the test, never fixtures.
func component(sections ...[]byte) []byte {
	b := []byte("\x00asm\x0d\x00\x01\x00")
	for _, s := range sections {
		b = append(b, s...)
	}
	return b
}

func uleb(v uint64) []byte {
	var b []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v == 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

func section(id byte, body []byte) []byte {
	return append(append([]byte{id}, uleb(uint64(len(body)))...), body...)
}

// importEntry is one instance import: tag 0x00, the name, externdesc
// instance type 0.
func importEntry(name string) []byte {
	b := append([]byte{0x00}, uleb(uint64(len(name)))...)
	return append(append(b, name...), 0x05, 0x00)
}

func TestComponentInterfacesHostile(t *testing.T) {
	okImport := section(10, append([]byte{1}, importEntry("wasi:sockets/tcp@0.2.0")...))
	for _, tc := range []struct {
		name string
		wasm []byte
	}{
		{"core module", readFixture(t, "tiny.wasm")},
		{"not wasm", []byte("MZ\x90\x00\x03\x00\x00\x00")},
		{"truncated preamble", []byte("\x00asm\x0d\x00")},
		{"section longer than the bytes left", component([]byte{10, 0xff, 0xff, 0x03}, []byte{1})},
		{"section size over 32 bits", component([]byte{10, 0xff, 0xff, 0xff, 0xff, 0x7f})},
		{"section size truncated", component([]byte{10, 0x80})},
		{"skipped section lies about its length", component(okImport, []byte{1, 0xff, 0x01, 0x00})},
		{"import section lies about its length", component(okImport[:len(okImport)-3])},
		{"name longer than the bytes left", component(section(10, []byte{1, 0x00, 0x7f, 'w', 'a', 's', 'i', 0x05, 0x00}))},
		{"name over the limit", component(section(10, append([]byte{1}, importEntry(strings.Repeat("a", artifact.MaxComponentNameLen+1))...)))},
		{"name not UTF-8", component(section(10, append([]byte{1}, importEntry("\xff\xfe\xfd")...)))},
		{"huge declared count", component(section(10, append([]byte{0xff, 0xff, 0xff, 0xff, 0x0f}, importEntry("a")...)))},
		{"count beyond the bytes", component(section(10, append([]byte{2}, importEntry("a")...)))},
		{"too many names", component(section(10, append(uleb(artifact.MaxComponentNames+1), bytes.Repeat(importEntry("a"), artifact.MaxComponentNames+1)...)))},
		{"bytes after the last entry", component(section(10, append(append([]byte{1}, importEntry("a")...), 0x00)))},
		{"unknown name tag", component(section(10, []byte{1, 0x07, 0x01, 'a', 0x05, 0x00}))},
		{"unknown extern kind", component(section(10, []byte{1, 0x00, 0x01, 'a', 0x09, 0x00}))},
		{"core extern not a module", component(section(10, []byte{1, 0x00, 0x01, 'a', 0x00, 0x10, 0x00}))},
		{"unknown sort", component(section(11, []byte{1, 0x00, 0x01, 'a', 0x09, 0x00, 0x00}))},
		{"bad ascription flag", component(section(11, []byte{1, 0x00, 0x01, 'a', 0x01, 0x00, 0x02}))},
		{"LEB128 too long", component(section(10, []byte{1, 0x00, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00}))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			imports, exports, err := artifact.ComponentInterfaces(tc.wasm)
			var fe *artifact.FormatError
			if !errors.Is(err, artifact.ErrInvalidComponent) || !errors.As(err, &fe) {
				t.Fatalf("err = %v, want a FormatError wrapping ErrInvalidComponent", err)
			}
			if imports != nil || exports != nil {
				t.Errorf("names with an error: %q %q", imports, exports)
			}
		})
	}
}

// Nested core modules and components are skipped by their size: their
// imports are not the component's.
func TestComponentInterfacesSkipsNested(t *testing.T) {
	nested := component(section(10, append([]byte{1}, importEntry("wasi:filesystem/types@0.2.0")...)))[8:]
	wasm := component(
		section(4, append([]byte("\x00asm\x0d\x00\x01\x00"), nested...)),
		section(0, append([]byte{4}, "name"...)),
		section(10, append([]byte{1}, importEntry("wasi:cli/environment@0.2.0")...)),
		// An export with a version suffix (tag 0x01) and a type ascription.
		section(11, []byte{1, 0x01, 0x01, 'f', 0x03, '1', '.', '0', 0x01, 0x00, 0x01, 0x01, 0x00}),
	)
	imports, exports, err := artifact.ComponentInterfaces(wasm)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(imports, []string{"wasi:cli/environment@0.2.0"}) || !slices.Equal(exports, []string{"f"}) {
		t.Errorf("imports %q exports %q", imports, exports)
	}
}

func TestPackReadsComponent(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := dir + "/" + name
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pkg, err := artifact.Pack(write("sockets.wasm", readFixture(t, "sockets.wasm")), nil, artifact.BuildOptions{})
	if err != nil || pkg.Component == nil || !slices.Equal(pkg.Component.Imports, []string{"wasi:sockets/tcp@0.2.0"}) {
		t.Fatalf("Pack = %+v, %v", pkg, err)
	}
	in := artifact.InspectPackage(pkg)
	if in.Component == nil || !slices.Equal(in.Component.Exports, []string{"run"}) {
		t.Errorf("InspectPackage component = %+v", in.Component)
	}
	if pkg, err := artifact.Pack(write("tiny.wasm", readFixture(t, "tiny.wasm")), nil, artifact.BuildOptions{}); err != nil || pkg.Component != nil {
		t.Errorf("Pack(module) = %+v, %v", pkg, err)
	}
	// A component whose import section lies about its length is not packed.
	lying := component([]byte{10, 0xff, 0x01}, importEntry("a"))
	if _, err := artifact.Pack(write("lying.wasm", lying), nil, artifact.BuildOptions{}); !errors.Is(err, artifact.ErrInvalidComponent) {
		t.Errorf("Pack(lying) = %v, want ErrInvalidComponent", err)
	}
}

// ComponentBuffer keeps a component written in small pieces, nothing of a
// module, and refuses a component over its bound.
func TestComponentBuffer(t *testing.T) {
	write := func(b *artifact.ComponentBuffer, p []byte) {
		for len(p) > 0 {
			n := min(3, len(p))
			b.Write(p[:n])
			p = p[n:]
		}
	}
	b := &artifact.ComponentBuffer{Max: 1 << 20}
	write(b, readFixture(t, "component.wasm"))
	if info, err := b.Info(); err != nil || !slices.Equal(info.Exports, []string{"add"}) || len(info.Imports) != 0 || info.Imports == nil {
		t.Errorf("component: %+v, %v", info, err)
	}
	b = &artifact.ComponentBuffer{Max: 1 << 20}
	write(b, readFixture(t, "tiny.wasm"))
	if info, err := b.Info(); err != nil || info != nil {
		t.Errorf("module: %+v, %v", info, err)
	}
	b = &artifact.ComponentBuffer{Max: 100}
	write(b, readFixture(t, "sockets.wasm"))
	if _, err := b.Info(); !errors.Is(err, artifact.ErrTooLarge) {
		t.Errorf("over the bound: %v", err)
	}
}
