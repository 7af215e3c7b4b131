package sign_test

import (
	"errors"
	"testing"

	"github.com/wasmgate/wasmgate/internal/testrig/peers"
	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
	"github.com/wasmgate/wasmgate/referrers"
	"github.com/wasmgate/wasmgate/remote"
	"github.com/wasmgate/wasmgate/sign"
)

// wasmgate writes Notation signatures (both envelopes, with user
// metadata) on both registry kinds; notation-go's own verifier, set up as
// the notation CLI sets it up, accepts them, and discovery classifies them.
func TestNotationAcceptsWhatWasmgateSigns(t *testing.T) {
	signer, root := peers.NotationKey(t)
	trust := peers.NotationVerifyMaterial(t, root)
	_, otherRoot := peers.NotationKey(t)
	otherTrust := peers.NotationVerifyMaterial(t, otherRoot)
	for _, kind := range testregistry.Kinds() {
		for _, env := range []string{sign.EnvelopeJWS, sign.EnvelopeCOSE} {
			t.Run(string(kind)+"/"+env, func(t *testing.T) {
				reg := testregistry.New(t, kind)
				subject := peers.PushSubject(t, reg, "wasm/tiny")
				s := testkit.Open(t, reg, reg.Ref("wasm/tiny", subject.Digest.String()), remote.Options{})
				desc, err := sign.Notation(testkit.Context(t), s.Target, subject, signer, sign.NotationOptions{Envelope: env, UserMetadata: map[string]string{"build": "42"}})
				if err != nil {
					t.Fatal(err)
				}
				if err := peers.NotationVerify(t, trust, reg.Repository(t, "wasm/tiny"), s.Ref.String()); err != nil {
					t.Fatalf("notation-go refused what wasmgate signed: %v", err)
				}
				if err := peers.NotationVerify(t, otherTrust, reg.Repository(t, "wasm/tiny"), s.Ref.String()); err == nil {
					t.Fatal("notation-go accepted the signature under another root")
				}
				found, err := referrers.Discover(testkit.Context(t), s.Target, subject, s.Discover)
				if err != nil {
					t.Fatal(err)
				}
				if len(found.Referrers) != 1 || found.Referrers[0].Digest != desc.Digest || found.Referrers[0].Kind != referrers.KindNotation {
					t.Fatalf("discovered %+v", found.Referrers)
				}
			})
		}
	}
	if _, err := sign.Notation(testkit.Context(t), nil, peers.PushSubject(t, testregistry.GGCR(t), "x"), signer,
		sign.NotationOptions{UserMetadata: map[string]string{"io.cncf.notary.x": "y"}}); !errors.Is(err, sign.ErrNotationOptions) {
		t.Errorf("reserved metadata key: %v", err)
	}
}
