package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/opencontainers/go-digest"
	"github.com/urfave/cli/v2"

	"github.com/wasmgate/wasmgate/evidence/cosign"
)

func verifyBlobCommand() *cli.Command {
	return &cli.Command{
		Name:      "verify-blob",
		Usage:     "verify a sigstore bundle over a local file (or a sha256:, sha384: or sha512:<hex> digest)",
		ArgsUsage: "FILE|ALG:HEX",
		Flags: withCommon(append(authorityFlags(),
			&cli.StringFlag{Name: "bundle", Usage: "the sigstore bundle (JSON); required"},
			&cli.BoolFlag{Name: "offline", Usage: "never contact a TUF mirror: use the cached trust root, else the snapshot embedded in wasmgate"},
		)...),
		Before: before,
		Action: verifyBlobAction,
	}
}

// maxBlobInput bounds a file given to verify-blob.
const maxBlobInput = 1 << 30

func verifyBlobAction(c *cli.Context) error {
	if c.NArg() != 1 {
		return usageError("verify-blob wants one FILE or ALG:HEX digest")
	}
	if c.String("bundle") == "" {
		return usageError("verify-blob needs --bundle FILE")
	}
	raw, err := readBounded(c.String("bundle"), cosign.MaxBundleBytes)
	if err != nil {
		return usageError("--bundle: %v", err)
	}
	digests, err := blobDigests(c.Args().First())
	if err != nil {
		return err
	}
	b, err := authority(c)
	if err != nil {
		return err
	}
	var r *cosign.Result
	if bundle, perr := cosign.ParseBundle(raw); perr != nil {
		r = &cosign.Result{Format: cosign.FormatBundle, Reason: perr.Error(), Err: perr}
	} else {
		r = cosign.VerifyBlob(bundle, digests, b.Authority)
	}
	artifact := digests[0]
	if r.Subject != "" {
		artifact = r.Subject
	}
	if jsonOutput(c) {
		if err := printJSON(c, struct {
			Artifact string   `json:"artifact"`
			Insecure []string `json:"insecure,omitempty"`
			*cosign.Result
		}{artifact.String(), b.Insecure, r}); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(c.App.Writer, "%s %s\n", artifact, signatureLine(*r))
		for _, s := range b.Insecure {
			fmt.Fprintf(c.App.Writer, "  ! insecure: %s\n", s)
		}
	}
	if !r.Verified {
		return cli.Exit("", exitDenied)
	}
	return nil
}

// blobDigests are the digests verify-blob checks: the one given, or those
// of the file's bytes under every algorithm a bundle may sign, in one read.
func blobDigests(input string) ([]digest.Digest, error) {
	if d, err := digest.Parse(input); err == nil {
		return []digest.Digest{d}, nil
	}
	f, err := os.Open(strings.TrimPrefix(input, "file://"))
	if err != nil {
		return nil, usageError("%s is neither a file nor a digest (sha256:<hex>, sha384:<hex>, sha512:<hex>): %v", input, err)
	}
	defer f.Close()
	ds, err := cosign.DigestBlob(f, maxBlobInput)
	if err != nil {
		return nil, usageError("%s: %v; pass its sha256:<hex> instead", input, err)
	}
	return ds, nil
}
