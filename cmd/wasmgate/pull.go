package main

import (
	"errors"
	"fmt"
	"os"
	"slices"

	"github.com/opencontainers/go-digest"
	"github.com/urfave/cli/v2"

	"github.com/wasmgate/wasmgate/access"
	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/loader"
	"github.com/wasmgate/wasmgate/permissions"
	"github.com/wasmgate/wasmgate/verify"
)

// Flags that bound what pull and inspect read.
func boundFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "max-layer-size", Value: "256Mi", Usage: "largest wasm layer that will be read: bytes, or a quantity such as 64Mi or 1Gi"},
		&cli.StringFlag{Name: "digest", Usage: "sha256:… the content must have (required for https URLs)"},
	}
}

func pullCommand() *cli.Command {
	return &cli.Command{
		Name:      "pull",
		Usage:     "pull a wasm artifact's module or component and policy, every digest checked",
		ArgsUsage: "REF",
		Flags: withCommon(append(append(append(registryFlags(), boundFlags()...), pullCeilingFlags()...),
			&cli.StringFlag{Name: "output-dir", Aliases: []string{"o"}, Value: ".", Usage: "directory to write the wasm and policy files into"},
			&cli.BoolFlag{Name: "allow-unknown-layers", Usage: "pull an artifact with layers that are neither wasm nor policy (they are skipped, never written); without it such an artifact is refused, as verify refuses it by default"},
			&cli.BoolFlag{Name: "verified", Usage: "write the files only after the artifact passed verification under --policy (for an external component runtime); for a component also capabilities.wasmtime.txt and policy.effective.yaml, what a component host is to grant it: its signed policy within the ceiling of --allow-dir, --allow-env, --allow-no-network, --host-policy (without them, what the policy asks)"},
			&cli.StringFlag{Name: "policy", Usage: "the trust policy for --verified"},
			&cli.StringFlag{Name: "scope", Usage: "with --verified: select policies by this repository name (an OCI layout copied from a registry)"},
			&cli.StringFlag{Name: "component", Usage: "with --verified: verify a Spin application and write only this component (as NAME.wasm, with the application's policy); a Spin application of several components needs it, while a pull without --verified writes them all"},
		)...),
		Before: before,
		Action: pullAction,
	}
}

// pullResult is pull's JSON output.
type pullResult struct {
	Reference string               `json:"reference"`
	Digest    string               `json:"digest,omitempty"`
	Kind      artifact.Kind        `json:"kind"`
	Files     []access.File        `json:"files"`
	Unknown   []unknownLayer       `json:"unknownLayers,omitempty"`
	Policy    *permissions.Summary `json:"policy,omitempty"`
}

type unknownLayer struct {
	MediaType string `json:"mediaType"`
	Digest    string `json:"digest"`
	Size      int64  `json:"size"`
}

func pullAction(c *cli.Context) error {
	if c.NArg() != 1 {
		return usageError("pull wants one REF, got %d arguments", c.NArg())
	}
	maxLayer, err := maxLayerSize(c)
	if err != nil {
		return err
	}
	ref, err := parseRef(c.Args().First())
	if err != nil {
		return err
	}
	dir := c.String("output-dir")
	if c.Bool("verified") {
		if c.Bool("allow-unknown-layers") {
			return usageError("--allow-unknown-layers is for a pull without --verified; with --verified the trust policy's layers.allowUnknown decides")
		}
		return pullVerified(c, ref, dir)
	}
	if c.IsSet("policy") {
		return usageError("--policy is the trust policy of --verified")
	}
	if c.IsSet("component") {
		return usageError("--component picks one component of a verified Spin application, with --verified; a pull without --verified writes every component")
	}
	if name, ok := ceilingSet(c); ok {
		return usageError("--%s is a host ceiling for pull --verified", name)
	}
	var res pullResult
	switch ref.Kind {
	case artifact.RefHTTPS:
		pinned, err := pinnedDigest(c, ref)
		if err != nil {
			return err
		}
		client, err := newClient(c)
		if err != nil {
			return err
		}
		file, kind, err := access.FetchURL(c.Context, client.HTTPClient(), ref, pinned, dir, maxLayer)
		if err != nil {
			return err
		}
		res = pullResult{Reference: ref.String(), Digest: file.Digest, Kind: kind, Files: []access.File{*file}}
	case artifact.RefFile:
		return usageError("%s is a local file already; pull reads registries, OCI layouts and https URLs", ref)
	default:
		_, src, object, err := source(c, ref)
		if err != nil {
			return err
		}
		logger(c).Debug("pull", "ref", ref.String(), "object", object, "dir", dir)
		p, err := access.Pull(c.Context, src, object, dir, access.PullOptions{
			MaxLayerBytes:      maxLayer,
			AllowUnknownLayers: c.Bool("allow-unknown-layers"),
			Progress:           progress(c),
		})
		if errors.Is(err, access.ErrUnknownLayers) {
			return fmt.Errorf("%w; pass --allow-unknown-layers to pull the wasm and policy layers anyway (the others are skipped, never written)", wrapRegistry("pull", ref, err))
		}
		if err != nil {
			return wrapRegistry("pull", ref, err)
		}
		res = pullResult{Reference: ref.WithDigest(p.Manifest.Descriptor.Digest).String(), Digest: p.Manifest.Descriptor.Digest.String(), Kind: p.Kind, Files: p.Files}
		for _, u := range p.Manifest.Layers.Unknown {
			res.Unknown = append(res.Unknown, unknownLayer{MediaType: u.MediaType, Digest: u.Digest.String(), Size: u.Size})
		}
		if p.Policy != nil {
			s := p.Policy.Summary()
			res.Policy = &s
		}
	}
	if jsonOutput(c) {
		return printJSON(c, res)
	}
	w := c.App.Writer
	fmt.Fprintf(w, "Pulled %s\n", res.Reference)
	for _, f := range res.Files {
		fmt.Fprintf(w, "  %-6s %s  %s  %d bytes\n", f.Role, f.Path, f.Digest, f.Size)
	}
	for _, u := range res.Unknown {
		fmt.Fprintf(w, "  skipped unknown layer %s %s (%d bytes)\n", u.MediaType, u.Digest, u.Size)
	}
	return nil
}

// pinnedDigest reads --digest and checks it against a digest in the
// reference itself.
func pinnedDigest(c *cli.Context, ref artifact.Reference) (digest.Digest, error) {
	s := c.String("digest")
	if s == "" {
		return ref.Digest, nil
	}
	d, err := digest.Parse(s)
	if err != nil {
		return "", usageError("--digest %q: %v", s, err)
	}
	if ref.Digest != "" && ref.Digest != d {
		return "", usageError("--digest %s contradicts the reference's %s", d, ref.Digest)
	}
	return d, nil
}

// pullVerified verifies ref under the trust policy and, only when it is
// verified, writes the bytes that were verified.
func pullVerified(c *cli.Context, ref artifact.Reference, dir string) error {
	if c.String("policy") == "" {
		return usageError("--verified needs --policy FILE (the trust policy)")
	}
	if pinned, err := pinnedDigest(c, ref); err != nil {
		return err
	} else if pinned != "" {
		ref = ref.WithDigest(pinned)
	}
	a, res, err := fetchVerified(c, ref, exitDenied, exitUndecided)
	if err != nil {
		return err
	}
	// Strict mode: a component is written only when its signed policy
	// grants every capability it imports.
	comp, err := loader.CheckComponent(a)
	if err != nil {
		return cli.Exit(err.Error(), exitDenied)
	}
	// A component also gets what a component host is to grant it,
	// computed before anything is written.
	var caps *loader.Capabilities
	if comp != nil {
		ceiling, err := pullCeiling(c)
		if err != nil {
			return err
		}
		if caps, err = loader.ComponentCapabilities(a.Permissions(), ceiling); err != nil {
			return usageError("%v", err)
		}
	} else if name, ok := ceilingSet(c); ok {
		return usageError("--%s is a ceiling for a component; a core module runs under one with wasmgate run", name)
	}
	files, err := a.WriteFiles(dir)
	if err != nil {
		return err
	}
	var capFiles loader.CapabilityFiles
	if caps != nil {
		if capFiles, err = caps.WriteFiles(dir); err != nil {
			os.Remove(files.Wasm)
			if files.Policy != "" {
				os.Remove(files.Policy)
			}
			return err
		}
	}
	if jsonOutput(c) {
		out := map[string]any{"reference": a.Reference(), "kind": a.Kind(), "files": files, "verification": res}
		if caps != nil {
			out["capabilities"] = map[string]any{"files": capFiles, "wasmtimeNotes": caps.WasmtimeNotes(), "dropped": caps.Dropped}
		}
		return printJSON(c, out)
	}
	fmt.Fprintf(c.App.Writer, "Verified %s under policy %s and wrote:\n  %s\n", a.Reference(), res.Policy, files.Wasm)
	if files.Policy != "" {
		fmt.Fprintf(c.App.Writer, "  %s\n", files.Policy)
	}
	if caps != nil {
		fmt.Fprintf(c.App.Writer, "  %s\n  %s\n", capFiles.Wasmtime, capFiles.Policy)
		for _, d := range caps.Dropped {
			fmt.Fprintf(c.App.ErrWriter, "wasmgate: not granted by the host's ceiling: %s\n", d)
		}
		for _, n := range caps.WasmtimeNotes() {
			fmt.Fprintf(c.App.ErrWriter, "wasmgate: wasmtime: %s\n", n)
		}
	}
	return nil
}

// pullCeilingNames are the host ceiling flags of run that pull --verified
// takes for a component: directories, variables, network. Memory and
// time are the policy's own limits (they restrict, never grant), so
// run's --max-memory, --max-time and --clamp-limits have no part here.
var pullCeilingNames = []string{"allow-dir", "allow-env", "allow-no-network", "host-policy"}

// pullCeilingFlags are those flags, as run defines them.
func pullCeilingFlags() []cli.Flag {
	var flags []cli.Flag
	for _, f := range hostFlags() {
		if slices.Contains(pullCeilingNames, f.Names()[0]) {
			flags = append(flags, f)
		}
	}
	return flags
}

// ceilingSet returns the first ceiling flag given.
func ceilingSet(c *cli.Context) (string, bool) {
	for _, name := range pullCeilingNames {
		if c.IsSet(name) {
			return name, true
		}
	}
	return "", false
}

// pullCeiling is the host ceiling of pull --verified: nil ("what the
// policy asks") without ceiling flags, else the Host that run would
// build from them.
func pullCeiling(c *cli.Context) (*loader.Host, error) {
	if _, ok := ceilingSet(c); !ok {
		return nil, nil
	}
	h, err := hostCeiling(c)
	if err != nil {
		return nil, err
	}
	return &h, nil
}

// fetchVerified verifies ref under --policy (and --scope) and returns
// the verified artifact. When it is not verified, the report goes to
// stderr and the error is an exit with denied or undecided.
func fetchVerified(c *cli.Context, ref artifact.Reference, denied, undecided int) (*verify.Artifact, *verify.Result, error) {
	policy, err := loadPolicy(c, c.String("policy"))
	if err != nil {
		return nil, nil, err
	}
	o, err := opener(c, ref)
	if err != nil {
		return nil, nil, err
	}
	v, err := verify.New(policy, o, verify.Options{Scope: c.String("scope")})
	if err != nil {
		return nil, nil, err
	}
	var a *verify.Artifact
	var res *verify.Result
	if name := c.String("component"); name != "" {
		a, res, err = v.FetchComponent(c.Context, ref, name)
	} else {
		a, res, err = v.Fetch(c.Context, ref)
	}
	if err == nil {
		return a, res, nil
	}
	if errors.Is(err, verify.ErrNoSuchComponent) {
		// The artifact may well be verified: the name is what is wrong.
		return nil, res, usageError("%v", err)
	}
	if res != nil && !jsonOutput(c) {
		printReport(c.App.ErrWriter, verify.Report{Results: []*verify.Result{res}})
	}
	// A denial is the caller's code; an undecided result its cause's (not
	// found, authentication, configuration) from the exit-code table, and
	// the caller's "could not decide" only when a retry may help.
	code := undecided
	switch {
	case res != nil && res.Verdict == verify.VerdictDenied:
		code = denied
	case res != nil:
		if rc := referenceExit(res, err); rc != exitUndecided && rc != exitOK {
			code = rc
		}
	default:
		code = registryExit(err, undecided)
	}
	return nil, res, cli.Exit(err.Error(), code)
}

// maxLayerSize is --max-layer-size in bytes: a plain number of bytes, or a
// quantity as --max-memory and trust policies take it (64Mi, 1Gi).
func maxLayerSize(c *cli.Context) (int64, error) {
	if n := layerLimit(c); n > 0 {
		return n, nil
	}
	return 0, usageError("--max-layer-size %q is not a size: give bytes or a quantity such as 64Mi", c.String("max-layer-size"))
}
