package main

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/urfave/cli/v2"
	"oras.land/oras-go/v2/registry/remote/credentials"

	"github.com/wasmgate/wasmgate/access"
	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/cache"
	"github.com/wasmgate/wasmgate/internal/sample"
	"github.com/wasmgate/wasmgate/loader"
	"github.com/wasmgate/wasmgate/referrers"
	"github.com/wasmgate/wasmgate/remote"
	"github.com/wasmgate/wasmgate/sign"
	"github.com/wasmgate/wasmgate/verify"
)

func quickstartCommand() *cli.Command {
	return &cli.Command{
		Name:  "quickstart",
		Usage: "publish the sample module and policy to an in-process registry, pull it back, sign (cosign, Notation), attest, verify under a trust policy, run it sandboxed",
		Description: "Runs on the loopback interface and a temporary directory only; touches neither your " +
			"credentials nor your cache.",
		Flags: withCommon(
			&cli.StringFlag{Name: "dir", Usage: "work in this directory and keep it (default: a temporary one, removed after)"},
		),
		Before: before,
		Action: quickstartAction,
	}
}

// quickstartReport is quickstart's JSON output.
type quickstartReport struct {
	Registry        string         `json:"registry"`
	Reference       string         `json:"reference"`
	Digest          string         `json:"digest"`
	Kind            artifact.Kind  `json:"kind"`
	Files           []string       `json:"files"`
	ByteIdentical   bool           `json:"byteIdentical"`
	CachedRequests  int64          `json:"cachedPullRequests"`
	Layout          string         `json:"layout"`
	LayoutDigest    string         `json:"layoutDigest"`
	Verdict         verify.Verdict `json:"verdict"`
	TamperedVerdict verify.Verdict `json:"tamperedVerdict"`
	RunOutput       string         `json:"runOutput"`
}

func quickstartAction(c *cli.Context) error {
	ctx := c.Context
	say := func(format string, a ...any) {
		if !jsonOutput(c) {
			fmt.Fprintf(c.App.Writer, format+"\n", a...)
		}
	}
	work := c.String("dir")
	if work == "" {
		tmp, err := os.MkdirTemp("", "wasmgate-quickstart-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		work = tmp
	}
	src := filepath.Join(work, "src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		return err
	}
	wasmPath, policyPath := filepath.Join(src, "hello.wasm"), filepath.Join(src, "policy.yaml")
	if err := os.WriteFile(wasmPath, sample.HelloWasm(), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(policyPath, sample.PolicyYAML(), 0o644); err != nil {
		return err
	}

	// 1. A real registry (go-containerregistry's, with the Referrers API)
	// on loopback, counting the requests it serves.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	var requests atomic.Int64
	reg := registry.New(registry.WithReferrersSupport(true), registry.Logger(log.New(io.Discard, "", 0)))
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		reg.ServeHTTP(w, r)
	})}
	go srv.Serve(ln)
	defer srv.Close()
	host := ln.Addr().String()
	say("1. Started a registry on %s (in process, loopback only)", host)

	// 2. Pack: hash the module, validate the policy, build the manifest.
	pkg, err := artifact.Pack(wasmPath, sample.PolicyYAML(), artifact.BuildOptions{})
	if err != nil {
		return err
	}
	say("2. Packed hello.wasm (%s, %d bytes) with its policy: manifest %s", pkg.Kind, pkg.Wasm.Size, pkg.Manifest.Digest)

	// 3. Push over the registry API.
	client, err := remote.New(remote.Options{PlainHTTP: []string{host}, Credentials: credentials.NewMemoryStore()})
	if err != nil {
		return err
	}
	ref, err := artifact.ParseReference(host + "/quickstart/hello:v1")
	if err != nil {
		return err
	}
	o := &access.Opener{Client: client}
	dst, err := o.Destination(ref)
	if err != nil {
		return err
	}
	if err := access.Push(ctx, dst, pkg, "v1", access.PushOptions{}); err != nil {
		return err
	}
	say("3. Pushed %s", ref)

	// 4. Pull by tag through a fresh cache: the tag is resolved once and
	// every blob is checked while it streams.
	if o.Cache, err = cache.Open(filepath.Join(work, "cache")); err != nil {
		return err
	}
	srcTarget, err := o.Source(ref)
	if err != nil {
		return err
	}
	out := filepath.Join(work, "out")
	p, err := access.Pull(ctx, srcTarget, "v1", out, access.PullOptions{})
	if err != nil {
		return err
	}
	identical := true
	for _, f := range p.Files {
		got, err := os.ReadFile(f.Path)
		if err != nil {
			return err
		}
		want := sample.PolicyYAML()
		if f.Role == artifact.RoleWasm {
			want = sample.HelloWasm()
		}
		identical = identical && bytes.Equal(got, want)
		say("4. Pulled %-6s -> %s (%s)", f.Role, f.Path, f.Digest)
	}
	if !identical {
		return fmt.Errorf("quickstart: pulled bytes differ from the pushed ones")
	}
	say("   Byte-identical to what was pushed; resolved %s -> %s", ref, p.Manifest.Descriptor.Digest)

	// 5. Pull again pinned by digest: served from the cache, re-verified,
	// no request to the registry.
	before := requests.Load()
	pinned := ref.WithDigest(p.Manifest.Descriptor.Digest)
	if _, err := access.Pull(ctx, srcTarget, pinned.Object(), filepath.Join(work, "out-again"), access.PullOptions{}); err != nil {
		return err
	}
	cached := requests.Load() - before
	say("5. Pulled %s again: %d registry requests (served from the cache, every digest re-checked)", pinned, cached)

	// 6. The same artifact into an OCI layout, readable by oras and regctl.
	layoutRef, err := artifact.ParseReference(artifact.LayoutPrefix + filepath.Join(work, "layout") + ":v1")
	if err != nil {
		return err
	}
	layout, err := o.Destination(layoutRef)
	if err != nil {
		return err
	}
	if err := access.Push(ctx, layout, pkg, "v1", access.PushOptions{}); err != nil {
		return err
	}
	lsrc, err := o.Source(layoutRef)
	if err != nil {
		return err
	}
	lp, err := access.Pull(ctx, lsrc, "v1", filepath.Join(work, "out-layout"), access.PullOptions{})
	if err != nil {
		return err
	}
	say("6. Pushed to and pulled from %s: same digest %s", layoutRef, lp.Manifest.Descriptor.Digest)
	// 7. Sign and attest: a cosign v3 bundle with a fresh key, a Notation
	// signature from a fresh CA, and SLSA provenance attested with the key.
	trustDir := filepath.Join(work, "trust")
	if err := os.MkdirAll(trustDir, 0o755); err != nil {
		return err
	}
	key, notary, err := quickstartTrust(trustDir)
	if err != nil {
		return err
	}
	regTarget, err := o.Destination(ref)
	if err != nil {
		return err
	}
	subject := p.Manifest.Descriptor
	if _, err := sign.Cosign(ctx, regTarget, subject, key, sign.Options{}); err != nil {
		return err
	}
	if _, err := sign.Notation(ctx, regTarget, subject, notary, sign.NotationOptions{}); err != nil {
		return err
	}
	provenance := fmt.Sprintf(`{"buildDefinition":{"buildType":"https://github.com/wasmgate/wasmgate/quickstart@v1","externalParameters":{}},
"runDetails":{"builder":{"id":"https://github.com/acme/builder@v1"},"metadata":{"finishedOn":%q}}}`, time.Now().UTC().Format(time.RFC3339))
	if _, err := sign.Attest(ctx, regTarget, subject, key, "slsaprovenance1", []byte(provenance), sign.AttestOptions{}); err != nil {
		return err
	}
	say("7. Signed it with cosign (bundle) and Notation (JWS), and attested SLSA provenance; trust material in %s", trustDir)

	// 8. Verify under the trust policy (internal/sample/testdata/trust.yaml):
	// 2 authorities of different kinds, the provenance, the policy layer.
	policyFile := filepath.Join(trustDir, "trust.yaml")
	if err := os.WriteFile(policyFile, sample.TrustPolicyYAML(), 0o644); err != nil {
		return err
	}
	policy, err := verify.LoadPolicy(ctx, policyFile, verify.LoadOptions{})
	if err != nil {
		return err
	}
	gate, err := verify.New(policy, o, verify.Options{})
	if err != nil {
		return err
	}
	res, err := gate.Verify(ctx, ref)
	if err != nil {
		return err
	}
	say("8. wasmgate verify --policy %s %s", policyFile, ref)
	if !jsonOutput(c) {
		printReport(indent(c.App.Writer), verify.Report{Results: []*verify.Result{res}})
	}
	if res.Verdict != verify.VerdictVerified {
		return fmt.Errorf("quickstart: the artifact did not verify")
	}

	// 9. Copy it with its referrers into an OCI layout, tamper with one
	// byte of the wasm there, and verify again: denied.
	tamperedRef, err := artifact.ParseReference(artifact.LayoutPrefix + filepath.Join(work, "tampered") + ":v1")
	if err != nil {
		return err
	}
	tampered, err := o.Destination(tamperedRef)
	if err != nil {
		return err
	}
	if _, err := referrers.Copy(ctx, srcTarget, pinned.Object(), tampered, "v1", referrers.CopyOptions{Recursive: true, Discover: referrers.Options{API: o.ReferrersAPI(ref)}}); err != nil {
		return err
	}
	blob := filepath.Join(work, "tampered", "blobs", "sha256", pkg.Wasm.Digest.Encoded())
	if err := flipByte(blob); err != nil {
		return err
	}
	bad, err := gate.Verify(ctx, tamperedRef)
	if err != nil {
		return err
	}
	if bad.Verdict != verify.VerdictDenied {
		return fmt.Errorf("quickstart: a tampered artifact was not denied")
	}
	for _, ch := range bad.Failed() {
		if ch.Status == verify.StatusFailed {
			say("9. Tampered one byte of the wasm in a copy (%s): %s, %s: %s", tamperedRef, strings.ToUpper(string(bad.Verdict)), ch.Name, ch.Reason)
		}
	}
	// 10. Run it: only the verified bytes reach wazero, in a sandbox made of
	// the policy it carries (read /data, GREETING, 64 MiB, 10 s) ∩ what
	// this host grants.
	dataDir := filepath.Join(work, "data")
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dataDir, "hello.txt"), []byte("read through a read-only mount"), 0o644); err != nil {
		return err
	}
	verified, _, err := gate.Fetch(ctx, pinned)
	if err != nil {
		return err
	}
	var output bytes.Buffer
	m, err := loader.Load(ctx, verified, loader.Host{
		Mounts:  []loader.Mount{{Path: "/data", Dir: dataDir}},
		EnvKeys: []string{"GREETING"},
		Env: func(key string) (string, bool) {
			return map[string]string{"GREETING": "hi from the host"}[key], key == "GREETING"
		},
		Args:     []string{"hello", "/data/hello.txt"},
		Stdout:   &output,
		CacheDir: filepath.Join(work, "compiled"),
	})
	if err != nil {
		return err
	}
	defer m.Close(ctx)
	code, err := m.Run(ctx)
	if err != nil || code != 0 {
		return fmt.Errorf("quickstart: the module failed (exit %d): %v", code, err)
	}
	say("10. wasmgate run --policy %s %s -- /data/hello.txt, in the sandbox:", policyFile, pinned)
	for _, line := range m.Sandbox().Lines() {
		say("      %s", line)
	}
	for _, line := range strings.Split(strings.TrimSpace(output.String()), "\n") {
		say("    | %s", line)
	}
	if c.String("dir") != "" {
		say("Everything is in %s", work)
	} else {
		say("(%s was temporary and is removed now; keep it with --dir DIR)", work)
	}
	say("Next: wasmgate push your.wasm --policy policy.yaml REGISTRY/REPO:TAG; wasmgate sign --key cosign.key REGISTRY/REPO:TAG;")
	say("      wasmgate policy lint trust.yaml; wasmgate verify --policy trust.yaml REGISTRY/REPO:TAG;")
	say("      wasmgate run --policy trust.yaml --allow-dir /data=./data --allow-env GREETING REGISTRY/REPO@DIGEST -- ARGS")

	if jsonOutput(c) {
		files := make([]string, 0, len(p.Files))
		for _, f := range p.Files {
			files = append(files, f.Path)
		}
		return printJSON(c, quickstartReport{
			Registry: host, Reference: pinned.String(), Digest: p.Manifest.Descriptor.Digest.String(), Kind: p.Kind,
			Files: files, ByteIdentical: identical, CachedRequests: cached,
			Layout: layoutRef.String(), LayoutDigest: lp.Manifest.Descriptor.Digest.String(),
			Verdict: res.Verdict, TamperedVerdict: bad.Verdict, RunOutput: output.String(),
		})
	}
	return nil
}

// flipByte changes the middle byte of a file, keeping its size.
func flipByte(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	data[len(data)/2] ^= 0xff
	return os.WriteFile(path, data, 0o644)
}

// indent prefixes each line written to w with three spaces.
func indent(w io.Writer) io.Writer { return &indenter{w: w, start: true} }

type indenter struct {
	w     io.Writer
	start bool
}

func (in *indenter) Write(p []byte) (int, error) {
	for i, b := range p {
		if in.start {
			if _, err := io.WriteString(in.w, "   "); err != nil {
				return i, err
			}
		}
		if _, err := in.w.Write([]byte{b}); err != nil {
			return i, err
		}
		in.start = b == '\n'
	}
	return len(p), nil
}
