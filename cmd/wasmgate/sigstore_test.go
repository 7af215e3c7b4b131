package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"

	"github.com/wasmgate/wasmgate/internal/testrig/peers"
	"github.com/wasmgate/wasmgate/internal/testrig/sigstoretest"
	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
	"github.com/wasmgate/wasmgate/internal/testrig/testtuf"
	"github.com/wasmgate/wasmgate/sigstoreroot"
)

// sigstore-js 2.0.0's npm provenance: a real public-good bundle that a
// GitHub Actions workflow signed (sigstore-go's test data, in the module
// cache), over the package's SHA-512.
const (
	jsBundle   = "pkg/testing/data/bundles/sigstore.js@2.0.0-provenance.sigstore.json"
	jsDigest   = "sha512:46d4e2f74c4877316640000a6fdf8a8b59f1e0847667973e9859f774dd31b8f1e0937813b777fb66a2ac67d50540fe34640966eee9fc2ccca387082b4c85cd3c"
	jsIdentity = "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main"
	ghIssuer   = "https://token.actions.githubusercontent.com"
)

// Keyless verification out of the box: no --trusted-root, no network (see
// TestMain), a fresh cache: the public-good root comes from the snapshot
// embedded in wasmgate, and says so.
func TestVerifyBlobPublicGoodOutOfTheBox(t *testing.T) {
	cliEnv(t, nil)
	bundle := testkit.ModuleFile(t, "github.com/sigstore/sigstore-go", jsBundle)
	for _, tc := range []struct {
		name string
		args []string
		want int
	}{
		{"certificate identity", []string{"--certificate-identity", jsIdentity, "--certificate-oidc-issuer", ghIssuer}, exitOK},
		{"certificate identity, offline", []string{"--certificate-identity", jsIdentity, "--certificate-oidc-issuer", ghIssuer, "--offline"}, exitOK},
		{"GitHub workflow repository claim", []string{"--certificate-identity", jsIdentity, "--certificate-oidc-issuer", ghIssuer,
			"--certificate-github-workflow-repository", "sigstore/sigstore-js", "--certificate-github-workflow-ref", "refs/heads/main"}, exitOK},
		{"another GitHub workflow repository", []string{"--certificate-identity", jsIdentity, "--certificate-oidc-issuer", ghIssuer,
			"--certificate-github-workflow-repository", "sigstore/cosign"}, exitDenied},
		{"gh --owner", []string{"--github-owner", "sigstore"}, exitOK},
		{"gh --repo --signer-workflow", []string{"--github-repo", "sigstore/sigstore-js", "--signer-workflow", "sigstore/sigstore-js/.github/workflows/release.yml"}, exitOK},
		{"gh --owner, another owner", []string{"--github-owner", "acme"}, exitDenied},
		{"another identity", []string{"--certificate-identity", "https://github.com/acme/", "--certificate-oidc-issuer", ghIssuer}, exitDenied},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := wasmgate(t, append([]string{"verify-blob", jsDigest, "--bundle", bundle}, tc.args...)...)
			if code != tc.want {
				t.Fatalf("exit %d, want %d\n%s%s", code, tc.want, stdout, stderr)
			}
			if !strings.Contains(stderr, "embedded in wasmgate, taken 2026-10-03") {
				t.Errorf("the snapshot's date is not said: %s", stderr)
			}
			if code == exitOK && !strings.Contains(stdout, "✓ bundle: identity "+jsIdentity) {
				t.Errorf("stdout: %s", stdout)
			}
		})
	}
	if code, _, stderr := wasmgate(t, "verify-blob", jsDigest, "--bundle", bundle, "--github-owner", "sigstore", "--certificate-identity", jsIdentity); code != exitUsage || !strings.Contains(stderr, "--github-owner") {
		t.Errorf("--github-owner with --certificate-identity: exit %d: %s", code, stderr)
	}
}

// A trusted root from a TUF mirror given on the command line, and the
// digests other than sha256 that bundles sign.
func TestVerifyBlobTUFMirror(t *testing.T) {
	cliEnv(t, nil)
	s := sigstoretest.New(t, sigstoretest.Options{})
	dir := t.TempDir()
	file := filepath.Join(dir, "module.wasm")
	content := []byte("\x00asm\x01\x00\x00\x00 a module")
	if err := os.WriteFile(file, content, 0o644); err != nil {
		t.Fatal(err)
	}
	signed := s.Sign(t, content, sigstoretest.Sig{Tlog: sigstoretest.RekorV2, TSA: true, Algorithm: protocommon.PublicKeyDetails_PKIX_ECDSA_P521_SHA_512})
	bundle := filepath.Join(dir, "module.sigstore.json")
	if err := os.WriteFile(bundle, signed.JSON, 0o644); err != nil {
		t.Fatal(err)
	}
	repo := testtuf.New(t, map[string][]byte{sigstoreroot.TrustedRootTarget: s.TrustedRootJSON(t)})
	tufRoot := filepath.Join(dir, "root.json")
	if err := os.WriteFile(tufRoot, repo.InitialRoot(), 0o644); err != nil {
		t.Fatal(err)
	}
	sha512 := digest.SHA512.FromBytes(content)
	identity := []string{"--certificate-identity", signed.SAN, "--certificate-oidc-issuer", signed.Issuer, "--tuf-mirror", repo.URL, "--tuf-root", tufRoot}
	for _, input := range []string{file, sha512.String()} {
		code, stdout, stderr := wasmgate(t, append([]string{"verify-blob", input, "--bundle", bundle}, identity...)...)
		if code != exitOK || !strings.HasPrefix(stdout, sha512.String()+" ✓ bundle") || !strings.Contains(stdout, "TimestampAuthority") {
			t.Fatalf("%s: exit %d\n%s%s", input, code, stdout, stderr)
		}
	}
	if code, stdout, _ := wasmgate(t, append([]string{"verify-blob", digest.FromBytes(content).String(), "--bundle", bundle}, identity...)...); code != exitDenied || !strings.Contains(stdout, "another artifact") {
		t.Errorf("the sha256 of a file signed over its sha512: exit %d\n%s", code, stdout)
	}

	// A mirror that serves a tampered trusted root is refused, with no
	// fall-back, and the refusal names the mirror: a configuration error.
	cliEnv(t, nil) // a fresh cache
	repo.TamperTarget(sigstoreroot.TrustedRootTarget, append([]byte(" "), s.TrustedRootJSON(t)[1:]...))
	code, _, stderr := wasmgate(t, append([]string{"verify-blob", file, "--bundle", bundle}, identity...)...)
	if code != exitUsage || !strings.Contains(stderr, "TUF refused") || !strings.Contains(stderr, repo.URL) {
		t.Errorf("tampered mirror: exit %d: %s", code, stderr)
	}
}

// The trust policy gets the same choices: a GitHub identity, a TUF
// mirror, insecureIgnoreSCT; lint says which roots each authority trusts.
func TestPolicyGitHubAndTUF(t *testing.T) {
	cliEnv(t, nil)
	s := sigstoretest.New(t, sigstoretest.Options{})
	repo := testtuf.New(t, map[string][]byte{sigstoreroot.TrustedRootTarget: s.TrustedRootJSON(t)})
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "root.json"), repo.InitialRoot(), 0o644); err != nil {
		t.Fatal(err)
	}
	policy := filepath.Join(dir, "trust.yaml")
	if err := os.WriteFile(policy, []byte(`version: v1
policies:
  - name: all
    scopes: ["*"]
    signatures:
      authorities:
        - name: gh
          cosign: {github: {owner: acme, repo: acme/wasm}}
        - name: private
          cosign:
            keyless: {issuer: https://oidc.acme.example, subject: release@acme.example, githubWorkflowRepository: acme/wasm}
            tuf: {mirror: `+repo.URL+`, root: root.json}
            insecureIgnoreSCT: true
`), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := wasmgate(t, "policy", "lint", policy)
	if code != exitOK {
		t.Fatalf("exit %d: %s%s", code, stdout, stderr)
	}
	for _, want := range []string{
		"gh: cosign keyless (?i)^https://github\\.com/acme/wasm/ from https://token.actions.githubusercontent.com under public-good",
		"under public-good: 1 transparency-log entries, an SCT in the certificate",
		"private: cosign keyless release@acme.example from https://oidc.acme.example under " + repo.URL,
		"! insecure: private: insecureIgnoreSCT",
		"GitHub's trust root is unavailable",
	} {
		if !strings.Contains(stdout+stderr, want) {
			t.Errorf("lint does not say %q:\n%s%s", want, stdout, stderr)
		}
	}
}

// A GitHub artifact attestation as actions/attest-build-provenance pushes
// it with push-to-registry: a sigstore bundle referrer (SLSA provenance
// over the manifest digest, signed by a GitHub Actions workflow), on a
// registry without the Referrers API. `--github-repo` and
// `--attestation-type` check it as `gh attestation verify --repo` would.
func TestVerifyGitHubAttestationReferrer(t *testing.T) {
	reg := testregistry.Distribution(t)
	cliEnv(t, reg)
	s := sigstoretest.New(t, sigstoretest.Options{})
	subject := peers.PushSubject(t, reg, "wasm/tiny")
	wf := &sigstoretest.GitHubWorkflow{Repository: "acme/wasm", WorkflowPath: ".github/workflows/release.yml", Ref: "refs/tags/v1"}
	signed := s.Attest(t, sigstoretest.Statement{
		Subjects: []sigstoretest.Subject{{Name: reg.Ref("wasm/tiny", ""), Digest: map[string]string{"sha256": subject.Digest.Encoded()}}},
		// The predicate's shape as actions/attest-build-provenance writes
		// it (a valid SLSA v1 provenance: build type, the workflow as
		// external parameters, the runner as builder).
		Predicate: map[string]any{
			"buildDefinition": map[string]any{"buildType": "https://actions.github.io/buildtypes/workflow/v1",
				"externalParameters": map[string]any{"workflow": map[string]any{"ref": "refs/tags/v1", "repository": "https://github.com/acme/wasm", "path": ".github/workflows/release.yml"}}},
			"runDetails": map[string]any{"builder": map[string]any{"id": "https://github.com/actions/runner/github-hosted"}},
		},
	}, sigstoretest.Sig{GitHub: wf})
	dir := t.TempDir()
	bundle := filepath.Join(dir, "attestation.sigstore.json")
	trustedRoot := filepath.Join(dir, "trusted_root.json")
	if err := os.WriteFile(bundle, signed.JSON, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(trustedRoot, s.TrustedRootJSON(t), 0o644); err != nil {
		t.Fatal(err)
	}
	ref := reg.Ref("wasm/tiny", peers.SubjectTag)
	const bundleType = "application/vnd.dev.sigstore.bundle.v0.3+json"
	if code, _, stderr := wasmgate(t, "attach", ref, bundle+":"+bundleType, "--artifact-type", bundleType,
		"--annotation", "dev.sigstore.bundle.content=dsse-envelope",
		"--annotation", "dev.sigstore.bundle.predicateType=https://slsa.dev/provenance/v1"); code != exitOK {
		t.Fatalf("attach: %s", stderr)
	}
	verify := func(args ...string) (int, string) {
		code, stdout, stderr := wasmgate(t, append([]string{"verify", ref, "--attestation-type", "slsaprovenance1", "--trusted-root", trustedRoot}, args...)...)
		return code, stdout + stderr
	}
	if code, out := verify("--github-repo", "acme/wasm"); code != exitOK || !strings.Contains(out, "VERIFIED") {
		t.Fatalf("--github-repo acme/wasm: exit %d\n%s", code, out)
	}
	if code, out := verify("--github-owner", "acme", "--signer-workflow", "acme/wasm/.github/workflows/release.yml"); code != exitOK {
		t.Fatalf("--github-owner --signer-workflow: exit %d\n%s", code, out)
	}
	if code, out := verify("--github-repo", "acme/other"); code != exitDenied || !strings.Contains(out, "identity does not match") {
		t.Errorf("another repository: exit %d\n%s", code, out)
	}
}
