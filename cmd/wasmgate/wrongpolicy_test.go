package main

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wasmgate/wasmgate/internal/sample"
	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
	"github.com/wasmgate/wasmgate/permissions"
)

// cliError runs the command in process as run does and returns the error
// itself, for errors.Is on what run only prints.
func cliError(t *testing.T, args ...string) error {
	t.Helper()
	app := newApp(io.Discard, io.Discard)
	return app.RunContext(testkit.Context(t), reorderArgs(app, append([]string{"wasmgate"}, args...)))
}

// push takes the permission policy as --permissions and, deprecated, as
// --policy: the same artifact either way.
func TestPushPermissionsAndDeprecatedPolicy(t *testing.T) {
	reg := testregistry.Distribution(t)
	cliEnv(t, reg)
	wasmPath, policyPath := sampleOnDisk(t)
	code, byPermissions, stderr := wasmgate(t, "push", wasmPath, reg.Ref("wasm/hello", "a"), "--permissions", policyPath)
	if code != 0 || stderr != "" {
		t.Fatalf("push --permissions: exit %d: %s", code, stderr)
	}
	code, byPolicy, stderr := wasmgate(t, "push", wasmPath, reg.Ref("wasm/hello", "b"), "--policy", policyPath)
	if code != 0 || !strings.Contains(stderr, "--policy is deprecated: use --permissions") {
		t.Fatalf("push --policy: exit %d: %s", code, stderr)
	}
	if byPermissions != byPolicy || !strings.HasPrefix(byPermissions, "sha256:") {
		t.Errorf("--permissions pushed %q, --policy %q: want the same digest", byPermissions, byPolicy)
	}
	code, stdout, _ := wasmgate(t, "inspect", reg.Ref("wasm/hello", "a"))
	if code != 0 || !strings.Contains(stdout, "environment GREETING") {
		t.Errorf("the pushed artifact has no policy layer: exit %d\n%s", code, stdout)
	}
	code, stdout, _ = wasmgate(t, "inspect", wasmPath, "--permissions", policyPath)
	if code != 0 || !strings.Contains(stdout, "environment GREETING") {
		t.Errorf("inspect of a local file with --permissions: exit %d\n%s", code, stdout)
	}
	if code, _, stderr := wasmgate(t, "push", wasmPath, reg.Ref("wasm/hello", "c"), "--permissions", policyPath, "--policy", policyPath); code != exitUsage {
		t.Errorf("both spellings: exit %d, want %d: %s", code, exitUsage, stderr)
	}
	if _, help, _ := wasmgate(t, "push", "--help"); !strings.Contains(help, "--permissions") || !strings.Contains(help, "deprecated") {
		t.Errorf("push --help does not show --permissions and the deprecation:\n%s", help)
	}
}

// Regression: a trust policy given to push, or a permission policy given
// to verify, run or pull --verified, was blamed on one of its fields. The
// error says which kind of file it is and which flag takes it, before any
// request.
func TestWrongKindOfPolicyFile(t *testing.T) {
	reg := testregistry.Distribution(t)
	cliEnv(t, reg)
	wasmPath, permsPath := sampleOnDisk(t)
	trustPath := filepath.Join(t.TempDir(), "trust.yaml")
	if err := os.WriteFile(trustPath, sample.TrustPolicyYAML(), 0o644); err != nil {
		t.Fatal(err)
	}
	ref := reg.Ref("wasm/hello", "v1")
	trustAsPermissions := trustPath + " is a trust policy (policies:), not a permission policy"
	permissionsAsTrust := "this is a permission policy (permissions:), not a trust policy"
	cases := []struct {
		name  string
		args  []string
		typed error // the parser's sentinel, where the CLI keeps it
		want  []string
	}{
		{"push --permissions TRUST", []string{"push", wasmPath, ref, "--permissions", trustPath}, permissions.ErrTrustPolicy,
			[]string{trustAsPermissions, "push --permissions wants", "verify, run or pull --verified as --policy"}},
		{"push --policy TRUST", []string{"push", wasmPath, ref, "--policy", trustPath}, permissions.ErrTrustPolicy,
			[]string{trustAsPermissions, "push --policy wants", "verify, run or pull --verified as --policy"}},
		{"inspect FILE --permissions TRUST", []string{"inspect", wasmPath, "--permissions", trustPath}, permissions.ErrTrustPolicy,
			[]string{trustAsPermissions, "inspect --permissions wants"}},
		{"verify --policy PERMISSIONS", []string{"verify", ref, "--policy", permsPath}, nil,
			[]string{permissionsAsTrust, "push --permissions", "--policy wants a trust policy"}},
		{"run --policy PERMISSIONS", []string{"run", ref, "--policy", permsPath}, nil,
			[]string{permissionsAsTrust, "push --permissions", "--policy wants a trust policy"}},
		{"pull --verified --policy PERMISSIONS", []string{"pull", ref, "--verified", "--policy", permsPath, "-o", t.TempDir()}, nil,
			[]string{permissionsAsTrust, "push --permissions", "--policy wants a trust policy"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			reg.Faults.ResetLog()
			code, _, stderr := wasmgate(t, tc.args...)
			if code != exitUsage {
				t.Errorf("exit %d, want %d", code, exitUsage)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("the error does not say %q:\n%s", w, stderr)
				}
			}
			if n := len(reg.Faults.Requests()); n != 0 {
				t.Errorf("%d registry requests before the refusal", n)
			}
			if tc.typed != nil {
				if err := cliError(t, tc.args...); !errors.Is(err, tc.typed) || !errors.Is(err, errUsage) {
					t.Errorf("error %v: want errors.Is %v and a usage error", err, tc.typed)
				}
			}
		})
	}
}
