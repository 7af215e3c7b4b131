package main

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"

	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/urfave/cli/v2"
	"oras.land/oras-go/v2/registry/remote/credentials"

	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/cache"
	"github.com/wasmgate/wasmgate/internal/sample"
	"github.com/wasmgate/wasmgate/referrers"
	"github.com/wasmgate/wasmgate/remote"
	"github.com/wasmgate/wasmgate/sign"
	"github.com/wasmgate/wasmgate/verify/cosign"
)

func quickstartCommand() *cli.Command {
	return &cli.Command{
		Name:  "quickstart",
		Usage: "publish the sample module and policy to an in-process registry and an OCI layout, pull them back verified, sign and verify",
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
	Registry       string        `json:"registry"`
	Reference      string        `json:"reference"`
	Digest         string        `json:"digest"`
	Kind           artifact.Kind `json:"kind"`
	Files          []string      `json:"files"`
	ByteIdentical  bool          `json:"byteIdentical"`
	CachedRequests int64         `json:"cachedPullRequests"`
	Layout         string        `json:"layout"`
	LayoutDigest   string        `json:"layoutDigest"`
	SignatureOK    bool          `json:"signatureVerified"`
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
	o := &artifact.Opener{Client: client}
	dst, err := o.Destination(ref)
	if err != nil {
		return err
	}
	if err := artifact.Push(ctx, dst, pkg, "v1", artifact.PushOptions{}); err != nil {
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
	p, err := artifact.Pull(ctx, srcTarget, "v1", out, artifact.PullOptions{})
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
	if _, err := artifact.Pull(ctx, srcTarget, pinned.Object(), filepath.Join(work, "out-again"), artifact.PullOptions{}); err != nil {
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
	if err := artifact.Push(ctx, layout, pkg, "v1", artifact.PushOptions{}); err != nil {
		return err
	}
	lsrc, err := o.Source(layoutRef)
	if err != nil {
		return err
	}
	lp, err := artifact.Pull(ctx, lsrc, "v1", filepath.Join(work, "out-layout"), artifact.PullOptions{})
	if err != nil {
		return err
	}
	say("6. Pushed to and pulled from %s: same digest %s", layoutRef, lp.Manifest.Descriptor.Digest)
	// 7. Sign the artifact as cosign v3 does (a bundle referrer) with a
	// fresh key, and verify it: discovery, subject binding, signature.
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	regTarget, err := o.Destination(ref)
	if err != nil {
		return err
	}
	if _, err := sign.Cosign(ctx, regTarget, p.Manifest.Descriptor, key, sign.Options{}); err != nil {
		return err
	}
	rep, err := cosign.Check(ctx, regTarget, p.Manifest.Descriptor, referrers.Options{API: o.ReferrersAPI(ref)},
		cosign.Authority{Keys: []crypto.PublicKey{key.Public()}}, cosign.Options{})
	if err != nil {
		return err
	}
	if !rep.Verified {
		return fmt.Errorf("quickstart: the signature did not verify: %+v", rep.Results)
	}
	say("7. Signed it with a fresh key (cosign v3 bundle referrer) and verified: %s", signatureLine(rep.Results[0]))
	if c.String("dir") != "" {
		say("Everything is in %s", work)
	} else {
		say("(%s was temporary and is removed now; keep it with --dir DIR)", work)
	}
	say("Next: wasmgate push your.wasm --policy policy.yaml REGISTRY/REPO:TAG; wasmgate sign --key cosign.key REGISTRY/REPO:TAG;")
	say("      wasmgate verify REGISTRY/REPO:TAG --key cosign.pub ...; wasmgate pull REGISTRY/REPO@DIGEST -o out/")

	if jsonOutput(c) {
		files := make([]string, 0, len(p.Files))
		for _, f := range p.Files {
			files = append(files, f.Path)
		}
		return printJSON(c, quickstartReport{
			Registry: host, Reference: pinned.String(), Digest: p.Manifest.Descriptor.Digest.String(), Kind: p.Kind,
			Files: files, ByteIdentical: identical, CachedRequests: cached,
			Layout: layoutRef.String(), LayoutDigest: lp.Manifest.Descriptor.Digest.String(),
			SignatureOK: rep.Verified,
		})
	}
	return nil
}
