package loader_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wasmgate/wasmgate/loader"
	"github.com/wasmgate/wasmgate/permissions"
)

// policy parses a policy v1.0 document whose permissions mapping is body.
func policy(t testing.TB, body string) *permissions.Policy {
	t.Helper()
	p, err := permissions.Parse([]byte("version: \"1.0\"\npermissions:\n" + body))
	if err != nil {
		t.Fatalf("parse policy: %v", err)
	}
	return p
}

func noEnv(string) (string, bool) { return "", false }

func TestEffectiveGrants(t *testing.T) {
	host := loader.Host{
		Mounts: []loader.Mount{
			{Path: "/data", Dir: "/srv/data", Write: true},
			{Path: "/etc/app"},
		},
		EnvKeys:   []string{"API_KEY", "REGION"},
		Env:       func(k string) (string, bool) { return "v-" + k, k == "API_KEY" },
		MaxMemory: 128 << 20,
		MaxTime:   10 * time.Second,
	}
	tests := []struct {
		name    string
		perms   string
		mounts  []loader.Mount
		env     []string // Key=set
		memory  uint64
		timeout time.Duration
	}{
		{
			name:    "empty policy gets the host's limits and nothing else",
			perms:   "  storage: {}\n",
			memory:  128 << 20,
			timeout: 10 * time.Second,
		},
		{
			name: "glob and plain paths mount the directory, below the host mount",
			perms: `  storage:
    allow:
      - uri: "fs:///data/cache/**"
        access: [read, write]
      - uri: "fs:///etc/app"
        access: [read]
`,
			mounts: []loader.Mount{
				{Path: "/data/cache", Dir: "/srv/data/cache", Write: true},
				{Path: "/etc/app", Dir: "/etc/app"},
			},
			memory: 128 << 20, timeout: 10 * time.Second,
		},
		{
			name: "read only when the policy asks read only, though the host allows write",
			perms: `  storage:
    allow:
      - uri: "fs:///data/**"
        access: [read]
`,
			mounts: []loader.Mount{{Path: "/data", Dir: "/srv/data"}},
			memory: 128 << 20, timeout: 10 * time.Second,
		},
		{
			name: "a nested rule that grants no more than its parent is dropped",
			perms: `  storage:
    allow:
      - uri: "fs:///data/**"
        access: [read, write]
      - uri: "fs:///data/sub/**"
        access: [read]
`,
			mounts: []loader.Mount{{Path: "/data", Dir: "/srv/data", Write: true}},
			memory: 128 << 20, timeout: 10 * time.Second,
		},
		{
			name: "a deny covering a mount removes it; a write deny makes it read-only",
			perms: `  storage:
    allow:
      - uri: "fs:///data/a/**"
        access: [read, write]
      - uri: "fs:///data/b/**"
        access: [read, write]
    deny:
      - uri: "fs:///data/a/**"
        access: [read]
      - uri: "fs:///data/b"
        access: [write]
`,
			mounts: []loader.Mount{{Path: "/data/b", Dir: "/srv/data/b"}},
			memory: 128 << 20, timeout: 10 * time.Second,
		},
		{
			name: "environment: allowed keys, values from the host, unset stays unset",
			perms: `  environment:
    allow:
      - key: API_KEY
      - key: REGION
`,
			env:    []string{"API_KEY=true", "REGION=false"},
			memory: 128 << 20, timeout: 10 * time.Second,
		},
		{
			name: "limits: the policy's, when under the host's; memory rounds down to pages",
			perms: `  resources:
    limits:
      memory: "1000000"
      timeout: "2s"
`,
			memory: 15 * loader.PageSize, timeout: 2 * time.Second,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sb, err := loader.Effective(policy(t, tt.perms), host)
			if err != nil {
				t.Fatalf("Effective: %v", err)
			}
			if !slices.Equal(sb.Mounts, tt.mounts) {
				t.Errorf("Mounts = %+v, want %+v", sb.Mounts, tt.mounts)
			}
			var env []string
			for _, e := range sb.Env {
				env = append(env, e.Key+"="+map[bool]string{true: "true", false: "false"}[e.Set])
			}
			if !slices.Equal(env, tt.env) {
				t.Errorf("Env = %v, want %v", env, tt.env)
			}
			if sb.MemoryBytes != tt.memory || sb.Timeout != tt.timeout {
				t.Errorf("memory, timeout = %d, %v; want %d, %v", sb.MemoryBytes, sb.Timeout, tt.memory, tt.timeout)
			}
		})
	}
}

func TestEffectiveRefuses(t *testing.T) {
	host := loader.Host{
		Mounts:    []loader.Mount{{Path: "/data", Dir: "/srv/data"}},
		EnvKeys:   []string{"API_KEY"},
		Env:       noEnv,
		MaxMemory: 64 << 20,
		MaxTime:   time.Second,
	}
	tests := []struct {
		name                          string
		perms                         string
		missing, network, unsupported []string
	}{
		{
			name: "more than the ceiling, every difference listed",
			perms: `  storage:
    allow:
      - uri: "fs:///data/**"
        access: [read, write]
      - uri: "fs:///home/**"
        access: [read]
      - uri: "fs:///**"
        access: [read]
  environment:
    allow:
      - key: API_KEY
      - key: AWS_SECRET_ACCESS_KEY
  resources:
    limits:
      memory: "512Mi"
      timeout: "1m"
`,
			missing: []string{
				"storage fs:///**: the root directory is never mounted",
				"storage fs:///data/** write: host allows /data read only",
				"storage fs:///home/**: host allows no directory that contains /home",
				"environment AWS_SECRET_ACCESS_KEY: host does not allow it",
				"memory 512 MiB: host allows at most 64 MiB",
				"timeout 1m0s: host allows at most 1s",
			},
		},
		{
			name: "network cannot be granted in WASI preview 1",
			perms: `  network:
    allow:
      - host: "api.example.com"
      - cidr: "10.0.0.0/8"
`,
			network: []string{"host api.example.com", "cidr 10.0.0.0/8"},
		},
		{
			name: "patterns that are not whole directories, and deny rules inside a mount",
			perms: `  storage:
    allow:
      - uri: "fs:///data/*.txt"
        access: [read]
      - uri: "fs://relative/**"
        access: [read]
      - uri: "fs:///data/in/**"
        access: [read]
    deny:
      - uri: "fs:///data/in/keys/**"
        access: [read]
  ipc:
    allow:
      - uri: "pipe://app"
`,
			unsupported: []string{
				"storage fs:///data/*.txt: a mount is a whole absolute directory; ask for fs:///DIR/** or fs:///DIR",
				"storage fs://relative/**: a mount is a whole absolute directory; ask for fs:///DIR/** or fs:///DIR",
				"storage deny fs:///data/in/keys/**: lies within mount /data/in, and WASI preview 1 cannot take part of a mounted directory away",
				"ipc pipe://app: WASI preview 1 has no IPC",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sb, err := loader.Effective(policy(t, tt.perms), host)
			var ce *loader.CeilingError
			if !errors.As(err, &ce) {
				t.Fatalf("Effective = %v, %v; want a *CeilingError", sb, err)
			}
			for _, c := range []struct {
				sentinel   error
				got, want  []string
				sectionFor string
			}{
				{loader.ErrExceedsCeiling, lines(ce.Missing), tt.missing, "Missing"},
				{loader.ErrNetwork, lines(ce.Network), tt.network, "Network"},
				{loader.ErrUnsupported, lines(ce.Unsupported), tt.unsupported, "Unsupported"},
			} {
				if !slices.Equal(c.got, c.want) {
					t.Errorf("%s =\n  %s\nwant\n  %s", c.sectionFor, strings.Join(c.got, "\n  "), strings.Join(c.want, "\n  "))
				}
				if errors.Is(err, c.sentinel) != (len(c.want) > 0) {
					t.Errorf("errors.Is(err, %v) = %v, want %v", c.sentinel, !(len(c.want) > 0), len(c.want) > 0)
				}
			}
		})
	}
}

func lines(diffs []loader.Difference) []string {
	var out []string
	for _, d := range diffs {
		out = append(out, d.String())
	}
	return out
}

// Each difference carries the host setting that would admit it, in the
// Host's terms, so that a front end can name its own flag or key; what
// no setting admits carries none.
func TestCeilingErrorGrants(t *testing.T) {
	host := loader.Host{
		Mounts:    []loader.Mount{{Path: "/data", Dir: "/srv/data"}},
		Env:       noEnv,
		MaxMemory: 64 << 20,
		MaxTime:   2 * time.Second,
	}
	p := policy(t, `  storage:
    allow:
      - uri: "fs:///data/cache/**"
        access: [read, write]
      - uri: "fs:///home/**"
        access: [read]
      - uri: "fs:///out/**"
        access: [read, write]
      - uri: "fs:///**"
        access: [read]
      - uri: "fs:///data/*.txt"
        access: [read]
  environment:
    allow:
      - key: GREETING
  network:
    allow:
      - host: "api.example.com"
      - cidr: "10.0.0.0/8"
  resources:
    limits:
      memory: "512Mi"
      timeout: "5s"
`)
	_, err := loader.Effective(p, host)
	var ce *loader.CeilingError
	if !errors.As(err, &ce) {
		t.Fatalf("Effective = %v, want a *CeilingError", err)
	}
	want := map[string]loader.Grant{
		"storage fs:///** (root)":           {},
		"storage fs:///data/cache/** write": {Kind: loader.GrantDir, Mount: loader.Mount{Path: "/data", Dir: "/srv/data", Write: true}},
		"storage fs:///home/**":             {Kind: loader.GrantDir, Mount: loader.Mount{Path: "/home"}},
		"storage fs:///out/**":              {Kind: loader.GrantDir, Mount: loader.Mount{Path: "/out", Write: true}},
		"environment GREETING":              {Kind: loader.GrantEnv, Env: "GREETING"},
		"memory 512 MiB":                    {Kind: loader.GrantMemory, MemoryBytes: 512 << 20},
		"timeout 5s":                        {Kind: loader.GrantTime, Time: 5 * time.Second},
		"host api.example.com":              {Kind: loader.GrantNoNetwork},
		"cidr 10.0.0.0/8":                   {Kind: loader.GrantNoNetwork},
		"storage fs:///data/*.txt":          {},
	}
	got := map[string]loader.Grant{}
	for _, d := range slices.Concat(ce.Missing, ce.Network, ce.Unsupported) {
		key := d.Request
		if d.Reason == "the root directory is never mounted" {
			key += " (root)"
		}
		got[key] = d.Grant
	}
	for req, g := range want {
		if got[req] != g {
			t.Errorf("%s: Grant = %+v, want %+v", req, got[req], g)
		}
	}
	if len(got) != len(want) {
		t.Errorf("differences %v, want %d", got, len(want))
	}
	// Grants: each setting once, none for what nothing admits.
	grants := ce.Grants()
	kinds := map[loader.GrantKind]int{}
	for _, g := range grants {
		kinds[g.Kind]++
	}
	if kinds[loader.GrantNone] != 0 || kinds[loader.GrantNoNetwork] != 1 || kinds[loader.GrantDir] != 3 || len(grants) != 7 {
		t.Errorf("Grants() = %+v", grants)
	}
}

// A policy over the host's memory or time ceiling is refused by default
// (docs/hosts.md, issue 21 item 2); with ClampLimits it runs under the
// ceiling and the sandbox says what it lowered. Directories and variables
// are never clamped.
func TestEffectiveLimitsOverCeiling(t *testing.T) {
	p := policy(t, "  environment:\n    allow:\n      - key: GREETING\n  resources:\n    limits:\n      memory: \"512Mi\"\n      timeout: \"5s\"\n")
	host := loader.Host{EnvKeys: []string{"GREETING"}, Env: noEnv, MaxMemory: 64 << 20, MaxTime: 2 * time.Second}

	_, err := loader.Effective(p, host)
	var ce *loader.CeilingError
	if !errors.As(err, &ce) || !errors.Is(err, loader.ErrExceedsCeiling) {
		t.Fatalf("default: Effective = %v, want a *CeilingError", err)
	}
	if want := []string{"memory 512 MiB: host allows at most 64 MiB", "timeout 5s: host allows at most 2s"}; !slices.Equal(lines(ce.Missing), want) {
		t.Errorf("default: Missing = %q, want %q", lines(ce.Missing), want)
	}

	host.ClampLimits = true
	sb, err := loader.Effective(p, host)
	if err != nil {
		t.Fatalf("ClampLimits: Effective = %v", err)
	}
	if sb.MemoryBytes != 64<<20 || sb.Timeout != 2*time.Second {
		t.Errorf("ClampLimits: memory %d, timeout %v; want the host's 64 MiB and 2s", sb.MemoryBytes, sb.Timeout)
	}
	wantClamped := []loader.Clamp{{Limit: "memory", Asked: "512 MiB", Granted: "64 MiB"}, {Limit: "timeout", Asked: "5s", Granted: "2s"}}
	if !slices.Equal(sb.Clamped, wantClamped) {
		t.Errorf("Clamped = %+v, want %+v", sb.Clamped, wantClamped)
	}
	for _, l := range []string{"memory 64 MiB (clamped to the host's ceiling; the policy asks for 512 MiB)", "timeout 2s (clamped to the host's ceiling; the policy asks for 5s)"} {
		if !slices.Contains(sb.Lines(), l) {
			t.Errorf("Lines lack %q:\n%s", l, sb)
		}
	}
	b, err := json.Marshal(sb)
	if err != nil || !strings.Contains(string(b), `"clamped":[{"limit":"memory","asked":"512 MiB","granted":"64 MiB"},{"limit":"timeout","asked":"5s","granted":"2s"}]`) {
		t.Errorf("JSON %s, %v", b, err)
	}

	// Within the ceiling nothing is clamped, with or without the option.
	sb, err = loader.Effective(policy(t, "  resources:\n    limits:\n      timeout: \"1s\"\n"), host)
	if err != nil || sb.Timeout != time.Second || len(sb.Clamped) != 0 || strings.Contains(sb.String(), "clamped") {
		t.Errorf("within the ceiling: %v, %+v", err, sb)
	}

	// A variable the host does not grant is refused even with ClampLimits.
	host.EnvKeys = nil
	if _, err := loader.Effective(p, host); !errors.Is(err, loader.ErrExceedsCeiling) {
		t.Errorf("ClampLimits, variable not granted: Effective = %v, want ErrExceedsCeiling", err)
	}
}

func TestEffectiveAllowNoNetwork(t *testing.T) {
	p := policy(t, "  network:\n    allow:\n      - host: \"api.example.com\"\n      - defaults: true\n")
	sb, err := loader.Effective(p, loader.Host{AllowNoNetwork: true})
	if err != nil {
		t.Fatalf("Effective: %v", err)
	}
	want := []string{"host api.example.com", "defaults (Wassette's common hosts)"}
	if !slices.Equal(sb.NetworkDropped, want) {
		t.Errorf("NetworkDropped = %v, want %v", sb.NetworkDropped, want)
	}
	if !slices.Contains(sb.Lines(), "network none; dropped: host api.example.com, defaults (Wassette's common hosts)") {
		t.Errorf("Lines do not show the dropped network:\n%s", sb)
	}
}

func TestEffectiveInvalidHost(t *testing.T) {
	tests := []struct {
		name   string
		mounts []loader.Mount
	}{
		{"relative path", []loader.Mount{{Path: "data"}}},
		{"unclean path", []loader.Mount{{Path: "/data/../etc"}}},
		{"root", []loader.Mount{{Path: "/"}}},
		{"relative host directory", []loader.Mount{{Path: "/data", Dir: "srv/data"}}},
		{"nested mounts", []loader.Mount{{Path: "/data"}, {Path: "/data/keys"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loader.Effective(nil, loader.Host{Mounts: tt.mounts})
			if !errors.Is(err, loader.ErrHost) {
				t.Errorf("Effective = %v, want ErrHost", err)
			}
		})
	}
}

func TestEffectiveDefaults(t *testing.T) {
	sb, err := loader.Effective(nil, loader.Host{})
	if err != nil {
		t.Fatal(err)
	}
	if sb.MemoryBytes != loader.DefaultMaxMemory || sb.Timeout != loader.DefaultMaxTime || len(sb.Mounts)+len(sb.Env) != 0 {
		t.Errorf("zero Host gave %+v", sb)
	}
	sb, err = loader.Effective(policy(t, "  resources:\n    limits:\n      timeout: \"1h\"\n"), loader.Host{MaxTime: loader.NoTimeLimit, MaxMemory: 1 << 40})
	if err != nil {
		t.Fatal(err)
	}
	if sb.Timeout != time.Hour || sb.MemoryBytes != loader.MaxMemoryLimit {
		t.Errorf("NoTimeLimit host: timeout %v, memory %d", sb.Timeout, sb.MemoryBytes)
	}
}

// The JSON form names variables but never carries their values.
func TestSandboxJSONHasNoEnvValues(t *testing.T) {
	p := policy(t, "  environment:\n    allow:\n      - key: API_KEY\n  resources:\n    limits:\n      timeout: \"30s\"\n      cpu: \"500m\"\n")
	sb, err := loader.Effective(p, loader.Host{
		EnvKeys: []string{"API_KEY"},
		Env:     func(string) (string, bool) { return "s3cr3t-value", true },
	})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(sb)
	if err != nil {
		t.Fatal(err)
	}
	got := string(b)
	want := `{"mounts":[],"env":[{"key":"API_KEY","set":true}],"memoryBytes":268435456,"unenforced":["cpu 500m (wazero has no CPU quota; a module runs on one thread)"],"timeout":"30s"}`
	if got != want {
		t.Errorf("JSON =\n%s\nwant\n%s", got, want)
	}
	if strings.Contains(got+sb.String(), "s3cr3t") {
		t.Error("the sandbox's rendering leaks an environment value")
	}
}
