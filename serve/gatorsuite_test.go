package serve_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	constraintclient "github.com/open-policy-agent/frameworks/constraint/pkg/client"
	"github.com/open-policy-agent/frameworks/constraint/pkg/client/drivers/rego"
	"github.com/open-policy-agent/frameworks/constraint/pkg/externaldata"
	"github.com/open-policy-agent/gatekeeper/v3/pkg/gator"
	"github.com/open-policy-agent/gatekeeper/v3/pkg/gator/verify"

	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
	"github.com/wasmgate/wasmgate/serve"
)

// deploy/gatekeeper/tests/suite.yaml, run by gator verify's own runner:
// the same Suite format, template and constraint files, cases and
// assertions, with gator's OPA client given what gator alone lacks, an
// external data provider cache (the Provider points at the test server).
// The suite's REGISTRY is the test registry's host.
func TestGatekeeperSuite(t *testing.T) {
	f := newFleet(t, serve.Options{})
	providers := externaldata.NewCache()
	if err := providers.Upsert(f.provider()); err != nil {
		t.Fatal(err)
	}
	// The suite, its template and constraint, with REGISTRY filled in.
	dir := t.TempDir()
	src := filepath.Join("..", "deploy", "gatekeeper")
	for _, name := range []string{"template.yaml", "constraint.yaml", "tests/suite.yaml", "tests/pod-signed.yaml",
		"tests/pod-unsigned.yaml", "tests/pod-absent.yaml", "tests/spinapp-unsigned.yaml"} {
		raw, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(strings.ReplaceAll(string(raw), "REGISTRY", f.reg.Host)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	withProviders := func() ([]constraintclient.Opt, []rego.Arg, error) {
		return nil, []rego.Arg{rego.AddExternalDataProviderCache(providers)}, nil
	}
	runner, err := verify.NewRunner(os.DirFS(dir), func(opts ...gator.Opt) (gator.Client, error) {
		return gator.NewOPAClient(false, append(opts, withProviders)...)
	})
	if err != nil {
		t.Fatal(err)
	}
	suites, err := verify.ReadSuites(os.DirFS(dir), "tests/suite.yaml", "tests/suite.yaml", false)
	if err != nil || len(suites) != 1 {
		t.Fatalf("suites %d: %v", len(suites), err)
	}
	all, err := verify.NewFilter("")
	if err != nil {
		t.Fatal(err)
	}
	res := runner.Run(testkit.Context(t), all, suites[0])
	if res.IsFailure() {
		for _, tr := range res.TestResults {
			for _, c := range tr.CaseResults {
				if c.Error != nil {
					t.Errorf("%s / %s: %v", tr.Name, c.Name, c.Error)
				}
			}
			if tr.Error != nil {
				t.Errorf("%s: %v", tr.Name, tr.Error)
			}
		}
		t.Fatalf("the suite failed: %+v", res)
	}
	cases := 0
	for _, tr := range res.TestResults {
		cases += len(tr.CaseResults)
	}
	if cases != 4 {
		t.Fatalf("%d cases ran, want 4", cases)
	}
}
