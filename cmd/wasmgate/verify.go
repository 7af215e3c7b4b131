package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/evidence/cosign"
	"github.com/wasmgate/wasmgate/evidence/notation"
	"github.com/wasmgate/wasmgate/internal/atomicfile"
	"github.com/wasmgate/wasmgate/internal/cosignkey"
	"github.com/wasmgate/wasmgate/referrers"
	"github.com/wasmgate/wasmgate/sign"
	"github.com/wasmgate/wasmgate/sigstoreroot"
	"github.com/wasmgate/wasmgate/verify"
)

// authorityFlags are cosign's flags for one authority, and how its
// trust roots are obtained.
func authorityFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringSliceFlag{Name: "key", Usage: "trusted public key (cosign.pub, PEM); repeatable"},
		&cli.StringFlag{Name: "certificate-identity", Usage: "keyless: the certificate's SAN, exactly"},
		&cli.StringFlag{Name: "certificate-identity-regexp", Usage: "keyless: the certificate's SAN, as a regular expression"},
		&cli.StringFlag{Name: "certificate-oidc-issuer", Usage: "keyless: the OIDC issuer, exactly"},
		&cli.StringFlag{Name: "certificate-oidc-issuer-regexp", Usage: "keyless: the OIDC issuer, as a regular expression"},
		&cli.StringFlag{Name: "certificate-github-workflow-trigger", Usage: "keyless: the GitHub workflow trigger (event name) the certificate must carry"},
		&cli.StringFlag{Name: "certificate-github-workflow-sha", Usage: "keyless: the commit SHA the certificate must carry"},
		&cli.StringFlag{Name: "certificate-github-workflow-name", Usage: "keyless: the GitHub workflow name the certificate must carry"},
		&cli.StringFlag{Name: "certificate-github-workflow-repository", Usage: "keyless: the GitHub repository (OWNER/REPO) the certificate must carry"},
		&cli.StringFlag{Name: "certificate-github-workflow-ref", Usage: "keyless: the git ref (refs/heads/main) the certificate must carry"},
		&cli.StringFlag{Name: "github-owner", Usage: "keyless: signed by a GitHub Actions workflow of this owner, as gh attestation verify --owner (public-good and GitHub's Sigstore)"},
		&cli.StringFlag{Name: "github-repo", Usage: "keyless: signed by a GitHub Actions workflow of OWNER/REPO, as gh attestation verify --repo"},
		&cli.StringFlag{Name: "signer-workflow", Usage: "with --github-owner/--github-repo: exactly this workflow, [HOST/]OWNER/REPO/.github/workflows/FILE[@REF]"},
		&cli.StringFlag{Name: "trusted-root", Usage: "sigstore trusted_root.json (Fulcio, Rekor, CT, TSA keys), never fetched; default: the public-good root through TUF"},
		&cli.StringFlag{Name: "tuf-mirror", Usage: "fetch the trusted root from this TUF repository (with --tuf-root)"},
		&cli.StringFlag{Name: "tuf-root", Usage: "the initial root.json of --tuf-mirror"},
		&cli.IntFlag{Name: "tlog-threshold", Value: 1, Usage: "transparency-log entries required"},
		&cli.IntFlag{Name: "timestamp-threshold", Usage: "RFC 3161 signed timestamps required"},
		&cli.BoolFlag{Name: "insecure-ignore-tlog", Usage: "require no transparency-log entry (offline keys); printed in the result"},
		&cli.BoolFlag{Name: "insecure-ignore-sct", Usage: "keyless: require no signed certificate timestamp (a Fulcio without CT); printed in the result"},
	}
}

// specFlags names the fields of a CosignSpec and a OneOff after the flags
// that set them, for errors.
var specFlags = map[string]string{
	verify.FieldKey: "--key", verify.FieldKeyless: "--certificate-identity", verify.FieldIssuer: "--certificate-oidc-issuer",
	verify.FieldSubject: "--certificate-identity", verify.FieldWorkflow: "--certificate-github-workflow-repository",
	verify.FieldGitHub: "--github-owner", verify.FieldTrustedRoot: "--trusted-root", verify.FieldTUF: "--tuf-mirror",
	verify.FieldTUFRoot: "--tuf-root", verify.FieldTlogThreshold: "--tlog-threshold", verify.FieldTimestampThreshold: "--timestamp-threshold",
	verify.FieldKeyValidFrom: "--key", verify.FieldKeyValidUntil: "--key",
	verify.FieldNotation: "--notation-trust-policy", verify.FieldPredicateType: "--attestation-type",
	verify.FieldConditions: "--condition", verify.FieldAttestation: "--attestation-type",
}

// cosignSpec is the authority the cosign flags describe.
func cosignSpec(c *cli.Context) verify.CosignSpec {
	s := verify.CosignSpec{
		Keys:   c.StringSlice("key"),
		Issuer: c.String("certificate-oidc-issuer"), IssuerRegexp: c.String("certificate-oidc-issuer-regexp"),
		Subject: c.String("certificate-identity"), SubjectRegexp: c.String("certificate-identity-regexp"),
		GitHubWorkflowTrigger: c.String("certificate-github-workflow-trigger"), GitHubWorkflowSHA: c.String("certificate-github-workflow-sha"),
		GitHubWorkflowName: c.String("certificate-github-workflow-name"), GitHubWorkflowRepository: c.String("certificate-github-workflow-repository"),
		GitHubWorkflowRef: c.String("certificate-github-workflow-ref"),
		GitHub:            verify.GitHubSpec{Owner: c.String("github-owner"), Repo: c.String("github-repo"), SignerWorkflow: c.String("signer-workflow")},
		TrustedRoot:       c.String("trusted-root"), TUFMirror: c.String("tuf-mirror"), TUFRoot: c.String("tuf-root"),
		TimestampThreshold: c.Int("timestamp-threshold"),
		InsecureIgnoreTlog: c.Bool("insecure-ignore-tlog"), InsecureIgnoreSCT: c.Bool("insecure-ignore-sct"),
	}
	if c.IsSet("tlog-threshold") {
		// 0 entries is cosign's --insecure-ignore-tlog, and said as loudly.
		if s.TlogThreshold = c.Int("tlog-threshold"); s.TlogThreshold == 0 {
			s.InsecureIgnoreTlog = true
		}
	}
	return s
}

// sigstoreRoots is the TUF client of one command.
func sigstoreRoots(c *cli.Context) *sigstoreroot.Provider {
	return sigstoreroot.NewProvider(sigstoreroot.Options{Offline: c.Bool("offline")})
}

// specEnv is how the CLI builds specs: files read with a bound, trust
// roots through TUF (or not, with --offline), options named as flags.
func specEnv(c *cli.Context) verify.SpecEnv {
	return verify.SpecEnv{
		Roots: sigstoreRoots(c),
		ReadFile: func(field, file string) ([]byte, error) {
			raw, err := readBounded(file, 1<<20)
			if err != nil {
				return nil, usageError("%s %s: %v", orElse(specFlags[field], field), file, err)
			}
			return raw, nil
		},
		Option: flagWords.Replace,
	}
}

// specError is a SpecError said with the flag that set the field. The
// SpecError stays in the chain, so callers can still match its sentinels.
func specError(err error) error {
	var se *verify.SpecError
	if !errors.As(err, &se) {
		return err
	}
	msg := orElse(specFlags[se.Field], se.Field) + ": " + se.Reason
	if se.Cause != nil {
		msg += ": " + se.Cause.Error()
	}
	return &specUsageError{msg: errUsage.Error() + ": " + msg, err: err}
}

// specUsageError reads as a usage error naming the flag, and unwraps to
// both errUsage and the SpecError it explains.
type specUsageError struct {
	msg string
	err error
}

func (e *specUsageError) Error() string   { return e.msg }
func (e *specUsageError) Unwrap() []error { return []error{errUsage, e.err} }

// authority builds the cosign authority from the flags (verify-blob).
// Errors are usage errors: configuration, not verdicts.
func authority(c *cli.Context) (*verify.Built, error) {
	b, err := cosignSpec(c).Build(c.Context, specEnv(c))
	if err != nil {
		return nil, specError(err)
	}
	for _, w := range b.Warnings {
		fmt.Fprintf(c.App.ErrWriter, "wasmgate: warning: %s\n", w)
	}
	return b, nil
}

// loadPolicy loads a trust policy file, its Sigstore trust roots through
// TUF, and prints how they were obtained when a user should know.
func loadPolicy(c *cli.Context, path string) (*verify.Policy, error) {
	p, err := verify.LoadPolicy(c.Context, path, verify.LoadOptions{Roots: sigstoreRoots(c)})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errUsage, err) // keeps *verify.PolicyError for errors.As
	}
	printPolicyWarnings(c, p)
	return p, nil
}

// printPolicyWarnings says how the policy's trust roots were obtained when
// a user should know (offline, an embedded snapshot).
func printPolicyWarnings(c *cli.Context, p *verify.Policy) {
	for _, st := range p.Statements() {
		for _, a := range st.Authorities {
			for _, w := range a.Warnings {
				fmt.Fprintf(c.App.ErrWriter, "wasmgate: warning: %s: %s\n", a.Name, w)
			}
		}
	}
}

// flagWords says the policy's insecure options as the flags that set them.
var flagWords = strings.NewReplacer("insecureIgnoreTlog", "--insecure-ignore-tlog", "insecureIgnoreSCT", "--insecure-ignore-sct")

func verifyCommand() *cli.Command {
	return &cli.Command{
		Name:      "verify",
		Usage:     "verify artifacts under a trust policy (--policy FILE), or cosign/Notation flags for a one-off check",
		ArgsUsage: "REF...",
		Description: "Runs the whole pipeline on each REF: resolve once, check the manifest and every layer digest, " +
			"discover referrers, verify cosign and Notation signatures and in-toto attestations, decide under the policy.\n\n" +
			"Exit codes: 0 verified (or passed in warn/audit mode), 1 denied by policy, 2 usage or configuration error, " +
			"3 could not decide and a retry may help (network, timeout, 429, 5xx), 4 not found, 5 authentication refused. " +
			"With several REFs, the first of 2, 1, 5, 4, 3 that any REF has: 3 only when every failure may pass on a retry.",
		Flags: withOutputFormats("text, json or sarif", withCommon(append(append(append(registryFlags(), authorityFlags()...), discoverFlags()[1:]...),
			&cli.StringFlag{Name: "format", Value: "auto", Usage: "cosign signatures: auto (both formats), bundle or legacy"},
			&cli.StringFlag{Name: "policy", Usage: "the trust policy file (YAML); instead of the cosign and Notation flags"},
			&cli.StringFlag{Name: "scope", Usage: "select policies by this repository name instead of the reference's (an OCI layout copied from a registry)"},
			&cli.IntFlag{Name: "concurrency", Value: verify.DefaultConcurrency, Usage: "references verified at once"},
			resultCacheFlag(),
			&cli.StringFlag{Name: "attestation-type", Aliases: []string{"type"}, Usage: "require a signed in-toto attestation of this predicate type (URI or cosign short name), checked against --key or the keyless identity"},
			&cli.StringSliceFlag{Name: "condition", Usage: "CEL condition over predicate, predicateType, subject that the attestation must meet (repeatable)"},
			&cli.DurationFlag{Name: "max-age", Usage: "the attestation may be at most this old"},
			&cli.IntFlag{Name: "min-count", Value: 1, Usage: "how many matching attestations must pass"},
			&cli.StringFlag{Name: "emit-vsa", Usage: "after a verified result (one REF), write a SLSA Verification Summary Attestation to this file"},
			&cli.StringFlag{Name: "vsa-key", Usage: "sign the VSA with this key (cosign.key): the file is then a sigstore bundle, else a bare in-toto statement"},
			&cli.StringFlag{Name: "notation-trust-policy", Usage: "Notation: trustpolicy.json (checks Notation signatures)"},
			&cli.StringFlag{Name: "notation-trust-store", Usage: "Notation: the trust store directory (truststore/x509/{ca,signingAuthority,tsa}/NAME)"},
			&cli.StringFlag{Name: "notation-scope", Usage: "Notation: the registry scope to pick the trust policy by (default: host/repository; local/<dir name> for OCI layouts)"},
			&cli.StringSliceFlag{Name: "notation-user-metadata", Usage: "Notation: signed metadata key=value that must be present (repeatable)"},
			&cli.StringFlag{Name: "digest", Usage: "sha256:… the artifact must have (one REF)"},
		)...)),
		Before: verifyBefore,
		Action: verifyAction,
	}
}

// verifyBefore also accepts --output sarif, which only verify writes.
func verifyBefore(c *cli.Context) error {
	if c.String("output") == "sarif" {
		return nil
	}
	return before(c)
}

func verifyAction(c *cli.Context) error {
	if c.NArg() == 0 {
		return usageError("verify wants at least one REF")
	}
	inputs := c.Args().Slice()
	refs := make([]artifact.Reference, len(inputs))
	for i, s := range inputs {
		ref, err := parseRef(s)
		if err != nil {
			return err
		}
		refs[i] = ref
	}
	if d := c.String("digest"); d != "" {
		if len(refs) != 1 {
			return usageError("--digest pins one REF, not %d", len(refs))
		}
		pinned, err := pinnedDigest(c, refs[0])
		if err != nil {
			return err
		}
		refs[0] = refs[0].WithDigest(pinned)
		inputs[0] = refs[0].String()
	}
	if c.String("emit-vsa") != "" && len(refs) != 1 {
		return usageError("--emit-vsa writes the summary of one REF, not %d", len(refs))
	}
	var policy *verify.Policy
	var err error
	if path := c.String("policy"); path != "" {
		if flagged := authorityFlagsSet(c); flagged != "" {
			return usageError("--policy and --%s do not mix: the policy file names every authority", flagged)
		}
		if policy, err = loadPolicy(c, path); err != nil {
			return err
		}
	} else if policy, err = flagPolicy(c); err != nil {
		return err
	}
	o, err := opener(c, refs...)
	if err != nil {
		return err
	}
	mode := referrers.Mode(c.String("mode"))
	switch mode {
	case referrers.ModeAuto, referrers.ModeAPI, referrers.ModeTag:
	default:
		return usageError("--mode must be auto, api or tag, not %q", mode)
	}
	var format cosign.Format
	switch f := c.String("format"); f {
	case "auto":
	case "bundle", "legacy":
		format = cosign.Format(f)
	default:
		return usageError("--format must be auto, bundle or legacy, not %q", f)
	}
	results, ttl, err := resultCache(c, policy)
	if err != nil {
		return err
	}
	v, err := verify.New(policy, o, verify.Options{
		CosignFormat: format,
		Scope:        c.String("scope"),
		Concurrency:  c.Int("concurrency"),
		Discover:     referrers.Options{Mode: mode, NoLegacyTags: c.Bool("no-legacy-tags")},
		Results:      results,
		ResultTTL:    ttl,
	})
	if err != nil {
		return err
	}
	verdicts, errs := v.VerifyAll(c.Context, refs)
	report := verify.Report{SchemaVersion: verify.SchemaVersion, PolicyFile: c.String("policy"),
		PolicyDigest: policy.Digest(), TrustDigest: policy.TrustDigest(), Results: verdicts}
	switch c.String("output") {
	case "json":
		if err := printJSON(c, report); err != nil {
			return err
		}
	case "sarif":
		if err := printSARIF(c.App.Writer, report, policy); err != nil {
			return err
		}
	default:
		printReport(c.App.Writer, report)
	}
	for _, r := range verdicts {
		if !r.Pass || r.Mode != verify.ModeWarn {
			continue
		}
		fmt.Fprintf(c.App.ErrWriter, "wasmgate: warning: %s is %s under policy %s, which is in warn mode: passing anyway\n", r.Reference, r.Verdict, r.Policy)
	}
	if code := verifyExit(verdicts, errs); code != exitOK {
		var msgs, hints []string
		for _, err := range errs {
			if err == nil {
				continue
			}
			msgs = append(msgs, err.Error())
			if h := nextStep(err); h != "" && !slices.Contains(hints, h) {
				hints = append(hints, h)
			}
		}
		return cli.Exit(strings.Join(append(msgs, hints...), "\nwasmgate: "), code)
	}
	if path := c.String("emit-vsa"); path != "" {
		return emitVSA(c, path, policy, verdicts[0])
	}
	return nil
}

// verifyExit is verify's exit code. Each reference has one: 0 passed, 1
// denied, 2 when its trust material cannot decide it (isConfigError), and
// when it could not be decided, the class of the cause (registryExit: 2
// plain HTTP, 5 credentials, 4 not found), 3 only for what a retry may
// mend. Several references take the first of 2, 1, 5, 4, 3 that any of
// them has: the configuration to fix first, then a definite denial, and 3
// only when every reference that failed may pass on a retry.
func verifyExit(results []*verify.Result, errs []error) int {
	code := exitOK
	for i, r := range results {
		code = worseExit(code, referenceExit(r, errs[i]))
	}
	return code
}

// referenceExit is the exit code of one reference's result.
func referenceExit(r *verify.Result, err error) int {
	switch {
	case isConfigError(err):
		return exitUsage
	case r.Pass:
		return exitOK
	case r.Verdict == verify.VerdictDenied:
		return exitDenied
	}
	// The library could not decide: by the cause's type when it has one
	// of remote's, else "could not decide".
	return registryExit(err, exitUndecided)
}

// exitPrecedence orders verify's codes, most pressing first.
var exitPrecedence = []int{exitUsage, exitDenied, exitAuth, exitNotFound, exitUndecided, exitOK}

// worseExit is the more pressing of two codes.
func worseExit(a, b int) int {
	if slices.Index(exitPrecedence, b) < slices.Index(exitPrecedence, a) {
		return b
	}
	return a
}

// isConfigError: the trust material cannot decide this reference at all
// (a Notation trust policy without a statement for its scope, a
// reference that names no OCI artifact).
func isConfigError(err error) bool {
	return errors.Is(err, notation.ErrNoTrustPolicy) || errors.Is(err, notation.ErrInvalidScope) ||
		errors.Is(err, verify.ErrUnsupportedReference) || errors.Is(err, artifact.ErrInvalidReference)
}

// authorityFlagsSet names a cosign or Notation flag that is set, or "".
func authorityFlagsSet(c *cli.Context) string {
	for _, name := range []string{"key", "certificate-identity", "certificate-identity-regexp", "certificate-oidc-issuer",
		"certificate-oidc-issuer-regexp", "certificate-github-workflow-trigger", "certificate-github-workflow-sha",
		"certificate-github-workflow-name", "certificate-github-workflow-repository", "certificate-github-workflow-ref",
		"github-owner", "github-repo", "signer-workflow", "trusted-root", "tuf-mirror", "tuf-root", "insecure-ignore-tlog",
		"insecure-ignore-sct", "attestation-type", "condition",
		"notation-trust-policy", "notation-trust-store", "notation-scope", "notation-user-metadata"} {
		if c.IsSet(name) {
			return name
		}
	}
	return ""
}

// flagPolicy is the policy the cosign and Notation flags describe, as
// cosign verify, cosign verify-attestation and notation verify read them
// (verify.OneOffPolicy).
func flagPolicy(c *cli.Context) (*verify.Policy, error) {
	var o verify.OneOff
	useNotation := c.String("notation-trust-policy") != "" || c.String("notation-trust-store") != ""
	if useNotation {
		meta, err := parseAnnotations(c.StringSlice("notation-user-metadata"))
		if err != nil {
			return nil, err
		}
		o.Notation = &verify.NotationSpec{TrustPolicy: c.String("notation-trust-policy"), TrustStore: c.String("notation-trust-store"),
			Scope: c.String("notation-scope"), UserMetadata: meta}
	}
	if c.IsSet("key") || c.String("certificate-identity") != "" || c.String("certificate-identity-regexp") != "" ||
		c.String("certificate-oidc-issuer") != "" || c.String("certificate-oidc-issuer-regexp") != "" ||
		c.String("github-owner") != "" || c.String("github-repo") != "" || !useNotation {
		spec := cosignSpec(c)
		o.Cosign = &spec
	}
	if pt := c.String("attestation-type"); pt != "" {
		o.Attestation = &verify.AttestationSpec{PredicateType: pt, Conditions: c.StringSlice("condition"), MaxAge: c.Duration("max-age"), MinCount: c.Int("min-count")}
	} else if len(c.StringSlice("condition")) > 0 {
		return nil, usageError("--condition needs --attestation-type")
	}
	p, err := verify.OneOffPolicy(c.Context, o, specEnv(c))
	if err != nil {
		return nil, specError(err)
	}
	printPolicyWarnings(c, p)
	return p, nil
}

func orElse(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// emitVSA writes the VSA of a verified result (verify.SummaryOf), signed
// with --vsa-key as a sigstore bundle, else as a bare in-toto statement.
func emitVSA(c *cli.Context, path string, policy *verify.Policy, res *verify.Result) error {
	if res.Verdict != verify.VerdictVerified {
		return nil // warn or audit passed it; a VSA states only a verification that passed
	}
	summary, err := verify.SummaryOf(res, policy, "https://github.com/wasmgate/wasmgate/verify@"+version, policyURI(c), time.Now())
	if err != nil {
		return err
	}
	st, err := verify.VSA(summary)
	if err != nil {
		return err
	}
	out := st
	if kp := c.String("vsa-key"); kp != "" {
		pemBytes, err := readBounded(kp, maxKeyFile)
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
	return atomicfile.Write(path, out)
}

func policyURI(c *cli.Context) string {
	if p := c.String("policy"); p != "" {
		return "file://" + filepath.ToSlash(p)
	}
	return ""
}

func notationLine(r notation.Result) string {
	where := "notation " + r.Envelope
	if r.Referrer != "" {
		where += " " + r.Referrer.String()
	}
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
		return "✗ " + where + ": " + r.Reason + claimedLine(r.Claimed)
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

// claimedLine says what a refused signature names as its signer, to
// compare with the key or identity the authority trusts.
func claimedLine(s *cosign.Signer) string {
	switch {
	case s == nil:
		return ""
	case s.KeyID != "":
		return fmt.Sprintf("; it names key %.16s as its signer (not verified)", s.KeyID)
	case s.Identity != nil:
		return "; its certificate names identity " + s.Identity.SAN + " (issuer " + s.Identity.Issuer + ")"
	}
	return "; it names key hint " + s.Hint + " as its signer (not verified)"
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
