package loader_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/wasmgate/wasmgate/loader"
	"github.com/wasmgate/wasmgate/permissions"
	"github.com/wasmgate/wasmgate/verify"
)

func ExampleEffective() {
	policy, err := permissions.Parse([]byte(`
version: "1.0"
permissions:
  storage:
    allow:
      - uri: "fs:///var/cache/weather/**"
        access: [read, write]
  environment:
    allow:
      - key: OPENWEATHER_API_KEY
  resources:
    limits:
      memory: "64Mi"
      timeout: "30s"
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	sandbox, err := loader.Effective(policy, loader.Host{
		Mounts:  []loader.Mount{{Path: "/var/cache", Dir: "/srv/tenant-1/cache", Write: true}},
		EnvKeys: []string{"OPENWEATHER_API_KEY"},
		Env:     func(string) (string, bool) { return "", false },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(sandbox)
	// Output:
	// mount /var/cache/weather read-write (host /srv/tenant-1/cache/weather)
	// env OPENWEATHER_API_KEY (unset on the host)
	// memory 64 MiB
	// timeout 30s
	// network none
}

func ExampleCeilingError() {
	policy, err := permissions.Parse([]byte(`
version: "1.0"
permissions:
  storage:
    allow:
      - uri: "fs:///data/**"
        access: [read, write]
  network:
    allow:
      - host: "api.example.com"
  resources:
    limits:
      memory: "1Gi"
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	_, err = loader.Effective(policy, loader.Host{Mounts: []loader.Mount{{Path: "/data"}}})
	var ce *loader.CeilingError
	if errors.As(err, &ce) {
		fmt.Println(errors.Is(err, loader.ErrExceedsCeiling), errors.Is(err, loader.ErrNetwork))
		fmt.Println(err)
		// What the host would have to grant, in Host's terms.
		for _, g := range ce.Grants() {
			switch g.Kind {
			case loader.GrantDir:
				fmt.Println("grant: mount", g.Mount.Path, "write", g.Mount.Write)
			case loader.GrantMemory:
				fmt.Println("grant: MaxMemory", g.MemoryBytes, "or ClampLimits")
			case loader.GrantNoNetwork:
				fmt.Println("grant: AllowNoNetwork")
			}
		}
	}
	// Output:
	// true true
	// loader: the policy asks for more than this host can grant
	// beyond the host's limits:
	//   storage fs:///data/** write: host allows /data read only
	//   memory 1 GiB: host allows at most 256 MiB
	// network (WASI preview 1 has no sockets; allow running without network to continue):
	//   host api.example.com
	// grant: mount /data write true
	// grant: MaxMemory 1073741824 or ClampLimits
	// grant: AllowNoNetwork
}

func ExampleHost_clampLimits() {
	policy, err := permissions.Parse([]byte("version: \"1.0\"\npermissions:\n  resources:\n    limits:\n      timeout: \"5s\"\n"))
	if err != nil {
		fmt.Println(err)
		return
	}
	// By default a policy over the ceiling is refused.
	_, err = loader.Effective(policy, loader.Host{MaxTime: 2 * time.Second})
	fmt.Println(errors.Is(err, loader.ErrExceedsCeiling))
	// ClampLimits runs it under the ceiling, and says so.
	sb, err := loader.Effective(policy, loader.Host{MaxTime: 2 * time.Second, ClampLimits: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(sb.Timeout, sb.Clamped)
	// Output:
	// true
	// 2s [{timeout 5s 2s}]
}

func ExampleLoad() {
	// Only package verify builds an Artifact that Load accepts; the zero
	// value is refused before anything is compiled.
	_, err := loader.Load(context.Background(), &verify.Artifact{}, loader.Host{})
	fmt.Println(errors.Is(err, loader.ErrNotVerified))
	// Output: true
}

func ExampleLoadUnsafe() {
	ctx := context.Background()
	data, err := os.MkdirTemp("", "example-")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(data)
	if err := os.WriteFile(filepath.Join(data, "greeting.txt"), []byte("hello from the host\n"), 0o644); err != nil {
		fmt.Println(err)
		return
	}
	policy, err := permissions.Parse([]byte(`
version: "1.0"
permissions:
  storage:
    allow:
      - uri: "fs:///data/**"
        access: [read]
`))
	if err != nil {
		fmt.Println(err)
		return
	}

	// probeWasm is testdata/probe.wasm; "readfile PATH" prints a file.
	m, err := loader.LoadUnsafe(ctx, probeWasm, policy, loader.Host{
		Mounts:   []loader.Mount{{Path: "/data", Dir: data}},
		Args:     []string{"probe", "readfile", "/data/greeting.txt"},
		Stdout:   os.Stdout,
		CacheDir: cacheDir,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close(ctx)
	code, err := m.Run(ctx)
	fmt.Println("exit code", code, err, "unsafe", m.Unsafe())
	// Output:
	// hello from the host
	// exit code 0 <nil> unsafe true
}

func ExampleModule_Run_timeLimit() {
	ctx := context.Background()
	policy, err := permissions.Parse([]byte("version: \"1.0\"\npermissions:\n  resources:\n    limits:\n      timeout: \"200ms\"\n"))
	if err != nil {
		fmt.Println(err)
		return
	}
	m, err := loader.LoadUnsafe(ctx, probeWasm, policy, loader.Host{Args: []string{"probe", "loop"}, CacheDir: cacheDir})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close(ctx)
	_, err = m.Run(ctx)
	fmt.Println(errors.Is(err, loader.ErrTimeLimit), errors.Is(err, context.DeadlineExceeded))
	// Output: true true
}
