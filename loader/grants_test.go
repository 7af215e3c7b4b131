package loader_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/wasmgate/wasmgate/loader"
)

// One host-ceiling format for run --host-policy and apply's grants; a
// relative host directory is relative to the file that names it (not to
// the working directory), and files in run's older format still read.
func TestLoadGrants(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	h, err := loader.LoadGrants(write("host.yaml", `dirs: ["/data=./data", "/out=/abs/out:rw", "/tmp"]
env: {GREETING: hello, HOME: null}
maxMemory: 64Mi
maxTime: 10s
allowNoNetwork: true
clampLimits: true
`))
	if err != nil {
		t.Fatal(err)
	}
	want := []loader.Mount{{Path: "/data", Dir: filepath.Join(dir, "data")}, {Path: "/out", Dir: "/abs/out", Write: true}, {Path: "/tmp"}}
	if len(h.Mounts) != len(want) {
		t.Fatalf("mounts %+v", h.Mounts)
	}
	for i := range want {
		if h.Mounts[i] != want[i] {
			t.Errorf("mount %d: %+v, want %+v", i, h.Mounts[i], want[i])
		}
	}
	t.Setenv("HOME", "/home/test")
	if v, ok := h.Env("GREETING"); !ok || v != "hello" {
		t.Errorf("GREETING = %q %v", v, ok)
	}
	if v, ok := h.Env("HOME"); !ok || v != "/home/test" {
		t.Errorf("HOME (null: the host's) = %q %v", v, ok)
	}
	if len(h.EnvKeys) != 2 || h.MaxMemory != 64<<20 || h.MaxTime != 10*time.Second || !h.AllowNoNetwork || !h.ClampLimits {
		t.Errorf("host %+v", h)
	}

	old, err := loader.LoadGrants(write("old.yaml", "mounts: [{path: /data, dir: data, write: true}]\nenv: [GREETING]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(old.Mounts) != 1 || old.Mounts[0] != (loader.Mount{Path: "/data", Dir: filepath.Join(dir, "data"), Write: true}) || len(old.EnvKeys) != 1 {
		t.Errorf("older format: %+v", old)
	}
	if empty, err := loader.LoadGrants(write("empty.yaml", "")); err != nil || len(empty.Mounts) != 0 {
		t.Errorf("empty file: %v %+v", err, empty)
	}
	for name, text := range map[string]string{
		"unknown field":   "dirs: []\nmounts2: []\n",
		"env not a map":   "env: GREETING\n",
		"bad maxMemory":   "maxMemory: lots\n",
		"bad dir grant":   "dirs: [\"=/x\"]\n",
		"bad maxTime":     "maxTime: soon\n",
		"not YAML at all": "dirs: [\n",
	} {
		if _, err := loader.LoadGrants(write("bad.yaml", text)); !errors.Is(err, loader.ErrHost) {
			t.Errorf("%s: %v, want ErrHost", name, err)
		}
	}
}
