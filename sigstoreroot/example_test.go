package sigstoreroot_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/wasmgate/wasmgate/sigstoreroot"
)

// The public-good trusted root, as keyless verification needs it. Online,
// it comes through TUF and is cached; here, offline with an empty cache,
// it is the signed snapshot embedded in wasmgate, and the warnings say how
// old it is.
func ExampleProvider_PublicGood() {
	cache, err := os.MkdirTemp("", "tuf")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(cache)
	p := sigstoreroot.NewProvider(sigstoreroot.Options{CacheDir: cache, Offline: true})
	r, err := p.PublicGood(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(r.Name, "from", r.Source)
	fmt.Println(len(r.TrustedRoot.FulcioCertificateAuthorities()) > 0, len(r.TrustedRoot.RekorLogs()) > 0)
	// Output:
	// public-good from embedded snapshot of 2026-10-03
	// true true
}
