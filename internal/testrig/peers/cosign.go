package peers

import (
	"path/filepath"
	"testing"
)

// Cosign formats, the format argument of the Cosign helpers.
const (
	// CosignBundle is cosign v3's default: a sigstore bundle pushed as an
	// OCI 1.1 referrer (artifactType application/vnd.dev.sigstore.bundle.v0.3+json).
	CosignBundle = "bundle"
	// CosignLegacy is cosign v2's format: a manifest tagged
	// sha256-<hex>.sig (signatures) or sha256-<hex>.att (attestations).
	CosignLegacy = "legacy"
)

// cosignConfig is the offline Sigstore configuration bundle signing needs:
// a signing config with no Rekor and no TSA, and an empty trusted root.
// Without them cosign v3 fetches both from the public TUF mirror.
type cosignConfig struct {
	signingConfig string
	trustedRoot   string
}

// Registry flags of every cosign command. The test registries speak plain
// HTTP on 127.0.0.1; --allow-insecure-registry is kept beside
// --allow-http-registry so a TLS-fronted test registry works too.
var cosignRegistryFlags = []string{"--allow-http-registry", "--allow-insecure-registry"}

// CosignKeys makes a cosign key pair with an empty password in a new
// temporary directory and returns the directory and the paths of
// cosign.key and cosign.pub.
func CosignKeys(t testing.TB) (dir, keyPath, pubPath string) {
	t.Helper()
	bin := Binary(t, "cosign")
	dir = t.TempDir()
	sandboxFor(t).mustRun(t, dir, bin, "generate-key-pair")
	return dir, filepath.Join(dir, "cosign.key"), filepath.Join(dir, "cosign.pub")
}

// config returns the test's offline signing config and trusted root,
// making them on first use.
func (s *sandbox) config(t testing.TB, bin string) *cosignConfig {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cosignConfig != nil {
		return s.cosignConfig
	}
	c := &cosignConfig{
		signingConfig: filepath.Join(s.dir, "signing-config.json"),
		trustedRoot:   filepath.Join(s.dir, "trusted-root.json"),
	}
	s.mustRun(t, "", bin, "signing-config", "create", "--out", c.signingConfig)
	s.mustRun(t, "", bin, "trusted-root", "create", "--out", c.trustedRoot)
	s.cosignConfig = c
	return c
}

// cosignSignFlags are the flags that choose the format of `cosign sign`
// and `cosign attest`.
func cosignSignFlags(t testing.TB, s *sandbox, bin, format string) []string {
	t.Helper()
	switch format {
	case CosignBundle:
		c := s.config(t, bin)
		return []string{"--signing-config", c.signingConfig, "--trusted-root", c.trustedRoot}
	case CosignLegacy:
		return []string{"--new-bundle-format=false", "--use-signing-config=false", "--tlog-upload=false"}
	default:
		t.Fatalf("peers: cosign format %q: want %q or %q", format, CosignBundle, CosignLegacy)
		return nil
	}
}

// cosignVerifyFlags are the flags that choose the format `cosign verify`
// and `cosign verify-attestation` check. Key-signed bundles and legacy
// signatures made here have no transparency-log entry.
func cosignVerifyFlags(t testing.TB, s *sandbox, bin, format string) []string {
	t.Helper()
	switch format {
	case CosignBundle:
		c := s.config(t, bin)
		return []string{"--insecure-ignore-tlog", "--trusted-root", c.trustedRoot}
	case CosignLegacy:
		return []string{"--insecure-ignore-tlog", "--new-bundle-format=false"}
	default:
		t.Fatalf("peers: cosign format %q: want %q or %q", format, CosignBundle, CosignLegacy)
		return nil
	}
}

// CosignSign signs refWithDigest (HOST/REPO@sha256:…) with the key at
// keyPath, in format [CosignBundle] or [CosignLegacy], by running
// `cosign sign`.
func CosignSign(t testing.TB, keyPath, refWithDigest, format string) {
	t.Helper()
	bin := Binary(t, "cosign")
	s := sandboxFor(t)
	args := append([]string{"sign", "--key", keyPath}, cosignSignFlags(t, s, bin, format)...)
	args = append(args, cosignRegistryFlags...)
	s.mustRun(t, "", bin, append(args, refWithDigest)...)
}

// CosignAttest attests refWithDigest with the predicate file at
// predicatePath of type predicateType (a URI such as
// https://slsa.dev/provenance/v1, or one of cosign's short names), in
// format [CosignBundle] or [CosignLegacy], by running `cosign attest`.
func CosignAttest(t testing.TB, keyPath, refWithDigest, predicatePath, predicateType, format string) {
	t.Helper()
	bin := Binary(t, "cosign")
	s := sandboxFor(t)
	args := append([]string{"attest", "--key", keyPath, "--predicate", predicatePath, "--type", predicateType},
		cosignSignFlags(t, s, bin, format)...)
	args = append(args, cosignRegistryFlags...)
	s.mustRun(t, "", bin, append(args, refWithDigest)...)
}

// CosignVerify runs `cosign verify` with the public key at pubPath on
// refWithDigest, checking signatures of one format, and returns its error
// (a *CommandError) rather than failing the test.
func CosignVerify(t testing.TB, pubPath, refWithDigest, format string) error {
	t.Helper()
	bin := Binary(t, "cosign")
	s := sandboxFor(t)
	args := append([]string{"verify", "--key", pubPath}, cosignVerifyFlags(t, s, bin, format)...)
	args = append(args, cosignRegistryFlags...)
	_, err := s.run(t.Context(), "", bin, append(args, refWithDigest)...)
	return err
}

// CosignVerifyAttestation runs `cosign verify-attestation` for attestations
// of predicateType, like [CosignVerify].
func CosignVerifyAttestation(t testing.TB, pubPath, refWithDigest, predicateType, format string) error {
	t.Helper()
	bin := Binary(t, "cosign")
	s := sandboxFor(t)
	args := append([]string{"verify-attestation", "--key", pubPath, "--type", predicateType},
		cosignVerifyFlags(t, s, bin, format)...)
	args = append(args, cosignRegistryFlags...)
	_, err := s.run(t.Context(), "", bin, append(args, refWithDigest)...)
	return err
}

// CosignSignBlob signs the file at path with the key at keyPath by running
// `cosign sign-blob` in the v3 bundle format (offline: the empty signing
// config, no log), and returns the path of the bundle it wrote.
func CosignSignBlob(t testing.TB, keyPath, path string) string {
	t.Helper()
	bin := Binary(t, "cosign")
	s := sandboxFor(t)
	out := filepath.Join(t.TempDir(), "blob.sigstore.json")
	args := append([]string{"sign-blob", "--key", keyPath, "--bundle", out}, cosignSignFlags(t, s, bin, CosignBundle)...)
	s.mustRun(t, "", bin, append(args, path)...)
	return out
}
