package main

import (
	"bytes"
	"context"
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
	"oras.land/oras-go/v2"
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

// quickstart is what the quickstart's steps share. Each step is one
// method, run in order by quickstartAction: it reads what the steps before
// it left here, adds what the steps after it need, says what it did, and
// fills in its part of report.
type quickstart struct {
	ctx  context.Context
	out  io.Writer // where say prints, and step 8 its verify report
	json bool      // --output json: say prints nothing, report is printed at the end
	work string    // every file the quickstart writes is under it
	keep bool      // work is the --dir directory, kept after

	wasmPath   string              // src/hello.wasm, what step 2 packs
	requests   atomic.Int64        // requests the registry has served
	server     *http.Server        // the registry, closed by close
	host       string              // the registry's address, 127.0.0.1:PORT
	opener     *access.Opener      // the registry client, and from step 4 on the cache
	pkg        *artifact.Package   // the packed artifact
	ref        artifact.Reference  // HOST/quickstart/hello:v1, where step 3 pushes it
	source     oras.ReadOnlyTarget // ref read through the cache
	pulled     *access.Pulled      // what step 4 pulled; its manifest is what is signed
	pinned     artifact.Reference  // ref pinned to the pulled manifest's digest
	trustDir   string              // the keys, certificates and trust policy of steps 7 and 8
	policyFile string              // trustDir/trust.yaml, the trust policy
	verifier   *verify.Verifier    // the trust policy's verifier

	report quickstartReport
}

func quickstartAction(c *cli.Context) error {
	q := &quickstart{ctx: c.Context, out: c.App.Writer, json: jsonOutput(c), work: c.String("dir")}
	q.keep = q.work != ""
	if !q.keep {
		tmp, err := os.MkdirTemp("", "wasmgate-quickstart-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		q.work = tmp
	}
	defer q.close()
	for _, step := range []func() error{
		q.writeSample,
		q.startRegistry, // 1
		q.pack,          // 2
		q.push,          // 3
		q.pull,          // 4
		q.pullCached,    // 5
		q.layout,        // 6
		q.signAndAttest, // 7
		q.verify,        // 8
		q.tamper,        // 9
		q.run,           // 10
	} {
		if err := step(); err != nil {
			return err
		}
	}
	q.sayNext()
	if q.json {
		return printJSON(c, q.report)
	}
	return nil
}

// say prints one line of the walkthrough, unless the output is JSON.
func (q *quickstart) say(format string, a ...any) {
	if !q.json {
		fmt.Fprintf(q.out, format+"\n", a...)
	}
}

// close stops the registry, if it was started.
func (q *quickstart) close() {
	if q.server != nil {
		q.server.Close()
	}
}

// writeSample writes the embedded sample, hello.wasm and its permission
// policy, into src/: the files a user would start from.
func (q *quickstart) writeSample() error {
	src := filepath.Join(q.work, "src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		return err
	}
	q.wasmPath = filepath.Join(src, "hello.wasm")
	if err := os.WriteFile(q.wasmPath, sample.HelloWasm(), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(src, "policy.yaml"), sample.PolicyYAML(), 0o644)
}

// startRegistry (1) serves a real registry, go-containerregistry's with
// the Referrers API, on loopback, counting the requests it serves so that
// step 5 can show a cached pull makes none.
func (q *quickstart) startRegistry() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	reg := registry.New(registry.WithReferrersSupport(true), registry.Logger(log.New(io.Discard, "", 0)))
	q.server = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q.requests.Add(1)
		reg.ServeHTTP(w, r)
	})}
	go q.server.Serve(ln)
	q.host = ln.Addr().String()
	q.report.Registry = q.host
	q.say("1. Started a registry on %s (in process, loopback only)", q.host)
	return nil
}

// pack (2) hashes the module, validates its policy and builds the
// manifest, all locally: what `wasmgate push` does before sending.
func (q *quickstart) pack() error {
	pkg, err := artifact.Pack(q.wasmPath, sample.PolicyYAML(), artifact.BuildOptions{})
	if err != nil {
		return err
	}
	q.pkg = pkg
	q.say("2. Packed hello.wasm (%s, %d bytes) with its policy: manifest %s", pkg.Kind, pkg.Wasm.Size, pkg.Manifest.Digest)
	return nil
}

// push (3) pushes the package to the registry over the registry API, as
// an OCI artifact any registry stores.
func (q *quickstart) push() error {
	client, err := remote.New(remote.Options{PlainHTTP: []string{q.host}, Credentials: credentials.NewMemoryStore()})
	if err != nil {
		return err
	}
	if q.ref, err = artifact.ParseReference(q.host + "/quickstart/hello:v1"); err != nil {
		return err
	}
	q.opener = &access.Opener{Client: client}
	dst, err := q.opener.Destination(q.ref)
	if err != nil {
		return err
	}
	if err := access.Push(q.ctx, dst, q.pkg, "v1", access.PushOptions{}); err != nil {
		return err
	}
	q.say("3. Pushed %s", q.ref)
	return nil
}

// pull (4) pulls by tag through a fresh cache: the tag is resolved once
// and every blob is checked while it streams. The files written must be
// byte-identical to the sample pushed.
func (q *quickstart) pull() error {
	var err error
	if q.opener.Cache, err = cache.Open(filepath.Join(q.work, "cache")); err != nil {
		return err
	}
	if q.source, err = q.opener.Source(q.ref); err != nil {
		return err
	}
	p, err := access.Pull(q.ctx, q.source, "v1", filepath.Join(q.work, "out"), access.PullOptions{})
	if err != nil {
		return err
	}
	identical := true
	files := make([]string, 0, len(p.Files))
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
		files = append(files, f.Path)
		q.say("4. Pulled %-6s -> %s (%s)", f.Role, f.Path, f.Digest)
	}
	if !identical {
		return fmt.Errorf("quickstart: pulled bytes differ from the pushed ones")
	}
	q.pulled = p
	q.report.Digest, q.report.Kind = p.Manifest.Descriptor.Digest.String(), p.Kind
	q.report.Files, q.report.ByteIdentical = files, identical
	q.say("   Byte-identical to what was pushed; resolved %s -> %s", q.ref, p.Manifest.Descriptor.Digest)
	return nil
}

// pullCached (5) pulls again, pinned by digest: the cache serves it,
// every digest re-checked, and the registry sees no request.
func (q *quickstart) pullCached() error {
	before := q.requests.Load()
	q.pinned = q.ref.WithDigest(q.pulled.Manifest.Descriptor.Digest)
	if _, err := access.Pull(q.ctx, q.source, q.pinned.Object(), filepath.Join(q.work, "out-again"), access.PullOptions{}); err != nil {
		return err
	}
	cached := q.requests.Load() - before
	q.report.Reference, q.report.CachedRequests = q.pinned.String(), cached
	q.say("5. Pulled %s again: %d registry requests (served from the cache, every digest re-checked)", q.pinned, cached)
	return nil
}

// layout (6) pushes the same package into an OCI layout and pulls it back:
// the same manifest digest, in a directory oras and regctl read too.
func (q *quickstart) layout() error {
	layoutRef, err := artifact.ParseReference(artifact.LayoutPrefix + filepath.Join(q.work, "layout") + ":v1")
	if err != nil {
		return err
	}
	dst, err := q.opener.Destination(layoutRef)
	if err != nil {
		return err
	}
	if err := access.Push(q.ctx, dst, q.pkg, "v1", access.PushOptions{}); err != nil {
		return err
	}
	src, err := q.opener.Source(layoutRef)
	if err != nil {
		return err
	}
	lp, err := access.Pull(q.ctx, src, "v1", filepath.Join(q.work, "out-layout"), access.PullOptions{})
	if err != nil {
		return err
	}
	q.report.Layout, q.report.LayoutDigest = layoutRef.String(), lp.Manifest.Descriptor.Digest.String()
	q.say("6. Pushed to and pulled from %s: same digest %s", layoutRef, lp.Manifest.Descriptor.Digest)
	return nil
}

// signAndAttest (7) attaches, as referrers of the pulled manifest, the
// evidence the trust policy asks for: a cosign v3 bundle made with a fresh
// key, a Notation signature from a fresh CA (quickstartTrust), and SLSA
// provenance attested with the cosign key.
func (q *quickstart) signAndAttest() error {
	q.trustDir = filepath.Join(q.work, "trust")
	if err := os.MkdirAll(q.trustDir, 0o755); err != nil {
		return err
	}
	key, notary, err := quickstartTrust(q.trustDir)
	if err != nil {
		return err
	}
	dst, err := q.opener.Destination(q.ref)
	if err != nil {
		return err
	}
	subject := q.pulled.Manifest.Descriptor
	if _, err := sign.Cosign(q.ctx, dst, subject, key, sign.Options{}); err != nil {
		return err
	}
	if _, err := sign.Notation(q.ctx, dst, subject, notary, sign.NotationOptions{}); err != nil {
		return err
	}
	if _, err := sign.Attest(q.ctx, dst, subject, key, "slsaprovenance1", quickstartProvenance(time.Now()), sign.AttestOptions{}); err != nil {
		return err
	}
	q.say("7. Signed it with cosign (bundle) and Notation (JWS), and attested SLSA provenance; trust material in %s", q.trustDir)
	return nil
}

// quickstartProvenance is the SLSA v1 provenance predicate step 7 attests:
// built by the acme builder, which the trust policy's condition requires,
// finished at now.
func quickstartProvenance(now time.Time) []byte {
	return fmt.Appendf(nil, `{"buildDefinition":{"buildType":"https://github.com/wasmgate/wasmgate/quickstart@v1","externalParameters":{"ref":"refs/heads/main"}},
"runDetails":{"builder":{"id":"https://github.com/acme/builder@v1"},"metadata":{"finishedOn":%q}}}`, now.UTC().Format(time.RFC3339))
}

// verify (8) verifies the artifact under the trust policy
// (internal/sample/testdata/trust.yaml), as `wasmgate verify` does: two
// authorities of different kinds, the provenance, the policy layer. Steps 9
// and 10 use the same verifier.
func (q *quickstart) verify() error {
	q.policyFile = filepath.Join(q.trustDir, "trust.yaml")
	if err := os.WriteFile(q.policyFile, sample.TrustPolicyYAML(), 0o644); err != nil {
		return err
	}
	policy, err := verify.LoadPolicy(q.ctx, q.policyFile, verify.LoadOptions{})
	if err != nil {
		return err
	}
	if q.verifier, err = verify.New(policy, q.opener, verify.Options{}); err != nil {
		return err
	}
	res, err := q.verifier.Verify(q.ctx, q.ref)
	if err != nil {
		return err
	}
	q.say("8. wasmgate verify --policy %s %s", q.policyFile, q.ref)
	if !q.json {
		printReport(indent(q.out), verify.Report{Results: []*verify.Result{res}})
	}
	if res.Verdict != verify.VerdictVerified {
		return fmt.Errorf("quickstart: the artifact did not verify")
	}
	q.report.Verdict = res.Verdict
	return nil
}

// tamper (9) copies the artifact with its referrers into an OCI layout,
// flips one byte of the wasm there, and verifies the copy: the signatures
// still match the manifest, but the layer's digest does not, so it is
// denied.
func (q *quickstart) tamper() error {
	tamperedRef, err := artifact.ParseReference(artifact.LayoutPrefix + filepath.Join(q.work, "tampered") + ":v1")
	if err != nil {
		return err
	}
	dst, err := q.opener.Destination(tamperedRef)
	if err != nil {
		return err
	}
	copyOpts := referrers.CopyOptions{Recursive: true, Discover: referrers.Options{API: q.opener.ReferrersAPI(q.ref)}}
	if _, err := referrers.Copy(q.ctx, q.source, q.pinned.Object(), dst, "v1", copyOpts); err != nil {
		return err
	}
	if err := flipByte(filepath.Join(q.work, "tampered", "blobs", "sha256", q.pkg.Wasm.Digest.Encoded())); err != nil {
		return err
	}
	bad, err := q.verifier.Verify(q.ctx, tamperedRef)
	if err != nil {
		return err
	}
	if bad.Verdict != verify.VerdictDenied {
		return fmt.Errorf("quickstart: a tampered artifact was not denied")
	}
	for _, ch := range bad.Failed() {
		if ch.Status == verify.StatusFailed {
			q.say("9. Tampered one byte of the wasm in a copy (%s): %s, %s: %s", tamperedRef, strings.ToUpper(string(bad.Verdict)), ch.Name, ch.Reason)
		}
	}
	q.report.TamperedVerdict = bad.Verdict
	return nil
}

// run (10) runs the module, as `wasmgate run` does: only the verified bytes
// reach wazero, in a sandbox made of the policy the artifact carries (read
// /data, GREETING, 64 MiB, 10 s) intersected with what this host grants.
func (q *quickstart) run() error {
	dataDir := filepath.Join(q.work, "data")
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dataDir, "hello.txt"), []byte("read through a read-only mount"), 0o644); err != nil {
		return err
	}
	verified, _, err := q.verifier.Fetch(q.ctx, q.pinned)
	if err != nil {
		return err
	}
	var output bytes.Buffer
	m, err := loader.Load(q.ctx, verified, loader.Host{
		Mounts:  []loader.Mount{{Path: "/data", Dir: dataDir}},
		EnvKeys: []string{"GREETING"},
		Env: func(key string) (string, bool) {
			return map[string]string{"GREETING": "hi from the host"}[key], key == "GREETING"
		},
		Args:     []string{"hello", "/data/hello.txt"},
		Stdout:   &output,
		CacheDir: filepath.Join(q.work, "compiled"),
	})
	if err != nil {
		return err
	}
	defer m.Close(q.ctx)
	code, err := m.Run(q.ctx)
	if err != nil || code != 0 {
		return fmt.Errorf("quickstart: the module failed (exit %d): %v", code, err)
	}
	q.say("10. wasmgate run --policy %s %s -- /data/hello.txt, in the sandbox:", q.policyFile, q.pinned)
	for _, line := range m.Sandbox().Lines() {
		q.say("      %s", line)
	}
	for _, line := range strings.Split(strings.TrimSpace(output.String()), "\n") {
		q.say("    | %s", line)
	}
	q.report.RunOutput = output.String()
	return nil
}

// sayNext says where the files are and what to try next, with the
// commands that do each step on a real registry.
func (q *quickstart) sayNext() {
	if q.keep {
		q.say("Everything is in %s", q.work)
	} else {
		q.say("(%s was temporary and is removed now; keep it with --dir DIR)", q.work)
	}
	q.say("Next: wasmgate push your.wasm --permissions policy.yaml REGISTRY/REPO:TAG; wasmgate sign --key cosign.key REGISTRY/REPO:TAG;")
	q.say("      wasmgate policy lint trust.yaml; wasmgate verify --policy trust.yaml REGISTRY/REPO:TAG;")
	q.say("      wasmgate run --policy trust.yaml --allow-dir /data=./data --allow-env GREETING REGISTRY/REPO@DIGEST -- ARGS")
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
