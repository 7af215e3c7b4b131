package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"time"

	notationgo "github.com/notaryproject/notation-go"
	notationsigner "github.com/notaryproject/notation-go/signer"
	"github.com/notaryproject/notation-go/verifier/trustpolicy"
)

// quickstartTrust makes the quickstart's two signing authorities and
// writes, in dir, what its trust policy (internal/sample/testdata/trust.yaml)
// names for them: cosign.pub, the public half of a fresh cosign key (the
// authority "release"), and notation/, a Notation configuration trusting a
// fresh CA (the authority "corp"). It returns the cosign key and a Notation
// signer holding a leaf the CA issued.
//
// Everything is fresh on each run and lives only in dir: nothing is read
// from or written to the user's cosign or Notation configuration.
func quickstartTrust(dir string) (cosignKey crypto.Signer, notary notationgo.Signer, err error) {
	if cosignKey, err = quickstartCosignKey(dir); err != nil {
		return nil, nil, err
	}
	if notary, err = quickstartNotation(filepath.Join(dir, "notation")); err != nil {
		return nil, nil, err
	}
	return cosignKey, notary, nil
}

// quickstartCosignKey generates a P-256 key and writes its public key to
// dir/cosign.pub.
func quickstartCosignKey(dir string) (crypto.Signer, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return nil, err
	}
	if err := writePEM(filepath.Join(dir, "cosign.pub"), "PUBLIC KEY", der); err != nil {
		return nil, err
	}
	return key, nil
}

// quickstartNotation generates a CA and a code-signing leaf it issues, made
// to the Notary Project certificate profile, and writes in dir the Notation
// configuration that trusts the CA: truststore/x509/ca/quickstart/root.pem
// and trustpolicy.json (every registry, level strict, any identity the CA
// issued). It returns a signer with the leaf's key and the chain leaf, root.
// Both certificates are valid from an hour ago for a day.
func quickstartNotation(dir string) (notationgo.Signer, error) {
	now := time.Now()
	root, rootKey, err := quickstartCert(&x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "wasmgate quickstart CA", Organization: []string{"acme"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}, nil, nil)
	if err != nil {
		return nil, err
	}
	leaf, leafKey, err := quickstartCert(&x509.Certificate{
		SerialNumber:          big.NewInt(2),
		Subject:               pkix.Name{CommonName: "acme release", Organization: []string{"acme"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		BasicConstraintsValid: true,
	}, root, rootKey)
	if err != nil {
		return nil, err
	}

	store := filepath.Join(dir, "truststore", "x509", "ca", "quickstart")
	if err := os.MkdirAll(store, 0o700); err != nil {
		return nil, err
	}
	if err := writePEM(filepath.Join(store, "root.pem"), "CERTIFICATE", root.Raw); err != nil {
		return nil, err
	}
	policy := trustpolicy.Document{Version: "1.0", TrustPolicies: []trustpolicy.TrustPolicy{{
		Name:                  "quickstart",
		RegistryScopes:        []string{"*"},
		SignatureVerification: trustpolicy.SignatureVerification{VerificationLevel: trustpolicy.LevelStrict.Name},
		TrustStores:           []string{"ca:quickstart"},
		TrustedIdentities:     []string{"*"},
	}}}
	raw, err := json.MarshalIndent(policy, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "trustpolicy.json"), raw, 0o600); err != nil {
		return nil, err
	}
	return notationsigner.New(leafKey, []*x509.Certificate{leaf, root})
}

// quickstartCert generates a P-256 key and a certificate for it from tmpl,
// issued by parent with parentKey, or self-signed when parent is nil.
func quickstartCert(tmpl, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), parentKey)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	return cert, key, nil
}

// writePEM writes der to path as one PEM block of type typ.
func writePEM(path, typ string, der []byte) error {
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o644)
}
