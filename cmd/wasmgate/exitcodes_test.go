package main

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/wasmgate/wasmgate/evidence/cosign"
	"github.com/wasmgate/wasmgate/evidence/notation"
	"github.com/wasmgate/wasmgate/internal/testrig/peers"
	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
	"github.com/wasmgate/wasmgate/internal/testrig/testpki"
	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
	"github.com/wasmgate/wasmgate/remote"
	"github.com/wasmgate/wasmgate/verify"
)

// exitFixture is what the exit-code tests share: one registry holding the
// sample artifact at wasm/hello:v1, signed with one key, and the files
// every command needs to get as far as the registry.
type exitFixture struct {
	reg                 *testregistry.Registry
	dir                 string
	wasm, perms         string // the sample module and its permission policy
	key, pub, otherPub  string // cosign key files; the artifact is signed with key
	predicate, sbom     string // for attest and attach
	trustPolicy, broken string // a trust policy trusting pub, and one that is not valid
}

func newExitFixture(t *testing.T, kind testregistry.Kind) *exitFixture {
	t.Helper()
	reg := testregistry.New(t, kind)
	cliEnv(t, reg)
	t.Setenv("COSIGN_PASSWORD", "")
	f := &exitFixture{reg: reg, dir: t.TempDir()}
	f.wasm, f.perms = sampleOnDisk(t)
	for _, name := range []string{"release", "other"} {
		if code, _, stderr := wasmgate(t, "generate-key-pair", "--output-key-prefix", filepath.Join(f.dir, name)); code != 0 {
			t.Fatal(stderr)
		}
	}
	f.key, f.pub, f.otherPub = filepath.Join(f.dir, "release.key"), filepath.Join(f.dir, "release.pub"), filepath.Join(f.dir, "other.pub")
	f.predicate = filepath.Join(f.dir, "predicate.json")
	f.sbom = filepath.Join(f.dir, "sbom.json")
	f.trustPolicy = filepath.Join(f.dir, "trust.yaml")
	f.broken = filepath.Join(f.dir, "broken.yaml")
	for path, data := range map[string]string{
		f.predicate:   `{"hello": "world"}`,
		f.sbom:        `{"spdxVersion": "SPDX-2.3"}`,
		f.trustPolicy: "version: v1\npolicies:\n  - name: release\n    scopes: [\"*\"]\n    signatures:\n      authorities:\n        - name: release\n          cosign: {key: release.pub, insecureIgnoreTlog: true}\n",
		f.broken:      "version: v1\npolicies:\n  - name: release\n    scopes: [\"*\"]\n    signatures:\n      threshold: 3\n      authorities:\n        - name: release\n          cosign: {key: release.pub, insecureIgnoreTlog: true}\n",
	} {
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ref := reg.Ref("wasm/hello", "v1")
	if code, _, stderr := wasmgate(t, "push", f.wasm, ref, "--policy", f.perms); code != 0 {
		t.Fatalf("push: %s", stderr)
	}
	if code, _, stderr := wasmgate(t, "sign", ref, "--key", f.key); code != 0 {
		t.Fatalf("sign: %s", stderr)
	}
	return f
}

// registryCommand is a command that reaches a registry, and how to make
// it reach ref.
type registryCommand struct {
	name string
	args func(f *exitFixture, t *testing.T, ref string) []string
	// writes: the command creates what ref names (push), so a missing tag
	// is no failure.
	writes bool
}

var registryCommands = []registryCommand{
	{name: "pull", args: func(f *exitFixture, t *testing.T, ref string) []string {
		return []string{"pull", ref, "-o", t.TempDir()}
	}},
	{name: "inspect", args: func(_ *exitFixture, _ *testing.T, ref string) []string { return []string{"inspect", ref} }},
	{name: "discover", args: func(_ *exitFixture, _ *testing.T, ref string) []string { return []string{"discover", ref} }},
	{name: "verify", args: func(f *exitFixture, _ *testing.T, ref string) []string {
		return []string{"verify", ref, "--key", f.pub, "--insecure-ignore-tlog"}
	}},
	{name: "sign", args: func(f *exitFixture, _ *testing.T, ref string) []string {
		return []string{"sign", ref, "--key", f.key}
	}},
	{name: "attest", args: func(f *exitFixture, _ *testing.T, ref string) []string {
		return []string{"attest", ref, "--key", f.key, "--predicate", f.predicate}
	}},
	{name: "copy", args: func(_ *exitFixture, t *testing.T, ref string) []string {
		return []string{"copy", ref, "oci-layout:" + filepath.Join(t.TempDir(), "copy") + ":v1"}
	}},
	{name: "attach", args: func(f *exitFixture, _ *testing.T, ref string) []string {
		return []string{"attach", ref, f.sbom + ":application/spdx+json", "--artifact-type", "application/spdx+json"}
	}},
	{name: "push", writes: true, args: func(f *exitFixture, _ *testing.T, ref string) []string {
		return []string{"push", f.wasm, ref, "--policy", f.perms}
	}},
}

// failureClass is one class of failure: how to provoke it for a
// reference, the exit code every command must give, and what its message
// must name (regular expressions over stdout and stderr, where HOST stands
// for the reference's host).
type failureClass struct {
	name string
	code int
	// ref returns the reference to use, after injecting faults for it.
	ref   func(f *exitFixture) string
	extra []string // flags added to the command line
	says  []string
	// readsOnly: the class makes no sense for a command that writes.
	readsOnly bool
	// injected: a fault answers in the registry's place, so one registry
	// kind is enough.
	injected bool
	// slow: oras-go retries it for seconds (a 503, five times); with
	// -short only verify and pull meet it.
	slow bool
}

// TestExitCodes pins, for every command that talks to a registry, the
// exit code of each class of failure and that its message names the next
// step. What the registry itself answers (not found) is tried on both
// kinds; faults that answer in its place, on one. Sequential: urfave/cli
// mutates package-level state (its help flag and command), so the
// in-process CLI cannot run twice at once.
func TestExitCodes(t *testing.T) {
	closed := closedPort(t)
	for _, kind := range testregistry.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			f := newExitFixture(t, kind)
			classes := []failureClass{
				{name: "missing tag", code: exitNotFound, readsOnly: true,
					ref:  func(f *exitFixture) string { return f.reg.Ref("wasm/hello", "no-such-tag") },
					says: []string{`not found`, `check the repository and the tag or digest`}},
				{name: "missing repository", code: exitNotFound, readsOnly: true,
					ref:  func(f *exitFixture) string { return f.reg.Ref("wasm/nothing-here", "v1") },
					says: []string{`not found`, `check the repository and the tag or digest`}},
				{name: "missing digest", code: exitNotFound, readsOnly: true,
					ref:  func(f *exitFixture) string { return f.reg.Ref("wasm/hello", "sha256:"+strings.Repeat("ab", 32)) },
					says: []string{`not found`, `check the repository and the tag or digest`}},
				{name: "401", code: exitAuth, injected: true,
					ref:  faulty("auth401", testregistry.Unauthorized()),
					says: []string{`authentication required`, "run `wasmgate login HOST`"}},
				{name: "401 with wrong credentials", code: exitAuth, injected: true,
					ref:  wrongCredentials(t),
					says: []string{`authentication required \(HTTP 401\)`, "run `wasmgate login HOST`"}},
				{name: "403", code: exitAuth, injected: true,
					ref:  faulty("auth403", testregistry.Status(403, 0)),
					says: []string{`access denied`, `\(HTTP 403\)`, "wasmgate login HOST"}},
				{name: "503", code: exitUndecided, injected: true, slow: true,
					ref:  faulty("unavailable", testregistry.Status(503, 0)),
					says: []string{`\(HTTP 503\)`, `retry later`}},
				{name: "stall", code: exitUndecided, injected: true, extra: []string{"--timeout", "300ms"},
					ref:  faulty("stall", testregistry.Hang()),
					says: []string{`registry timed out`, `raise --timeout`}},
				{name: "closed port", code: exitUndecided, injected: true,
					ref:  func(*exitFixture) string { return closed + "/wasm/hello:v1" },
					says: []string{`registry unreachable`, `check the host name and your network`}},
				{name: "plain HTTP over HTTPS", code: exitUsage, injected: true,
					// The registry by another name than WASMGATE_PLAIN_HTTP's.
					ref: func(f *exitFixture) string {
						return "localhost:" + f.reg.URL.Port() + "/wasm/hello:v1"
					},
					says: []string{`speaks plain HTTP`, `--plain-http`, `WASMGATE_PLAIN_HTTP=HOST`}},
			}
			for _, class := range classes {
				if class.injected && kind != testregistry.KindDistribution {
					continue
				}
				ref := class.ref(f)
				host, _, _ := strings.Cut(ref, "/")
				t.Run(class.name, func(t *testing.T) {
					for _, cmd := range registryCommands {
						if cmd.writes && class.readsOnly {
							continue
						}
						if class.slow && testing.Short() && cmd.name != "verify" && cmd.name != "pull" {
							continue
						}
						t.Run(cmd.name, func(t *testing.T) {
							args := append(cmd.args(f, t, ref), class.extra...)
							code, stdout, stderr := wasmgate(t, args...)
							if code != class.code {
								t.Fatalf("%v: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", args, code, class.code, stdout, stderr)
							}
							for _, want := range class.says {
								want = strings.ReplaceAll(want, "HOST", regexp.QuoteMeta(host))
								if !regexp.MustCompile(want).MatchString(stdout + stderr) {
									t.Errorf("%v: the message does not say %q:\n%s%s", args, want, stdout, stderr)
								}
							}
						})
					}
				})
			}
		})
	}
}

// faulty returns a class's reference: a repository of its own on the
// fixture's registry, where every request meets fault.
func faulty(repo string, fault testregistry.Fault) func(f *exitFixture) string {
	return func(f *exitFixture) string {
		f.reg.Faults.Inject("", "^/v2/exit/"+repo+"/", fault)
		return f.reg.Ref("exit/"+repo, "v1")
	}
}

// wrongCredentials returns a class's reference: a registry of its own
// that refuses every request (401), for which Docker's config.json holds
// credentials, which wasmgate sends and the registry refuses.
func wrongCredentials(t *testing.T) func(f *exitFixture) string {
	return func(f *exitFixture) string {
		reg := testregistry.Distribution(t)
		reg.Faults.Inject("", "", testregistry.Unauthorized())
		t.Setenv(envPlainHTTP, f.reg.Host+","+reg.Host)
		config := fmt.Sprintf(`{"auths": {%q: {"auth": %q}}}`, reg.Host, base64.StdEncoding.EncodeToString([]byte("me:wrong")))
		if err := os.WriteFile(filepath.Join(os.Getenv("DOCKER_CONFIG"), "config.json"), []byte(config), 0o600); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			for _, r := range reg.Faults.Requests() {
				if r.Header.Get("Authorization") == "Basic "+base64.StdEncoding.EncodeToString([]byte("me:wrong")) {
					return
				}
			}
			t.Error("the stored credentials were never sent: the class tested missing credentials, not wrong ones")
		})
		return reg.Ref("wasm/hello", "v1")
	}
}

// closedPort is a loopback host:port nothing listens on.
func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// Usage errors exit 2 on every command, and name the help to read.
func TestExitCodeUsage(t *testing.T) {
	cliEnv(t, nil)
	f := &exitFixture{}
	ref := "registry.example/wasm/hello:v1"
	for _, cmd := range registryCommands {
		t.Run(cmd.name, func(t *testing.T) {
			args := append(cmd.args(f, t, ref), "--bogus")
			code, _, stderr := wasmgate(t, args...)
			if code != exitUsage || !strings.Contains(stderr, "flag provided but not defined: -bogus") ||
				!strings.Contains(stderr, "see wasmgate "+cmd.name+" --help") {
				t.Errorf("%v: exit %d: %s", args, code, stderr)
			}
			code, _, stderr = wasmgate(t, cmd.name)
			if code != exitUsage || !regexp.MustCompile(`REF|SRC`).MatchString(stderr) || !strings.Contains(stderr, "see wasmgate "+cmd.name+" --help") {
				t.Errorf("%s with no arguments: exit %d: %s", cmd.name, code, stderr)
			}
		})
	}
	cases := []struct {
		args []string
		says string
	}{
		{[]string{"verfy", "x"}, `wasmgate: unknown command "verfy"; Did you mean "verify"?; see wasmgate --help`},
		{[]string{"cache", "lss"}, `wasmgate cache: unknown command "lss"; Did you mean "ls"?; see wasmgate cache --help`},
		{[]string{"help", "verfy"}, `wasmgate: unknown command "verfy"`},
		{[]string{"apply"}, "wasmgate apply needs --file; see wasmgate apply --help"},
	}
	if code, stdout, stderr := wasmgate(t, "help", "verify"); code != exitOK || !strings.Contains(stdout, "wasmgate verify - ") {
		t.Errorf("help verify: exit %d: %s%s", code, stdout, stderr)
	}
	for _, tc := range cases {
		code, _, stderr := wasmgate(t, tc.args...)
		if code != exitUsage || !strings.Contains(stderr, tc.says) {
			t.Errorf("%v: exit %d, want %d saying %q:\n%s", tc.args, code, exitUsage, tc.says, stderr)
		}
	}
}

// verify's own classes: a trust policy that is not valid (2), a denial
// (1) that names the key that did sign, a Notation trust policy with no
// statement for the scope (2, said in the verdict, naming the real
// reference), and how several references combine.
func TestVerifyExitCodes(t *testing.T) {
	f := newExitFixture(t, testregistry.KindDistribution)
	signed := f.reg.Ref("wasm/hello", "v1")

	t.Run("bad trust policy", func(t *testing.T) {
		// The same policy with a threshold its authorities can meet passes.
		if code, stdout, stderr := wasmgate(t, "verify", "--policy", f.trustPolicy, signed); code != exitOK {
			t.Fatalf("the valid policy: exit %d\n%s%s", code, stdout, stderr)
		}
		for _, args := range [][]string{
			{"verify", "--policy", f.broken, signed},
			{"pull", "--verified", "--policy", f.broken, signed, "-o", t.TempDir()},
		} {
			code, _, stderr := wasmgate(t, args...)
			if code != exitUsage || !regexp.MustCompile(`trust policy \S*broken\.yaml:\d+:\d+: .*threshold`).MatchString(stderr) {
				t.Errorf("%v: exit %d: %s", args, code, stderr)
			}
		}
	})

	t.Run("wrong key", func(t *testing.T) {
		code, stdout, stderr := wasmgate(t, "verify", signed, "--key", f.otherPub, "--insecure-ignore-tlog")
		if code != exitDenied || !strings.HasSuffix(strings.TrimSpace(stdout), "DENIED") {
			t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
		}
		// The refusal is said once, on the signature's line, with the key
		// the signature names (wasmgate sign writes the bundle's hint).
		if n := strings.Count(stdout, "signature does not verify"); n != 1 {
			t.Errorf("the refusal is said %d times:\n%s", n, stdout)
		}
		signer := cosign.KeyID(testkit.PublicKey(t, f.pub))
		if !strings.Contains(stdout, "it names key "+signer[:16]+" as its signer") {
			t.Errorf("the report does not name the key %s that signed:\n%s", signer[:16], stdout)
		}
		if !strings.Contains(stdout, "0 of 1 required authorities signed; missing cosign (1 refused)") {
			t.Errorf("the signatures check:\n%s", stdout)
		}
	})

	t.Run("wrong key, cosign's bundle", func(t *testing.T) {
		// cosign writes the hint in base64; it is named as a key ID all
		// the same, to compare with the authority's.
		_, key, pub := peers.CosignKeys(t)
		subject := peers.PushSubject(t, f.reg, "wasm/tiny")
		ref := f.reg.Ref("wasm/tiny", subject.Digest.String())
		peers.CosignSign(t, key, ref, peers.CosignBundle)
		code, stdout, _ := wasmgate(t, "verify", ref, "--key", f.otherPub, "--insecure-ignore-tlog", "--format", "bundle")
		signer := cosign.KeyID(testkit.PublicKey(t, pub))
		if code != exitDenied || !strings.Contains(stdout, "it names key "+signer[:16]+" as its signer") {
			t.Errorf("exit %d, want %d naming key %s:\n%s", code, exitDenied, signer[:16], stdout)
		}
	})

	t.Run("Notation scope that matches nothing", func(t *testing.T) {
		root := testpki.NewRoot(t, "wasmgate test root (TEST ONLY)", testpki.P256)
		dir := filepath.Join(t.TempDir(), "notation")
		policy := testpki.WriteNotationTrust(t, dir, "acme", []*x509.Certificate{root.Root()},
			testpki.NotationPolicy(t, "acme", testpki.Policy{Scopes: []string{"registry.example/other"}}))
		code, stdout, stderr := wasmgate(t, "verify", signed, "--notation-trust-policy", policy, "--notation-trust-store", dir)
		if code != exitUsage {
			t.Fatalf("exit %d, want %d\n%s%s", code, exitUsage, stdout, stderr)
		}
		if !strings.Contains(stdout, "\nUNDECIDED: a configuration error") {
			t.Errorf("the verdict does not say it is the configuration:\n%s", stdout)
		}
		pinned := f.reg.Ref("wasm/hello", verifyDigest(t, signed, f))
		if strings.Contains(stdout+stderr, strings.Repeat("0", 64)) || !strings.Contains(stderr, "(verifying "+pinned+")") {
			t.Errorf("the error does not name %s:\n%s", pinned, stderr)
		}
		if !strings.Contains(stderr, "--notation-scope") {
			t.Errorf("the error does not name --notation-scope:\n%s", stderr)
		}
	})

	t.Run("several references", func(t *testing.T) {
		unsigned := f.reg.Ref("wasm/unsigned", "v1")
		if code, _, stderr := wasmgate(t, "push", f.wasm, unsigned, "--policy", f.perms); code != 0 {
			t.Fatal(stderr)
		}
		missing := f.reg.Ref("wasm/hello", "no-such-tag")
		failing := faulty("several503", testregistry.Status(503, 0))(f)
		cases := []struct {
			refs []string
			code int
		}{
			{[]string{signed, failing}, exitUndecided},
			{[]string{failing, missing, signed}, exitNotFound},
			{[]string{missing, unsigned}, exitDenied},
			{[]string{signed, signed}, exitOK},
		}
		for _, tc := range cases {
			args := append([]string{"verify", "--key", f.pub, "--insecure-ignore-tlog"}, tc.refs...)
			if code, stdout, stderr := wasmgate(t, args...); code != tc.code {
				t.Errorf("%v: exit %d, want %d\n%s%s", tc.refs, code, tc.code, stdout, stderr)
			}
		}
	})
}

// verifyDigest is the digest ref resolves to, as verify reports it.
func verifyDigest(t *testing.T, ref string, f *exitFixture) string {
	t.Helper()
	code, stdout, stderr := wasmgate(t, "verify", ref, "--key", f.pub, "--insecure-ignore-tlog", "--output", "json")
	if code != 0 {
		t.Fatalf("verify: exit %d: %s", code, stderr)
	}
	return verifyResult(t, stdout).Digest.String()
}

// The precedence of verify's codes over several references, with every
// class, including those a CLI run cannot easily combine.
func TestVerifyExitPrecedence(t *testing.T) {
	denied := &verify.Result{Verdict: verify.VerdictDenied}
	undecided := &verify.Result{Verdict: verify.VerdictUndecided}
	passed := &verify.Result{Verdict: verify.VerdictVerified, Pass: true}
	classified := func(kind error) error {
		return &verify.ReferenceError{Op: "resolve", Reference: "r", Err: &remote.Error{Op: "resolve", Host: "h", Kind: kind, Err: kind}}
	}
	config := &verify.ReferenceError{Op: "signatures", Reference: "r", Err: fmt.Errorf("authority n: %w", notation.ErrNoTrustPolicy)}
	type ref struct {
		r   *verify.Result
		err error
	}
	cases := []struct {
		name string
		refs []ref
		want int
	}{
		{"verified", []ref{{passed, nil}}, exitOK},
		{"denied", []ref{{denied, nil}}, exitDenied},
		{"not found", []ref{{undecided, classified(remote.ErrNotFound)}}, exitNotFound},
		{"401", []ref{{undecided, classified(remote.ErrUnauthorized)}}, exitAuth},
		{"403", []ref{{undecided, classified(remote.ErrDenied)}}, exitAuth},
		{"plain HTTP", []ref{{undecided, classified(remote.ErrPlainHTTP)}}, exitUsage},
		{"503", []ref{{undecided, classified(remote.ErrServer)}}, exitUndecided},
		{"deadline", []ref{{undecided, &verify.ReferenceError{Op: "layers", Reference: "r", Err: context.DeadlineExceeded}}}, exitUndecided},
		{"an unknown cause", []ref{{undecided, &verify.ReferenceError{Op: "layers", Reference: "r", Err: errors.New("?")}}}, exitUndecided},
		{"configuration", []ref{{undecided, config}}, exitUsage},
		{"configuration over a denial", []ref{{denied, nil}, {undecided, config}}, exitUsage},
		{"a denial over credentials", []ref{{undecided, classified(remote.ErrUnauthorized)}, {denied, nil}}, exitDenied},
		{"credentials over not found", []ref{{undecided, classified(remote.ErrNotFound)}, {undecided, classified(remote.ErrUnauthorized)}}, exitAuth},
		{"not found over a retry", []ref{{undecided, classified(remote.ErrServer)}, {undecided, classified(remote.ErrNotFound)}}, exitNotFound},
		{"a retry over verified", []ref{{passed, nil}, {undecided, classified(remote.ErrTimeout)}}, exitUndecided},
		{"warn mode passes", []ref{{&verify.Result{Verdict: verify.VerdictDenied, Pass: true}, nil}}, exitOK},
	}
	for _, tc := range cases {
		var results []*verify.Result
		var errs []error
		for _, r := range tc.refs {
			results, errs = append(results, r.r), append(errs, r.err)
		}
		if got := verifyExit(results, errs); got != tc.want {
			t.Errorf("%s: exit %d, want %d", tc.name, got, tc.want)
		}
	}
}

// A layer over --max-layer-size is refused with the flag named.
func TestLayerLimitNamesTheFlag(t *testing.T) {
	reg := testregistry.Distribution(t)
	cliEnv(t, reg)
	wasm, perms := sampleOnDisk(t)
	ref := reg.Ref("wasm/hello", "v1")
	if code, _, stderr := wasmgate(t, "push", wasm, ref, "--policy", perms); code != 0 {
		t.Fatal(stderr)
	}
	for _, args := range [][]string{
		{"pull", ref, "-o", t.TempDir(), "--max-layer-size", "1000"},
		{"inspect", ref, "--max-layer-size", "1000"},
	} {
		code, _, stderr := wasmgate(t, args...)
		if code != exitError || !strings.Contains(stderr, "larger than the limit of 1000 bytes") || !strings.Contains(stderr, "that limit is --max-layer-size") {
			t.Errorf("%v: exit %d: %s", args, code, stderr)
		}
	}
}
