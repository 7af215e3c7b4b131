package verify

import (
	"bytes"
	"context"
	"io"
	"sync"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sync/singleflight"
	"oras.land/oras-go/v2"

	"github.com/wasmgate/wasmgate/access"
)

// DefaultLayerMemoBytes bounds a LayerMemo made with a budget of 0.
const DefaultLayerMemoBytes = 256 << 20

// LayerMemo lets the verifications of one run (an apply of many
// components, a service) share the layers they checked: a layer is
// fetched and hashed once per digest, however many artifacts, in however
// many repositories, name it. Content is addressed by its digest, so the
// bytes checked once are the bytes of that digest everywhere; a layer is
// kept only after its size and digest were checked. Layers beyond the
// budget pass through unkept. It is safe for concurrent use.
type LayerMemo struct {
	budget int64
	group  singleflight.Group
	mu     sync.Mutex
	total  int64
	blobs  map[digest.Digest][]byte
}

// NewLayerMemo returns a memo that keeps at most budget bytes (0:
// DefaultLayerMemoBytes).
func NewLayerMemo(budget int64) *LayerMemo {
	if budget <= 0 {
		budget = DefaultLayerMemoBytes
	}
	return &LayerMemo{budget: budget, blobs: map[digest.Digest][]byte{}}
}

// copy writes the content of desc to w, checked: from the memo when a
// verification of this run already checked that digest, else fetched
// from src (bounded by max), checked in the pass that reads it, and kept
// if the budget allows. A nil memo fetches.
func (m *LayerMemo) copy(ctx context.Context, w io.Writer, src oras.ReadOnlyTarget, desc ocispec.Descriptor, max int64, what string) error {
	if m == nil || desc.Size > m.budget {
		return access.CopyVerified(ctx, w, src, desc, max, what)
	}
	m.mu.Lock()
	b, ok := m.blobs[desc.Digest]
	m.mu.Unlock()
	if !ok {
		v, err, _ := m.group.Do(desc.Digest.String(), func() (any, error) {
			var buf bytes.Buffer
			if err := access.CopyVerified(ctx, &buf, src, desc, max, what); err != nil {
				return nil, err
			}
			m.mu.Lock()
			if m.total+int64(buf.Len()) <= m.budget {
				m.blobs[desc.Digest] = buf.Bytes()
				m.total += int64(buf.Len())
			}
			m.mu.Unlock()
			return buf.Bytes(), nil
		})
		if err != nil {
			return err
		}
		b = v.([]byte)
	}
	_, err := w.Write(b)
	return err
}
