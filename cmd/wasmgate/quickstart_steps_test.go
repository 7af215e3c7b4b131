package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestQuickstartText runs the quickstart in text mode with --dir and checks
// that every step says what it did, in order, and that the files the trust
// policy names are kept in the directory.
func TestQuickstartText(t *testing.T) {
	cliEnv(t, nil)
	dir := t.TempDir()
	code, stdout, stderr := wasmgate(t, "quickstart", "--dir", dir)
	if code != 0 {
		t.Fatalf("quickstart: exit %d: %s", code, stderr)
	}
	steps := []string{
		"1. Started a registry on 127.0.0.1:",
		"2. Packed hello.wasm (module, ",
		"3. Pushed 127.0.0.1:",
		"4. Pulled wasm   -> ",
		"4. Pulled policy -> ",
		"   Byte-identical to what was pushed; resolved ",
		" again: 0 registry requests (served from the cache, every digest re-checked)",
		"6. Pushed to and pulled from oci-layout:",
		"7. Signed it with cosign (bundle) and Notation (JWS), and attested SLSA provenance; trust material in " + filepath.Join(dir, "trust"),
		"8. wasmgate verify --policy " + filepath.Join(dir, "trust", "trust.yaml"),
		"\n   VERIFIED\n",
		"9. Tampered one byte of the wasm in a copy (oci-layout:" + filepath.Join(dir, "tampered") + ":v1): DENIED, layers: wasm layer digest mismatch",
		"10. wasmgate run --policy ",
		"      network none\n",
		"    | greeting: hi from the host\n",
		"Everything is in " + dir + "\n",
		"Next: wasmgate push your.wasm",
	}
	rest := stdout
	for _, s := range steps {
		i := strings.Index(rest, s)
		if i < 0 {
			t.Fatalf("quickstart output lacks %q after the steps before it:\n%s", s, stdout)
		}
		rest = rest[i+len(s):]
	}
	for _, f := range []string{
		"src/hello.wasm",
		"trust/cosign.pub",
		"trust/notation/trustpolicy.json",
		"trust/notation/truststore/x509/ca/quickstart/root.pem",
	} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
}
