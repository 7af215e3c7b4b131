package testkit

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
)

// ReadFile is os.ReadFile that fails the test on error.
func ReadFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TempFile writes data to a file called name in a new temporary directory
// and returns its path.
func TempFile(t testing.TB, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// PublicKey reads a PEM "PUBLIC KEY" file (PKIX), such as the cosign.pub
// that `cosign generate-key-pair` writes.
func PublicKey(t testing.TB, path string) crypto.PublicKey {
	t.Helper()
	block, _ := pem.Decode(ReadFile(t, path))
	if block == nil || block.Type != "PUBLIC KEY" {
		t.Fatalf("testkit: %s holds no PEM PUBLIC KEY block", path)
	}
	k, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		t.Fatalf("testkit: %s: %v", path, err)
	}
	return k
}

// WritePublicKey writes pub to path as a PEM "PUBLIC KEY" (PKIX) file,
// the form cosign writes and a trust policy's cosign key names.
func WritePublicKey(t testing.TB, path string, pub crypto.PublicKey) {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatalf("testkit: public key: %v", err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
}
