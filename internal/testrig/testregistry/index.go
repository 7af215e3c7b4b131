package testregistry

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
)

// EditReferrersIndex replaces the referrers fallback index of subject in
// repo (the "<alg>-<hex>" tag) with one whose entries edit returns, as a
// tool that lists referrers carelessly, or a hostile registry, could.
func (r *Registry) EditReferrersIndex(t testing.TB, repo string, subject digest.Digest, edit func([]ocispec.Descriptor) []ocispec.Descriptor) {
	t.Helper()
	rp := r.Repository(t, repo)
	ctx := context.Background()
	tag := strings.Replace(subject.String(), ":", "-", 1)
	_, raw, err := oras.FetchBytes(ctx, rp, tag, oras.DefaultFetchBytesOptions)
	if err != nil {
		t.Fatalf("testregistry: fallback index %s: %v", tag, err)
	}
	var idx ocispec.Index
	if err := json.Unmarshal(raw, &idx); err != nil {
		t.Fatalf("testregistry: fallback index %s: %v", tag, err)
	}
	idx.Manifests = edit(idx.Manifests)
	if raw, err = json.Marshal(idx); err != nil {
		t.Fatal(err)
	}
	if _, err := oras.TagBytes(ctx, rp, ocispec.MediaTypeImageIndex, raw, tag); err != nil {
		t.Fatalf("testregistry: fallback index %s: %v", tag, err)
	}
}
