package loader_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/wasmgate/wasmgate/loader"
)

func TestRunStorage(t *testing.T) {
	data, outside := t.TempDir(), t.TempDir()
	writeFile(t, filepath.Join(data, "hello.txt"), "hi")
	writeFile(t, filepath.Join(outside, "secret.txt"), "secret")
	// A link the host placed in the mounted directory, pointing out of it.
	if err := os.Symlink(filepath.Join(outside, "secret.txt"), filepath.Join(data, "escape")); err != nil {
		t.Fatal(err)
	}
	host := loader.Host{Mounts: []loader.Mount{{Path: "/data", Dir: data, Write: true}}}
	read := policy(t, "  storage:\n    allow:\n      - uri: \"fs:///data/**\"\n        access: [read]\n")
	readWrite := policy(t, "  storage:\n    allow:\n      - uri: \"fs:///data/**\"\n        access: [read, write]\n")

	tests := []struct {
		name      string
		readWrite bool
		args      []string
		code      uint32
		stdout    string
		hostFile  string // a file under data that must (not) exist after
		created   bool
	}{
		{name: "read a file in a granted directory", args: []string{"readfile", "/data/hello.txt"}, stdout: "hi"},
		{name: "write to a read-only mount fails", args: []string{"writefile", "/data/new.txt", "x"}, code: 1, hostFile: "new.txt"},
		{name: "write works when policy and host both grant it", readWrite: true, args: []string{"writefile", "/data/new.txt", "x"}, hostFile: "new.txt", created: true},
		{name: "a host path outside the mounts is unreachable", args: []string{"readfile", filepath.ToSlash(filepath.Join(outside, "secret.txt"))}, code: 1},
		{name: "dot-dot does not leave the mount", readWrite: true, args: []string{"readfile", "/data/../../../" + filepath.ToSlash(filepath.Join(outside, "secret.txt"))}, code: 1},
		{name: "a read-only mount does not follow a link out of it", args: []string{"readfile", "/data/escape"}, code: 1},
		{name: "a module cannot create a link in a writable mount", readWrite: true, args: []string{"symlink", "../../../..", "/data/up"}, code: 1, hostFile: "up"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			perms := read
			if tt.readWrite {
				perms = readWrite
			}
			r := runProbe(t, perms, host, tt.args...)
			if r.err != nil || r.code != tt.code || r.stdout != tt.stdout {
				t.Fatalf("Run = %d, %v, stdout %q (stderr %q); want %d, nil, %q", r.code, r.err, r.stdout, r.stderr, tt.code, tt.stdout)
			}
			if tt.hostFile != "" {
				p := filepath.Join(data, tt.hostFile)
				_, err := os.Lstat(p)
				if exists := err == nil; exists != tt.created {
					t.Errorf("%s exists = %v, want %v", p, exists, tt.created)
				}
				os.Remove(p)
			}
		})
	}
}

func TestRunEnvironment(t *testing.T) {
	perms := policy(t, "  environment:\n    allow:\n      - key: API_KEY\n      - key: REGION\n")
	host := loader.Host{
		EnvKeys: []string{"API_KEY", "REGION", "HOME"},
		Env: func(k string) (string, bool) {
			v, ok := map[string]string{"API_KEY": "k1", "HOME": "/home/me"}[k]
			return v, ok
		},
	}
	tests := []struct {
		name, key string
		code      uint32
		stdout    string
	}{
		{"listed and allowed is visible", "API_KEY", 0, "k1"},
		{"allowed by the host but not listed is absent", "HOME", 3, ""},
		{"listed but unset on the host is absent", "REGION", 3, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runProbe(t, perms, host, "env", tt.key)
			if r.err != nil || r.code != tt.code || r.stdout != tt.stdout {
				t.Errorf("Run = %d, %v, %q; want %d, nil, %q", r.code, r.err, r.stdout, tt.code, tt.stdout)
			}
		})
	}
}

func TestRunMemoryLimit(t *testing.T) {
	tests := []struct {
		name   string
		policy string
		host   loader.Host
		mib    string
		limit  bool
	}{
		{"under the policy's limit", "      memory: \"32Mi\"\n", loader.Host{}, "8", false},
		{"over the policy's limit", "      memory: \"32Mi\"\n", loader.Host{}, "64", true},
		{"over the host's ceiling", "      cpu: \"1\"\n", loader.Host{MaxMemory: 32 << 20}, "64", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runProbe(t, policy(t, "  resources:\n    limits:\n"+tt.policy), tt.host, "alloc", tt.mib)
			if !tt.limit {
				if r.err != nil || r.code != 0 {
					t.Fatalf("Run = %d, %v (stderr %q); want 0, nil", r.code, r.err, r.stderr)
				}
				return
			}
			var le *loader.LimitError
			if !errors.Is(r.err, loader.ErrMemoryLimit) || !errors.As(r.err, &le) {
				t.Fatalf("Run = %d, %v; want ErrMemoryLimit", r.code, r.err)
			}
			// Go's runtime exits with code 2 when memory.grow fails.
			if r.code != 2 || le.ExitCode != 2 || le.Limit != "32 MiB" {
				t.Errorf("code %d, LimitError %+v; want exit code 2 and limit 32 MiB", r.code, le)
			}
		})
	}
}

// A module whose initial memory is already over the limit is refused
// before it is compiled, let alone instantiated.
func TestLoadDeclaredMemoryOverLimit(t *testing.T) {
	_, err := loader.LoadUnsafe(context.Background(), probeWasm, policy(t, "  resources:\n    limits:\n      memory: \"1Mi\"\n"), loader.Host{})
	if !errors.Is(err, loader.ErrMemoryLimit) {
		t.Fatalf("LoadUnsafe = %v, want ErrMemoryLimit", err)
	}
}

func TestRunTimeLimit(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"a busy loop", []string{"loop"}},
		// wazero's own sleep does not watch the context: a module asleep
		// in poll_oneoff would outlive its timeout.
		{"a sleep longer than the timeout", []string{"sleep", "3600"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			r := runProbe(t, policy(t, "  resources:\n    limits:\n      timeout: \"300ms\"\n"), loader.Host{}, tt.args...)
			if !errors.Is(r.err, loader.ErrTimeLimit) || !errors.Is(r.err, context.DeadlineExceeded) {
				t.Fatalf("Run = %d, %v; want ErrTimeLimit and context.DeadlineExceeded", r.code, r.err)
			}
			if errors.Is(r.err, loader.ErrMemoryLimit) {
				t.Errorf("a time limit also reads as a memory limit: %v", r.err)
			}
			if took := time.Since(start); took > 30*time.Second {
				t.Errorf("stopped after %v, for a 300ms timeout", took)
			}
		})
	}
}

// With ClampLimits, a policy that asks for an hour runs under the host's
// ceiling, and that ceiling is what stops it.
func TestRunClampedTimeLimit(t *testing.T) {
	start := time.Now()
	r := runProbe(t, policy(t, "  resources:\n    limits:\n      timeout: \"1h\"\n"), loader.Host{MaxTime: 300 * time.Millisecond, ClampLimits: true}, "loop")
	var le *loader.LimitError
	if !errors.As(r.err, &le) || !errors.Is(r.err, loader.ErrTimeLimit) || le.Limit != "300ms" {
		t.Fatalf("Run = %d, %v; want ErrTimeLimit with limit 300ms", r.code, r.err)
	}
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("stopped after %v, for a 300ms ceiling", took)
	}
}

// The caller's own deadline or cancellation is not the sandbox's time limit.
func TestRunCallerContext(t *testing.T) {
	ctx := context.Background()
	m, err := loader.LoadUnsafe(ctx, probeWasm, nil, loader.Host{Args: []string{"probe", "loop"}, CacheDir: cacheDir})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close(ctx)

	deadline, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	_, err = m.Run(deadline)
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, loader.ErrTimeLimit) {
		t.Errorf("Run under the caller's deadline = %v; want context.DeadlineExceeded, not ErrTimeLimit", err)
	}

	canceled, cancel := context.WithCancel(ctx)
	time.AfterFunc(200*time.Millisecond, cancel)
	_, err = m.Run(canceled)
	if !errors.Is(err, context.Canceled) || errors.Is(err, loader.ErrTimeLimit) {
		t.Errorf("Run after the caller canceled = %v; want context.Canceled, not ErrTimeLimit", err)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// A writable directory inside a read-only one: two mounts, and the module
// writes only in the inner one.
func TestRunNestedMounts(t *testing.T) {
	data := t.TempDir()
	if err := os.Mkdir(filepath.Join(data, "out"), 0o755); err != nil {
		t.Fatal(err)
	}
	perms := policy(t, `  storage:
    allow:
      - uri: "fs:///data/**"
        access: [read]
      - uri: "fs:///data/out/**"
        access: [read, write]
`)
	host := loader.Host{Mounts: []loader.Mount{{Path: "/data", Dir: data, Write: true}}}
	for _, tt := range []struct {
		path string
		code uint32
	}{
		{"/data/out/x.txt", 0},
		{"/data/x.txt", 1},
	} {
		t.Run(tt.path, func(t *testing.T) {
			r := runProbe(t, perms, host, "writefile", tt.path, "x")
			if r.err != nil || r.code != tt.code {
				t.Errorf("Run = %d, %v (stderr %q); want %d, nil", r.code, r.err, r.stderr, tt.code)
			}
		})
	}
}
