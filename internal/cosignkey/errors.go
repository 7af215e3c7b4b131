package cosignkey

import "errors"

// Sentinel errors. Every error this package returns matches one of them
// with errors.Is and wraps the library error that caused it.
var (
	// ErrNotPEM: the input holds no PEM block at all.
	ErrNotPEM = errors.New("no PEM block found (expected a cosign.key or cosign.pub file)")

	// ErrUnsupportedKey: the PEM type, the key type, the curve or the key
	// size is not one this package accepts. The wrapping message names
	// what was found and what is accepted.
	ErrUnsupportedKey = errors.New("unsupported key")

	// ErrMalformedKey: the PEM type is accepted but what it holds does not
	// decode (damaged DER, or an encrypted envelope that is not JSON).
	ErrMalformedKey = errors.New("malformed key")

	// ErrWrongPassword: an encrypted private key did not decrypt with the
	// password given. A damaged or tampered envelope (changed ciphertext,
	// salt or scrypt parameters) fails the same way: secretbox cannot tell
	// the cases apart, and neither can this package.
	ErrWrongPassword = errors.New("decrypting private key failed: wrong password (or a damaged key file)")

	// ErrNoPassword: an encrypted key needs a password and none was
	// available.
	ErrNoPassword = errors.New("the private key is encrypted and no password was given: set " + PasswordEnv + " (it may be empty)")
)
