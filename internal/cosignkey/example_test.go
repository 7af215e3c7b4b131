package cosignkey_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"

	"github.com/wasmgate/wasmgate/internal/cosignkey"
)

// A key pair in cosign's files, loaded back with the same password.
func ExampleGenerateKeyPair() {
	password := []byte("correct horse battery staple")
	privPEM, pubPEM, err := cosignkey.GenerateKeyPair(password) // cosign.key, cosign.pub
	if err != nil {
		panic(err)
	}
	first, _, _ := bytes.Cut(privPEM, []byte("\n"))
	fmt.Println(string(first))

	signer, err := cosignkey.LoadPrivateKey(privPEM, func() ([]byte, error) { return password, nil })
	if err != nil {
		panic(err)
	}
	pub, err := cosignkey.LoadPublicKey(pubPEM)
	if err != nil {
		panic(err)
	}
	key := signer.(*ecdsa.PrivateKey)
	fmt.Println(key.Curve.Params().Name, key.PublicKey.Equal(pub))

	_, err = cosignkey.LoadPrivateKey(privPEM, func() ([]byte, error) { return []byte("guess"), nil })
	fmt.Println(errors.Is(err, cosignkey.ErrWrongPassword))
	// Output:
	// -----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----
	// P-256 true
	// true
}

// An unencrypted PKCS #8 key, as openssl writes it, loads without a
// password being asked for.
func ExampleLoadPrivateKey() {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(priv)
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})

	signer, err := cosignkey.LoadPrivateKey(keyPEM, func() ([]byte, error) {
		panic("not encrypted: no password needed")
	})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%T\n", signer)
	// Output: ed25519.PrivateKey
}

func ExampleLoadPublicKey() {
	_, err := cosignkey.LoadPublicKey([]byte("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5"))
	fmt.Println(errors.Is(err, cosignkey.ErrNotPEM))

	_, pubPEM, _ := cosignkey.GenerateKeyPair(nil)
	pub, err := cosignkey.LoadPublicKey(pubPEM)
	fmt.Printf("%T %v\n", pub, err)
	// Output:
	// true
	// *ecdsa.PublicKey <nil>
}

// The password comes from COSIGN_PASSWORD when it is set, as in CI; the
// prompt, which a CLI would give on a terminal, is asked only otherwise.
func ExamplePassword() {
	prompt := func() ([]byte, error) { return []byte("typed at the terminal"), nil }
	password := cosignkey.Password(prompt)

	os.Setenv(cosignkey.PasswordEnv, "from the CI secret")
	defer os.Unsetenv(cosignkey.PasswordEnv)
	pw, _ := password()
	fmt.Println(string(pw))

	os.Unsetenv(cosignkey.PasswordEnv)
	pw, _ = password()
	fmt.Println(string(pw))

	_, err := cosignkey.PasswordFromEnv()()
	fmt.Println(errors.Is(err, cosignkey.ErrNoPassword))
	// Output:
	// from the CI secret
	// typed at the terminal
	// true
}
