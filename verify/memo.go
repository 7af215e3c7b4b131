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

// blobMemo keeps checked content by digest, within a byte budget: the
// first reader of a digest fetches it (concurrent readers wait for that
// one fetch), checks its size and digest, and keeps it if the budget
// allows; later readers get exactly those bytes. Content is addressed by
// its digest, so the bytes of a digest read from one repository are the
// bytes of that digest everywhere. Both memos below are one of these.
type blobMemo struct {
	budget int64
	group  singleflight.Group
	mu     sync.Mutex
	total  int64
	blobs  map[digest.Digest][]byte
}

func newBlobMemo(budget int64) *blobMemo {
	return &blobMemo{budget: budget, blobs: map[digest.Digest][]byte{}}
}

// load returns the content of desc, checked, from the memo or fetched
// from src (at most max bytes).
func (m *blobMemo) load(ctx context.Context, src oras.ReadOnlyTarget, desc ocispec.Descriptor, max int64, what string) ([]byte, error) {
	m.mu.Lock()
	b, ok := m.blobs[desc.Digest]
	m.mu.Unlock()
	if ok {
		return b, nil
	}
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
		return nil, err
	}
	return v.([]byte), nil
}

// Bounds of the fetch memo that the verifiers of one reference share.
const (
	memoMaxBlob  = 4 << 20
	memoMaxTotal = 64 << 20
)

// memoTarget lets the verifiers of one reference share what they fetch:
// the authorities of a threshold and the attestation rules all read the
// same referrer manifests and envelopes, and each reads them once. Every
// reader still checks what it gets again. Blobs over memoMaxBlob, and
// anything once memoMaxTotal is held, pass through unkept.
type memoTarget struct {
	oras.ReadOnlyTarget
	memo *blobMemo
}

func newMemo(src oras.ReadOnlyTarget) *memoTarget {
	return &memoTarget{ReadOnlyTarget: src, memo: newBlobMemo(memoMaxTotal)}
}

func (m *memoTarget) Fetch(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error) {
	if desc.Size < 0 || desc.Size > memoMaxBlob {
		return m.ReadOnlyTarget.Fetch(ctx, desc)
	}
	b, err := m.memo.load(ctx, m.ReadOnlyTarget, desc, memoMaxBlob, "referrer content")
	if err != nil {
		return nil, err
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}
