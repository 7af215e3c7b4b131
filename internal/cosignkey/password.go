package cosignkey

import "os"

// PasswordEnv is the environment variable cosign reads a key's password
// from. Set to the empty string it means "the password is empty", which is
// how CI jobs use keys made with an empty password.
const PasswordEnv = "COSIGN_PASSWORD"

// PasswordFunc supplies the password of an encrypted private key.
// [LoadPrivateKey] calls it at most once, and only for an encrypted key.
type PasswordFunc func() ([]byte, error)

// PasswordFromEnv returns a PasswordFunc that returns $COSIGN_PASSWORD,
// read when it is called, or [ErrNoPassword] when the variable is not set.
func PasswordFromEnv() PasswordFunc { return Password(nil) }

// Password returns a PasswordFunc that returns $COSIGN_PASSWORD when the
// variable is set, even to the empty string, as cosign does, and otherwise
// calls prompt. A nil prompt (no terminal, say) makes it fail with
// [ErrNoPassword].
func Password(prompt PasswordFunc) PasswordFunc {
	return func() ([]byte, error) {
		if pw, ok := os.LookupEnv(PasswordEnv); ok {
			return []byte(pw), nil
		}
		if prompt == nil {
			return nil, ErrNoPassword
		}
		return prompt()
	}
}
