package loader_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/wasmgate/wasmgate/access"
	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
	"github.com/wasmgate/wasmgate/loader"
	"github.com/wasmgate/wasmgate/remote"
	"github.com/wasmgate/wasmgate/sign"
	"github.com/wasmgate/wasmgate/verify"
)

// verifiedComponent publishes the fixture file (testdata/wasm) with
// policyYAML (nil: no policy layer) in an OCI layout, signs it with a
// fresh key and returns what verify.Verifier.Fetch hands out for it: the
// real pipeline, as TestLoadRunsTheVerifiedBytesAfterTheTagMoved.
func verifiedComponent(t *testing.T, file string, policyYAML []byte) *verify.Artifact {
	t.Helper()
	ctx := testkit.Context(t)
	wasm, err := os.ReadFile(filepath.Join("..", "testdata", "wasm", file))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	site := testkit.Open(t, nil, "oci-layout:"+filepath.Join(dir, "app")+":v1", remote.Options{})
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pkg := testkit.Push(t, site.Target, testkit.TempFile(t, file, wasm), policyYAML, "v1")
	if _, err := sign.Cosign(ctx, site.Target, pkg.Manifest, key, sign.Options{}); err != nil {
		t.Fatal(err)
	}
	testkit.WritePublicKey(t, filepath.Join(dir, "k.pub"), key.Public())
	trust := "version: v1\npolicies:\n  - name: p\n    scopes: [\"*\"]\n    signatures:\n      authorities:\n        - name: k\n          cosign: {key: k.pub, insecureIgnoreTlog: true}\n"
	if err := os.WriteFile(filepath.Join(dir, "trust.yaml"), []byte(trust), 0o644); err != nil {
		t.Fatal(err)
	}
	policy, err := verify.LoadPolicy(ctx, filepath.Join(dir, "trust.yaml"), verify.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	v, err := verify.New(policy, &access.Opener{}, verify.Options{})
	if err != nil {
		t.Fatal(err)
	}
	a, _, err := v.Fetch(ctx, site.Ref)
	if err != nil {
		t.Fatal(err)
	}
	if a.Kind() != artifact.KindComponent {
		t.Fatalf("%s is a %s", file, a.Kind())
	}
	return a
}

const (
	networkPolicy = "version: \"1.0\"\npermissions:\n  network:\n    allow:\n      - host: \"api.example.com\"\n"
	storagePolicy = "version: \"1.0\"\npermissions:\n  storage:\n    allow:\n      - uri: \"fs:///data/**\"\n        access: [read]\n"
	allPolicy     = "version: \"1.0\"\npermissions:\n  network:\n    allow:\n      - host: \"api.example.com\"\n  storage:\n    allow:\n      - uri: \"fs:///data/**\"\n        access: [read]\n  environment:\n    allow:\n      - key: HOME\n"
)

// Strict mode: a verified component that imports wasi:sockets is refused
// unless its signed policy grants network, before its bytes go anywhere.
func TestStrictComponentImports(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		policy     []byte
		denied     []loader.DeniedImport
	}{
		{"sockets without a policy", "sockets.wasm", nil, []loader.DeniedImport{{Import: "wasi:sockets/tcp@0.2.0", Permission: loader.PermissionNetwork}}},
		{"sockets under storage only", "sockets.wasm", []byte(storagePolicy), []loader.DeniedImport{{Import: "wasi:sockets/tcp@0.2.0", Permission: loader.PermissionNetwork}}},
		{"sockets under network", "sockets.wasm", []byte(networkPolicy), nil},
		{"capabilities under network", "capabilities.wasm", []byte(networkPolicy), []loader.DeniedImport{
			{Import: "wasi:filesystem/types@0.2.0", Permission: loader.PermissionStorage},
			{Import: "wasi:cli/environment@0.2.0", Permission: loader.PermissionEnvironment},
		}},
		{"capabilities under all three", "capabilities.wasm", []byte(allPolicy), nil},
		{"no imports, no policy", "component.wasm", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := verifiedComponent(t, tc.file, tc.policy)
			c, err := loader.CheckComponent(a)
			if tc.denied == nil {
				if err != nil || c == nil || c.Reference != a.Reference() || len(c.Exports) == 0 {
					t.Fatalf("CheckComponent = %+v, %v", c, err)
				}
				return
			}
			var ie *loader.ImportError
			if !errors.Is(err, loader.ErrImportNotGranted) || !errors.As(err, &ie) || c != nil {
				t.Fatalf("CheckComponent = %+v, %v; want an ImportError", c, err)
			}
			if !slices.Equal(ie.Denied, tc.denied) || ie.Reference != a.Reference() {
				t.Errorf("denied %+v of %s, want %+v", ie.Denied, ie.Reference, tc.denied)
			}
		})
	}
}

func TestStrictComponentRefusesUnverified(t *testing.T) {
	if _, err := loader.CheckComponent(&verify.Artifact{}); !errors.Is(err, loader.ErrNotVerified) {
		t.Errorf("CheckComponent(zero) = %v, want ErrNotVerified", err)
	}
}

func TestImportPermission(t *testing.T) {
	for name, want := range map[string]loader.Permission{
		"wasi:sockets/tcp@0.2.0":           loader.PermissionNetwork,
		"wasi:sockets/ip-name-lookup":      loader.PermissionNetwork,
		"wasi:http/outgoing-handler@0.2.3": loader.PermissionNetwork,
		"wasi:filesystem/preopens@0.2.0":   loader.PermissionStorage,
		"wasi:cli/environment@0.2.0":       loader.PermissionEnvironment,
		"wasi:http/types@0.2.0":            "",
		"wasi:cli/stdout@0.2.0":            "",
		"wasi:clocks/wall-clock@0.2.0":     "",
		"add":                              "",
		"wasi:socketsx/tcp":                "",
	} {
		if got, ok := loader.ImportPermission(name); got != want || ok != (want != "") {
			t.Errorf("ImportPermission(%q) = %q, %v; want %q", name, got, ok, want)
		}
	}
}
