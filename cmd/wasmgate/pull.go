package main

import (
	"fmt"

	"github.com/opencontainers/go-digest"
	"github.com/urfave/cli/v2"

	"github.com/wasmgate/wasmgate/access"
	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/permissions"
	"github.com/wasmgate/wasmgate/verify"
)

// Flags that bound what pull and inspect read.
func boundFlags() []cli.Flag {
	return []cli.Flag{
		&cli.Int64Flag{Name: "max-layer-size", Value: artifact.DefaultMaxLayerBytes, Usage: "largest wasm layer, in bytes, that will be read"},
		&cli.StringFlag{Name: "digest", Usage: "sha256:… the content must have (required for https URLs)"},
	}
}

func pullCommand() *cli.Command {
	return &cli.Command{
		Name:      "pull",
		Usage:     "pull a wasm artifact's module or component and policy, every digest checked",
		ArgsUsage: "REF",
		Flags: withCommon(append(append(registryFlags(), boundFlags()...),
			&cli.StringFlag{Name: "output-dir", Aliases: []string{"o"}, Value: ".", Usage: "directory to write the wasm and policy files into"},
			&cli.BoolFlag{Name: "verified", Usage: "write the files only after the artifact passed verification under --policy (for an external component runtime)"},
			&cli.StringFlag{Name: "policy", Usage: "the trust policy for --verified"},
			&cli.StringFlag{Name: "scope", Usage: "with --verified: select policies by this repository name (an OCI layout copied from a registry)"},
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
	ref, err := parseRef(c.Args().First())
	if err != nil {
		return err
	}
	dir := c.String("output-dir")
	if c.Bool("verified") {
		return pullVerified(c, ref, dir)
	}
	if c.IsSet("policy") {
		return usageError("--policy is the trust policy of --verified")
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
		file, kind, err := access.FetchURL(c.Context, client.HTTPClient(), ref, pinned, dir, c.Int64("max-layer-size"))
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
			MaxLayerBytes: c.Int64("max-layer-size"),
			Progress:      progress(c),
		})
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
	files, err := a.WriteFiles(dir)
	if err != nil {
		return err
	}
	if jsonOutput(c) {
		return printJSON(c, map[string]any{"reference": a.Reference(), "kind": a.Kind(), "files": files, "verification": res})
	}
	fmt.Fprintf(c.App.Writer, "Verified %s under policy %s and wrote:\n  %s\n", a.Reference(), res.Policy, files.Wasm)
	if files.Policy != "" {
		fmt.Fprintf(c.App.Writer, "  %s\n", files.Policy)
	}
	return nil
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
	a, res, err := v.Fetch(c.Context, ref)
	if err == nil {
		return a, res, nil
	}
	if res != nil && !jsonOutput(c) {
		printReport(c.App.ErrWriter, verify.Report{Results: []*verify.Result{res}})
	}
	code := undecided
	if res != nil && res.Verdict == verify.VerdictDenied {
		code = denied
	}
	return nil, res, cli.Exit(err.Error(), code)
}
