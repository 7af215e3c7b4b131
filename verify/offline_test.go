package verify_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wasmgate/wasmgate/access"
	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
	"github.com/wasmgate/wasmgate/referrers"
	"github.com/wasmgate/wasmgate/sign"
	"github.com/wasmgate/wasmgate/verify"
)

// Offline verification: an artifact copied with its referrers (copy -r)
// from a registry into an OCI layout verifies under the registry's
// policy (Options.Scope) with local trust material only. The Opener has
// no registry client at all, and every HTTP connection any library could
// make through the default transport is recorded and refused.
func TestVerifyOffline(t *testing.T) {
	f := newFixture(t, atGGCR)
	f.cosign(t, "release", sign.FormatBundle)
	f.cosign(t, "ci", sign.FormatLegacy)
	f.notation(t)
	f.attest(t, "release", time.Now())
	scope := f.scope(t)

	layout := "oci-layout:" + t.TempDir() + ":v1"
	lref, err := artifact.ParseReference(layout)
	if err != nil {
		t.Fatal(err)
	}
	offline := &access.Opener{}
	dst, err := offline.Destination(lref)
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := artifact.ParseReference(f.ref)
	src, err := f.opener.Source(ref)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := referrers.Copy(testkit.Context(t), src, f.subject.Digest.String(), dst, "v1", referrers.CopyOptions{Recursive: true, Discover: referrers.Options{API: f.opener.ReferrersAPI(ref)}}); err != nil {
		t.Fatal(err)
	}

	var dials atomic.Int64
	saved := http.DefaultTransport
	http.DefaultTransport = &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		return nil, errors.New("offline test: no connection may be attempted")
	}}
	t.Cleanup(func() { http.DefaultTransport = saved })

	p := f.policy(t, policyOf(scope, 3, "release ci corp", sprintf(slsaRule, "release")+"    layers: {requirePolicy: true}\n"))
	res, err := mustVerifier(t, p, offline, verify.Options{Scope: scope}).Verify(testkit.Context(t), mustRef(t, layout))
	if err != nil || res.Verdict != verify.VerdictVerified {
		t.Fatalf("offline: %v %s %+v", err, res.Verdict, res.Failed())
	}
	if n := dials.Load(); n != 0 {
		t.Errorf("%d connections attempted", n)
	}
	// Without the scope override the layout is local/<dir>, which no
	// statement covers: denied before anything is read.
	res, err = mustVerifier(t, p, offline, verify.Options{}).Verify(testkit.Context(t), mustRef(t, layout))
	if err != nil || res.Verdict != verify.VerdictDenied || !errors.Is(res.Failed()[0].Err, verify.ErrNoScope) {
		t.Errorf("no scope: %v %s %+v", err, res.Verdict, res.Failed())
	}
}
