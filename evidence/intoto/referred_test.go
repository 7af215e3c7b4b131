package intoto_test

import (
	"errors"
	"testing"

	in_toto "github.com/in-toto/in-toto-golang/in_toto"
	"github.com/opencontainers/go-digest"

	"github.com/wasmgate/wasmgate/evidence/intoto"
)

// Links found as referrers come as a bag of bytes, in any order: each is
// filed by the step and signer its signed content names, and the layout
// must have made the artifact they are attached to.
func TestVerifyLayoutForReferrers(t *testing.T) {
	for _, dsse := range []bool{false, true} {
		c := newChain(t)
		c.DSSE = dsse
		layout, links := c.Signed(t)
		bag := [][]byte{links.Steps["package"][c.Bob.Pub.KeyID], []byte("not a link"), links.Steps["build"][c.Alice.Pub.KeyID]}
		wasm := digest.NewDigestFromEncoded(digest.SHA256, hashes(string(wasm))["sha256"])

		res, err := intoto.VerifyLayoutFor(layout, []in_toto.Key{c.Owner.Pub}, bag, wasm)
		if err != nil || !res.Verified || res.Product != "app.wasm" {
			t.Fatalf("dsse=%v: %v %+v", dsse, err, res)
		}
		res, err = intoto.VerifyLayoutFor(layout, []in_toto.Key{c.Owner.Pub}, bag, digest.FromString("another module"))
		if !errors.Is(err, intoto.ErrSubjectMismatch) || res.Verified {
			t.Errorf("dsse=%v: a layout that did not make the artifact: %v", dsse, err)
		}
		res, err = intoto.VerifyLayoutFor(layout, []in_toto.Key{c.Owner.Pub}, bag[:2], wasm)
		if !errors.Is(err, intoto.ErrLinkThreshold) || res.FailedStep != "build" {
			t.Errorf("dsse=%v: the build link not among the referrers: %v", dsse, err)
		}
	}
	if _, err := intoto.VerifyLayoutFor(nil, nil, make([][]byte, intoto.MaxLinks+1), digest.FromString("x")); !errors.Is(err, intoto.ErrInvalidLink) {
		t.Errorf("more than MaxLinks referrers: %v, want ErrInvalidLink", err)
	}
}
