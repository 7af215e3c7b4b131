package verify

import (
	"context"
	"io"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"

	"github.com/wasmgate/wasmgate/access"
)

// DefaultLayerMemoBytes bounds a LayerMemo made with a budget of 0.
const DefaultLayerMemoBytes = 256 << 20

// LayerMemo lets the verifications of one run (an apply of many
// components, a service) share the layers they checked: a layer is
// fetched and hashed once per digest, however many artifacts, in however
// many repositories, name it. A layer is kept only after its size and
// digest were checked; layers beyond the budget pass through unkept. It is
// safe for concurrent use.
type LayerMemo struct{ memo *blobMemo }

// NewLayerMemo returns a memo that keeps at most budget bytes (0:
// DefaultLayerMemoBytes).
func NewLayerMemo(budget int64) *LayerMemo {
	if budget <= 0 {
		budget = DefaultLayerMemoBytes
	}
	return &LayerMemo{memo: newBlobMemo(budget)}
}

// copy writes the content of desc to w, checked: from the memo when a
// verification of this run already checked that digest, else fetched from
// src (bounded by max) and kept if the budget allows. A nil memo fetches
// and streams.
func (m *LayerMemo) copy(ctx context.Context, w io.Writer, src oras.ReadOnlyTarget, desc ocispec.Descriptor, max int64, what string) error {
	if m == nil || desc.Size > m.memo.budget {
		return access.CopyVerified(ctx, w, src, desc, max, what)
	}
	b, err := m.memo.load(ctx, src, desc, max, what)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}
