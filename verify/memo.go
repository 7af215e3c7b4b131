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

// Bounds of the fetch memo that the verifiers of one reference share.
const (
	memoMaxBlob  = 4 << 20
	memoMaxTotal = 64 << 20
)

// memoTarget lets the verifiers of one reference share what they fetch:
// the authorities of a threshold and the attestation rules all read the
// same referrer manifests and envelopes, and each reads them once.
// Content is addressed by digest and kept only after its size and digest
// were checked, so a later reader gets exactly what the first one
// verified; every reader still checks it again. Blobs over memoMaxBlob,
// and anything once memoMaxTotal is held, pass through unkept.
type memoTarget struct {
	oras.ReadOnlyTarget
	group singleflight.Group
	mu    sync.Mutex
	blobs map[digest.Digest][]byte
	total int64
}

func newMemo(src oras.ReadOnlyTarget) *memoTarget {
	return &memoTarget{ReadOnlyTarget: src, blobs: map[digest.Digest][]byte{}}
}

func (m *memoTarget) Fetch(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error) {
	if desc.Size < 0 || desc.Size > memoMaxBlob {
		return m.ReadOnlyTarget.Fetch(ctx, desc)
	}
	m.mu.Lock()
	b, ok := m.blobs[desc.Digest]
	m.mu.Unlock()
	if ok {
		return io.NopCloser(bytes.NewReader(b)), nil
	}
	v, err, _ := m.group.Do(desc.Digest.String(), func() (any, error) {
		b, err := access.FetchVerified(ctx, m.ReadOnlyTarget, desc, memoMaxBlob, "referrer content")
		if err != nil {
			return nil, err
		}
		m.mu.Lock()
		if m.total+int64(len(b)) <= memoMaxTotal {
			m.blobs[desc.Digest] = b
			m.total += int64(len(b))
		}
		m.mu.Unlock()
		return b, nil
	})
	if err != nil {
		return nil, err
	}
	return io.NopCloser(bytes.NewReader(v.([]byte))), nil
}
