package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/opencontainers/go-digest"
	ssldsse "github.com/secure-systems-lab/go-securesystemslib/dsse"
	"github.com/urfave/cli/v2"

	"github.com/wasmgate/wasmgate/evidence/dsse"
	"github.com/wasmgate/wasmgate/internal/atomicfile"
	"github.com/wasmgate/wasmgate/internal/boundedio"
)

func verifyDSSECommand() *cli.Command {
	return &cli.Command{
		Name:      "verify-dsse",
		Usage:     "verify a DSSE envelope (any payload type) with public keys",
		ArgsUsage: "ENVELOPE.json",
		Flags: withCommon(
			&cli.StringSliceFlag{Name: "key", Usage: "a signer's public key (PEM \"PUBLIC KEY\", as cosign.pub); repeatable; required"},
			&cli.IntFlag{Name: "threshold", Value: 1, Usage: "how many distinct keys must each verify a signature"},
			&cli.StringFlag{Name: "payload-type", Usage: "the payloadType to accept; another is refused (default: any, and it is printed)"},
			&cli.StringFlag{Name: "output-payload", Usage: "write the payload to FILE, only once the envelope verified"},
			&cli.BoolFlag{Name: "rsa-pkcs1v15", Usage: "RSA keys verify RSASSA-PKCS1-v1_5 signatures instead of RSASSA-PSS"},
		),
		Before: before,
		Action: verifyDSSEAction,
	}
}

func verifyDSSEAction(c *cli.Context) error {
	if c.NArg() != 1 {
		return usageError("verify-dsse wants one ENVELOPE file")
	}
	paths := c.StringSlice("key")
	if len(paths) == 0 {
		return usageError("verify-dsse needs --key PUB.pem (repeat it for several keys)")
	}
	keys := make([]dsse.Key, len(paths))
	files := map[string]string{} // key ID → the file that named it
	for i, p := range paths {
		pem, err := readBounded(p, maxKeyFile)
		if err != nil {
			return usageError("--key %s: %v", p, err)
		}
		if keys[i], err = dsse.LoadPublicKey(pem); err != nil {
			return usageError("--key %s: %v", p, err)
		}
		if _, seen := files[keys[i].ID()]; !seen {
			files[keys[i].ID()] = p
		}
	}
	opts := dsse.Options{Threshold: c.Int("threshold"), PayloadType: c.String("payload-type"), RSAPKCS1v15: c.Bool("rsa-pkcs1v15")}
	if opts.Threshold < 1 {
		return usageError("--threshold is at least 1, not %d", opts.Threshold)
	}
	path := c.Args().First()
	var r *dsse.Result
	raw, err := readBounded(path, dsse.MaxEnvelopeBytes)
	switch {
	case errors.Is(err, boundedio.ErrTooLarge):
		// The envelope's fault, not the command line's: refused like one.
		err = fmt.Errorf("%w: %s: %w", dsse.ErrTooLarge, path, err)
	case err != nil:
		return usageError("%s: %v", path, err)
	default:
		var env *ssldsse.Envelope
		if env, err = dsse.ParseEnvelope(raw); err == nil {
			r, err = dsse.Verify(env, keys, opts)
		}
	}
	if errors.Is(err, dsse.ErrOptions) {
		return usageError("%v", err)
	}
	if err == nil && c.String("output-payload") != "" {
		if werr := atomicfile.Write(c.String("output-payload"), r.Payload); werr != nil {
			return fmt.Errorf("--output-payload: %w", werr)
		}
	}
	if jsonOutput(c) {
		if perr := printJSON(c, dsseReport(path, r, err, files)); perr != nil {
			return perr
		}
	} else {
		fmt.Fprintln(c.App.Writer, dsseLine(path, r, err, files))
	}
	if err != nil {
		return cli.Exit("", exitDenied)
	}
	return nil
}

type dsseSigner struct {
	KeyID string `json:"keyId"`
	Key   string `json:"key"`
	Hint  string `json:"hint,omitempty"`
}

type dsseOutput struct {
	Envelope      string       `json:"envelope"`
	Verified      bool         `json:"verified"`
	PayloadType   string       `json:"payloadType,omitempty"`
	PayloadDigest string       `json:"payloadDigest,omitempty"`
	PayloadSize   int          `json:"payloadSize,omitempty"`
	Signers       []dsseSigner `json:"signers,omitempty"`
	Threshold     int          `json:"threshold,omitempty"`
	Error         string       `json:"error,omitempty"`
}

func dsseReport(path string, r *dsse.Result, err error, files map[string]string) dsseOutput {
	out := dsseOutput{Envelope: path}
	if err != nil {
		out.Error = err.Error()
		return out
	}
	out.Verified, out.PayloadType, out.Threshold = true, r.PayloadType, r.Threshold
	out.PayloadDigest, out.PayloadSize = digest.FromBytes(r.Payload).String(), len(r.Payload)
	for _, s := range r.Verified {
		out.Signers = append(out.Signers, dsseSigner{KeyID: s.KeyID, Key: files[s.KeyID], Hint: s.Hint})
	}
	return out
}

func dsseLine(path string, r *dsse.Result, err error, files map[string]string) string {
	if err != nil {
		return fmt.Sprintf("%s ✗ %v", path, err)
	}
	var who []string
	for _, s := range r.Verified {
		who = append(who, fmt.Sprintf("key %s (%s)", s.KeyID, files[s.KeyID]))
	}
	return fmt.Sprintf("%s ✓ payloadType %q, %d bytes (%s), verified by %s",
		path, r.PayloadType, len(r.Payload), digest.FromBytes(r.Payload), strings.Join(who, ", "))
}
