package cosignkey

// Interoperability with the cosign CLI (v3.1.3): keys cosign writes load
// here, and keys written here are used by cosign to sign and verify. The
// CLI is found by peers.Binary, which skips the test with the install
// command when cosign is missing, or fails it when CI=true.

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/secure-systems-lab/go-securesystemslib/encrypted"
	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/wasmgate/wasmgate/internal/testrig/peers"
)

// cosignCLI runs cosign with a private HOME, DOCKER_CONFIG and TUF root,
// and with HTTP(S)_PROXY on a closed local port so that nothing reaches
// Rekor, Fulcio or the TUF mirror: every command used here is offline.
type cosignCLI struct {
	bin string
	dir string // the working directory; files are named relative to it
}

func newCosign(t *testing.T) *cosignCLI {
	t.Helper()
	c := &cosignCLI{bin: peers.Binary(t, "cosign"), dir: t.TempDir()}
	for _, d := range []string{"home/.docker", "tuf", "tmp"} {
		if err := os.MkdirAll(filepath.Join(c.dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// run runs cosign with COSIGN_PASSWORD=password and returns its stdout.
func (c *cosignCLI) run(t *testing.T, password string, args ...string) ([]byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.bin, args...)
	cmd.Dir = c.dir
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + filepath.Join(c.dir, "home"),
		"DOCKER_CONFIG=" + filepath.Join(c.dir, "home/.docker"),
		"TUF_ROOT=" + filepath.Join(c.dir, "tuf"),
		"TMPDIR=" + filepath.Join(c.dir, "tmp"),
		"COSIGN_PASSWORD=" + password,
		"COSIGN_YES=true",
		"HTTP_PROXY=http://127.0.0.1:9", "HTTPS_PROXY=http://127.0.0.1:9",
		"http_proxy=http://127.0.0.1:9", "https_proxy=http://127.0.0.1:9",
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), fmt.Errorf("cosign %q: %w\nstderr:\n%s", args, err, stderr.Bytes())
	}
	return stdout.Bytes(), nil
}

func (c *cosignCLI) mustRun(t *testing.T, password string, args ...string) []byte {
	t.Helper()
	out, err := c.run(t, password, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (c *cosignCLI) read(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(c.dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (c *cosignCLI) write(t *testing.T, name string, data []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(c.dir, name), data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// verifyBlob signs blob with s and fails the test unless `cosign
// verify-blob --key pubFile` accepts the signature.
func (c *cosignCLI) verifyBlob(t *testing.T, password string, s crypto.Signer, pubFile string, blob []byte) {
	t.Helper()
	c.write(t, "blob", blob)
	// `cosign verify-blob --key` hashes with SHA-256 whatever the key, even
	// P-384 (while `cosign sign-blob` signs P-384 keys over SHA-384, so
	// v3.1.3 fails to verify its own P-384 signatures); sign what it checks.
	digest := sha256.Sum256(blob)
	sig, err := s.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	c.write(t, "blob.sig", []byte(base64.StdEncoding.EncodeToString(sig)))
	c.mustRun(t, password, "verify-blob", "--key", pubFile, "--signature", "blob.sig", "--insecure-ignore-tlog", "blob")
}

// passwords are the two cases cosign users have: a real password, and the
// empty one CI jobs often use.
var passwords = []string{"hunter2", ""}

func TestCosignGeneratedKeysLoad(t *testing.T) {
	t.Parallel()
	for _, pw := range passwords {
		t.Run(fmt.Sprintf("password=%q", pw), func(t *testing.T) {
			t.Parallel()
			c := newCosign(t)
			c.mustRun(t, pw, "generate-key-pair")

			calls := 0
			s, err := LoadPrivateKey(c.read(t, "cosign.key"), static(pw, &calls))
			if err != nil {
				t.Fatal(err)
			}
			if calls != 1 {
				t.Errorf("password asked %d times, want 1", calls)
			}
			pub, err := LoadPublicKey(c.read(t, "cosign.pub"))
			if err != nil {
				t.Fatal(err)
			}
			if k, ok := s.(*ecdsa.PrivateKey); !ok || !k.PublicKey.Equal(pub) {
				t.Fatalf("cosign.key (%T) does not match cosign.pub", s)
			}
			signAndVerify(t, s, pub, []byte("wasm module bytes"))

			// cosign verifies what our signer signs with its key.
			c.verifyBlob(t, pw, s, "cosign.pub", []byte("a blob signed by wasmgate\n"))

			calls = 0
			if _, err := LoadPrivateKey(c.read(t, "cosign.key"), static(pw+"x", &calls)); !errors.Is(err, ErrWrongPassword) {
				t.Errorf("wrong password: err = %v, want ErrWrongPassword", err)
			}
		})
	}
}

func TestCosignAcceptsGeneratedKeys(t *testing.T) {
	t.Parallel()
	for _, pw := range passwords {
		t.Run(fmt.Sprintf("password=%q", pw), func(t *testing.T) {
			t.Parallel()
			c := newCosign(t)
			privPEM, pubPEM, err := GenerateKeyPair([]byte(pw))
			if err != nil {
				t.Fatal(err)
			}
			c.write(t, "ours.key", privPEM)
			c.write(t, "ours.pub", pubPEM)
			blob := []byte("a blob signed by cosign\n")
			c.write(t, "blob", blob)

			if out := c.mustRun(t, pw, "public-key", "--key", "ours.key"); !bytes.Equal(out, pubPEM) {
				t.Errorf("cosign public-key printed\n%s\nwant ours.pub\n%s", out, pubPEM)
			}
			if _, err := c.run(t, pw+"x", "public-key", "--key", "ours.key"); err == nil {
				t.Error("cosign opened ours.key with a wrong password")
			}

			t.Run("legacy signature", func(t *testing.T) {
				c.mustRun(t, pw, "sign-blob", "--key", "ours.key",
					"--new-bundle-format=false", "--use-signing-config=false", "--tlog-upload=false",
					"--output-signature", "blob.sig", "blob")
				c.mustRun(t, pw, "verify-blob", "--key", "ours.pub", "--signature", "blob.sig", "--insecure-ignore-tlog", "blob")

				// And the signature cosign made verifies with the key loaded here.
				sig, err := base64.StdEncoding.DecodeString(string(bytes.TrimSpace(c.read(t, "blob.sig"))))
				if err != nil {
					t.Fatal(err)
				}
				pub, err := LoadPublicKey(pubPEM)
				if err != nil {
					t.Fatal(err)
				}
				v, err := signature.LoadVerifier(pub, crypto.SHA256)
				if err != nil {
					t.Fatal(err)
				}
				if err := v.VerifySignature(bytes.NewReader(sig), bytes.NewReader(blob)); err != nil {
					t.Errorf("cosign's signature does not verify with our public key: %v", err)
				}
			})
			t.Run("bundle", func(t *testing.T) {
				// A signing config with no Rekor and no TSA, and an empty
				// trusted root: cosign v3 then signs and verifies offline.
				c.mustRun(t, pw, "signing-config", "create", "--out", "sc.json")
				c.mustRun(t, pw, "trusted-root", "create", "--out", "tr.json")
				c.mustRun(t, pw, "sign-blob", "--key", "ours.key", "--signing-config", "sc.json", "--trusted-root", "tr.json",
					"--bundle", "blob.bundle.json", "blob")
				c.mustRun(t, pw, "verify-blob", "--key", "ours.pub", "--bundle", "blob.bundle.json", "--trusted-root", "tr.json",
					"--insecure-ignore-tlog", "blob")
			})
		})
	}
}

// TestCosignImportedKeys: `cosign import-key-pair` turns an unencrypted key
// into its encrypted format; the other key types cosign accepts load here
// after it, and the keys cosign refuses to import are refused here too.
func TestCosignImportedKeys(t *testing.T) {
	t.Parallel()
	p384 := mustECDSA(t, elliptic.P384())
	sec1, err := x509.MarshalECPrivateKey(p384)
	if err != nil {
		t.Fatal(err)
	}
	rsa2048 := mustRSA(t, 2048)
	ed := mustEd25519(t)
	for _, tc := range []struct {
		name string
		pem  []byte
		key  crypto.Signer
		// cosign verifies Ed25519 keys with Ed25519ph; a pure Ed25519
		// signature from crypto.Signer is not what it expects.
		cosignVerifies bool
	}{
		{"ECDSA P-384 SEC1", pemOf(t, "EC PRIVATE KEY", sec1), p384, true},
		{"RSA 2048 PKCS1", pemOf(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsa2048)), rsa2048, true},
		{"Ed25519 PKCS8", pemOf(t, "PRIVATE KEY", pkcs8(t, ed)), ed, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			const pw = "import-pw"
			c := newCosign(t)
			c.write(t, "plain.pem", tc.pem)
			c.mustRun(t, pw, "import-key-pair", "--key", "plain.pem", "--output-key-prefix", "imported")

			calls := 0
			s, err := LoadPrivateKey(c.read(t, "imported.key"), static(pw, &calls))
			if err != nil {
				t.Fatal(err)
			}
			pub, err := LoadPublicKey(c.read(t, "imported.pub"))
			if err != nil {
				t.Fatal(err)
			}
			want := tc.key.Public().(interface{ Equal(crypto.PublicKey) bool })
			if !want.Equal(s.Public()) || !want.Equal(pub) {
				t.Fatal("imported key pair differs from the key imported")
			}
			signAndVerify(t, s, pub, []byte("payload"))

			if !tc.cosignVerifies {
				return
			}
			c.verifyBlob(t, pw, s, "imported.pub", []byte("blob\n"))
		})
	}
	for _, tc := range []struct {
		name string
		key  crypto.Signer
	}{
		{"RSA 1024", mustRSA(t, 1024)},
		{"ECDSA P-224", mustECDSA(t, elliptic.P224())},
	} {
		t.Run("refused "+tc.name, func(t *testing.T) {
			t.Parallel()
			plain := pemOf(t, "PRIVATE KEY", pkcs8(t, tc.key))
			if _, err := LoadPrivateKey(plain, nil); !errors.Is(err, ErrUnsupportedKey) {
				t.Errorf("LoadPrivateKey: err = %v, want ErrUnsupportedKey", err)
			}
			c := newCosign(t)
			c.write(t, "plain.pem", plain)
			if _, err := c.run(t, "pw", "import-key-pair", "--key", "plain.pem", "--output-key-prefix", "imported"); err == nil {
				t.Error("cosign imported a key this package refuses; the policies differ")
			}
		})
	}
}

// TestCosignReadsOlderPEMType: cosign v3 still reads the PEM type and the
// scrypt parameters cosign v1 wrote, which LoadPrivateKey accepts too.
func TestCosignReadsOlderPEMType(t *testing.T) {
	t.Parallel()
	c := newCosign(t)
	k := mustECDSA(t, elliptic.P256())
	envelope, err := encrypted.EncryptWithCustomKDFParameters(pkcs8(t, k), []byte("old"), encrypted.Legacy)
	if err != nil {
		t.Fatal(err)
	}
	c.write(t, "old.key", pemOf(t, "ENCRYPTED COSIGN PRIVATE KEY", envelope))
	if out := c.mustRun(t, "old", "public-key", "--key", "old.key"); !bytes.Equal(out, pkix(t, k.Public())) {
		t.Errorf("cosign public-key printed\n%s", out)
	}
	calls := 0
	if _, err := LoadPrivateKey(c.read(t, "old.key"), static("old", &calls)); err != nil {
		t.Fatal(err)
	}
}
