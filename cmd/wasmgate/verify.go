package main

import (
	"crypto"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/urfave/cli/v2"

	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/attest"
	"github.com/wasmgate/wasmgate/internal/cosignkey"
	"github.com/wasmgate/wasmgate/referrers"
	"github.com/wasmgate/wasmgate/sign"
	"github.com/wasmgate/wasmgate/verify"
	"github.com/wasmgate/wasmgate/verify/cosign"
	"github.com/wasmgate/wasmgate/verify/notation"
)

// verify's exit codes, beyond 0 and 2.
const (
	exitDenied    = 1 // not verified
	exitUndecided = 3 // registry, network, time
)

// authorityFlags are cosign's flags for one authority.
func authorityFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringSliceFlag{Name: "key", Usage: "trusted public key (cosign.pub, PEM); repeatable"},
		&cli.StringFlag{Name: "certificate-identity", Usage: "keyless: the certificate's SAN, exactly"},
		&cli.StringFlag{Name: "certificate-identity-regexp", Usage: "keyless: the certificate's SAN, as a regular expression"},
		&cli.StringFlag{Name: "certificate-oidc-issuer", Usage: "keyless: the OIDC issuer, exactly"},
		&cli.StringFlag{Name: "certificate-oidc-issuer-regexp", Usage: "keyless: the OIDC issuer, as a regular expression"},
		&cli.StringFlag{Name: "trusted-root", Usage: "sigstore trusted_root.json (Fulcio, Rekor, TSA keys); never fetched"},
		&cli.IntFlag{Name: "tlog-threshold", Value: 1, Usage: "transparency-log entries required"},
		&cli.IntFlag{Name: "timestamp-threshold", Usage: "RFC 3161 signed timestamps required"},
		&cli.BoolFlag{Name: "insecure-ignore-tlog", Usage: "require no transparency-log entry (offline keys); printed in the result"},
	}
}

// authority builds the cosign authority from the flags. Errors are usage
// errors: configuration, not verdicts.
func authority(c *cli.Context) (cosign.Authority, []string, error) {
	var a cosign.Authority
	var insecure []string
	for _, path := range c.StringSlice("key") {
		raw, err := readBounded(path, 1<<20)
		if err != nil {
			return a, nil, usageError("--key %s: %v", path, err)
		}
		k, err := cosign.PEMPublicKey(raw)
		if err != nil {
			return a, nil, usageError("--key %s is not a PEM public key: %v", path, err)
		}
		a.Keys = append(a.Keys, crypto.PublicKey(k))
	}
	id := cosign.Identity{
		SAN: c.String("certificate-identity"), SANRegexp: c.String("certificate-identity-regexp"),
		Issuer: c.String("certificate-oidc-issuer"), IssuerRegexp: c.String("certificate-oidc-issuer-regexp"),
	}
	if id != (cosign.Identity{}) {
		if (id.SAN == "") == (id.SANRegexp == "") || (id.Issuer == "") == (id.IssuerRegexp == "") {
			return a, nil, usageError("keyless verification needs one of --certificate-identity[-regexp] and one of --certificate-oidc-issuer[-regexp]")
		}
		a.Identities = append(a.Identities, id)
	}
	if len(a.Keys) == 0 && len(a.Identities) == 0 {
		return a, nil, usageError("say who may sign: --key FILE, or --certificate-identity and --certificate-oidc-issuer")
	}
	if p := c.String("trusted-root"); p != "" {
		tr, err := root.NewTrustedRootFromPath(p)
		if err != nil {
			return a, nil, usageError("--trusted-root %s: %v", p, err)
		}
		a.TrustedRoot = tr
	}
	a.TlogThreshold, a.TimestampThreshold = c.Int("tlog-threshold"), c.Int("timestamp-threshold")
	if c.Bool("insecure-ignore-tlog") {
		a.TlogThreshold = 0
		insecure = append(insecure, "--insecure-ignore-tlog: no transparency-log entry required")
	}
	if a.TrustedRoot == nil && (len(a.Identities) > 0 || a.TlogThreshold > 0 || a.TimestampThreshold > 0) {
		return a, nil, usageError("--trusted-root is required for keyless identities and for transparency-log or timestamp checks (or pass --insecure-ignore-tlog with keys)")
	}
	return a, insecure, nil
}

func verifyCommand() *cli.Command {
	return &cli.Command{
		Name:      "verify",
		Usage:     "verify an artifact's cosign signatures (key or keyless identity) and/or Notation signatures (trust policy + store)",
		ArgsUsage: "REF",
		Description: "Exit codes: 0 verified, 1 not verified, 2 usage or configuration error, " +
			"3 could not decide (registry, network, timeout).",
		Flags: withCommon(append(append(append(registryFlags(), authorityFlags()...), discoverFlags()[1:]...),
			&cli.StringFlag{Name: "format", Value: "auto", Usage: "auto (every cosign signature found, both formats), bundle or legacy"},
			&cli.StringFlag{Name: "attestation-type", Aliases: []string{"type"}, Usage: "require a signed in-toto attestation of this predicate type (URI or cosign short name), checked against --key or the keyless identity"},
			&cli.StringSliceFlag{Name: "condition", Usage: "CEL condition over predicate, predicateType, subject that the attestation must meet (repeatable)"},
			&cli.DurationFlag{Name: "max-age", Usage: "the attestation may be at most this old"},
			&cli.IntFlag{Name: "min-count", Value: 1, Usage: "how many matching attestations must pass"},
			&cli.StringFlag{Name: "emit-vsa", Usage: "after a passed verification, write a SLSA Verification Summary Attestation to this file"},
			&cli.StringFlag{Name: "vsa-key", Usage: "sign the VSA with this key (cosign.key): the file is then a sigstore bundle, else a bare in-toto statement"},
			&cli.StringFlag{Name: "notation-trust-policy", Usage: "Notation: trustpolicy.json (checks Notation signatures)"},
			&cli.StringFlag{Name: "notation-trust-store", Usage: "Notation: the trust store directory (truststore/x509/{ca,signingAuthority,tsa}/NAME)"},
			&cli.StringFlag{Name: "notation-scope", Usage: "Notation: the registry scope to pick the trust policy by (default: host/repository; local/<dir name> for OCI layouts)"},
			&cli.StringSliceFlag{Name: "notation-user-metadata", Usage: "Notation: signed metadata key=value that must be present (repeatable)"},
			&cli.StringFlag{Name: "digest", Usage: "sha256:… the artifact must have"},
		)...),
		Before: before,
		Action: verifyAction,
	}
}

type verifyResult struct {
	Reference string   `json:"reference"`
	Verified  bool     `json:"verified"`
	Insecure  []string `json:"insecure,omitempty"`
	*cosign.Report
	Notation     *notation.Report `json:"notation,omitempty"`
	Attestations *attest.Report   `json:"attestations,omitempty"`
}

func verifyAction(c *cli.Context) error {
	if c.NArg() != 1 {
		return usageError("verify wants one REF, got %d arguments", c.NArg())
	}
	ref, err := parseRef(c.Args().First())
	if err != nil {
		return err
	}
	useNotation := c.String("notation-trust-policy") != "" || c.String("notation-trust-store") != ""
	var req *attest.Requirement
	if pt := c.String("attestation-type"); pt != "" {
		req = &attest.Requirement{PredicateType: pt, MaxAge: c.Duration("max-age"), MinCount: c.Int("min-count")}
		for _, src := range c.StringSlice("condition") {
			cond, err := attest.Compile(src)
			if err != nil {
				return usageError("--condition: %v", err)
			}
			req.Conditions = append(req.Conditions, cond)
		}
	} else if len(c.StringSlice("condition")) > 0 {
		return usageError("--condition needs --attestation-type")
	}
	useCosign := len(c.StringSlice("key")) > 0 || c.String("certificate-identity") != "" || c.String("certificate-identity-regexp") != "" ||
		c.String("certificate-oidc-issuer") != "" || c.String("certificate-oidc-issuer-regexp") != "" || !useNotation
	var auth cosign.Authority
	var insecure []string
	if useCosign {
		if auth, insecure, err = authority(c); err != nil {
			return err
		}
	}
	var trust *notation.Trust
	var nopts notation.Options
	if useNotation {
		if c.String("notation-trust-policy") == "" || c.String("notation-trust-store") == "" {
			return usageError("Notation verification needs --notation-trust-policy and --notation-trust-store")
		}
		if trust, err = notation.LoadTrust(c.String("notation-trust-policy"), c.String("notation-trust-store")); err != nil {
			return usageError("%v", err)
		}
		if nopts.UserMetadata, err = parseAnnotations(c.StringSlice("notation-user-metadata")); err != nil {
			return err
		}
	}
	var opts cosign.Options
	switch f := c.String("format"); f {
	case "auto":
	case "bundle", "legacy":
		opts.Format = cosign.Format(f)
	default:
		return usageError("--format must be auto, bundle or legacy, not %q", f)
	}
	o, src, object, err := source(c, ref)
	if err != nil {
		return err
	}
	ropts, err := discoverOptions(c, o, ref)
	if err != nil {
		return err
	}
	subject, err := src.Resolve(c.Context, object)
	if err != nil {
		return cli.Exit(wrapRegistry("resolve", ref, err).Error(), exitUndecided)
	}
	res := verifyResult{Reference: ref.WithDigest(subject.Digest).String(), Insecure: insecure, Verified: true}
	// One discovery for every check the flags ask for: the verifiers
	// share the referrers it found, already fetched and subject-checked.
	discover := ropts
	if useNotation && !useCosign && req == nil {
		// Only Notation: skip other referrers unfetched, as notation.Check does.
		discover.ArtifactType, discover.NoLegacyTags = referrers.ArtifactTypeNotation, true
	}
	found, err := referrers.Discover(c.Context, src, subject, discover)
	if err != nil {
		return cli.Exit(wrapRegistry("verify", ref, err).Error(), exitUndecided)
	}
	if useCosign && req == nil {
		results, err := cosign.VerifyReferrers(c.Context, src, subject, found.Referrers, auth, opts)
		if err != nil {
			return cli.Exit(wrapRegistry("verify", ref, err).Error(), exitUndecided)
		}
		if results == nil {
			results = []cosign.Result{}
		}
		res.Report = &cosign.Report{Subject: subject, Verified: cosign.Verified(results), Results: results, Listing: found.Listing, Rejected: found.Rejected}
		res.Verified = res.Verified && res.Report.Verified
	}
	if req != nil {
		res.Attestations, err = attest.Verify(c.Context, src, subject, found.Referrers, auth, *req, attest.Options{Discover: ropts})
		if err != nil {
			return cli.Exit(wrapRegistry("verify", ref, err).Error(), exitUndecided)
		}
		res.Attestations.Listing, res.Attestations.Rejected = found.Listing, found.Rejected
		res.Verified = res.Verified && res.Attestations.Verified
	}
	if useNotation {
		scope := c.String("notation-scope")
		if scope == "" {
			scope = notationScope(ref)
		}
		results, err := notation.VerifyReferrers(c.Context, src, scope, subject, found.Referrers, trust, nopts)
		if err != nil {
			if errors.Is(err, notation.ErrInvalidScope) || errors.Is(err, notation.ErrNoTrustPolicy) {
				return usageError("%v", err)
			}
			return cli.Exit(wrapRegistry("verify", ref, err).Error(), exitUndecided)
		}
		if results == nil {
			results = []notation.Result{}
		}
		res.Notation = &notation.Report{Subject: subject, Scope: scope, Verified: notation.Verified(results), Results: results, Listing: found.Listing, Rejected: found.Rejected}
		res.Verified = res.Verified && res.Notation.Verified
	}
	if jsonOutput(c) {
		if err := printJSON(c, res); err != nil {
			return err
		}
	} else {
		printVerify(c.App.Writer, res)
	}
	if !res.Verified {
		return cli.Exit("", exitDenied)
	}
	if path := c.String("emit-vsa"); path != "" {
		if err := emitVSA(c, path, ref, subject.Digest, res, auth, req); err != nil {
			return err
		}
	}
	return nil
}

// emitVSA writes the VSA of a passed verification: the requirements that
// were checked (by digest) and the evidence that passed them.
func emitVSA(c *cli.Context, path string, ref artifact.Reference, subject digest.Digest, res verifyResult, auth cosign.Authority, req *attest.Requirement) error {
	policy := map[string]any{}
	var keyIDs []string
	for _, k := range auth.Keys {
		keyIDs = append(keyIDs, cosign.KeyID(k))
	}
	policy["keys"], policy["identities"] = keyIDs, auth.Identities
	policy["tlogThreshold"], policy["timestampThreshold"] = auth.TlogThreshold, auth.TimestampThreshold
	var inputs []digest.Digest
	if res.Report != nil {
		for _, r := range res.Results {
			if r.Verified && r.Referrer != "" {
				inputs = append(inputs, r.Referrer)
			}
		}
	}
	if n := res.Notation; n != nil {
		raw, err := readBounded(c.String("notation-trust-policy"), 1<<20)
		if err != nil {
			return err
		}
		policy["notationTrustPolicy"], policy["notationScope"] = digest.FromBytes(raw).String(), n.Scope
		for _, r := range n.Results {
			if r.Verified && r.Referrer != "" {
				inputs = append(inputs, r.Referrer)
			}
		}
	}
	if a := res.Attestations; a != nil {
		conds := make([]string, 0, len(req.Conditions))
		for _, cond := range req.Conditions {
			conds = append(conds, cond.String())
		}
		policy["attestation"] = map[string]any{"predicateType": a.PredicateType, "conditions": conds,
			"maxAge": req.MaxAge.String(), "minCount": req.MinCount}
		for _, r := range a.Results {
			if r.Verified && r.Referrer != "" {
				inputs = append(inputs, r.Referrer)
			}
		}
	}
	st, err := verify.VSA(verify.Summary{
		VerifierID: "https://github.com/wasmgate/wasmgate/verify@" + version,
		Repository: repository(ref), Digest: subject, Policy: policy, Inputs: inputs, Time: time.Now(),
	})
	if err != nil {
		return err
	}
	out := st
	if kp := c.String("vsa-key"); kp != "" {
		pemBytes, err := readBounded(kp, 1<<20)
		if err != nil {
			return usageError("--vsa-key: %v", err)
		}
		signer, err := cosignkey.LoadPrivateKey(pemBytes, cosignkey.Password(passwordPrompt(c, false)))
		if err != nil {
			return usageError("--vsa-key %s: %v", kp, err)
		}
		if out, err = sign.Bundle(st, signer); err != nil {
			return err
		}
	}
	return writeAtomic(path, out)
}

// writeAtomic replaces path with data through a temporary file and rename.
func writeAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".wasmgate-*.partial")
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return err
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		os.Remove(f.Name())
		return err
	}
	return os.Rename(f.Name(), path)
}

// notationScope is the trust policy scope of a reference: host/repository,
// or local/<directory name> for an OCI layout.
func notationScope(ref artifact.Reference) string {
	if ref.Kind == artifact.RefLayout {
		return "local/" + filepath.Base(ref.Path)
	}
	return repository(ref)
}

func printVerify(w io.Writer, res verifyResult) {
	fmt.Fprintf(w, "%s\n", res.Reference)
	for _, s := range res.Insecure {
		fmt.Fprintf(w, "  ! insecure: %s\n", s)
	}
	var summary []string
	if res.Report != nil {
		if len(res.Results) == 0 {
			fmt.Fprintln(w, "  ✗ no cosign signature found (listed by "+string(res.Listing)+")")
		}
		for _, r := range res.Results {
			fmt.Fprintf(w, "  %s\n", signatureLine(r))
		}
		summary = append(summary, fmt.Sprintf("%d of %d cosign signatures verified", countVerified(res.Results), len(res.Results)))
	}
	if a := res.Attestations; a != nil {
		ok := 0
		for _, r := range a.Results {
			mark := "✓"
			if !r.Verified {
				mark = "✗"
			} else {
				ok++
			}
			line := fmt.Sprintf("  %s attestation %s %s %s", mark, r.Format, r.Referrer, r.PredicateType)
			if r.Reason != "" {
				line += ": " + r.Reason
			}
			fmt.Fprintln(w, line)
		}
		if len(a.Results) == 0 {
			fmt.Fprintf(w, "  ✗ no %s attestation found\n", a.PredicateType)
		}
		summary = append(summary, fmt.Sprintf("%d of %d %s attestations verified", ok, len(a.Results), a.PredicateType))
	}
	if n := res.Notation; n != nil {
		if len(n.Results) == 0 {
			fmt.Fprintln(w, "  ✗ no Notation signature found (listed by "+string(n.Listing)+")")
		}
		ok := 0
		for _, r := range n.Results {
			fmt.Fprintf(w, "  %s\n", notationLine(r))
			if r.Verified {
				ok++
			}
		}
		summary = append(summary, fmt.Sprintf("%d of %d Notation signatures verified (scope %s)", ok, len(n.Results), n.Scope))
	}
	verdict := "NOT VERIFIED"
	if res.Verified {
		verdict = "VERIFIED"
	}
	fmt.Fprintf(w, "%s: %s\n", verdict, strings.Join(summary, "; "))
}

func notationLine(r notation.Result) string {
	where := "notation " + r.Envelope + " " + r.Referrer.String()
	if !r.Verified {
		return "✗ " + where + ": " + r.Reason
	}
	line := "✓ " + where + ": " + r.Signer + " (policy " + r.Policy + ", level " + r.Level + ")"
	if logged := r.Logged(); len(logged) > 0 {
		line += "; logged, not enforced: " + r.Reason
	}
	return line
}

func signatureLine(r cosign.Result) string {
	where := string(r.Format)
	if r.Referrer != "" {
		where += " " + r.Referrer.String()
	}
	if r.Format == cosign.FormatLegacy {
		where += fmt.Sprintf(" layer %d", r.Layer)
	}
	if !r.Verified {
		return "✗ " + where + ": " + r.Reason
	}
	who := "key " + r.KeyID
	if r.Identity != nil {
		who = "identity " + r.Identity.SAN + " (issuer " + r.Identity.Issuer + ")"
	}
	var when []string
	for _, e := range r.LogEntries {
		when = append(when, fmt.Sprintf("log index %d at %s", e.LogIndex, e.IntegratedTime.Format("2006-01-02T15:04:05Z")))
	}
	for _, t := range r.Timestamps {
		if t.Type != "Tlog" {
			when = append(when, t.Type+" "+t.Time.Format("2006-01-02T15:04:05Z"))
		}
	}
	line := "✓ " + where + ": " + who
	if len(when) > 0 {
		line += "; " + strings.Join(when, ", ")
	}
	return line
}

func countVerified(rs []cosign.Result) int {
	n := 0
	for _, r := range rs {
		if r.Verified {
			n++
		}
	}
	return n
}

// verifyAttestationCommand is verify under cosign's name for checking
// attestations (verify --attestation-type).
func verifyAttestationCommand() *cli.Command {
	c := verifyCommand()
	c.Name = "verify-attestation"
	c.Usage = "verify signed in-toto attestations (--type, --condition), as cosign verify-attestation"
	c.Before = func(ctx *cli.Context) error {
		if err := before(ctx); err != nil {
			return err
		}
		if ctx.String("attestation-type") == "" {
			return usageError("verify-attestation needs --type")
		}
		return nil
	}
	return c
}
