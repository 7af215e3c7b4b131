package notation_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/wasmgate/wasmgate/evidence/notation"
)

// A trust policy whose registry scope is not "host/repository" is a
// configuration error, reported before any signature is looked at.
func ExampleLoadTrust() {
	d, err := os.MkdirTemp("", "notation-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(d)
	policy := filepath.Join(d, "trustpolicy.json")
	os.WriteFile(policy, []byte(`{
  "version": "1.0",
  "trustPolicies": [{
    "name": "acme",
    "registryScopes": ["registry.acme.dev/wasm/*"],
    "signatureVerification": {"level": "strict"},
    "trustStores": ["ca:acme"],
    "trustedIdentities": ["*"]
  }]
}`), 0o600)
	os.MkdirAll(filepath.Join(d, "truststore", "x509", "ca", "acme"), 0o700)

	_, err = notation.LoadTrust(policy, d)
	fmt.Println(errors.Is(err, notation.ErrInvalidTrustPolicy))
	// Output: true
}
