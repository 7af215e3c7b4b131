package peers

import (
	"bytes"
	"context"
	"go/build"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// tool is what Binary knows about a peer CLI: how CI installs it and how to
// tell a usable version from one whose output differs from FORMATS.md.
type tool struct {
	install     string   // the `go install` line
	versionArgs []string // prints the version; nil: not checked
	want        string   // versionArgs' output must contain this
}

var tools = map[string]tool{
	"cosign": {
		install:     "go install github.com/sigstore/cosign/v3/cmd/cosign@v3.1.3",
		versionArgs: []string{"version"},
		// cosign v2 signs in the legacy format by default and has no
		// signing configs: the "bundle" helpers need v3.
		want: "v3.",
	},
	"regctl": {
		install: "go install github.com/regclient/regclient/cmd/regctl@v0.11.7",
	},
}

var (
	found    sync.Map // name -> path, of binaries that passed their check
	gopathMu sync.Mutex
	gopath   string
)

// Binary returns the path of the peer CLI name, from PATH or else from
// $(go env GOPATH)/bin. When it is missing (or, for cosign, older than v3)
// the test is skipped with the command that installs it, unless the
// environment has CI=true: CI must have installed it, so the test fails.
func Binary(t testing.TB, name string) string {
	t.Helper()
	if p, ok := found.Load(name); ok {
		return p.(string)
	}
	tl := tools[name]
	var candidates []string
	if p, err := exec.LookPath(name); err == nil {
		candidates = append(candidates, p)
	}
	if gp := goBin(); gp != "" {
		p := filepath.Join(gp, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			candidates = append(candidates, p)
		}
	}
	var rejected []string
	for _, p := range candidates {
		if ok, got := checkVersion(p, tl); !ok {
			rejected = append(rejected, p+" ("+got+")")
			continue
		}
		found.Store(name, p)
		return p
	}
	msg := name + " not found in PATH or $(go env GOPATH)/bin"
	if len(rejected) > 0 {
		msg = name + " found but not the version these tests need (want " + tl.want + "): " + strings.Join(rejected, ", ")
	}
	if tl.install != "" {
		msg += "; install it with: " + tl.install
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("peers: %s (CI must install it)", msg)
	}
	t.Skipf("peers: %s", msg)
	return ""
}

// goBin is $(go env GOPATH)/bin, asking the go command once because GOPATH
// may be set with `go env -w`; it falls back to go/build's default.
func goBin() string {
	gopathMu.Lock()
	defer gopathMu.Unlock()
	if gopath == "" {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, "go", "env", "GOPATH").Output()
		if gp := strings.TrimSpace(string(out)); err == nil && gp != "" {
			gopath = gp
		} else {
			gopath = build.Default.GOPATH
		}
	}
	if gopath == "" {
		return ""
	}
	// GOPATH may list several directories; go install writes to the first.
	return filepath.Join(filepath.SplitList(gopath)[0], "bin")
}

func checkVersion(path string, tl tool) (ok bool, got string) {
	if tl.versionArgs == nil {
		return true, ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, tl.versionArgs...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.TempDir()}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return false, "version: " + err.Error()
	}
	if !bytes.Contains(out, []byte(tl.want)) {
		return false, "no " + tl.want + " in its version output"
	}
	return true, ""
}
