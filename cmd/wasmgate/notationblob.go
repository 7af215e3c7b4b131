package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/urfave/cli/v2"

	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/evidence/notation"
)

// notationBlobFlags are verify-blob's Notation flags.
var notationBlobFlags = []string{"signature-media-type", "notation-trust-policy", "notation-trust-store", "notation-config",
	"notation-policy-name", "notation-user-metadata", "media-type", "subject-descriptor", "notation-scope"}

// setFlag names the first of names that is set, or "".
func setFlag(c *cli.Context, names ...string) string {
	for _, n := range names {
		if c.IsSet(n) {
			return n
		}
	}
	return ""
}

// maxDescriptorBytes bounds --subject-descriptor.
const maxDescriptorBytes = 1 << 16

// verifyNotationBlob is verify-blob --signature: a Notation blob signature
// over FILE, or, with --subject-descriptor, an envelope against the
// descriptor.
func verifyNotationBlob(c *cli.Context) error {
	for _, f := range authorityFlags() {
		if n := setFlag(c, f.Names()...); n != "" {
			return usageError("--%s is for sigstore bundles (--bundle); Notation signatures are verified with --notation-trust-policy and --notation-trust-store, or --notation-config", n)
		}
	}
	if c.IsSet("offline") {
		return usageError("--offline is for sigstore bundles (--bundle); Notation verification never goes online except for revocation")
	}
	meta, err := parseAnnotations(c.StringSlice("notation-user-metadata"))
	if err != nil {
		return err
	}
	sigPath := c.String("signature")
	raw, err := readBounded(sigPath, notation.MaxEnvelopeBytes+1) // one more: the library refuses it, as denied
	if err != nil {
		return usageError("--signature: %v", err)
	}
	mediaType, err := envelopeMediaType(c, sigPath, raw)
	if err != nil {
		return err
	}
	if c.String("subject-descriptor") != "" {
		return verifyNotationEnvelope(c, raw, mediaType, meta)
	}
	if f := setFlag(c, "notation-scope"); f != "" {
		return usageError("--%s picks an OCI trust policy statement, with --subject-descriptor; a blob signature's statement is --notation-policy-name", f)
	}
	if c.NArg() != 1 {
		return usageError("verify-blob --signature wants the FILE that was signed (notation signs its bytes and size: a digest is not enough)")
	}
	file := c.Args().First()
	trust, err := notationBlobTrust(c)
	if err != nil {
		return err
	}
	f, err := os.Open(strings.TrimPrefix(file, "file://"))
	if err != nil {
		if _, derr := digest.Parse(file); derr == nil {
			return usageError("a Notation blob signature is verified over the FILE's bytes, not a digest: give the file")
		}
		return usageError("%v", err)
	}
	defer f.Close()
	desc, r, err := notation.VerifyBlob(c.Context, f, raw, mediaType, trust, notation.BlobOptions{
		PolicyName: c.String("notation-policy-name"), MediaType: c.String("media-type"), UserMetadata: meta, MaxBlobBytes: maxBlobInput,
	})
	if err != nil {
		return notationConfigError(err)
	}
	return printNotationResult(c, file, desc, r)
}

// verifyNotationEnvelope is verify-blob --signature --subject-descriptor.
func verifyNotationEnvelope(c *cli.Context, raw []byte, mediaType string, meta map[string]string) error {
	if c.NArg() != 0 {
		return usageError("with --subject-descriptor, verify-blob takes no FILE: the descriptor names the artifact")
	}
	if f := setFlag(c, "notation-policy-name", "media-type"); f != "" {
		return usageError("--%s is for blob signatures (without --subject-descriptor)", f)
	}
	scope := c.String("notation-scope")
	if scope == "" {
		return usageError("--subject-descriptor needs --notation-scope HOST/REPOSITORY: the scope picks the trust policy statement, as the reference does for notation verify")
	}
	descRaw, err := readBounded(c.String("subject-descriptor"), maxDescriptorBytes)
	if err != nil {
		return usageError("--subject-descriptor: %v", err)
	}
	var subject ocispec.Descriptor
	if err := json.Unmarshal(descRaw, &subject); err != nil {
		return usageError("--subject-descriptor %s: not an OCI descriptor (JSON): %v", c.String("subject-descriptor"), err)
	}
	if err := subject.Digest.Validate(); err != nil || subject.Size < 0 || subject.MediaType == "" {
		return usageError("--subject-descriptor %s: want mediaType, digest and size (as oras manifest fetch --descriptor prints them)", c.String("subject-descriptor"))
	}
	trust, err := notationOCITrust(c)
	if err != nil {
		return err
	}
	r, err := notation.VerifyEnvelope(c.Context, scope, subject, raw, mediaType, trust, notation.Options{UserMetadata: meta})
	if err != nil {
		return notationConfigError(err)
	}
	return printNotationResult(c, "", subject, r)
}

// envelopeMediaType is --signature-media-type, else the type the file's
// content tells, else its extension's (notation blob sign writes
// FILE.jws.sig and FILE.cose.sig).
func envelopeMediaType(c *cli.Context, path string, raw []byte) (string, error) {
	if name := c.String("signature-media-type"); name != "" {
		mt := notation.EnvelopeMediaTypeOf(name)
		if mt == "" {
			return "", usageError("--signature-media-type is jws or cose (application/jose+json, application/cose), not %q", name)
		}
		return mt, nil
	}
	if mt := notation.EnvelopeMediaType(raw); mt != "" {
		return mt, nil
	}
	base := strings.ToLower(filepath.Base(path))
	for _, ext := range []string{notation.EnvelopeJWS, notation.EnvelopeCOSE} {
		if strings.HasSuffix(base, "."+ext) || strings.HasSuffix(base, "."+ext+".sig") {
			return notation.EnvelopeMediaTypeOf(ext), nil
		}
	}
	return "", usageError("--signature %s is neither a JWS nor a COSE envelope by its content or name; give --signature-media-type jws|cose if it is one", path)
}

// notationBlobTrust loads the blob trust policy from the flags.
func notationBlobTrust(c *cli.Context) (*notation.BlobTrust, error) {
	return notationTrust(c, "a Notation blob signature", notation.PathBlobTrustPolicy,
		func(cfg *notation.Config) *notation.BlobTrust { return cfg.Blob }, notation.LoadBlobTrust)
}

// notationOCITrust loads the OCI trust policy from the flags.
func notationOCITrust(c *cli.Context) (*notation.Trust, error) {
	return notationTrust(c, "--subject-descriptor", notation.PathOCITrustPolicy,
		func(cfg *notation.Config) *notation.Trust { return cfg.OCI }, notation.LoadTrust)
}

// notationTrust reads the trust material the flags name: --notation-config
// DIR (the policy file and trust store found as the notation CLI finds
// them; pick takes the one this form needs), else --notation-trust-policy
// and --notation-trust-store, read by load. what names the form in
// errors, policyFile the policy it needs.
func notationTrust[T any](c *cli.Context, what, policyFile string, pick func(*notation.Config) *T, load func(policy, store string) (*T, error)) (*T, error) {
	if dir := c.String("notation-config"); dir != "" {
		if f := setFlag(c, "notation-trust-policy", "notation-trust-store"); f != "" {
			return nil, usageError("--notation-config finds the trust policy and store itself; drop --%s, or drop --notation-config", f)
		}
		cfg, err := notation.LoadConfig(dir)
		if err != nil {
			return nil, notationConfigError(err)
		}
		t := pick(cfg)
		if t == nil {
			return nil, usageError("--notation-config %s has no %s, which %s is verified under", dir, policyFile, what)
		}
		return t, nil
	}
	policy, store := c.String("notation-trust-policy"), c.String("notation-trust-store")
	if policy == "" || store == "" {
		return nil, usageError("%s needs --notation-trust-policy %s and --notation-trust-store DIR, or --notation-config DIR", what, policyFile)
	}
	t, err := load(policy, store)
	if err != nil {
		return nil, notationConfigError(err)
	}
	return t, nil
}

// notationConfigError makes the trust material's errors usage errors
// (exit 2), keeping the cause; anything else (reading the file, ctx) is
// returned as it is.
func notationConfigError(err error) error {
	for _, sentinel := range []error{notation.ErrInvalidTrustPolicy, notation.ErrInvalidTrustStore, notation.ErrNoTrustPolicy,
		notation.ErrInvalidScope, notation.ErrInvalidMediaType} {
		if errors.Is(err, sentinel) {
			return fmt.Errorf("%w: %w", errUsage, err)
		}
	}
	if errors.Is(err, artifact.ErrTooLarge) {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	return err
}

// printNotationResult prints one Notation verdict, as verify-blob prints a
// bundle's: the artifact's digest (or file), then notationLine.
func printNotationResult(c *cli.Context, file string, desc ocispec.Descriptor, r *notation.Result) error {
	name := desc.Digest.String()
	if desc.Digest == "" {
		name = file // not read: level skip, or an envelope refused first
	}
	if jsonOutput(c) {
		var subject *ocispec.Descriptor
		if desc.Digest != "" {
			subject = &desc
		}
		if err := printJSON(c, struct {
			Artifact string              `json:"artifact"`
			Subject  *ocispec.Descriptor `json:"subject,omitempty"`
			*notation.Result
		}{name, subject, r}); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(c.App.Writer, "%s %s\n", name, notationLine(*r))
	}
	if !r.Verified {
		return cli.Exit("", exitDenied)
	}
	return nil
}
