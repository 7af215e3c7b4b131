package cache_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"oras.land/oras-go/v2"

	"github.com/wasmgate/wasmgate/access"
	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/cache"
	"github.com/wasmgate/wasmgate/internal/sample"
	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
	"github.com/wasmgate/wasmgate/remote"
)

// published pushes the sample to a fresh registry and returns a source
// for it and its repository name.
func published(t *testing.T, reg *testregistry.Registry) (oras.ReadOnlyTarget, string, *artifact.Package) {
	t.Helper()
	s := testkit.Open(t, reg, reg.Ref("wasm/hello", "v1"), remote.Options{})
	pkg := testkit.Push(t, s.Target, testkit.TempFile(t, "hello.wasm", sample.HelloWasm()), sample.PolicyYAML(), "v1")
	return s.Target, reg.Ref("wasm/hello", ""), pkg
}

// A corrupted cached blob is caught on read (the cache is never trusted),
// cache verify removes it, and the next pull fetches it again.
func TestCorruptBlobIsCaughtAndRepaired(t *testing.T) {
	reg := testregistry.Distribution(t)
	src, repo, pkg := published(t, reg)
	ch, err := cache.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	target := ch.Target(src, repo, false)
	if _, err := access.Pull(testkit.Context(t), target, "v1", t.TempDir(), access.PullOptions{}); err != nil {
		t.Fatal(err)
	}
	blob := filepath.Join(ch.Dir(), "blobs", "sha256", pkg.Wasm.Digest.Encoded())
	raw, err := os.ReadFile(blob)
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)/2] ^= 0xff
	if err := os.WriteFile(blob, raw, 0o644); err != nil {
		t.Fatal(err)
	}

	out := filepath.Join(t.TempDir(), "out")
	_, err = access.Pull(testkit.Context(t), target, pkg.Manifest.Digest.String(), out, access.PullOptions{})
	if !errors.Is(err, artifact.ErrDigestMismatch) {
		t.Fatalf("pull from a corrupt cache: %v, want ErrDigestMismatch", err)
	}
	if entries, _ := os.ReadDir(out); len(entries) != 0 {
		t.Errorf("output dir not empty: %v", entries)
	}

	rep, err := ch.Verify(testkit.Context(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Corrupt) != 1 || rep.Corrupt[0] != pkg.Wasm.Digest.String() {
		t.Fatalf("verify: %+v", rep)
	}
	if _, err := access.Pull(testkit.Context(t), target, pkg.Manifest.Digest.String(), t.TempDir(), access.PullOptions{}); err != nil {
		t.Fatalf("pull after verify: %v", err)
	}
	if rep, err := ch.Verify(testkit.Context(t)); err != nil || len(rep.Corrupt) != 0 {
		t.Fatalf("second verify: %+v %v", rep, err)
	}
}

// Two processes pulling through one cache at once leave it consistent.
func TestTwoProcessesShareTheCache(t *testing.T) {
	if os.Getenv("WASMGATE_TEST_CACHE_CHILD") != "" {
		t.Skip("child")
	}
	reg := testregistry.Distribution(t)
	_, repo, pkg := published(t, reg)
	dir := t.TempDir()
	var cmds []*exec.Cmd
	var outs []*bytes.Buffer
	for i := range 2 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCacheChild$", "-test.count=1")
		cmd.Env = append(os.Environ(),
			"WASMGATE_TEST_CACHE_CHILD=1",
			"WASMGATE_TEST_CACHE_DIR="+dir,
			"WASMGATE_TEST_HOST="+reg.Host,
			fmt.Sprintf("WASMGATE_TEST_TAG=t%d", i))
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds, outs = append(cmds, cmd), append(outs, &out)
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("child %d: %v\n%s", i, err, outs[i])
		}
	}
	ch, err := cache.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := ch.Verify(testkit.Context(t))
	if err != nil || len(rep.Corrupt) != 0 || len(rep.Stray) != 0 {
		t.Fatalf("verify after concurrent use: %+v %v", rep, err)
	}
	entries, err := ch.List(testkit.Context(t))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{repo + ":v1": false, repo + "@" + pkg.Manifest.Digest.String(): false}
	for _, e := range entries {
		if _, ok := want[e.Reference]; ok {
			want[e.Reference] = true
		}
	}
	for ref, seen := range want {
		if !seen {
			t.Errorf("cache lost %s; has %+v", ref, entries)
		}
	}
}

// TestCacheChild is the body of each process of TestTwoProcessesShareTheCache.
func TestCacheChild(t *testing.T) {
	if os.Getenv("WASMGATE_TEST_CACHE_CHILD") == "" {
		t.Skip("run by TestTwoProcessesShareTheCache")
	}
	host := os.Getenv("WASMGATE_TEST_HOST")
	s := testkit.Open(t, nil, host+"/wasm/hello:v1", remote.Options{PlainHTTP: []string{host}})
	ch, err := cache.Open(os.Getenv("WASMGATE_TEST_CACHE_DIR"))
	if err != nil {
		t.Fatal(err)
	}
	src := ch.Target(s.Target, host+"/wasm/hello", false)
	for range 10 {
		p, err := access.Pull(testkit.Context(t), src, "v1", t.TempDir(), access.PullOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := access.Pull(testkit.Context(t), src, p.Manifest.Descriptor.Digest.String(), t.TempDir(), access.PullOptions{}); err != nil {
			t.Fatal(err)
		}
	}
}
