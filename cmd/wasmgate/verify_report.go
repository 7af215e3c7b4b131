package main

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/owenrumney/go-sarif/v2/sarif"

	"github.com/wasmgate/wasmgate/evidence/intoto"
	"github.com/wasmgate/wasmgate/verify"
)

// printReport writes the text report: per reference, every check with
// ✓ or ✗ and its reason, the signatures behind the threshold, the verdict.
func printReport(w io.Writer, rep verify.Report) {
	for i, r := range rep.Results {
		if i > 0 {
			fmt.Fprintln(w)
		}
		name := r.Reference
		if r.Pinned != "" && r.Pinned != r.Reference {
			name += " → " + r.Digest.String()
		}
		fmt.Fprintln(w, name)
		if r.Policy != "" {
			fmt.Fprintf(w, "  policy %s (scope %s, mode %s)\n", r.Policy, r.Scope, r.Mode)
		}
		for _, s := range r.Insecure {
			fmt.Fprintf(w, "  ! insecure: %s\n", s)
		}
		for _, c := range r.Checks {
			label := c.Name
			if c.Subject != "" {
				label += " " + c.Subject
			}
			reason := orElse(c.Reason, string(c.Status))
			if c.Name == verify.CheckSignatures && r.Signatures != nil {
				reason = signaturesReason(c, r.Signatures)
			}
			fmt.Fprintf(w, "  %s %s: %s\n", mark(c.Status), label, reason)
			if c.Name == verify.CheckSignatures && r.Signatures != nil {
				printAuthorities(w, r.Signatures)
			}
			if c.Name == verify.CheckAttestation {
				for _, a := range r.Attestations {
					if a.PredicateType == c.Subject {
						printAttestations(w, a)
					}
				}
			}
			if c.Name == verify.CheckPermissionPolicy && r.PermissionPolicy != nil {
				printPolicyReferrers(w, r.PermissionPolicy)
			}
			if c.Name == verify.CheckLayout && c.Status != verify.StatusPassed {
				for _, l := range r.Layouts {
					if l.Name == c.Subject {
						printLayouts(w, l)
					}
				}
			}
		}
		if pp := r.PermissionPolicy; pp != nil && pp.From != "" {
			fmt.Fprintf(w, "  · permission policy %s\n", policySourceWords(pp.PolicySource))
		}
		if r.Cached != nil {
			fmt.Fprintf(w, "  · layer and evidence checks from the result cache: verified %s, kept until %s\n",
				r.Cached.Verified.UTC().Format(time.RFC3339), r.Cached.Expires.UTC().Format(time.RFC3339))
		}
		if sk := r.SkippedReferrers; sk != nil && r.Verdict != verify.VerdictVerified {
			// Said where it may explain a missing signature: one listed
			// under another kind is skipped, never read.
			fmt.Fprintf(w, "  · %d referrers not read (%d judged by their listed type alone): %s; types %s\n",
				sk.Count, sk.Unfetched, sk.Reason, skippedTypes(sk.ArtifactTypes))
		}
		fmt.Fprintf(w, "%s\n", verdictLine(r))
	}
}

// policySourceWords says where a permission policy came from.
func policySourceWords(s verify.PolicySource) string {
	if s.From == verify.PolicyFromLayer {
		return s.Digest.String() + " from the artifact's policy layer"
	}
	refs := make([]string, len(s.Referrers))
	for i, d := range s.Referrers {
		refs[i] = d.String()
	}
	return fmt.Sprintf("%s from policy referrer %s, signed by %s", s.Digest, strings.Join(refs, ", "), strings.Join(s.SignedBy, ", "))
}

// printPolicyReferrers lists the policy referrers read, and why each
// counted or not.
func printPolicyReferrers(w io.Writer, p *verify.PermissionPolicyReport) {
	for _, r := range p.Results {
		if r.Counted {
			fmt.Fprintf(w, "      ✓ %s: policy %s, signed by %s\n", r.Referrer, r.Policy, strings.Join(r.Allowed, ", "))
			continue
		}
		fmt.Fprintf(w, "      ✗ %s: %s\n", r.Referrer, r.Reason)
	}
}

func skippedTypes(types map[string]int) string {
	keys := slices.Sorted(maps.Keys(types))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s ×%d", k, types[k])
	}
	return strings.Join(parts, ", ")
}

// signaturesReason is the signatures check without the reasons of each
// authority and signature, which printAuthorities lists below it: the
// check's own Reason (for JSON and SARIF) holds them all.
func signaturesReason(c verify.Check, s *verify.SignatureReport) string {
	if c.Status == verify.StatusPassed || c.Status == verify.StatusNotRun {
		return orElse(c.Reason, string(c.Status))
	}
	var missing []string
	for _, a := range s.Authorities {
		switch {
		case a.Satisfied:
		case a.Err != nil && isConfigError(a.Err):
			missing = append(missing, a.Name+" (configuration error)")
		case a.Err != nil:
			missing = append(missing, a.Name+" (could not decide)")
		case len(a.Cosign)+len(a.Notation) == 0:
			missing = append(missing, a.Name+" (no signature found)")
		default:
			missing = append(missing, fmt.Sprintf("%s (%d refused)", a.Name, len(a.Cosign)+len(a.Notation)))
		}
	}
	what := verify.ErrThreshold.Error()
	if c.Status == verify.StatusError {
		what = "could not decide"
	}
	return fmt.Sprintf("%s: %d of %d required authorities signed; missing %s", what, s.Satisfied, s.Threshold, strings.Join(missing, "; "))
}

func mark(s verify.Status) string {
	switch s {
	case verify.StatusPassed:
		return "✓"
	case verify.StatusFailed:
		return "✗"
	case verify.StatusError:
		return "?"
	}
	return "·"
}

func printAuthorities(w io.Writer, s *verify.SignatureReport) {
	for _, a := range s.Authorities {
		m := "✗"
		if a.Satisfied {
			m = "✓"
		}
		fmt.Fprintf(w, "      %s %s (%s)\n", m, a.Name, a.Description)
		if a.Error != "" {
			fmt.Fprintf(w, "          ? %s\n", a.Error)
		}
		if len(a.Cosign) == 0 && len(a.Notation) == 0 && a.Error == "" {
			fmt.Fprintf(w, "          ✗ no signature found\n")
		}
		for _, r := range a.Cosign {
			fmt.Fprintf(w, "          %s\n", signatureLine(r))
		}
		for _, r := range a.Notation {
			fmt.Fprintf(w, "          %s\n", notationLine(r))
		}
	}
}

func printAttestations(w io.Writer, a verify.AttestationReport) {
	for _, r := range a.Results {
		m := "✓"
		if !r.Verified {
			m = "✗"
		}
		line := fmt.Sprintf("      %s %s %s (by %s)", m, r.Format, r.Referrer, r.Authority)
		if r.Reason != "" {
			line += ": " + r.Reason
		}
		fmt.Fprintln(w, line)
	}
}

// printLayouts lists each layout a requirement tried, under its check,
// when it did not pass (the check's line says what passed).
func printLayouts(w io.Writer, l verify.LayoutReport) {
	for _, r := range l.Results {
		m := "✗"
		switch {
		case r.Verified:
			m = "✓"
		case r.Unsupported:
			m = "✗ (not verifiable here)"
		}
		line := fmt.Sprintf("      %s layout %s", m, orElse(string(r.Referrer), "(none read)"))
		if r.FailedStep != "" {
			line += " step " + r.FailedStep
		}
		if r.FailedRule != nil {
			line += " rule " + strings.Join(r.FailedRule, " ")
		}
		if r.Reason != "" {
			line += ": " + r.Reason
		}
		fmt.Fprintln(w, line)
	}
}

// inspections reports whether r is denied because a required in-toto
// layout has inspections, which wasmgate does not run.
func inspections(r *verify.Result) bool {
	for _, c := range r.Checks {
		if c.Status == verify.StatusFailed && errors.Is(c.Err, intoto.ErrInspections) {
			return true
		}
	}
	return false
}

func verdictLine(r *verify.Result) string {
	switch {
	case r.Verdict == verify.VerdictVerified:
		return "VERIFIED"
	case r.Verdict == verify.VerdictDenied && inspections(r):
		return "DENIED: a required in-toto layout has inspections, which run commands; wasmgate does not run them: verify that layout with in-toto-verify"
	case r.Verdict == verify.VerdictUndecided && configuration(r):
		return "UNDECIDED: a configuration error, not the artifact's: fix the trust policy or its trust material (exit 2; a retry will not help)"
	case r.Pass:
		return fmt.Sprintf("%s, passed anyway: policy %s is in %s mode", strings.ToUpper(string(r.Verdict)), r.Policy, r.Mode)
	}
	return strings.ToUpper(string(r.Verdict))
}

// configuration reports whether a check of r could not decide because of
// the trust configuration (isConfigError), as verifyExit exits 2 for it.
func configuration(r *verify.Result) bool {
	for _, c := range r.Checks {
		if c.Status == verify.StatusError && isConfigError(c.Err) {
			return true
		}
	}
	return false
}

// printSARIF writes the report as SARIF 2.1.0 for code-scanning uploads:
// one result per check that did not pass, at the policy file's statement
// when there is a file, at error level in enforce mode and warning or
// note level in warn and audit mode.
func printSARIF(w io.Writer, rep verify.Report, policy *verify.Policy) error {
	doc, err := sarif.New(sarif.Version210)
	if err != nil {
		return err
	}
	run := sarif.NewRunWithInformationURI("wasmgate", "https://github.com/wasmgate/wasmgate")
	run.Tool.Driver.WithVersion(version)
	for _, name := range []string{verify.CheckScope, verify.CheckDigest, verify.CheckManifest, verify.CheckLayers, verify.CheckSignatures, verify.CheckAttestation, verify.CheckLayout, verify.CheckPlatform, verify.CheckPermissionPolicy, ruleInsecure} {
		run.AddRule("wasmgate/" + name).WithDescription(ruleDescriptions[name])
	}
	for _, r := range rep.Results {
		// What the policy gave up is a finding on every result, passed or
		// not, as the text and JSON reports say it.
		for _, s := range r.Insecure {
			res := run.CreateResultForRule("wasmgate/" + ruleInsecure).WithLevel("warning").
				WithMessage(sarif.NewTextMessage(r.Reference + ": insecure: " + s))
			loc := sarif.NewPhysicalLocation()
			if rep.PolicyFile != "" {
				loc.WithArtifactLocation(sarif.NewSimpleArtifactLocation(rep.PolicyFile)).WithRegion(sarif.NewSimpleRegion(statementLine(policy, r.Policy), statementLine(policy, r.Policy)))
			} else {
				loc.WithArtifactLocation(sarif.NewSimpleArtifactLocation(r.Reference))
			}
			res.AddLocation(sarif.NewLocationWithPhysicalLocation(loc))
		}
		for _, c := range r.Failed() {
			level := "error"
			switch r.Mode {
			case verify.ModeWarn:
				level = "warning"
			case verify.ModeAudit:
				level = "note"
			}
			label := c.Name
			if c.Subject != "" {
				label += " " + c.Subject
			}
			msg := fmt.Sprintf("%s: %s %s: %s", r.Reference, label, c.Status, orElse(c.Reason, "not run"))
			res := run.CreateResultForRule("wasmgate/" + c.Name).WithLevel(level).WithMessage(sarif.NewTextMessage(msg))
			loc := sarif.NewPhysicalLocation()
			if rep.PolicyFile != "" {
				loc.WithArtifactLocation(sarif.NewSimpleArtifactLocation(rep.PolicyFile)).WithRegion(sarif.NewSimpleRegion(statementLine(policy, r.Policy), statementLine(policy, r.Policy)))
			} else {
				loc.WithArtifactLocation(sarif.NewSimpleArtifactLocation(r.Reference))
			}
			res.AddLocation(sarif.NewLocationWithPhysicalLocation(loc))
		}
	}
	doc.AddRun(run)
	return doc.PrettyWrite(w)
}

func statementLine(p *verify.Policy, name string) int {
	for _, s := range p.Statements() {
		if s.Name == name && s.Line > 0 {
			return s.Line
		}
	}
	return 1
}

// ruleInsecure is the SARIF rule of what a policy gives up.
const ruleInsecure = "insecure"

var ruleDescriptions = map[string]string{
	ruleInsecure:            "The trust policy gives up a check (insecureIgnoreTlog, insecureIgnoreSCT, allowUnsigned, ...).",
	verify.CheckScope:       "A trust policy statement covers the artifact's repository.",
	verify.CheckDigest:      "The reference is pinned by digest, as the policy requires.",
	verify.CheckManifest:    "The manifest resolved once, its digest matches its bytes, it is valid under the image-spec and of a kind the policy's artifacts accept.",
	verify.CheckPlatform:    "A platform manifest of an image index (platforms: each) is valid, its layers check, and enough distinct authorities signed it.",
	verify.CheckLayers:      "Every layer's size and digest match, and the layers follow the policy's rules.",
	verify.CheckSignatures:  "Enough distinct authorities signed the artifact.",
	verify.CheckAttestation: "A required in-toto attestation is present, signed and meets its conditions.",
	verify.CheckLayout:      "A required in-toto layout, signed by its owner, verifies with its steps' links, and the artifact is a final product of it.",
	verify.CheckPermissionPolicy: "The wasm artifact's permission policy is its layer, or one policy referrer signed by an authority allowed to sign policies; " +
		"signed policies that disagree are refused.",
}
