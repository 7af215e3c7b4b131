// Package cosignkey reads and writes signing keys in the files cosign users
// already have: cosign.key (an encrypted PKCS#8 private key) and cosign.pub
// (a PKIX public key).
//
// The encrypted format is cosign's: the PKCS#8 DER of the key, sealed by
// go-securesystemslib's encrypted package (scrypt key derivation,
// NaCl secretbox) into a JSON envelope, PEM-armoured as
// "ENCRYPTED SIGSTORE PRIVATE KEY" (cosign v2 and later, and what
// [GenerateKeyPair] writes) or "ENCRYPTED COSIGN PRIVATE KEY" (older
// cosign). cosign v3.1.3 reads what this package writes and the other way
// round; the tests run the cosign CLI to keep that true. No cryptography is
// done here: the envelope is go-securesystemslib's, the key encodings are
// crypto/x509's, and the key policy is sigstore's goodkey, the one
// `cosign import-key-pair` applies.
//
// Accepted keys are ECDSA on P-256, P-384 or P-521, Ed25519, and RSA of
// 2048, 3072 or 4096 bits. Anything else fails with [ErrUnsupportedKey],
// so a weak key is refused when it is loaded rather than when a verifier
// somewhere rejects its signatures.
//
// Signing with an Ed25519 key: cosign signs with Ed25519ph (pre-hashed)
// because that is what Rekor's hashedrekord entries need; a caller that
// wants signatures cosign verifies should wrap the signer with
// signature.LoadDefaultSignerVerifier(key, options.WithED25519ph()) from
// github.com/sigstore/sigstore/pkg/signature, as cosign does.
//
// Passwords: [LoadPrivateKey] asks for one only when the key is encrypted.
// [Password] builds the usual source — COSIGN_PASSWORD when it is set, even
// to the empty string, else an interactive prompt the caller supplies.
package cosignkey
