package sign_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/wasmgate/wasmgate/evidence/cosign"
	"github.com/wasmgate/wasmgate/internal/testrig/fakesigstore"
	"github.com/wasmgate/wasmgate/internal/testrig/peers"
	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
	"github.com/wasmgate/wasmgate/remote"
	"github.com/wasmgate/wasmgate/sign"
)

// Keyless signing needs Fulcio and a timestamp authority, and neither the
// public-good instances nor a local Fulcio can run here: these tests use
// internal/testrig/fakesigstore, in-process servers that speak Fulcio's v2 HTTP
// API and RFC 3161 and hand out real certificates and timestamps.
const testEmail = "release@acme.example"

func keylessSign(t *testing.T, fs *fakesigstore.Sigstore, subject digest.Digest, k sign.Keyless) (*cosign.Result, []byte) {
	t.Helper()
	st, err := sign.Statement(subject)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := sign.KeylessBundle(testkit.Context(t), st, k)
	if err != nil {
		t.Fatal(err)
	}
	b, err := cosign.ParseBundle(raw)
	if err != nil {
		t.Fatal(err)
	}
	return cosign.VerifyBundle(b, subject, cosign.Authority{
		Identities: []cosign.Identity{{Issuer: fs.Issuer, SAN: testEmail}},
		Roots:      []cosign.TrustedRoot{{Material: fs.TrustedRoot(t), IgnoreTlogUnsafe: true, TimestampThreshold: 1, IgnoreSCTUnsafe: true}},
	}), raw
}

func TestKeylessBundle(t *testing.T) {
	fs := fakesigstore.New(t, fakesigstore.Options{})
	subject := digest.FromString("a wasm manifest")
	k := sign.Keyless{
		FulcioURL:     fs.FulcioURL,
		IDToken:       fs.IDToken(t, fakesigstore.Claims{Subject: "1234", Email: testEmail}),
		TimestampURLs: []string{fs.TSAURL},
		TrustedRoot:   fs.TrustedRoot(t),
	}
	r, raw := keylessSign(t, fs, subject, k)
	if !r.Verified || r.Identity == nil || r.Identity.SAN != testEmail || r.Identity.Issuer != fs.Issuer || len(r.Timestamps) == 0 {
		t.Fatalf("want verified as %s with a timestamp: %+v (%v)", testEmail, r, r.Err)
	}
	b, err := cosign.ParseBundle(raw)
	if err != nil {
		t.Fatal(err)
	}

	onlyFulcio, err := root.NewTrustedRoot(root.TrustedRootMediaType01,
		[]root.CertificateAuthority{fs.FulcioAuthority()}, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	other := fakesigstore.New(t, fakesigstore.Options{Issuer: fs.Issuer})
	otherFulcio, err := root.NewTrustedRoot(root.TrustedRootMediaType01,
		[]root.CertificateAuthority{other.FulcioAuthority()}, nil,
		[]root.TimestampingAuthority{fs.TimestampAuthority()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		auth cosign.Authority
		want error // nil: any failure
	}{
		{"wrong SAN", cosign.Authority{Identities: []cosign.Identity{{Issuer: fs.Issuer, SAN: "mallory@acme.example"}}, Roots: []cosign.TrustedRoot{{Material: fs.TrustedRoot(t), IgnoreTlogUnsafe: true, TimestampThreshold: 1, IgnoreSCTUnsafe: true}}}, cosign.ErrIdentityMismatch},
		{"wrong issuer", cosign.Authority{Identities: []cosign.Identity{{Issuer: "https://accounts.google.com", SAN: testEmail}}, Roots: []cosign.TrustedRoot{{Material: fs.TrustedRoot(t), IgnoreTlogUnsafe: true, TimestampThreshold: 1, IgnoreSCTUnsafe: true}}}, cosign.ErrIdentityMismatch},
		{"trusted root without the TSA", cosign.Authority{Identities: []cosign.Identity{{Issuer: fs.Issuer, SAN: testEmail}}, Roots: []cosign.TrustedRoot{{Material: onlyFulcio, IgnoreTlogUnsafe: true, TimestampThreshold: 1, IgnoreSCTUnsafe: true}}}, cosign.ErrMissingTimestamp},
		{"trusted root without the TSA, any observer", cosign.Authority{Identities: []cosign.Identity{{Issuer: fs.Issuer, SAN: testEmail}}, Roots: []cosign.TrustedRoot{{Material: onlyFulcio, IgnoreTlogUnsafe: true, IgnoreSCTUnsafe: true}}}, cosign.ErrMissingTimestamp},
		{"another Fulcio, the right TSA", cosign.Authority{Identities: []cosign.Identity{{Issuer: fs.Issuer, SAN: testEmail}}, Roots: []cosign.TrustedRoot{{Material: otherFulcio, IgnoreTlogUnsafe: true, IgnoreSCTUnsafe: true}}}, cosign.ErrCertificateInvalid},
		{"another Fulcio and TSA", cosign.Authority{Identities: []cosign.Identity{{Issuer: fs.Issuer, SAN: testEmail}}, Roots: []cosign.TrustedRoot{{Material: other.TrustedRoot(t), IgnoreTlogUnsafe: true, IgnoreSCTUnsafe: true}}}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := cosign.VerifyBundle(b, subject, tc.auth)
			t.Log(r.Err)
			if r.Verified || (tc.want != nil && !errors.Is(r.Err, tc.want)) {
				t.Fatalf("verified=%v err=%v, want failure %v", r.Verified, r.Err, tc.want)
			}
		})
	}
	t.Run("another subject", func(t *testing.T) {
		r := cosign.VerifyBundle(b, digest.FromString("another manifest"), cosign.Authority{
			Identities: []cosign.Identity{{Issuer: fs.Issuer, SAN: testEmail}},
			Roots:      []cosign.TrustedRoot{{Material: fs.TrustedRoot(t), IgnoreTlogUnsafe: true, IgnoreSCTUnsafe: true}}})
		if r.Verified || !errors.Is(r.Err, cosign.ErrSubjectMismatch) {
			t.Fatalf("verified=%v err=%v", r.Verified, r.Err)
		}
	})
}

// A token without email is certified for its subject, as a URI SAN (the
// shape of CI identities such as GitHub Actions workflows).
func TestKeylessURIIdentity(t *testing.T) {
	fs := fakesigstore.New(t, fakesigstore.Options{Issuer: "https://token.actions.githubusercontent.com"})
	const san = "https://github.com/acme/wasm/.github/workflows/release.yml@refs/tags/v1"
	subject := digest.FromString("a wasm manifest")
	st, _ := sign.Statement(subject)
	raw, err := sign.KeylessBundle(testkit.Context(t), st, sign.Keyless{
		FulcioURL: fs.FulcioURL, IDToken: fs.IDToken(t, fakesigstore.Claims{Subject: san}), TimestampURLs: []string{fs.TSAURL},
	})
	if err != nil {
		t.Fatal(err)
	}
	b, err := cosign.ParseBundle(raw)
	if err != nil {
		t.Fatal(err)
	}
	r := cosign.VerifyBundle(b, subject, cosign.Authority{Identities: []cosign.Identity{{Issuer: fs.Issuer, SAN: san}}, Roots: []cosign.TrustedRoot{{Material: fs.TrustedRoot(t), IgnoreTlogUnsafe: true, IgnoreSCTUnsafe: true}}})
	if !r.Verified || r.Identity.SAN != san {
		t.Fatalf("%+v (%v)", r, r.Err)
	}
}

func TestKeylessBundleRefuses(t *testing.T) {
	fs := fakesigstore.New(t, fakesigstore.Options{})
	good := fs.IDToken(t, fakesigstore.Claims{Subject: "1234", Email: testEmail})
	other := fakesigstore.New(t, fakesigstore.Options{})
	st, _ := sign.Statement(digest.FromString("a wasm manifest"))
	cases := []struct {
		name string
		k    sign.Keyless
		want error
		as   string // the KeylessError Op expected, if any
	}{
		{"no Rekor and no TSA", sign.Keyless{FulcioURL: fs.FulcioURL, IDToken: good}, sign.ErrKeylessNoTime, ""},
		{"no token", sign.Keyless{FulcioURL: fs.FulcioURL, TimestampURLs: []string{fs.TSAURL}}, sign.ErrKeylessIncomplete, ""},
		{"no Fulcio", sign.Keyless{IDToken: good, TimestampURLs: []string{fs.TSAURL}}, sign.ErrKeylessIncomplete, ""},
		{"not a JWT", sign.Keyless{FulcioURL: fs.FulcioURL, IDToken: "not-a-token", TimestampURLs: []string{fs.TSAURL}}, nil, "certificate"},
		{"token signed by an untrusted key", sign.Keyless{FulcioURL: fs.FulcioURL, IDToken: fs.ForgedIDToken(t, fakesigstore.Claims{Subject: "1234", Email: testEmail}), TimestampURLs: []string{fs.TSAURL}}, nil, "certificate"},
		{"token of another issuer", sign.Keyless{FulcioURL: fs.FulcioURL, IDToken: fs.IDToken(t, fakesigstore.Claims{Issuer: "https://accounts.google.com", Email: testEmail}), TimestampURLs: []string{fs.TSAURL}}, nil, "certificate"},
		{"token for another audience", sign.Keyless{FulcioURL: fs.FulcioURL, IDToken: fs.IDToken(t, fakesigstore.Claims{Audience: "elsewhere", Email: testEmail}), TimestampURLs: []string{fs.TSAURL}}, nil, "certificate"},
		{"self-check against another trusted root", sign.Keyless{FulcioURL: fs.FulcioURL, IDToken: good, TimestampURLs: []string{fs.TSAURL}, TrustedRoot: other.TrustedRoot(t)}, nil, "sign"},
		{"relative Fulcio URL", sign.Keyless{FulcioURL: "fulcio.example", IDToken: good, TimestampURLs: []string{fs.TSAURL}}, nil, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			raw, err := sign.KeylessBundle(testkit.Context(t), st, tc.k)
			if err == nil {
				t.Fatalf("signed: %s", raw)
			}
			t.Log(err)
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			var ke *sign.KeylessError
			if tc.as != "" && (!errors.As(err, &ke) || ke.Op != tc.as) {
				t.Fatalf("err = %v, want a KeylessError %q", err, tc.as)
			}
		})
	}
}

// Keyless signing through Cosign: a bundle referrer in a registry that
// wasmgate discovers and verifies, and the legacy format refused.
func TestCosignKeyless(t *testing.T) {
	fs := fakesigstore.New(t, fakesigstore.Options{})
	reg := testregistry.GGCR(t)
	subject := peers.PushSubject(t, reg, "wasm/tiny")
	s := testkit.Open(t, reg, reg.Ref("wasm/tiny", subject.Digest.String()), remote.Options{})
	k := sign.Keyless{
		FulcioURL:     fs.FulcioURL,
		IDToken:       fs.IDToken(t, fakesigstore.Claims{Subject: "1234", Email: testEmail}),
		TimestampURLs: []string{fs.TSAURL},
		TrustedRoot:   fs.TrustedRoot(t),
	}
	if _, err := sign.Cosign(testkit.Context(t), s.Target, subject, nil, sign.Options{Format: sign.FormatLegacy, Keyless: &k}); !errors.Is(err, sign.ErrKeylessLegacy) || !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("legacy keyless: %v", err)
	}
	if _, err := sign.Cosign(testkit.Context(t), s.Target, subject, nil, sign.Options{Keyless: &k}); err != nil {
		t.Fatal(err)
	}
	auth := cosign.Authority{Identities: []cosign.Identity{{Issuer: fs.Issuer, SAN: testEmail}}, Roots: []cosign.TrustedRoot{{Material: fs.TrustedRoot(t), IgnoreTlogUnsafe: true, TimestampThreshold: 1, IgnoreSCTUnsafe: true}}}
	rep, err := cosign.Check(testkit.Context(t), s.Target, subject, s.Discover, auth, cosign.Options{Format: sign.FormatBundle})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Verified || len(rep.Results) != 1 || rep.Results[0].Identity == nil || rep.Results[0].Identity.SAN != testEmail {
		t.Fatalf("wasmgate verify: %+v", rep)
	}

	t.Run("cosign verify", func(t *testing.T) {
		if err := cosignVerifyKeyless(t, fs, testEmail, s.Ref.String()); err != nil {
			t.Fatalf("cosign verify refused a keyless signature wasmgate made: %v", err)
		}
		if err := cosignVerifyKeyless(t, fs, "mallory@acme.example", s.Ref.String()); err == nil {
			t.Fatal("cosign verify accepted the signature for another identity: the check above proves nothing")
		}
	})
}

// cosignVerifyKeyless runs `cosign verify` on ref with the fake's trusted
// root, in a private HOME with every proxy pointing nowhere (the style of
// internal/testrig/peers, whose helpers only verify with keys).
func cosignVerifyKeyless(t *testing.T, fs *fakesigstore.Sigstore, identity, ref string) error {
	bin := peers.Binary(t, "cosign")
	dir := t.TempDir()
	tr := filepath.Join(dir, "trusted_root.json")
	if err := os.WriteFile(tr, fs.TrustedRootJSON(t), 0o644); err != nil {
		t.Fatal(err)
	}
	home := filepath.Join(dir, "home")
	if err := os.MkdirAll(filepath.Join(home, ".docker"), 0o700); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(testkit.Context(t), bin, "verify",
		"--certificate-identity", identity, "--certificate-oidc-issuer", fs.Issuer,
		"--trusted-root", tr, "--insecure-ignore-sct", "--insecure-ignore-tlog", "--use-signed-timestamps",
		"--allow-http-registry", "--allow-insecure-registry", ref)
	cmd.Dir = dir
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + home, "DOCKER_CONFIG=" + filepath.Join(home, ".docker"),
		"XDG_CONFIG_HOME=" + filepath.Join(dir, "config"), "XDG_CACHE_HOME=" + filepath.Join(dir, "cache"),
		"TMPDIR=" + dir, "TUF_ROOT=" + filepath.Join(dir, "tuf"),
		"HTTP_PROXY=http://127.0.0.1:9", "HTTPS_PROXY=http://127.0.0.1:9", "NO_PROXY=",
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %w\n%s", strings.Join(cmd.Args, " "), err, out)
	}
	return nil
}

// sigstore-go v1.3.0 makes its Fulcio and TSA requests without a context;
// KeylessBundle's transport ties them to ctx.
func TestKeylessBundleCanceled(t *testing.T) {
	fs := fakesigstore.New(t, fakesigstore.Options{})
	st, _ := sign.Statement(digest.FromString("a wasm manifest"))
	ctx, cancel := context.WithCancel(testkit.Context(t))
	cancel()
	_, err := sign.KeylessBundle(ctx, st, sign.Keyless{
		FulcioURL: fs.FulcioURL, IDToken: fs.IDToken(t, fakesigstore.Claims{Email: testEmail}), TimestampURLs: []string{fs.TSAURL},
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}
