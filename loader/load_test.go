package loader_test

import (
	"context"
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/wasmgate/wasmgate/loader"
	"github.com/wasmgate/wasmgate/permissions"
	"github.com/wasmgate/wasmgate/verify"
)

func TestLoadRefusesUnverified(t *testing.T) {
	for name, a := range map[string]*verify.Artifact{"nil": nil, "zero value": {}} {
		t.Run(name, func(t *testing.T) {
			m, err := loader.Load(context.Background(), a, loader.Host{})
			if !errors.Is(err, loader.ErrNotVerified) || m != nil {
				t.Errorf("Load = %v, %v; want nil, ErrNotVerified", m, err)
			}
		})
	}
}

func TestLoadUnsafeRefuses(t *testing.T) {
	network := policy(t, "  network:\n    allow:\n      - host: \"api.example.com\"\n")
	tests := []struct {
		name  string
		wasm  []byte
		perms *permissions.Policy
		want  error
	}{
		// The 8-byte preamble of a component: layer 1, version 0x0d.
		{"component", []byte("\x00asm\x0d\x00\x01\x00"), nil, loader.ErrComponent},
		{"not wasm", []byte("#!/bin/sh\necho hi\n"), nil, loader.ErrInvalidModule},
		{"truncated module", probeWasm[:len(probeWasm)/2], nil, loader.ErrInvalidModule},
		// Well-formed sections, but id 14 is not one wazero knows.
		{"unknown section", []byte("\x00asm\x01\x00\x00\x00\x0e\x00"), nil, loader.ErrInvalidModule},
		{"network asked", probeWasm, network, loader.ErrNetwork},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := loader.LoadUnsafe(context.Background(), tt.wasm, tt.perms, loader.Host{})
			if !errors.Is(err, tt.want) {
				t.Errorf("LoadUnsafe = %v, %v; want %v", m, err, tt.want)
			}
		})
	}
}

// With AllowNoNetwork the module runs, without network, and says so.
func TestLoadUnsafeAllowNoNetwork(t *testing.T) {
	perms := policy(t, "  network:\n    allow:\n      - host: \"api.example.com\"\n")
	r := runProbe(t, perms, loader.Host{AllowNoNetwork: true}, "env", "X")
	if r.err != nil || r.code != 3 {
		t.Fatalf("Run = %d, %v; want 3, nil", r.code, r.err)
	}
	m, err := loader.LoadUnsafe(context.Background(), probeWasm, perms, loader.Host{AllowNoNetwork: true, CacheDir: cacheDir})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close(context.Background())
	if !m.Unsafe() || m.Digest() != "" || len(m.Sandbox().NetworkDropped) != 1 {
		t.Errorf("Unsafe %v, Digest %q, NetworkDropped %v", m.Unsafe(), m.Digest(), m.Sandbox().NetworkDropped)
	}
}

// The first load, in TestMain, wrote compiled code to the empty cacheDir;
// another load reads it and writes nothing.
func TestCompilationCache(t *testing.T) {
	first := cacheFiles(t, cacheDir)
	if len(first) == 0 {
		t.Fatalf("no files in %s after the first load", cacheDir)
	}
	ctx := context.Background()
	start := time.Now()
	m, err := loader.LoadUnsafe(ctx, probeWasm, nil, loader.Host{CacheDir: cacheDir})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("warm load %v (BenchmarkLoadCold and BenchmarkLoadWarm compare)", time.Since(start))
	if err := m.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if second := cacheFiles(t, cacheDir); !maps.Equal(first, second) {
		t.Errorf("the second load changed the cache: %v, then %v", first, second)
	}
}

// cacheFiles maps each regular file under dir to its modification time.
func cacheFiles(t *testing.T, dir string) map[string]time.Time {
	t.Helper()
	files := map[string]time.Time{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		files[p] = fi.ModTime()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestRunAfterClose(t *testing.T) {
	ctx := context.Background()
	m, err := loader.LoadUnsafe(ctx, probeWasm, nil, loader.Host{CacheDir: cacheDir})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(ctx); err != nil {
		t.Errorf("second Close = %v", err)
	}
	if _, err := m.Run(ctx); err == nil {
		t.Error("Run after Close succeeded")
	}
}

func TestRunMissingHostDirectory(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "gone")
	perms := policy(t, "  storage:\n    allow:\n      - uri: \"fs:///data\"\n        access: [read]\n")
	r := runProbe(t, perms, loader.Host{Mounts: []loader.Mount{{Path: "/data", Dir: missing}}}, "readfile", "/data/x")
	if !errors.Is(r.err, os.ErrNotExist) {
		t.Errorf("Run = %v, want os.ErrNotExist", r.err)
	}
}
