package main

import (
	"crypto"
	"errors"
	"fmt"
	"io/fs"
	"os"

	notationsigner "github.com/notaryproject/notation-go/signer"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/wasmgate/wasmgate/evidence"
	"github.com/wasmgate/wasmgate/internal/cosignkey"
	"github.com/wasmgate/wasmgate/sign"
)

// passwordPrompt asks on the terminal, when there is one.
func passwordPrompt(c *cli.Context, confirm bool) cosignkey.PasswordFunc {
	f, ok := isTerminal(c.App.ErrWriter)
	if !ok || !term.IsTerminal(int(os.Stdin.Fd())) {
		return nil
	}
	return func() ([]byte, error) {
		fmt.Fprint(f, "Enter password for private key: ")
		pw, err := term.ReadPassword(int(os.Stdin.Fd()))
		fmt.Fprintln(f)
		if err != nil || !confirm {
			return pw, err
		}
		fmt.Fprint(f, "Enter password for private key again: ")
		again, err := term.ReadPassword(int(os.Stdin.Fd()))
		fmt.Fprintln(f)
		if err != nil {
			return nil, err
		}
		if string(again) != string(pw) {
			return nil, usageError("the passwords do not match")
		}
		return pw, nil
	}
}

func signCommand() *cli.Command {
	return &cli.Command{
		Name:      "sign",
		Usage:     "sign an artifact with a cosign key, as a bundle referrer (cosign v3) or a legacy .sig tag",
		ArgsUsage: "REF",
		Description: "The reference is resolved once and the digest is signed. The key is a cosign key file " +
			"(encrypted: the password comes from COSIGN_PASSWORD or a prompt) or a plain PKCS#8 PEM key.",
		Flags: withCommon(append(registryFlags(),
			&cli.StringFlag{Name: "key", Usage: "private key file (cosign.key); or sign keylessly with the flags below"},
			&cli.StringFlag{Name: "fulcio-url", Usage: "keyless: the Fulcio to certify an ephemeral key"},
			&cli.StringFlag{Name: "identity-token", Usage: "keyless: the OIDC ID token (also SIGSTORE_ID_TOKEN)", EnvVars: []string{"SIGSTORE_ID_TOKEN"}},
			&cli.StringFlag{Name: "rekor-url", Usage: "keyless: a Rekor log to record the signature in"},
			&cli.StringSliceFlag{Name: "timestamp-url", Usage: "keyless: an RFC 3161 timestamp authority (repeatable)"},
			&cli.StringFlag{Name: "trusted-root", Usage: "keyless: check the new bundle against this trusted_root.json"},
			&cli.StringFlag{Name: "format", Value: "bundle", Usage: "bundle (a referrer, cosign v3) or legacy (the .sig tag)"},
			&cli.StringFlag{Name: "notation-key", Usage: "Notation: private key file (PEM); signs a Notation signature instead of cosign's"},
			&cli.StringFlag{Name: "notation-cert", Usage: "Notation: certificate chain (PEM, leaf first)"},
			&cli.StringFlag{Name: "signature-format", Value: "jws", Usage: "Notation: envelope, jws or cose"},
			&cli.StringSliceFlag{Name: "user-metadata", Aliases: []string{"m"}, Usage: "Notation: signed metadata key=value (repeatable)"},
		)...),
		Before: before,
		Action: signAction,
	}
}

func signAction(c *cli.Context) error {
	if c.NArg() != 1 {
		return usageError("sign wants one REF, got %d arguments", c.NArg())
	}
	if c.String("notation-key") != "" || c.String("notation-cert") != "" {
		return notationSignAction(c)
	}
	format := sign.Format(c.String("format"))
	if format != sign.FormatBundle && format != sign.FormatLegacy {
		return usageError("--format must be bundle or legacy, not %q", format)
	}
	ref, err := parseRef(c.Args().First())
	if err != nil {
		return err
	}
	signer, keyless, err := signingIdentity(c)
	if err != nil {
		return err
	}
	opts := sign.Options{Format: format, Repository: repository(ref), Keyless: keyless}
	dst, subject, err := destination(c, ref)
	if err != nil {
		return err
	}
	desc, err := sign.Cosign(c.Context, dst, subject, signer, opts)
	if err != nil {
		return wrapRegistry("sign", ref, err)
	}
	if jsonOutput(c) {
		return printJSON(c, map[string]any{"reference": ref.WithDigest(subject.Digest).String(), "format": format, "signature": desc.Digest})
	}
	fmt.Fprintf(c.App.ErrWriter, "Signed %s (%s)\n", ref.WithDigest(subject.Digest), format)
	fmt.Fprintln(c.App.Writer, desc.Digest)
	return nil
}

func generateKeyPairCommand() *cli.Command {
	return &cli.Command{
		Name:  "generate-key-pair",
		Usage: "write cosign.key (encrypted, cosign's format) and cosign.pub",
		Flags: withCommon(
			&cli.StringFlag{Name: "output-key-prefix", Value: "cosign", Usage: "write PREFIX.key and PREFIX.pub"},
		),
		Before: before,
		Action: func(c *cli.Context) error {
			prefix := c.String("output-key-prefix")
			keyPath, pubPath := prefix+".key", prefix+".pub"
			for _, p := range []string{keyPath, pubPath} {
				if _, err := os.Stat(p); err == nil {
					return fmt.Errorf("%s exists; not overwriting it", p)
				} else if !errors.Is(err, fs.ErrNotExist) {
					return err
				}
			}
			pw, err := cosignkey.Password(passwordPrompt(c, true))()
			if err != nil {
				return usageError("%v", err)
			}
			priv, pub, err := cosignkey.GenerateKeyPair(pw)
			if err != nil {
				return err
			}
			// O_EXCL: never replace a key that appeared meanwhile.
			if err := writeNew(keyPath, priv, 0o600); err != nil {
				return err
			}
			if err := writeNew(pubPath, pub, 0o644); err != nil {
				os.Remove(keyPath)
				return err
			}
			fmt.Fprintf(c.App.ErrWriter, "Private key written to %s\nPublic key written to %s\n", keyPath, pubPath)
			return nil
		},
	}
}

func writeNew(path string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	return f.Close()
}

func notationSignAction(c *cli.Context) error {
	if c.String("notation-key") == "" || c.String("notation-cert") == "" {
		return usageError("Notation signing needs both --notation-key and --notation-cert")
	}
	if c.String("key") != "" || c.String("fulcio-url") != "" {
		return usageError("--notation-key excludes --key and --fulcio-url")
	}
	env := c.String("signature-format")
	if env != sign.EnvelopeJWS && env != sign.EnvelopeCOSE {
		return usageError("--signature-format must be jws or cose, not %q", env)
	}
	metadata, err := parseAnnotations(c.StringSlice("user-metadata"))
	if err != nil {
		return err
	}
	ref, err := parseRef(c.Args().First())
	if err != nil {
		return err
	}
	signer, err := notationsigner.NewFromFiles(c.String("notation-key"), c.String("notation-cert"))
	if err != nil {
		return usageError("--notation-key/--notation-cert: %v", err)
	}
	dst, subject, err := destination(c, ref)
	if err != nil {
		return err
	}
	desc, err := sign.Notation(c.Context, dst, subject, signer, sign.NotationOptions{Envelope: env, UserMetadata: metadata})
	if err != nil {
		return wrapRegistry("sign", ref, err)
	}
	if jsonOutput(c) {
		return printJSON(c, map[string]any{"reference": ref.WithDigest(subject.Digest).String(), "format": "notation-" + env, "signature": desc.Digest})
	}
	fmt.Fprintf(c.App.ErrWriter, "Signed %s (Notation, %s)\n", ref.WithDigest(subject.Digest), env)
	fmt.Fprintln(c.App.Writer, desc.Digest)
	return nil
}

func attestCommand() *cli.Command {
	return &cli.Command{
		Name:      "attest",
		Usage:     "attach a signed in-toto attestation (SLSA provenance, SBOM, ...) to an artifact, as cosign attest does",
		ArgsUsage: "REF",
		Flags: withCommon(append(registryFlags(),
			&cli.StringFlag{Name: "predicate", Usage: "the predicate (a JSON file); required"},
			&cli.StringFlag{Name: "type", Value: "custom", Usage: "predicate type: slsaprovenance, slsaprovenance02, slsaprovenance1, spdx, cyclonedx, vuln, custom, or a URI"},
			&cli.StringFlag{Name: "key", Usage: "private key file (cosign.key); or keyless with the flags below"},
			&cli.StringFlag{Name: "format", Value: "bundle", Usage: "bundle (a referrer, cosign v3), legacy (the .att tag) or dsse (a plain DSSE referrer)"},
			&cli.StringFlag{Name: "fulcio-url", Usage: "keyless: the Fulcio to certify an ephemeral key"},
			&cli.StringFlag{Name: "identity-token", Usage: "keyless: the OIDC ID token (also SIGSTORE_ID_TOKEN)", EnvVars: []string{"SIGSTORE_ID_TOKEN"}},
			&cli.StringFlag{Name: "rekor-url", Usage: "keyless: a Rekor log"},
			&cli.StringSliceFlag{Name: "timestamp-url", Usage: "keyless: an RFC 3161 timestamp authority (repeatable)"},
		)...),
		Before: before,
		Action: attestAction,
	}
}

// maxPredicate bounds a predicate file.
const maxPredicate = 16 << 20

func attestAction(c *cli.Context) error {
	if c.NArg() != 1 {
		return usageError("attest wants one REF, got %d arguments", c.NArg())
	}
	if c.String("predicate") == "" {
		return usageError("attest needs --predicate FILE")
	}
	format := sign.Format(c.String("format"))
	switch format {
	case sign.FormatBundle, sign.FormatLegacy, sign.FormatDSSE:
	default:
		return usageError("--format must be bundle, legacy or dsse, not %q", format)
	}
	ref, err := parseRef(c.Args().First())
	if err != nil {
		return err
	}
	predicate, err := readBounded(c.String("predicate"), maxPredicate)
	if err != nil {
		return usageError("--predicate: %v", err)
	}
	signer, keyless, err := signingIdentity(c)
	if err != nil {
		return err
	}
	opts := sign.AttestOptions{Format: format, Keyless: keyless}
	dst, subject, err := destination(c, ref)
	if err != nil {
		return err
	}
	desc, err := sign.Attest(c.Context, dst, subject, signer, c.String("type"), predicate, opts)
	if err != nil {
		if errors.Is(err, sign.ErrAttestOptions) {
			return usageError("%v", err)
		}
		return wrapRegistry("attest", ref, err)
	}
	if jsonOutput(c) {
		return printJSON(c, map[string]any{"reference": ref.WithDigest(subject.Digest).String(), "format": format,
			"predicateType": evidence.PredicateTypeURI(c.String("type")), "attestation": desc.Digest})
	}
	fmt.Fprintf(c.App.ErrWriter, "Attested %s (%s, %s)\n", ref.WithDigest(subject.Digest), evidence.PredicateTypeURI(c.String("type")), format)
	fmt.Fprintln(c.App.Writer, desc.Digest)
	return nil
}

// signingIdentity reads who signs from the flags: a key file (cosign's
// format, or PKCS#8), or keyless (Fulcio, with a Rekor log or timestamp
// authorities to prove the time).
func signingIdentity(c *cli.Context) (crypto.Signer, *sign.Keyless, error) {
	switch {
	case c.String("key") != "" && c.String("fulcio-url") != "":
		return nil, nil, usageError("--key and --fulcio-url exclude each other")
	case c.String("key") != "":
		pemBytes, err := readBounded(c.String("key"), maxKeyFile)
		if err != nil {
			return nil, nil, usageError("--key: %v", err)
		}
		signer, err := cosignkey.LoadPrivateKey(pemBytes, cosignkey.Password(passwordPrompt(c, false)))
		if err != nil {
			return nil, nil, usageError("--key %s: %v", c.String("key"), err)
		}
		return signer, nil, nil
	case c.String("fulcio-url") != "":
		k := &sign.Keyless{
			FulcioURL: c.String("fulcio-url"), IDToken: c.String("identity-token"),
			RekorURL: c.String("rekor-url"), TimestampURLs: c.StringSlice("timestamp-url"),
		}
		if p := c.String("trusted-root"); p != "" {
			tr, err := root.NewTrustedRootFromPath(p)
			if err != nil {
				return nil, nil, usageError("--trusted-root %s: %v", p, err)
			}
			k.TrustedRoot = tr
		}
		return nil, k, nil
	}
	return nil, nil, usageError("%s needs --key FILE, or --fulcio-url with --identity-token and --rekor-url or --timestamp-url", c.Command.Name)
}
