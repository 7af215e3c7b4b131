package loader_test

import (
	"errors"
	"os/exec"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/wasmgate/wasmgate/loader"
	"github.com/wasmgate/wasmgate/permissions"
)

func mustParse(t *testing.T, perms string) *permissions.Policy {
	t.Helper()
	p, err := permissions.Parse([]byte("version: \"1.0\"\npermissions:\n" + perms))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// capsPolicy parses c.Policy back with package permissions.
func capsPolicy(t *testing.T, c *loader.Capabilities) (string, permissions.Permissions) {
	t.Helper()
	raw, err := c.Policy()
	if err != nil {
		t.Fatal(err)
	}
	p, err := permissions.Parse(raw)
	if err != nil {
		t.Fatalf("the effective policy does not parse back: %v\n%s", err, raw)
	}
	return string(raw), p.Permissions
}

const networkROEnv = `  storage:
    allow:
      - uri: "fs:///data/**"
        access: [read]
  network:
    allow:
      - host: "api.example.com"
  environment:
    allow:
      - key: GREETING
  resources:
    limits:
      memory: 64Mi
      timeout: 1500ms
`

// Network, a read-only directory and a variable, with no ceiling: the
// flags grant the network (wider: wasmtime has no host rules) and the
// variable, and leave out the read-only directory, which --dir would make
// writable; the Wassette policy holds exactly what the policy asks.
func TestComponentCapabilitiesNetworkReadOnlyEnv(t *testing.T) {
	c, err := loader.ComponentCapabilities(mustParse(t, networkROEnv), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"--env", "GREETING", "-S", "inherit-network=y", "-S", "allow-ip-name-lookup=y", "-S", "http=y",
		"-W", "max-memory-size=67108864", "-W", "timeout=1500ms"}
	if got := c.WasmtimeFlags(); !slices.Equal(got, want) {
		t.Errorf("flags\n got %q\nwant %q", got, want)
	}
	wantFile := `# wasmtime run flags for the effective capabilities: the signed policy within the host's ceiling (wasmgate pull --verified).
# Use: grep -v '^#' capabilities.wasmtime.txt | xargs sh -c 'exec wasmtime run "$@" app.wasm' wasmtime
# storage /data is read-only in the policy, and wasmtime's --dir grants read and write; not granted (add --dir /data::/data only when the host directory is read-only to wasmtime, e.g. a read-only bind mount)
# network: the policy allows host api.example.com; wasmtime cannot restrict a guest to hosts or addresses, so -S inherit-network=y grants the whole network
--env GREETING
-S inherit-network=y
-S allow-ip-name-lookup=y
-S http=y
-W max-memory-size=67108864
-W timeout=1500ms
`
	if got := string(c.WasmtimeFile()); got != wantFile {
		t.Errorf("file\n%s\nwant\n%s", got, wantFile)
	}
	raw, perms := capsPolicy(t, c)
	wantPolicy := `# Effective permissions: the signed policy within the host's ceiling (wasmgate pull --verified).
version: "1.0"
description: effective permissions written by wasmgate pull --verified
permissions:
  storage:
    allow:
      - uri: fs:///data/**
        access: [read]
  network:
    allow:
      - host: api.example.com
  environment:
    allow:
      - key: GREETING
  resources:
    limits:
      memory: 64Mi
      timeout: 1.5s
`
	if raw != wantPolicy {
		t.Errorf("policy\n%s\nwant\n%s", raw, wantPolicy)
	}
	// Parsed back, it grants what the signed policy grants.
	signed := mustParse(t, networkROEnv).Permissions
	if !reflect.DeepEqual(perms, signed) {
		t.Errorf("parsed back\n%+v\nwant\n%+v", perms, signed)
	}
}

// A ceiling narrower than the policy: only the intersection, each cut
// listed; a ceiling's host directory is used in --dir.
func TestComponentCapabilitiesNarrowCeiling(t *testing.T) {
	policy := mustParse(t, `  storage:
    allow:
      - uri: "fs:///data/**"
        access: [read, write]
      - uri: "fs:///out/**"
        access: [read, write]
      - uri: "fs:///logs/**"
        access: [read]
  environment:
    allow:
      - key: GREETING
      - key: API_KEY
  network:
    allow:
      - cidr: "10.0.0.0/8"
`)
	c, err := loader.ComponentCapabilities(policy, &loader.Host{
		Mounts:         []loader.Mount{{Path: "/data", Dir: "/srv/data"}, {Path: "/out", Dir: "/srv/my out", Write: true}},
		EnvKeys:        []string{"GREETING"},
		AllowNoNetwork: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"--dir", "/srv/my out::/out", "--env", "GREETING"}; !slices.Equal(c.WasmtimeFlags(), want) {
		t.Errorf("flags %q, want %q", c.WasmtimeFlags(), want)
	}
	if !strings.Contains(string(c.WasmtimeFile()), "\n--dir '/srv/my out::/out'\n") {
		t.Errorf("the file does not quote the directory:\n%s", c.WasmtimeFile())
	}
	wantDropped := []string{
		"storage fs:///data/** write: the host allows /data read only",
		"storage fs:///logs/**: the host allows no directory that contains it",
		"environment API_KEY: the host does not allow it",
		"network: the host runs it without network (allowNoNetwork)",
	}
	if !slices.Equal(c.Dropped, wantDropped) {
		t.Errorf("dropped\n%q\nwant\n%q", c.Dropped, wantDropped)
	}
	_, perms := capsPolicy(t, c)
	want := mustParse(t, `  storage:
    allow:
      - uri: "fs:///data/**"
        access: [read]
      - uri: "fs:///out/**"
        access: [read, write]
  environment:
    allow:
      - key: GREETING
`).Permissions
	if !reflect.DeepEqual(perms, want) {
		t.Errorf("effective policy\n%+v\nwant\n%+v", perms, want)
	}
}

// No grants: no flags (the file is comments only) and a policy that
// grants nothing.
func TestComponentCapabilitiesNoGrants(t *testing.T) {
	for name, p := range map[string]*permissions.Policy{"nil": nil, "empty": mustParse(t, "  {}\n")} {
		for _, ceiling := range []*loader.Host{nil, {}} {
			c, err := loader.ComponentCapabilities(p, ceiling)
			if err != nil {
				t.Fatal(err)
			}
			if f := c.WasmtimeFlags(); len(f) != 0 {
				t.Errorf("%s: flags %q", name, f)
			}
			for _, line := range strings.SplitAfter(string(c.WasmtimeFile()), "\n") {
				if line != "" && !strings.HasPrefix(line, "#") {
					t.Errorf("%s: file line %q", name, line)
				}
			}
			raw, perms := capsPolicy(t, c)
			if !strings.HasSuffix(raw, "permissions: {}\n") || !reflect.DeepEqual(perms, permissions.Permissions{}) {
				t.Errorf("%s: policy\n%s", name, raw)
			}
		}
	}
}

// What --dir cannot grant exactly is left out and said: a deny rule
// inside a directory, a pattern, a write-only directory.
func TestComponentCapabilitiesInexactStorage(t *testing.T) {
	c, err := loader.ComponentCapabilities(mustParse(t, `  storage:
    allow:
      - uri: "fs:///data/**"
        access: [read, write]
      - uri: "fs:///cfg/*.json"
        access: [read]
      - uri: "fs:///drop"
        access: [write]
    deny:
      - uri: "fs:///data/secret/**"
        access: [read]
  resources:
    limits:
      cpu: 500m
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	if f := c.WasmtimeFlags(); len(f) != 0 {
		t.Errorf("flags %q", f)
	}
	notes := strings.Join(c.WasmtimeNotes(), "\n")
	for _, want := range []string{"storage /data: the policy denies fs:///data/secret/**", "storage /drop is write-only", "storage fs:///cfg/*.json is not a whole directory", "cpu 500m"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
	_, perms := capsPolicy(t, c)
	signed := mustParse(t, `  storage:
    allow:
      - uri: "fs:///data/**"
        access: [read, write]
      - uri: "fs:///cfg/*.json"
        access: [read]
      - uri: "fs:///drop"
        access: [write]
    deny:
      - uri: "fs:///data/secret/**"
        access: [read]
  resources:
    limits:
      cpu: 500m
`).Permissions
	if !reflect.DeepEqual(perms, signed) {
		t.Errorf("effective policy\n%+v\nwant\n%+v", perms, signed)
	}
}

func TestComponentCapabilitiesInvalidCeiling(t *testing.T) {
	_, err := loader.ComponentCapabilities(nil, &loader.Host{Mounts: []loader.Mount{{Path: "data"}}})
	if !errors.Is(err, loader.ErrHost) {
		t.Errorf("err = %v, want ErrHost", err)
	}
}

// The documented use: the file's flags, through grep and xargs, reach
// the command as the arguments WasmtimeFlags returns, quotes removed.
func TestWasmtimeFileThroughXargs(t *testing.T) {
	if _, err := exec.LookPath("xargs"); err != nil {
		t.Skip("no xargs")
	}
	c, err := loader.ComponentCapabilities(mustParse(t, `  storage:
    allow:
      - uri: "fs:///out/**"
        access: [read, write]
  environment:
    allow:
      - key: GREETING
`), &loader.Host{Mounts: []loader.Mount{{Path: "/out", Dir: "/srv/it's here", Write: true}}, EnvKeys: []string{"GREETING"}})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sh", "-c", `grep -v '^#' | xargs sh -c 'printf "%s\n" "$@"' wasmtime`)
	cmd.Stdin = strings.NewReader(string(c.WasmtimeFile()))
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if want := c.WasmtimeFlags(); !slices.Equal(got, want) {
		t.Errorf("through xargs %q, want %q", got, want)
	}

}
