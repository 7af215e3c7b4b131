package loader

import (
	"errors"
	"sync/atomic"

	"github.com/tetratelabs/wazero/experimental"
)

// The memory limit is enforced here, by the allocator behind the module's
// linear memory, and not by wazero's RuntimeConfig.WithMemoryLimitPages.
// wazero refuses a memory.grow past that limit before any hook runs, so a
// host could not tell "out of memory" from any other exit. This allocator
// refuses the same growth itself and records that it did, which makes
// ErrMemoryLimit a fact rather than a guess. wazero's own limit stays at
// its default, the 4 GiB that a 32-bit memory can address.
//
// The one thing the allocator cannot refuse is the memory's initial size:
// wazero panics if the first Reallocate fails. Load checks the declared
// minimum against the limit before compiling (declaredMemoryPages), so
// no module whose minimum is over the limit is ever instantiated.

// memoryLimit is an experimental.MemoryAllocator that caps every memory
// it allocates at limit bytes and records refused growth.
type memoryLimit struct {
	limit   uint64
	refused atomic.Bool
}

func (l *memoryLimit) Allocate(_, _ uint64) experimental.LinearMemory {
	return &linearMemory{l: l}
}

type linearMemory struct {
	l   *memoryLimit
	buf []byte
}

// Reallocate grows the memory to size bytes, or returns nil, which wazero
// turns into memory.grow returning -1. Capacity doubles, up to the limit,
// so that a module growing page by page is not copied each time.
func (m *linearMemory) Reallocate(size uint64) []byte {
	if size > m.l.limit {
		m.l.refused.Store(true)
		return nil
	}
	if size <= uint64(cap(m.buf)) {
		// Bytes past len were zeroed by make and never written: wasm
		// memory never shrinks and wazero checks bounds against len.
		m.buf = m.buf[:size]
		return m.buf
	}
	buf := make([]byte, size, min(max(size, 2*uint64(cap(m.buf))), m.l.limit))
	copy(buf, m.buf)
	m.buf = buf
	return buf
}

func (m *linearMemory) Free() { m.buf = nil }

var errMalformed = errors.New("malformed module: truncated section or LEB128 value")

// errCount: a section whose entry count exceeds its size in bytes (every
// entry takes at least one). Checked here so that a runtime never sizes an
// allocation by such a count (wazero makes the slice first).
var errCount = errors.New("malformed module: a section declares more entries than its bytes can hold")

// vectorSections are the sections whose body starts with an entry count:
// type, import, function, table, memory, global, export, element, code
// and data.
var vectorSections = [12]bool{1: true, 2: true, 3: true, 4: true, 5: true, 6: true, 7: true, 9: true, 10: true, 11: true}

// declaredMemoryPages returns the initial size, in pages, of the memory a
// core module defines in its memory section; 0 when it defines none. It
// reads only section headers, each section's entry count (which must fit
// in the section's bytes) and the memory section, bounded by len(wasm).
// An imported memory is not counted: the only import module a sandbox
// provides is wasi_snapshot_preview1, which exports no memory, so such a
// module fails to instantiate before any memory is allocated.
func declaredMemoryPages(wasm []byte) (uint64, error) {
	const memorySection = 5
	if len(wasm) < 8 {
		return 0, errMalformed
	}
	r := wasm[8:]
	var pages uint64
	for len(r) > 0 {
		id := r[0]
		size, n := uleb32(r[1:])
		if n == 0 || uint64(len(r)-1-n) < size {
			return 0, errMalformed
		}
		body := r[1+n : 1+n+int(size)]
		r = r[1+n+int(size):]
		if int(id) >= len(vectorSections) || !vectorSections[id] {
			continue
		}
		count, n := uleb32(body)
		if n == 0 {
			return 0, errMalformed
		}
		if count > uint64(len(body)-n) {
			return 0, errCount
		}
		if id != memorySection {
			continue
		}
		body = body[n:]
		for range count {
			if len(body) == 0 {
				return 0, errMalformed
			}
			flags := body[0]
			if flags > 1 {
				// Shared (threads) or 64-bit memories: wazero's default
				// features reject them, and so does this check.
				return 0, errors.New("unsupported memory type: shared or 64-bit")
			}
			minPages, n := uleb32(body[1:])
			if n == 0 {
				return 0, errMalformed
			}
			body = body[1+n:]
			if flags == 1 {
				if _, n = uleb32(body); n == 0 {
					return 0, errMalformed
				}
				body = body[n:]
			}
			pages = max(pages, minPages)
		}
	}
	return pages, nil
}

// uleb32 decodes an unsigned LEB128 value of at most 32 bits and returns
// it with the number of bytes read, or n == 0 when b does not start with
// one.
func uleb32(b []byte) (v uint64, n int) {
	for i := 0; i < 5 && i < len(b); i++ {
		v |= uint64(b[i]&0x7f) << (7 * i)
		if b[i]&0x80 == 0 {
			if v > 1<<32-1 {
				return 0, 0
			}
			return v, i + 1
		}
	}
	return 0, 0
}
