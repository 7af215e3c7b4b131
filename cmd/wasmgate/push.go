package main

import (
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/wasmgate/wasmgate/access"
	"github.com/wasmgate/wasmgate/artifact"
)

func pushCommand() *cli.Command {
	return &cli.Command{
		Name:      "push",
		Usage:     "push a wasm module or component, with its permission policy, as an OCI artifact",
		ArgsUsage: "FILE.wasm REF",
		Flags: withCommon(append(registryFlags(),
			&cli.StringFlag{Name: "policy", Usage: "permission policy (Wassette policy v1.0 YAML), validated before anything is pushed"},
			&cli.StringSliceFlag{Name: "annotation", Aliases: []string{"a"}, Usage: "manifest annotation key=value (repeatable)"},
			&cli.StringFlag{Name: "created", Usage: "creation time, RFC 3339 or \"now\"; empty (the default) keeps digests reproducible"},
		)...),
		Before: before,
		Action: pushAction,
	}
}

// pushResult is push's JSON output.
type pushResult struct {
	Reference string `json:"reference"`
	Digest    string `json:"digest"`
	MediaType string `json:"mediaType"`
	Size      int64  `json:"size"`
	Kind      string `json:"kind"`
	Wasm      string `json:"wasm"`
	Policy    string `json:"policy,omitempty"`
}

func pushAction(c *cli.Context) error {
	if c.NArg() != 2 {
		return usageError("push wants FILE.wasm and REF, got %d arguments", c.NArg())
	}
	ref, err := parseRef(c.Args().Get(1))
	if err != nil {
		return err
	}
	var policy []byte
	if p := c.String("policy"); p != "" {
		if policy, err = os.ReadFile(p); err != nil {
			return err
		}
	}
	annotations, err := parseAnnotations(c.StringSlice("annotation"))
	if err != nil {
		return err
	}
	created, err := parseCreated(c.String("created"))
	if err != nil {
		return err
	}
	pkg, err := artifact.Pack(c.Args().Get(0), policy, artifact.BuildOptions{Created: created, Annotations: annotations})
	if err != nil {
		return err
	}
	o, err := opener(c, ref)
	if err != nil {
		return err
	}
	dst, err := o.Destination(ref)
	if err != nil {
		return err
	}
	tag := ref.Tag
	if ref.Kind == artifact.RefRegistry && ref.Digest == "" {
		tag = ref.Registry.Reference
	}
	if ref.Digest != "" && ref.Digest != pkg.Manifest.Digest {
		return fmt.Errorf("%w: the reference pins %s but the artifact built is %s", artifact.ErrDigestMismatch, ref.Digest, pkg.Manifest.Digest)
	}
	logger(c).Debug("push", "ref", ref.String(), "manifest", pkg.Manifest.Digest, "wasm", pkg.Wasm.Digest, "kind", pkg.Kind)
	if err := access.Push(c.Context, dst, pkg, tag, access.PushOptions{Progress: progress(c)}); err != nil {
		return wrapRegistry("push", ref, err)
	}
	res := pushResult{
		Reference: ref.WithDigest(pkg.Manifest.Digest).String(),
		Digest:    pkg.Manifest.Digest.String(),
		MediaType: pkg.Manifest.MediaType,
		Size:      pkg.Manifest.Size,
		Kind:      string(pkg.Kind),
		Wasm:      pkg.Wasm.Digest.String(),
	}
	if pkg.Policy != nil {
		res.Policy = pkg.Policy.Digest.String()
	}
	if jsonOutput(c) {
		return printJSON(c, res)
	}
	fmt.Fprintln(c.App.Writer, res.Digest)
	return nil
}
