package testkit

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"testing"
)

// ModuleDir is the directory of a module of the build in the module cache,
// where upstream test data is read from (never copied into this
// repository): sigstore-go's bundles, notation-go's certificates, the
// image-spec's examples. The module must be required by go.mod; CI
// downloads every one first (go mod download), so a missing module is a
// failure, not a skip.
func ModuleDir(t testing.TB, path string) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-json", path).Output()
	if err != nil {
		t.Fatalf("go list -m %s: %v", path, err)
	}
	var m struct{ Dir string }
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatalf("go list -m %s: %v", path, err)
	}
	if m.Dir == "" {
		out, err := exec.Command("go", "mod", "download", "-json", path).Output()
		if err != nil {
			t.Fatalf("%s is not in the module cache, and go mod download failed: %v", path, err)
		}
		if err := json.Unmarshal(out, &m); err != nil || m.Dir == "" {
			t.Fatalf("%s is not in the module cache (run go mod download)", path)
		}
	}
	return m.Dir
}

// ModuleFile is a file of a module in the module cache, by its path in the
// module.
func ModuleFile(t testing.TB, module, rel string) string {
	t.Helper()
	return filepath.Join(ModuleDir(t, module), filepath.FromSlash(rel))
}
