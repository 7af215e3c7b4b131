package loader

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/tetratelabs/wazero"
)

// module is a wasm preamble followed by sections.
func module(sections ...string) []byte {
	return []byte("\x00asm\x01\x00\x00\x00" + concat(sections))
}

func concat(s []string) (out string) {
	for _, x := range s {
		out += x
	}
	return out
}

func TestDeclaredMemoryPages(t *testing.T) {
	tests := []struct {
		name    string
		wasm    []byte
		pages   uint64
		wantErr bool
	}{
		{"no sections", module(), 0, false},
		{"custom section, then memory min 2", module("\x00\x03\x01a\x00", "\x05\x03\x01\x00\x02"), 2, false},
		{"memory min 1 max 3", module("\x05\x04\x01\x01\x01\x03"), 1, false},
		{"multi-byte min (300)", module("\x05\x04\x01\x00\xac\x02"), 300, false},
		{"min 65536", module("\x05\x05\x01\x00\x80\x80\x04"), 65536, false},
		{"no memory section", module("\x01\x04\x01\x60\x00\x00"), 0, false},
		{"too short for a preamble", []byte("\x00asm"), 0, true},
		{"section larger than the module", module("\x05\x7f\x01\x00\x02"), 0, true},
		{"unterminated size", module("\x05\x80\x80"), 0, true},
		{"count larger than the section", module("\x05\x03\x05\x00\x02"), 0, true},
		{"missing max", module("\x05\x03\x01\x01\x01"), 0, true},
		{"shared memory", module("\x05\x04\x01\x03\x01\x01"), 0, true},
		{"LEB128 over 32 bits", module("\x05\x07\x01\x00\xff\xff\xff\xff\x7f"), 0, true},
		// 2^31 imports in a 5-byte section: wazero would size a slice by
		// the count before reading one (found by FuzzDeclaredMemoryPages).
		{"import count larger than its section", module("\x02\x05\xff\xff\xff\xff\x07"), 0, true},
		{"code count larger than its section, after the memory", module("\x05\x03\x01\x00\x01", "\x0a\x02\x7f\x00"), 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pages, err := declaredMemoryPages(tt.wasm)
			if (err != nil) != tt.wantErr || pages != tt.pages {
				t.Errorf("declaredMemoryPages = %d, %v; want %d, error %v", pages, err, tt.pages, tt.wantErr)
			}
		})
	}
}

func FuzzDeclaredMemoryPages(f *testing.F) {
	probe, err := os.ReadFile("testdata/probe.wasm")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(probe[:4096])
	f.Add(module("\x05\x04\x01\x01\x01\x03"))
	f.Add(module("\x00\x03\x01a\x00", "\x05\x03\x01\x00\x02"))
	// Exported memory, min 2 max 5: the differential check below sees it.
	f.Add(module("\x05\x04\x01\x01\x02\x05", "\x07\x05\x01\x01m\x02\x00"))
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer rt.Close(ctx)
	f.Fuzz(func(t *testing.T, wasm []byte) {
		pages, err := declaredMemoryPages(wasm)
		if err == nil && pages > 1<<32-1 {
			t.Errorf("pages %d over 32 bits", pages)
		}
		if errors.Is(err, errMalformed) || errors.Is(err, errCount) {
			// The loader never compiles what this refuses, and wazero may
			// not survive it: it sizes a slice by a section's entry count
			// before reading an entry (a 2^31 import count runs it out of
			// memory).
			return
		}
		if len(wasm) > 1<<16 {
			return // keep wazero's share of the fuzzing cheap
		}
		// Whatever wazero compiles, this reads the same way: no error,
		// and the minimum that wazero reports for an exported memory.
		compiled, cerr := rt.CompileModule(ctx, wasm)
		if cerr != nil {
			return
		}
		defer compiled.Close(ctx)
		if err != nil {
			t.Fatalf("wazero compiles the module, declaredMemoryPages fails: %v", err)
		}
		for _, mem := range compiled.ExportedMemories() {
			if uint64(mem.Min()) != pages {
				t.Fatalf("wazero reads min %d pages, declaredMemoryPages %d", mem.Min(), pages)
			}
		}
	})
}

func TestLinearMemory(t *testing.T) {
	l := &memoryLimit{limit: 4 * PageSize}
	m := l.Allocate(PageSize, 0)
	if b := m.Reallocate(PageSize); len(b) != PageSize {
		t.Fatalf("initial Reallocate gave %d bytes", len(b))
	}
	b := m.Reallocate(2 * PageSize)
	b[2*PageSize-1] = 7
	if b = m.Reallocate(3 * PageSize); len(b) != 3*PageSize || b[2*PageSize-1] != 7 || b[3*PageSize-1] != 0 {
		t.Fatal("growing lost data or left garbage")
	}
	if l.refused.Load() {
		t.Fatal("refused growth within the limit")
	}
	if b := m.Reallocate(5 * PageSize); b != nil || !l.refused.Load() {
		t.Errorf("growth over the limit: %d bytes, refused %v", len(b), l.refused.Load())
	}
	if b := m.Reallocate(4 * PageSize); len(b) != 4*PageSize || cap(b) > 4*PageSize {
		t.Errorf("growth to the limit: len %d cap %d", len(b), cap(b))
	}
}
