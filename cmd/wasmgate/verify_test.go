package main

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/wasmgate/wasmgate/evidence/cosign"
	"github.com/wasmgate/wasmgate/internal/testrig/fakesigstore"
	"github.com/wasmgate/wasmgate/internal/testrig/peers"
	"github.com/wasmgate/wasmgate/internal/testrig/testpki"
	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
	"github.com/wasmgate/wasmgate/verify"
)

// The verify shortcut with cosign's flags, on signatures cosign wrote:
// exit 0 verified, 1 not verified, 2 configuration, 3 undecided.
func TestVerifyCLI(t *testing.T) {
	peers.Binary(t, "cosign")
	reg := testregistry.Distribution(t)
	cliEnv(t, reg)
	_, key, pub := peers.CosignKeys(t)
	_, _, otherPub := peers.CosignKeys(t)
	subject := peers.PushSubject(t, reg, "wasm/tiny")
	ref := reg.Ref("wasm/tiny", subject.Digest.String())
	peers.CosignSign(t, key, ref, peers.CosignLegacy)
	peers.CosignSign(t, key, ref, peers.CosignBundle)
	tagRef := reg.Ref("wasm/tiny", "v1")

	code, stdout, stderr := wasmgate(t, "verify", tagRef, "--key", pub, "--insecure-ignore-tlog", "--output", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, stdout, stderr)
	}
	res := verifyResult(t, stdout)
	sigs := res.Signatures.Authorities[0].Cosign
	if res.Verdict != verify.VerdictVerified || len(sigs) != 2 || len(res.Insecure) != 1 || res.Pinned != ref {
		t.Fatalf("json: %s", stdout)
	}
	for _, s := range sigs {
		if !s.Verified || s.KeyID == "" {
			t.Errorf("signature: %+v", s)
		}
	}

	code, stdout, _ = wasmgate(t, "verify", tagRef, "--key", otherPub, "--insecure-ignore-tlog")
	if code != exitDenied || !strings.Contains(stdout, "0 of 1 required authorities signed") || !strings.Contains(stdout, "signature does not verify") {
		t.Errorf("other key: exit %d\n%s", code, stdout)
	}
	// No --trusted-root: the log's keys come from the public-good root, as
	// cosign's do (unreachable here: the snapshot embedded in wasmgate), and a
	// signature that was never logged is denied.
	code, stdout, stderr = wasmgate(t, "verify", tagRef, "--key", pub)
	if code != exitDenied || !strings.Contains(stdout, "missing transparency log entry") || !strings.Contains(stderr, "embedded") {
		t.Errorf("no trusted root and a tlog required: exit %d: %s%s", code, stdout, stderr)
	}
	if code, _, _ := wasmgate(t, "verify", tagRef); code != exitUsage {
		t.Errorf("no authority: exit %d", code)
	}
	// Cosign and Notation checks together share one discovery: the
	// fallback index is read once (no Notation signature here: exit 1).
	root := testpki.NewRoot(t, "wasmgate test root (TEST ONLY)", testpki.P256)
	trustDir := t.TempDir()
	policy := testpki.WriteNotationTrust(t, trustDir, "acme", []*x509.Certificate{root.Root()}, "")
	reg.Faults.ResetLog()
	if code, stdout, _ := wasmgate(t, "verify", tagRef, "--key", pub, "--insecure-ignore-tlog", "--notation-trust-policy", policy, "--notation-trust-store", trustDir); code != exitDenied || !strings.Contains(stdout, "1 of 2 required authorities signed; missing notation (no signature found)") {
		t.Errorf("cosign and Notation: exit %d\n%s", code, stdout)
	}
	if n := reg.Faults.Count("HEAD", "/manifests/sha256-[0-9a-f]{64}$"); n != 1 {
		t.Errorf("the fallback index was read %d times, want once", n)
	}
	reg.Faults.Inject("", "/referrers/|/manifests/sha256-", testregistry.Status(500, 0))
	if code, _, stderr := wasmgate(t, "verify", tagRef, "--key", pub, "--insecure-ignore-tlog", "--timeout", "2s"); code != exitUndecided {
		t.Errorf("registry failing: exit %d, want %d: %s", code, exitUndecided, stderr)
	}
}

// verify-blob with the flags of the sigstore conformance protocol, on a
// bundle cosign made for a local file.
func TestVerifyBlobCLI(t *testing.T) {
	peers.Binary(t, "cosign")
	cliEnv(t, nil)
	_, key, pub := peers.CosignKeys(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "tiny.wasm")
	os.WriteFile(file, []byte("\x00asm\x01\x00\x00\x00"), 0o644)
	bundlePath := peers.CosignSignBlob(t, key, file)

	if code, stdout, stderr := wasmgate(t, "verify-blob", file, "--bundle", bundlePath, "--key", pub, "--insecure-ignore-tlog"); code != 0 {
		t.Fatalf("exit %d: %s %s", code, stdout, stderr)
	}
	d := "sha256:" + sha256Hex(t, file)
	if code, _, stderr := wasmgate(t, "verify-blob", d, "--bundle", bundlePath, "--key", pub, "--insecure-ignore-tlog"); code != 0 {
		t.Fatalf("by digest: exit %d: %s", code, stderr)
	}
	os.WriteFile(file, []byte("\x00asm\x01\x00\x00\x00tampered"), 0o644)
	if code, stdout, _ := wasmgate(t, "verify-blob", file, "--bundle", bundlePath, "--key", pub, "--insecure-ignore-tlog"); code != exitDenied {
		t.Errorf("tampered file: exit %d\n%s", code, stdout)
	}
	raw, _ := os.ReadFile(bundlePath)
	broken := filepath.Join(dir, "broken.json")
	os.WriteFile(broken, raw[:len(raw)/2], 0o644)
	if code, stdout, _ := wasmgate(t, "verify-blob", d, "--bundle", broken, "--key", pub, "--insecure-ignore-tlog"); code != exitDenied || !strings.Contains(stdout, "malformed") {
		t.Errorf("malformed bundle: exit %d\n%s", code, stdout)
	}
}

func sha256Hex(t *testing.T, path string) string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return digest.FromBytes(raw).Encoded()
}

// generate-key-pair, sign in both formats, then cosign and wasmgate both
// verify.
func TestSignCLI(t *testing.T) {
	peers.Binary(t, "cosign")
	reg := testregistry.GGCR(t)
	cliEnv(t, reg)
	t.Setenv("COSIGN_PASSWORD", "s3cret")
	dir := t.TempDir()
	prefix := filepath.Join(dir, "release")
	if code, _, stderr := wasmgate(t, "generate-key-pair", "--output-key-prefix", prefix); code != 0 {
		t.Fatal(stderr)
	}
	if code, _, _ := wasmgate(t, "generate-key-pair", "--output-key-prefix", prefix); code == 0 {
		t.Error("generate-key-pair overwrote an existing key")
	}
	peers.PushSubject(t, reg, "wasm/tiny")
	tag := reg.Ref("wasm/tiny", "v1")
	for _, format := range []string{"bundle", "legacy"} {
		if code, _, stderr := wasmgate(t, "sign", tag, "--key", prefix+".key", "--format", format); code != 0 {
			t.Fatalf("sign %s: %s", format, stderr)
		}
	}
	code, stdout, _ := wasmgate(t, "verify", tag, "--key", prefix+".pub", "--insecure-ignore-tlog")
	if code != 0 || strings.Count(stdout, "✓ bundle") != 1 || strings.Count(stdout, "✓ legacy") != 1 || !strings.Contains(stdout, "\nVERIFIED\n") {
		t.Fatalf("verify: exit %d\n%s", code, stdout)
	}
	_, pinned, _ := strings.Cut(strings.SplitN(stdout, "\n", 2)[0], " → ")
	for _, format := range []string{peers.CosignBundle, peers.CosignLegacy} {
		if err := peers.CosignVerify(t, prefix+".pub", reg.Ref("wasm/tiny", pinned), format); err != nil {
			t.Errorf("cosign verify %s: %v", format, err)
		}
	}
	t.Setenv("COSIGN_PASSWORD", "wrong")
	if code, _, stderr := wasmgate(t, "sign", tag, "--key", prefix+".key"); code != exitUsage || !strings.Contains(stderr, "password") {
		t.Errorf("wrong password: exit %d: %s", code, stderr)
	}
}

// Keyless: sign with a Fulcio certificate and a TSA timestamp (in-test
// servers built from real certificates: no Fulcio can run here), then
// verify by identity with the trusted root.
func TestKeylessSignVerifyCLI(t *testing.T) {
	reg := testregistry.GGCR(t)
	cliEnv(t, reg)
	fake := fakesigstore.New(t, fakesigstore.Options{})
	const san = "https://github.com/acme/wasm/.github/workflows/release.yml@refs/tags/v1"
	token := fake.IDToken(t, fakesigstore.Claims{Subject: san})
	trPath := filepath.Join(t.TempDir(), "trusted_root.json")
	if err := os.WriteFile(trPath, fake.TrustedRootJSON(t), 0o644); err != nil {
		t.Fatal(err)
	}
	peers.PushSubject(t, reg, "wasm/tiny")
	tag := reg.Ref("wasm/tiny", "v1")
	t.Setenv("SIGSTORE_ID_TOKEN", token)
	if code, _, stderr := wasmgate(t, "sign", tag, "--fulcio-url", fake.FulcioURL, "--timestamp-url", fake.TSAURL, "--trusted-root", trPath); code != 0 {
		t.Fatalf("keyless sign: %s", stderr)
	}
	verify := func(identity string) (int, string) {
		// fakesigstore is a Fulcio and a TSA with no Rekor and no CT log,
		// like GitHub's instance: the flags say so, and the result too.
		code, stdout, _ := wasmgate(t, "verify", tag, "--certificate-identity", identity, "--certificate-oidc-issuer", fake.Issuer,
			"--trusted-root", trPath, "--tlog-threshold", "0", "--timestamp-threshold", "1", "--insecure-ignore-sct")
		return code, stdout
	}
	if code, stdout := verify(san); code != 0 || !strings.Contains(stdout, "identity "+san) || !strings.Contains(stdout, "TimestampAuthority") ||
		!strings.Contains(stdout, "insecure: --insecure-ignore-sct") || !strings.Contains(stdout, "insecure: --insecure-ignore-tlog") {
		t.Fatalf("verify: exit %d\n%s", code, stdout)
	}
	if code, stdout := verify("https://github.com/evil/"); code != exitDenied || !strings.Contains(stdout, "identity does not match") {
		t.Errorf("wrong identity: exit %d\n%s", code, stdout)
	}
	if code, _, stderr := wasmgate(t, "sign", tag, "--fulcio-url", fake.FulcioURL, "--format", "legacy", "--timestamp-url", fake.TSAURL); code == 0 {
		t.Errorf("keyless legacy signing succeeded: %s", stderr)
	}
}

// attest from the CLI; cosign verify-attestation accepts it.
func TestAttestCLI(t *testing.T) {
	peers.Binary(t, "cosign")
	reg := testregistry.Distribution(t)
	cliEnv(t, reg)
	t.Setenv("COSIGN_PASSWORD", "")
	_, key, pub := peers.CosignKeys(t)
	subject := peers.PushSubject(t, reg, "wasm/tiny")
	predicate := filepath.Join(t.TempDir(), "provenance.json")
	os.WriteFile(predicate, []byte(`{"buildDefinition":{"buildType":"https://example.test/build@v1","externalParameters":{"ref":"refs/heads/main"}},"runDetails":{"builder":{"id":"https://github.com/acme/builder@v1"}}}`), 0o644)
	for _, format := range []string{"bundle", "legacy"} {
		if code, _, stderr := wasmgate(t, "attest", reg.Ref("wasm/tiny", "v1"), "--key", key, "--type", "slsaprovenance1", "--predicate", predicate, "--format", format); code != 0 {
			t.Fatalf("attest %s: %s", format, stderr)
		}
		if err := peers.CosignVerifyAttestation(t, pub, reg.Ref("wasm/tiny", subject.Digest.String()), "slsaprovenance1", format); err != nil {
			t.Errorf("cosign verify-attestation %s: %v", format, err)
		}
	}
	os.WriteFile(predicate, []byte(`[1]`), 0o644)
	if code, _, _ := wasmgate(t, "attest", reg.Ref("wasm/tiny", "v1"), "--key", key, "--predicate", predicate); code != exitUsage {
		t.Errorf("a predicate that is not an object: exit %d", code)
	}
}

// verify --attestation-type with CEL conditions, on attestations cosign
// wrote; verify-attestation is the same command under cosign's name.
func TestVerifyAttestationCLI(t *testing.T) {
	peers.Binary(t, "cosign")
	reg := testregistry.GGCR(t)
	cliEnv(t, reg)
	_, key, pub := peers.CosignKeys(t)
	subject := peers.PushSubject(t, reg, "wasm/tiny")
	predicate := filepath.Join(t.TempDir(), "provenance.json")
	os.WriteFile(predicate, []byte(`{"buildDefinition":{"buildType":"https://example.test/build","externalParameters":{"workflow":{"repository":"https://github.com/acme/wasm"}}},"runDetails":{"builder":{"id":"https://github.com/acme/builder@v1"}}}`), 0o644)
	peers.CosignAttest(t, key, reg.Ref("wasm/tiny", subject.Digest.String()), predicate, "slsaprovenance1", peers.CosignBundle)
	tag := reg.Ref("wasm/tiny", "v1")
	base := []string{tag, "--key", pub, "--insecure-ignore-tlog", "--attestation-type", "slsaprovenance1"}
	if code, stdout, stderr := wasmgate(t, append([]string{"verify"}, append(base, "--condition", `predicate.runDetails.builder.id == "https://github.com/acme/builder@v1"`)...)...); code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if code, stdout, _ := wasmgate(t, append([]string{"verify-attestation"}, append(base, "--condition", `predicate.buildDefinition.externalParameters.workflow.repository.startsWith("https://github.com/evil/")`)...)...); code != exitDenied || !strings.Contains(stdout, "is false") {
		t.Errorf("false condition: exit %d\n%s", code, stdout)
	}
	if code, _, stderr := wasmgate(t, append([]string{"verify"}, append(base, "--condition", `predicate.runDetails.builder.id ==`)...)...); code != exitUsage || !strings.Contains(stderr, "1:") {
		t.Errorf("condition that does not compile: exit %d: %s", code, stderr)
	}
	if code, _, _ := wasmgate(t, "verify", tag, "--key", pub, "--insecure-ignore-tlog", "--attestation-type", "https://spdx.dev/Document"); code != exitDenied {
		t.Errorf("no attestation of that type: exit %d", code)
	}
}

// --emit-vsa after a passed verification: a signed VSA that wasmgate
// itself verifies (it is an attestation over the artifact digest); none
// after a failed one.
func TestEmitVSA(t *testing.T) {
	peers.Binary(t, "cosign")
	reg := testregistry.GGCR(t)
	cliEnv(t, reg)
	t.Setenv("COSIGN_PASSWORD", "")
	_, key, pub := peers.CosignKeys(t)
	subject := peers.PushSubject(t, reg, "wasm/tiny")
	peers.CosignSign(t, key, reg.Ref("wasm/tiny", subject.Digest.String()), peers.CosignBundle)
	dir := t.TempDir()
	vsa := filepath.Join(dir, "vsa.sigstore.json")
	if code, stdout, stderr := wasmgate(t, "verify", reg.Ref("wasm/tiny", "v1"), "--key", pub, "--insecure-ignore-tlog", "--emit-vsa", vsa, "--vsa-key", key); code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, stdout, stderr := wasmgate(t, "verify-blob", subject.Digest.String(), "--bundle", vsa, "--key", pub, "--insecure-ignore-tlog")
	if code != 0 {
		t.Fatalf("the VSA does not verify: exit %d\n%s\n%s", code, stdout, stderr)
	}
	raw, _ := os.ReadFile(vsa)
	b, err := cosign.ParseBundle(raw)
	if err != nil {
		t.Fatal(err)
	}
	env, _ := b.Envelope()
	st, err := env.Statement()
	if err != nil {
		t.Fatal(err)
	}
	pred := st.GetPredicate().AsMap()
	if st.GetPredicateType() != "https://slsa.dev/verification_summary/v1" || pred["verificationResult"] != "PASSED" ||
		len(pred["inputAttestations"].([]any)) != 1 || !strings.HasSuffix(pred["resourceUri"].(string), subject.Digest.String()) {
		t.Errorf("VSA: %s %v", st.GetPredicateType(), pred)
	}

	_, _, otherPub := peers.CosignKeys(t)
	failed := filepath.Join(dir, "failed.json")
	if code, _, _ := wasmgate(t, "verify", reg.Ref("wasm/tiny", "v1"), "--key", otherPub, "--insecure-ignore-tlog", "--emit-vsa", failed); code != exitDenied {
		t.Fatalf("exit %d", code)
	}
	if _, err := os.Stat(failed); !os.IsNotExist(err) {
		t.Errorf("a VSA was written for a failed verification: %v", err)
	}
}

// verifyResult decodes the JSON report of one reference.
func verifyResult(t testing.TB, stdout string) *verify.Result {
	t.Helper()
	var rep verify.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil || len(rep.Results) != 1 {
		t.Fatalf("report: %v\n%s", err, stdout)
	}
	if rep.SchemaVersion != verify.SchemaVersion {
		t.Fatalf("schemaVersion %q", rep.SchemaVersion)
	}
	return rep.Results[0]
}

// A spec the library refuses is a usage error that names the flag, and
// still carries the library's SpecError and sentinel, also when wrapped.
func TestSpecErrorNamesTheFlag(t *testing.T) {
	env := verify.SpecEnv{ReadFile: func(string, string) ([]byte, error) { return []byte("not a key"), nil }}
	_, built := verify.CosignSpec{Keys: []string{"cosign.pub"}}.Build(context.Background(), env)
	if built == nil {
		t.Fatal("a key file that is not PEM was accepted")
	}
	for _, in := range []error{built, fmt.Errorf("policy entry 2: %w", built)} {
		err := specError(in)
		var se *verify.SpecError
		if !errors.Is(err, errUsage) || !errors.Is(err, verify.ErrTrustMaterial) || !errors.As(err, &se) {
			t.Errorf("specError(%v) = %v: lost its usage class or the library's error", in, err)
		}
		if want := "usage: --key: cosign.pub is not a PEM public key"; !strings.HasPrefix(err.Error(), want) {
			t.Errorf("specError(%v) says %q, want it to begin %q", in, err, want)
		}
	}
}
