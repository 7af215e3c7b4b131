package sigstoretest_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"

	"github.com/wasmgate/wasmgate/internal/testrig/peers"
	st "github.com/wasmgate/wasmgate/internal/testrig/sigstoretest"
)

// cosignBinary is the pinned cosign that CI installs (peers.Binary checks
// its version).
func cosignBinary(t *testing.T) string { return peers.Binary(t, "cosign") }

// cosignCase is a bundle and whether `cosign verify-blob` (or
// verify-blob-attestation) accepts it.
type cosignCase struct {
	name   string
	s      *st.Sigstore
	sig    st.Sig
	attest bool
	root   func(r *st.Signed) []st.RootOption
	// flags replace the identity flags (--certificate-identity and
	// --certificate-oidc-issuer with the bundle's exact identity).
	flags func(r *st.Signed, dir string) []string
	// extra flags come after them.
	extra []string
	// want is "" for acceptance, else a part of cosign's refusal.
	want string
}

// cosign v3 verifies bundles offline with a trusted root file: the
// identity flags, and nothing else, for Rekor v1 and for Rekor v2 with a
// TSA timestamp alike (cosign turns --use-signed-timestamps on by itself
// for bundles whose entries are all Rekor v2).
func TestCosignVerifyBlob(t *testing.T) {
	bin := cosignBinary(t)
	if out, err := exec.Command(bin, "version").CombinedOutput(); err == nil {
		for _, l := range strings.Split(string(out), "\n") {
			if strings.HasPrefix(l, "GitVersion:") {
				t.Log("cosign", strings.TrimSpace(strings.TrimPrefix(l, "GitVersion:")))
			}
		}
	}
	s := st.New(t, st.Options{})
	ecdsaV2 := st.New(t, st.Options{RekorV2ECDSA: true})
	github := &st.GitHubWorkflow{Repository: "wasmgate/plugins", Ref: "refs/tags/v1.2.3", Event: "release"}
	keyFlags := func(r *st.Signed, dir string) []string {
		p := filepath.Join(dir, "key.pub")
		if err := os.WriteFile(p, r.PublicKeyPEM(t), 0o600); err != nil {
			t.Fatal(err)
		}
		return []string{"--key", p}
	}
	const (
		sctRefused  = "failed to verify signed certificate timestamp"
		noTimestamp = "threshold not met for verified signed timestamps: 0 < 1"
	)
	for _, c := range []cosignCase{
		{name: "keyless/rekor v1", sig: st.Sig{}},
		{name: "keyless/rekor v2 and TSA", sig: st.Sig{Tlog: st.RekorV2, TSA: true}},
		{name: "keyless/rekor v2 and TSA, --use-signed-timestamps", sig: st.Sig{Tlog: st.RekorV2, TSA: true}, extra: []string{"--use-signed-timestamps"}},
		{name: "keyless/rekor v2 without TSA", sig: st.Sig{Tlog: st.RekorV2}, want: noTimestamp},
		{name: "keyless/rekor v1 without TSA, --use-signed-timestamps", sig: st.Sig{}, extra: []string{"--use-signed-timestamps"}, want: noTimestamp},
		{name: "keyless/rekor v2 (ECDSA log key) and TSA", s: ecdsaV2, sig: st.Sig{Tlog: st.RekorV2, TSA: true}},
		{name: "keyless/otherName SAN", sig: st.Sig{SANType: st.SANOtherName, SAN: "builder!sigstoretest.example"}},
		{name: "keyless/URI SAN", sig: st.Sig{SANType: st.SANURI}},
		{name: "keyless/other identity", sig: st.Sig{},
			flags: func(r *st.Signed, _ string) []string {
				return []string{"--certificate-identity", "someone@sigstoretest.example", "--certificate-oidc-issuer", r.Issuer}
			}, want: "failed to verify certificate identity"},

		{name: "sct/unknown log", sig: st.Sig{SCT: st.SCTUnknownLog}, want: sctRefused},
		{name: "sct/unknown log, --insecure-ignore-sct", sig: st.Sig{SCT: st.SCTUnknownLog}, extra: []string{"--insecure-ignore-sct"}},
		{name: "sct/bad signature", sig: st.Sig{SCT: st.SCTBadSignature}, want: sctRefused},
		{name: "sct/bad signature, --insecure-ignore-sct", sig: st.Sig{SCT: st.SCTBadSignature}, extra: []string{"--insecure-ignore-sct"}},
		{name: "sct/none", sig: st.Sig{SCT: st.SCTNone}, want: sctRefused},
		{name: "sct/none, --insecure-ignore-sct", sig: st.Sig{SCT: st.SCTNone}, extra: []string{"--insecure-ignore-sct"}},

		{name: "witness/two", sig: st.Sig{Tlog: st.RekorV2, TSA: true, Witnesses: 2}},
		{name: "tsa/certificate embedded", sig: st.Sig{Tlog: st.RekorV2, TSA: true, TSACert: true}},
		{name: "tsa/validFor.end is the timestamp's time", sig: st.Sig{Tlog: st.RekorV2, TSA: true},
			root: func(r *st.Signed) []st.RootOption {
				return []st.RootOption{st.ValidFor(st.ServiceTSA, time.Time{}, r.TimestampTime)}
			}},
		{name: "tsa/validFor.end is a second before the timestamp", sig: st.Sig{Tlog: st.RekorV2, TSA: true},
			root: func(r *st.Signed) []st.RootOption {
				return []st.RootOption{st.ValidFor(st.ServiceTSA, time.Time{}, r.TimestampTime.Add(-time.Second))}
			}, want: "timestamp is after the validity period end"},
		{name: "tlog/rekor v2 left out of the trusted root", sig: st.Sig{Tlog: st.RekorV2, TSA: true},
			root: func(*st.Signed) []st.RootOption { return []st.RootOption{st.Without(st.ServiceRekorV2)} },
			want: "not enough verified log entries from transparency log: 0 < 1"},

		{name: "github/workflow flags", sig: st.Sig{GitHub: github},
			extra: []string{"--certificate-github-workflow-repository", "wasmgate/plugins", "--certificate-github-workflow-ref", "refs/tags/v1.2.3", "--certificate-github-workflow-trigger", "release"}},
		{name: "github/other repository", sig: st.Sig{GitHub: github},
			extra: []string{"--certificate-github-workflow-repository", "wasmgate/other"}, want: "failed to verify certificate identity"},

		{name: "key/rekor v1", sig: st.Sig{PublicKey: true}, flags: keyFlags},
		{name: "key/rekor v2 and TSA", sig: st.Sig{PublicKey: true, Tlog: st.RekorV2, TSA: true}, flags: keyFlags},

		{name: "digest/P-521, SHA2_512", sig: st.Sig{Algorithm: protocommon.PublicKeyDetails_PKIX_ECDSA_P521_SHA_512}},
		{name: "bundle/v0.1", sig: st.Sig{BundleVersion: "v0.1"}},

		{name: "dsse/rekor v1", attest: true, sig: st.Sig{}},
		{name: "dsse/rekor v2 and TSA", attest: true, sig: st.Sig{Tlog: st.RekorV2, TSA: true}},
		// sigstore-go cannot load the bundle, so cosign takes it for an
		// old-style cosign bundle, which --trusted-root does not support.
		{name: "dsse/rekor v2 legacy dsse 0.0.2 entry", attest: true, sig: st.Sig{Tlog: st.RekorV2, TSA: true, LegacyDSSEEntry: true},
			want: "--trusted-root only supported with --new-bundle-format"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			runCosign(t, bin, s, c)
		})
	}
}

func runCosign(t *testing.T, bin string, s *st.Sigstore, c cosignCase) {
	t.Helper()
	if c.s != nil {
		s = c.s
	}
	dir := t.TempDir()
	var r *st.Signed
	if c.attest {
		r = s.Attest(t, st.Statement{Subjects: []st.Subject{st.SubjectOf("module.wasm", artifact)}}, c.sig)
	} else {
		r = s.Sign(t, artifact, c.sig)
	}
	var ropts []st.RootOption
	if c.root != nil {
		ropts = c.root(r)
	}
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	bundlePath := write("module.wasm.sigstore.json", r.JSON)
	rootPath := write("trusted_root.json", s.TrustedRootJSON(t, ropts...))
	artifactPath := write("module.wasm", artifact)

	args := []string{"verify-blob"}
	if c.attest {
		args = []string{"verify-blob-attestation", "--type", st.DefaultPredicateType}
	}
	args = append(args, "--bundle", bundlePath, "--trusted-root", rootPath)
	if c.flags != nil {
		args = append(args, c.flags(r, dir)...)
	} else {
		args = append(args, "--certificate-identity", r.SAN, "--certificate-oidc-issuer", r.Issuer)
	}
	args = append(args, c.extra...)
	args = append(args, artifactPath)

	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	// Offline: a fresh home, and every proxy pointing at a closed loopback
	// port, so that any attempt to reach a network fails at once.
	home := filepath.Join(dir, "home")
	cmd.Env = []string{
		"HOME=" + home, "TUF_ROOT=" + filepath.Join(home, ".sigstore", "root"), "PATH=" + os.Getenv("PATH"),
		"HTTPS_PROXY=http://127.0.0.1:9", "HTTP_PROXY=http://127.0.0.1:9", "ALL_PROXY=http://127.0.0.1:9", "NO_PROXY=",
	}
	out, err := cmd.CombinedOutput()
	switch {
	case ctx.Err() != nil:
		t.Fatalf("cosign %s: %v\n%s", strings.Join(args, " "), ctx.Err(), out)
	case c.want == "" && err != nil:
		t.Errorf("cosign refused the bundle: %v\n%s", err, out)
	case c.want == "" && !strings.Contains(string(out), "Verified OK"):
		t.Errorf("cosign said: %s", out)
	case c.want != "" && err == nil:
		t.Errorf("cosign accepted the bundle, want a refusal containing %q:\n%s", c.want, out)
	case c.want != "" && !strings.Contains(string(out), c.want):
		t.Errorf("cosign refused the bundle with:\n%s\nwant %q", out, c.want)
	}
	if t.Failed() {
		t.Logf("cosign %s\nbundle: %s", strings.Join(args, " "), r.JSON)
	}
}
