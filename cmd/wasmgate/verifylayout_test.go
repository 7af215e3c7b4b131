package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
)

// verify-layout on in-toto-golang's own demo, read from the module cache:
// its DSSE layout without inspections and the links beside it verify; the
// demo layout with the inspection "untar" is refused (exit 1) without
// running tar; another owner key is refused.
func TestVerifyLayoutCLI(t *testing.T) {
	data := testkit.ModuleFile(t, "github.com/in-toto/in-toto-golang", "test/data")
	file := func(name string) string { return filepath.Join(data, name) }

	code, stdout, stderr := wasmgate(t, "verify-layout", file("dsse-only.root.layout"), "--layout-key", file("alice.pub"), "--link-dir", data)
	if code != exitOK || !strings.Contains(stdout, "dsse-only.root.layout: verified") ||
		!strings.Contains(stdout, "step package-dsse: 1 of 1 links counted (2f89b927)") ||
		!strings.Contains(stdout, "product demo-project.tar.gz sha256:") {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}

	code, stdout, _ = wasmgate(t, "verify-layout", file("dsse-only.root.layout"), "--layout-key", file("alice.pub"), "--link-dir", data, "--output", "json")
	var res struct {
		Layout   string `json:"layout"`
		Verified bool   `json:"verified"`
		Steps    []struct {
			Name          string   `json:"name"`
			Functionaries []string `json:"functionaries"`
		} `json:"steps"`
		Products   map[string]map[string]string `json:"products"`
		FailedStep string                       `json:"failedStep"`
		Reason     string                       `json:"reason"`
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	if code != exitOK || !res.Verified || len(res.Steps) != 3 || res.Steps[0].Name != "clone-dsse" || res.Products["demo-project.tar.gz"]["sha256"] == "" {
		t.Errorf("json: exit %d\n%s", code, stdout)
	}

	code, stdout, _ = wasmgate(t, "verify-layout", file("demo.layout"), "--layout-key", file("alice.pub"), "--link-dir", data)
	if code != exitDenied || !strings.Contains(stdout, "inspections (not run): untar") || !strings.Contains(stdout, "in-toto-verify") {
		t.Errorf("a layout with inspections: exit %d\n%s", code, stdout)
	}

	code, stdout, _ = wasmgate(t, "verify-layout", file("dsse-only.root.layout"), "--layout-key", file("carol.pub"), "--link-dir", data, "--output", "json")
	res.Verified, res.Reason = true, ""
	if err := json.Unmarshal([]byte(stdout), &res); err != nil || code != exitDenied || res.Verified || !strings.Contains(res.Reason, "not signed by the layout key") {
		t.Errorf("another owner key: exit %d\n%s", code, stdout)
	}

	// The links of another directory: none for the first step.
	code, stdout, _ = wasmgate(t, "verify-layout", file("dsse-only.root.layout"), "--layout-key", file("alice.pub"), "--link-dir", t.TempDir(), "--output", "json")
	res.FailedStep = ""
	if err := json.Unmarshal([]byte(stdout), &res); err != nil || code != exitDenied || res.FailedStep != "clone-dsse" {
		t.Errorf("no links: exit %d\n%s", code, stdout)
	}
}

func TestVerifyLayoutCLIUsage(t *testing.T) {
	data := testkit.ModuleFile(t, "github.com/in-toto/in-toto-golang", "test/data")
	layout, key := filepath.Join(data, "dsse-only.root.layout"), filepath.Join(data, "alice.pub")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no layout", []string{"--layout-key", key, "--link-dir", data}, "one ROOT.layout"},
		{"no key", []string{layout, "--link-dir", data}, "--layout-key"},
		{"no link dir", []string{layout, "--layout-key", key}, "--link-dir"},
		{"link dir not a directory", []string{layout, "--layout-key", key, "--link-dir", key}, "not a directory"},
		{"a private key", []string{layout, "--layout-key", filepath.Join(data, "carol"), "--link-dir", data}, "private key"},
		{"no such layout", []string{filepath.Join(data, "none.layout"), "--layout-key", key, "--link-dir", data}, "none.layout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := wasmgate(t, append([]string{"verify-layout"}, tc.args...)...)
			if code != exitUsage || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, want %d naming %q: %s", code, exitUsage, tc.want, stderr)
			}
		})
	}
}
