// Command notation-verify verifies the Notation signatures of one registry
// reference the way `notation verify` does, for bench/run: the notation
// CLI is not served by this machine's module proxy, so this driver calls
// the same notation-go API the CLI is built on, with the same steps:
// trust policy and trust store from the notation configuration directory
// ($XDG_CONFIG_HOME/notation), an oras-go remote repository, the
// reference resolved to a digest, notation.Verify with the CLI's default of
// 100 signature attempts.
//
//	XDG_CONFIG_HOME=DIR notation-verify [-plain-http] REGISTRY/REPO@DIGEST
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/notaryproject/notation-go"
	notationregistry "github.com/notaryproject/notation-go/registry"
	"github.com/notaryproject/notation-go/verifier"
	"oras.land/oras-go/v2/registry"
	"oras.land/oras-go/v2/registry/remote"
)

func main() {
	plainHTTP := flag.Bool("plain-http", false, "speak plain HTTP to the registry")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: notation-verify [-plain-http] REGISTRY/REPO@DIGEST")
		os.Exit(2)
	}
	if err := verify(context.Background(), flag.Arg(0), *plainHTTP); err != nil {
		fmt.Fprintln(os.Stderr, "notation-verify:", err)
		os.Exit(1)
	}
}

func verify(ctx context.Context, reference string, plainHTTP bool) error {
	ref, err := registry.ParseReference(reference)
	if err != nil {
		return err
	}
	repo, err := remote.NewRepository(ref.Registry + "/" + ref.Repository)
	if err != nil {
		return err
	}
	repo.PlainHTTP = plainHTTP
	v, err := verifier.NewFromConfig()
	if err != nil {
		return err
	}
	desc, outcomes, err := notation.Verify(ctx, v, notationregistry.NewRepository(repo), notation.VerifyOptions{
		ArtifactReference:    reference,
		MaxSignatureAttempts: 100,
	})
	if err != nil {
		return err
	}
	fmt.Printf("Successfully verified signature for %s@%s (%d signatures)\n", ref.Registry+"/"+ref.Repository, desc.Digest, len(outcomes))
	return nil
}
