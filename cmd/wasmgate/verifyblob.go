package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/opencontainers/go-digest"
	"github.com/urfave/cli/v2"

	"github.com/wasmgate/wasmgate/verify/cosign"
)

func verifyBlobCommand() *cli.Command {
	return &cli.Command{
		Name:      "verify-blob",
		Usage:     "verify a sigstore bundle over a local file (or a sha256:<hex> digest)",
		ArgsUsage: "FILE|sha256:HEX",
		Flags: withCommon(append(authorityFlags(),
			&cli.StringFlag{Name: "bundle", Usage: "the sigstore bundle (JSON); required"},
		)...),
		Before: before,
		Action: verifyBlobAction,
	}
}

// maxBlobInput bounds a file given to verify-blob.
const maxBlobInput = 1 << 30

func verifyBlobAction(c *cli.Context) error {
	if c.NArg() != 1 {
		return usageError("verify-blob wants one FILE or sha256:HEX")
	}
	if c.String("bundle") == "" {
		return usageError("verify-blob needs --bundle FILE")
	}
	auth, insecure, err := authority(c)
	if err != nil {
		return err
	}
	raw, err := readBounded(c.String("bundle"), cosign.MaxBundleBytes)
	if err != nil {
		return usageError("--bundle: %v", err)
	}
	input := c.Args().First()
	d, err := digest.Parse(input)
	if err != nil {
		f, ferr := os.Open(strings.TrimPrefix(input, "file://"))
		if ferr != nil {
			return usageError("%s is neither a file nor sha256:<hex>: %v", input, ferr)
		}
		defer f.Close()
		digester := digest.SHA256.Digester()
		n, err := io.Copy(digester.Hash(), io.LimitReader(f, maxBlobInput+1))
		if err != nil {
			return err
		}
		if n > maxBlobInput {
			return usageError("%s is larger than %d bytes; pass its sha256:<hex> instead", input, int64(maxBlobInput))
		}
		d = digester.Digest()
	}
	var r *cosign.Result
	if b, perr := cosign.ParseBundle(raw); perr != nil {
		r = &cosign.Result{Format: cosign.FormatBundle, Reason: perr.Error(), Err: perr}
	} else {
		r = cosign.VerifyBundle(b, d, auth)
	}
	if jsonOutput(c) {
		if err := printJSON(c, struct {
			Artifact string   `json:"artifact"`
			Insecure []string `json:"insecure,omitempty"`
			*cosign.Result
		}{d.String(), insecure, r}); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(c.App.Writer, "%s %s\n", d, signatureLine(*r))
	}
	if !r.Verified {
		return cli.Exit("", exitDenied)
	}
	return nil
}
