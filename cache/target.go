package cache

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/registry"
)

// Target puts the cache in front of src, the repository repo
// ("host/path") of a registry:
//
//   - content asked for by digest is served from the cache when it is
//     there, so a digest-pinned pull of cached content makes no request;
//   - a tag is resolved by src (once, by whoever calls), unless offline,
//     where the pointer recorded by the last pull of that tag is used;
//   - whatever is fetched from src is streamed to the caller and into the
//     cache in one pass, and committed to the cache only when it matched
//     its digest; a manifest fetched by tag then records the tag pointer.
//
// Offline, nothing is asked of src and missing content fails with
// [ErrNotCached].
func (c *Cache) Target(src oras.ReadOnlyTarget, repo string, offline bool) oras.ReadOnlyTarget {
	return &target{cache: c, src: src, repo: repo, offline: offline}
}

type target struct {
	cache   *Cache
	src     oras.ReadOnlyTarget
	repo    string
	offline bool
}

var (
	_ oras.ReadOnlyTarget       = (*target)(nil)
	_ registry.ReferenceFetcher = (*target)(nil)
)

func (t *target) refName(object string) string {
	if _, err := digest.Parse(object); err == nil {
		return t.repo + "@" + object
	}
	return t.repo + ":" + object
}

func (t *target) notCached(what string) error {
	return fmt.Errorf("%s %s: %w", t.repo, what, ErrNotCached)
}

func (t *target) has(ctx context.Context, desc ocispec.Descriptor) bool {
	ok, err := t.cache.store.Exists(ctx, desc)
	return err == nil && ok
}

// Exists reports whether desc is cached or, online, in src.
func (t *target) Exists(ctx context.Context, desc ocispec.Descriptor) (bool, error) {
	if t.has(ctx, desc) {
		return true, nil
	}
	if t.offline {
		return false, nil
	}
	return t.src.Exists(ctx, desc)
}

// Resolve resolves a digest from the cache when it can, a tag from src
// (or, offline, from the cached pointer).
func (t *target) Resolve(ctx context.Context, reference string) (ocispec.Descriptor, error) {
	if d, err := digest.Parse(reference); err == nil {
		if desc, err := t.cache.store.Resolve(ctx, d.String()); err == nil {
			return desc, nil
		}
	} else if t.offline {
		desc, err := t.cache.store.Resolve(ctx, t.refName(reference))
		if err != nil {
			return ocispec.Descriptor{}, t.notCached(reference)
		}
		return desc, nil
	}
	if t.offline {
		return ocispec.Descriptor{}, t.notCached(reference)
	}
	return t.src.Resolve(ctx, reference)
}

// Fetch serves desc from the cache, else from src through the cache.
func (t *target) Fetch(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error) {
	if t.has(ctx, desc) {
		return t.cache.store.Fetch(ctx, desc)
	}
	if t.offline {
		return nil, t.notCached(desc.Digest.String())
	}
	rc, err := t.src.Fetch(ctx, desc)
	if err != nil {
		return nil, err
	}
	return t.tee(ctx, desc, rc, nil), nil
}

// FetchReference resolves and fetches a manifest in one step. For a tag,
// the tag pointer is recorded once the manifest was cached, i.e. once its
// bytes matched the digest they were served under.
func (t *target) FetchReference(ctx context.Context, reference string) (ocispec.Descriptor, io.ReadCloser, error) {
	if _, err := digest.Parse(reference); err == nil || t.offline {
		desc, err := t.Resolve(ctx, reference)
		if err != nil {
			return ocispec.Descriptor{}, nil, err
		}
		rc, err := t.Fetch(ctx, desc)
		if err == nil && t.has(ctx, desc) {
			// Keep the cache listing complete for digest pulls too.
			_ = t.cache.store.Tag(ctx, desc, t.refName(desc.Digest.String()))
		}
		return desc, rc, err
	}
	desc, rc, err := oras.Fetch(ctx, t.src, reference, oras.DefaultFetchOptions)
	if err != nil {
		return ocispec.Descriptor{}, nil, err
	}
	name := t.refName(reference)
	return desc, t.tee(ctx, desc, rc, func() {
		// Best effort: a lost pointer costs a network round trip later,
		// nothing else.
		_ = t.cache.store.Tag(context.WithoutCancel(ctx), desc, name)
	}), nil
}

// tee returns a reader that hands src's bytes to the caller and, in the
// same pass, to the cache. The cache verifies size and digest itself and
// commits only a complete, matching blob; a caller that stops early, or
// bytes that do not match, leave nothing in the cache. committed runs
// after a successful commit.
func (t *target) tee(ctx context.Context, desc ocispec.Descriptor, src io.ReadCloser, committed func()) io.ReadCloser {
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := t.cache.store.Push(ctx, desc, pr)
		pr.CloseWithError(err) // unblock the writer if Push gave up early
		done <- err
	}()
	return &teeReader{src: src, pw: pw, done: done, committed: committed}
}

var errIncomplete = errors.New("reader closed before the end of the blob")

type teeReader struct {
	src       io.ReadCloser
	pw        *io.PipeWriter
	done      chan error
	committed func()
	eof       bool
	broken    bool // the cache gave up; keep serving the caller
	closed    bool
}

func (r *teeReader) Read(p []byte) (int, error) {
	n, err := r.src.Read(p)
	if n > 0 && !r.broken {
		if _, werr := r.pw.Write(p[:n]); werr != nil {
			r.broken = true
		}
	}
	if err == io.EOF {
		r.eof = true
		r.pw.Close()
	}
	return n, err
}

func (r *teeReader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	if !r.eof {
		r.pw.CloseWithError(errIncomplete)
	}
	err := r.src.Close()
	if perr := <-r.done; perr == nil && r.committed != nil {
		r.committed()
	}
	return err
}
