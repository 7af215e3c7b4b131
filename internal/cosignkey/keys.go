package cosignkey

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"

	"github.com/secure-systems-lab/go-securesystemslib/encrypted"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/cryptoutils/goodkey"
)

const (
	// sigstorePEMType is what cosign v2 and later write, and what
	// GenerateKeyPair writes.
	sigstorePEMType = string(cryptoutils.EncryptedSigstorePrivateKeyPEMType)
	// cosignPEMType is what older cosign wrote; the contents are the same
	// envelope (cryptoutils knows the name but does not export it).
	cosignPEMType = "ENCRYPTED COSIGN PRIVATE KEY"

	acceptedKeys       = "ECDSA P-256, P-384 or P-521; Ed25519; RSA 2048, 3072 or 4096 bits"
	acceptedPrivatePEM = `"` + sigstorePEMType + `", "` + cosignPEMType + `", "PRIVATE KEY" (PKCS #8), "EC PRIVATE KEY" (SEC 1), "RSA PRIVATE KEY" (PKCS #1)`
	acceptedPublicPEM  = `"PUBLIC KEY" (PKIX, as in cosign.pub)`

	// The envelope names go-securesystemslib's encrypted package writes.
	kdfScrypt       = "scrypt"
	cipherSecretBox = "nacl/secretbox"
)

// LoadPrivateKey decodes a private key: cosign's encrypted formats (PEM
// types "ENCRYPTED SIGSTORE PRIVATE KEY" and "ENCRYPTED COSIGN PRIVATE
// KEY"), or an unencrypted "PRIVATE KEY" (PKCS #8), "EC PRIVATE KEY"
// (SEC 1) or "RSA PRIVATE KEY" (PKCS #1). Only the first PEM block is read.
//
// password is called once, and only when the key is encrypted; it may be
// nil for keys known to be unencrypted, and an encrypted key then fails
// with [ErrNoPassword]. The key must be one of those the package doc
// lists. The signer is an *ecdsa.PrivateKey, an ed25519.PrivateKey or an
// *rsa.PrivateKey.
func LoadPrivateKey(pemBytes []byte, password PasswordFunc) (crypto.Signer, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, ErrNotPEM
	}
	if _, ok := block.Headers["Proc-Type"]; ok {
		return nil, fmt.Errorf("%w: %q is encrypted the legacy OpenSSL way (Proc-Type header); decrypt it with openssl, then run `cosign import-key-pair` on the result",
			ErrUnsupportedKey, block.Type)
	}
	var (
		key any
		err error
	)
	switch block.Type {
	case sigstorePEMType, cosignPEMType:
		der, derr := decrypt(block.Bytes, password)
		if derr != nil {
			return nil, derr
		}
		key, err = x509.ParsePKCS8PrivateKey(der)
	case string(cryptoutils.PrivateKeyPEMType):
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case string(cryptoutils.ECPrivateKeyPEMType):
		key, err = x509.ParseECPrivateKey(block.Bytes)
	case string(cryptoutils.PKCS1PrivateKeyPEMType):
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case string(cryptoutils.PublicKeyPEMType):
		return nil, fmt.Errorf("%w: this is a public key (cosign.pub); a private key (cosign.key) is needed here", ErrUnsupportedKey)
	default:
		return nil, fmt.Errorf("%w: PEM type %q (accepted: %s)", ErrUnsupportedKey, block.Type, acceptedPrivatePEM)
	}
	if err != nil {
		// crypto/x509 also fails here on algorithms and curves it does
		// not know (secp256k1, say); its message names them.
		return nil, fmt.Errorf("%w: decoding %q: %w", ErrMalformedKey, block.Type, err)
	}
	var signer crypto.Signer
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		signer = k
	case ed25519.PrivateKey:
		signer = k
	case *rsa.PrivateKey:
		signer = k
	default:
		return nil, fmt.Errorf("%w: %T (accepted: %s)", ErrUnsupportedKey, key, acceptedKeys)
	}
	if err := checkPublicKey(signer.Public()); err != nil {
		return nil, err
	}
	return signer, nil
}

// decrypt opens cosign's envelope. The envelope's names are checked first
// so that only a failure of the decryption itself reads as a wrong
// password.
func decrypt(envelope []byte, password PasswordFunc) ([]byte, error) {
	var names struct {
		KDF struct {
			Name string `json:"name"`
		} `json:"kdf"`
		Cipher struct {
			Name string `json:"name"`
		} `json:"cipher"`
	}
	if err := json.Unmarshal(envelope, &names); err != nil {
		return nil, fmt.Errorf("%w: the encrypted key's envelope does not decode: %w", ErrMalformedKey, err)
	}
	if names.KDF.Name != kdfScrypt || names.Cipher.Name != cipherSecretBox {
		return nil, fmt.Errorf("%w: key encrypted with %q and %q (accepted: %s and %s, as cosign writes)",
			ErrUnsupportedKey, names.KDF.Name, names.Cipher.Name, kdfScrypt, cipherSecretBox)
	}
	if password == nil {
		return nil, ErrNoPassword
	}
	pw, err := password()
	if err != nil {
		return nil, fmt.Errorf("reading the password of the encrypted private key: %w", err)
	}
	der, err := encrypted.Decrypt(envelope, pw)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrWrongPassword, err)
	}
	return der, nil
}

// LoadPublicKey decodes a PKIX "PUBLIC KEY" PEM block, the content of
// cosign.pub. Only the first PEM block is read. The key must be one of
// those the package doc lists; it is an *ecdsa.PublicKey, an
// ed25519.PublicKey or an *rsa.PublicKey.
func LoadPublicKey(pemBytes []byte) (crypto.PublicKey, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, ErrNotPEM
	}
	switch block.Type {
	case string(cryptoutils.PublicKeyPEMType):
	case "CERTIFICATE":
		return nil, fmt.Errorf("%w: this is a certificate; a public key (cosign.pub, PEM type %q) is needed here",
			ErrUnsupportedKey, cryptoutils.PublicKeyPEMType)
	default:
		return nil, fmt.Errorf("%w: PEM type %q (accepted: %s)", ErrUnsupportedKey, block.Type, acceptedPublicPEM)
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: decoding %q: %w", ErrMalformedKey, block.Type, err)
	}
	if err := checkPublicKey(pub); err != nil {
		return nil, err
	}
	return pub, nil
}

// checkPublicKey applies the policy `cosign import-key-pair` applies:
// sigstore's goodkey (key type, curve, RSA size and exponent, weak RSA
// moduli, points on the curve).
func checkPublicKey(pub crypto.PublicKey) error {
	if err := goodkey.ValidatePubKey(pub); err != nil {
		return fmt.Errorf("%w: %s: %w (accepted: %s)", ErrUnsupportedKey, describe(pub), err, acceptedKeys)
	}
	return nil
}

// describe names a key the way the accepted list does.
func describe(pub crypto.PublicKey) string {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		return "ECDSA " + k.Curve.Params().Name
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA %d bits", k.N.BitLen())
	case ed25519.PublicKey:
		return "Ed25519"
	default:
		return fmt.Sprintf("%T", pub)
	}
}

// GenerateKeyPair makes an ECDSA P-256 key pair and encodes it as
// `cosign generate-key-pair` does: the private key as PKCS #8, encrypted
// with password (nil means the empty password; the key is encrypted
// either way, as cosign does) under PEM type
// "ENCRYPTED SIGSTORE PRIVATE KEY", and the public key as a PKIX
// "PUBLIC KEY" PEM block. The two results are the contents of cosign.key
// and cosign.pub.
func GenerateKeyPair(password []byte) (privPEM, pubPEM []byte, err error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generating an ECDSA P-256 key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, nil, fmt.Errorf("encoding the private key as PKCS #8: %w", err)
	}
	if password == nil {
		password = []byte{}
	}
	// encrypted.Encrypt picks the same scrypt parameters cosign's keys
	// carry (N=2^16, r=8, p=1) and a fresh salt and nonce.
	envelope, err := encrypted.Encrypt(der, password)
	if err != nil {
		return nil, nil, fmt.Errorf("encrypting the private key: %w", err)
	}
	pubPEM, err = cryptoutils.MarshalPublicKeyToPEM(priv.Public())
	if err != nil {
		return nil, nil, fmt.Errorf("encoding the public key: %w", err)
	}
	return cryptoutils.PEMEncode(cryptoutils.EncryptedSigstorePrivateKeyPEMType, envelope), pubPEM, nil
}
