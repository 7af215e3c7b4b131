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
		Usage:     "verify a local file's signature: a sigstore bundle (--bundle), a Notation JWS/COSE blob signature (--signature), or a Notation envelope against a descriptor (--signature --subject-descriptor)",
		ArgsUsage: "FILE|ALG:HEX",
		Description: "Takes one of three kinds of evidence:\n\n" +
			"  sigstore bundle:  verify-blob FILE|ALG:HEX --bundle BUNDLE.json (cosign flags: --key, --certificate-identity, ...)\n" +
			"  Notation blob signature (notation blob sign; JWS or COSE):\n" +
			"                    verify-blob FILE --signature FILE.jws.sig --notation-trust-policy trustpolicy.blob.json --notation-trust-store DIR\n" +
			"                    (or --notation-config DIR, finding both as notation does; --notation-policy-name, --media-type, --notation-user-metadata)\n" +
			"  Notation signature envelope against a subject descriptor (offline notation verify):\n" +
			"                    verify-blob --signature SIG --subject-descriptor DESC.json --notation-scope HOST/REPO\n" +
			"                    --notation-trust-policy trustpolicy.oci.json --notation-trust-store DIR (or --notation-config DIR)\n\n" +
			"Other evidence has its own command: a DSSE envelope of any payload type with keys, verify-dsse;\n" +
			"an in-toto layout and its links, verify-layout; attestations on an artifact, verify --attestation-type.\n\n" +
			"Exit codes: 0 verified, 1 not verified, 2 usage or trust material.",
		Flags: withCommon(append(authorityFlags(),
			&cli.StringFlag{Name: "bundle", Usage: "sigstore: the bundle (JSON)"},
			&cli.BoolFlag{Name: "offline", Usage: "sigstore: never contact a TUF mirror: use the cached trust root, else the snapshot embedded in wasmgate"},
			&cli.StringFlag{Name: "signature", Usage: "Notation: the signature envelope (JWS or COSE), as notation blob sign or notation sign writes it"},
			&cli.StringFlag{Name: "signature-media-type", Usage: "Notation: the envelope type, jws or cose (default: told by the file's content, else its extension)"},
			&cli.StringFlag{Name: "notation-trust-policy", Usage: "Notation: trustpolicy.blob.json (blob signatures) or trustpolicy.oci.json/trustpolicy.json (with --subject-descriptor)"},
			&cli.StringFlag{Name: "notation-trust-store", Usage: "Notation: the trust store directory (truststore/x509/{ca,signingAuthority,tsa}/NAME)"},
			&cli.StringFlag{Name: "notation-config", Usage: "Notation: a configuration directory holding the trust policies and truststore/, found as notation finds them"},
			&cli.StringFlag{Name: "notation-policy-name", Usage: "Notation blob: the statement of trustpolicy.blob.json to verify under (default: the globalPolicy one)"},
			&cli.StringSliceFlag{Name: "notation-user-metadata", Usage: "Notation: signed metadata key=value that must be present (repeatable)"},
			&cli.StringFlag{Name: "media-type", Usage: "Notation blob: the content media type the signature must name (default: any)"},
			&cli.StringFlag{Name: "subject-descriptor", Usage: "Notation: an OCI descriptor (JSON: mediaType, digest, size) the envelope must be about"},
			&cli.StringFlag{Name: "notation-scope", Usage: "Notation, with --subject-descriptor: the registry scope host/repository that picks the trust policy statement"},
		)...),
		Before: before,
		Action: verifyBlobAction,
	}
}

// maxBlobInput bounds a file given to verify-blob.
const maxBlobInput = 1 << 30

func verifyBlobAction(c *cli.Context) error {
	bundle, sig := c.String("bundle") != "", c.String("signature") != ""
	switch {
	case bundle && sig:
		return usageError("verify-blob takes one kind of evidence: --bundle (sigstore) or --signature (Notation), not both")
	case sig:
		return verifyNotationBlob(c)
	case !bundle:
		return usageError("verify-blob needs the evidence: --bundle FILE (a sigstore bundle) or --signature FILE (a Notation JWS or COSE envelope)")
	}
	if f := setFlag(c, notationBlobFlags...); f != "" {
		return usageError("--%s is for Notation signatures (--signature), not for --bundle", f)
	}
	if c.NArg() != 1 {
		return usageError("verify-blob wants one FILE or ALG:HEX digest")
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
