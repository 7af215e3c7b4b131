package main

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/urfave/cli/v2"
	"oras.land/oras-go/v2"

	"github.com/wasmgate/wasmgate/access"
	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/evidence"
	"github.com/wasmgate/wasmgate/internal/boundedio"
	"github.com/wasmgate/wasmgate/permissions"
	"github.com/wasmgate/wasmgate/referrers"
)

func discoverFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "artifact-type", Usage: "only referrers of this artifact type (first level)"},
		&cli.StringFlag{Name: "mode", Value: string(referrers.ModeAuto), Usage: "auto, api (Referrers API only) or tag (tag schema only)"},
		&cli.BoolFlag{Name: "no-legacy-tags", Usage: "ignore cosign's legacy .sig/.att tags"},
	}
}

func discoverOptions(c *cli.Context, o *access.Opener, ref artifact.Reference) (referrers.Options, error) {
	mode := referrers.Mode(c.String("mode"))
	switch mode {
	case referrers.ModeAuto, referrers.ModeAPI, referrers.ModeTag:
	default:
		return referrers.Options{}, usageError("--mode must be auto, api or tag, not %q", mode)
	}
	return referrers.Options{
		Mode:         mode,
		API:          o.ReferrersAPI(ref),
		ArtifactType: c.String("artifact-type"),
		NoLegacyTags: c.Bool("no-legacy-tags"),
	}, nil
}

func discoverCommand() *cli.Command {
	return &cli.Command{
		Name:      "discover",
		Usage:     "list the signatures, attestations and SBOMs that refer to an artifact, as a tree",
		ArgsUsage: "REF",
		Flags: withCommon(append(append(registryFlags(), discoverFlags()...),
			&cli.IntFlag{Name: "depth", Value: 3, Usage: "levels of referrers of referrers to follow"},
		)...),
		Before: before,
		Action: discoverAction,
	}
}

// discoverResult is discover's JSON output.
type discoverResult struct {
	Reference string `json:"reference"`
	*referrers.Result
}

func discoverAction(c *cli.Context) error {
	if c.NArg() != 1 {
		return usageError("discover wants one REF, got %d arguments", c.NArg())
	}
	ref, err := parseRef(c.Args().First())
	if err != nil {
		return err
	}
	o, src, object, err := source(c, ref)
	if err != nil {
		return err
	}
	opts, err := discoverOptions(c, o, ref)
	if err != nil {
		return err
	}
	subject, err := src.Resolve(c.Context, object)
	if err != nil {
		return wrapRegistry("resolve", ref, err)
	}
	res, err := referrers.Tree(c.Context, src, subject, c.Int("depth"), opts)
	if err != nil {
		return wrapRegistry("discover", ref, err)
	}
	pinned := ref.WithDigest(subject.Digest).String()
	if jsonOutput(c) {
		return printJSON(c, discoverResult{Reference: pinned, Result: res})
	}
	w := c.App.Writer
	fmt.Fprintf(w, "%s (listed by %s)\n", pinned, res.Listing)
	printTree(w, res.Referrers, "")
	if len(res.Rejected) > 0 {
		fmt.Fprintln(w, "Rejected (not trusted, not shown above):")
		for _, r := range res.Rejected {
			fmt.Fprintf(w, "  %s (%s): %s\n", r.Digest, r.Found, r.Why)
		}
	}
	return nil
}

func printTree(w io.Writer, rs []referrers.Referrer, indent string) {
	for i, r := range rs {
		branch, next := "├── ", "│   "
		if i == len(rs)-1 {
			branch, next = "└── ", "    "
		}
		extra := ""
		if r.PredicateType != "" {
			extra += " " + r.PredicateType
		}
		if r.Envelope != "" {
			extra += " " + r.Envelope
		}
		found := make([]string, len(r.Found))
		for i, p := range r.Found {
			found[i] = string(p)
		}
		fmt.Fprintf(w, "%s%s%s %s %s%s (%s)\n", indent, branch, r.Kind, r.ArtifactType, r.Digest, extra, strings.Join(found, ", "))
		printTree(w, r.Referrers, indent+next)
	}
}

// destination opens ref for writing and resolves its tag or digest, once:
// what attach and sign work on.
func destination(c *cli.Context, ref artifact.Reference) (oras.Target, ocispec.Descriptor, error) {
	o, err := opener(c, ref)
	if err != nil {
		return nil, ocispec.Descriptor{}, err
	}
	dst, err := o.Destination(ref)
	if err != nil {
		return nil, ocispec.Descriptor{}, err
	}
	subject, err := resolve(c, dst, ref)
	return dst, subject, err
}

// resolve resolves the reference's tag or digest to a descriptor, once.
func resolve(c *cli.Context, src oras.ReadOnlyTarget, ref artifact.Reference) (ocispec.Descriptor, error) {
	object := ref.Object()
	if object == "" {
		return ocispec.Descriptor{}, usageError("%s names no tag or digest", ref)
	}
	desc, err := src.Resolve(c.Context, object)
	if err != nil {
		return ocispec.Descriptor{}, wrapRegistry("resolve", ref, err)
	}
	return desc, nil
}

// maxAttachFile bounds a file given to attach.
const maxAttachFile = 64 << 20

func attachCommand() *cli.Command {
	return &cli.Command{
		Name:      "attach",
		Usage:     "attach files to an artifact as a referrer (an SBOM, a signature, an attestation), or its permission policy (--permissions)",
		ArgsUsage: "REF FILE[:mediaType]... | --permissions policy.yaml REF",
		Flags: withCommon(append(registryFlags(),
			&cli.StringFlag{Name: "artifact-type", Usage: "the referrer's artifact type (required, except with --permissions)"},
			&cli.StringFlag{Name: "permissions", Aliases: []string{"policy"}, Usage: "attach this Wassette permission policy (checked first) as a referrer of type " +
				evidence.ArtifactTypeWasmPolicy + "; sign the digest printed for a trust policy's permissionPolicy to count it"},
			&cli.StringSliceFlag{Name: "annotation", Aliases: []string{"a"}, Usage: "manifest annotation key=value (repeatable)"},
		)...),
		Before: before,
		Action: attachAction,
	}
}

func attachAction(c *cli.Context) error {
	if c.String("permissions") != "" {
		return attachPolicyAction(c)
	}
	if c.NArg() < 2 {
		return usageError("attach wants REF and at least one FILE")
	}
	if c.String("artifact-type") == "" {
		return usageError("attach needs --artifact-type")
	}
	ref, err := parseRef(c.Args().First())
	if err != nil {
		return err
	}
	annotations, err := parseAnnotations(c.StringSlice("annotation"))
	if err != nil {
		return err
	}
	var blobs []referrers.Blob
	for _, arg := range c.Args().Slice()[1:] {
		path, mediaType, ok := strings.Cut(arg, ":")
		if !ok || mediaType == "" {
			mediaType = "application/octet-stream"
		}
		data, err := readBounded(path, maxAttachFile)
		if err != nil {
			return err
		}
		blobs = append(blobs, referrers.Blob{MediaType: mediaType, Data: data,
			Annotations: map[string]string{ocispec.AnnotationTitle: filepath.Base(path)}})
	}
	dst, subject, err := destination(c, ref)
	if err != nil {
		return err
	}
	desc, err := referrers.Attach(c.Context, dst, subject, c.String("artifact-type"), blobs, referrers.AttachOptions{Annotations: annotations})
	if err != nil {
		return wrapRegistry("attach", ref, err)
	}
	if jsonOutput(c) {
		return printJSON(c, map[string]any{"subject": subject.Digest, "digest": desc.Digest, "mediaType": desc.MediaType, "size": desc.Size})
	}
	fmt.Fprintln(c.App.Writer, desc.Digest)
	return nil
}

// attachPolicyAction attaches a permission policy: parsed before any
// request, so that nothing is sent for a policy that would never count.
func attachPolicyAction(c *cli.Context) error {
	if c.NArg() != 1 {
		return usageError("attach --permissions wants one REF (the wasm artifact), got %d arguments", c.NArg())
	}
	if at := c.String("artifact-type"); at != "" && at != evidence.ArtifactTypeWasmPolicy {
		return usageError("attach --permissions attaches a referrer of type %s, not %s", evidence.ArtifactTypeWasmPolicy, at)
	}
	ref, err := parseRef(c.Args().First())
	if err != nil {
		return err
	}
	annotations, err := parseAnnotations(c.StringSlice("annotation"))
	if err != nil {
		return err
	}
	path := c.String("permissions")
	data, err := readBounded(path, permissions.MaxSize)
	if err != nil {
		return err
	}
	if _, err := permissions.Parse(data); err != nil {
		if errors.Is(err, permissions.ErrTrustPolicy) {
			return &wrongPolicyError{err: err, msg: fmt.Sprintf("%s is a trust policy (policies:), not a permission policy; attach --permissions wants "+
				"the module's permission policy (version: \"1.0\", permissions:)", path)}
		}
		return fmt.Errorf("%w: %s: %w", errUsage, path, err)
	}
	dst, subject, err := destination(c, ref)
	if err != nil {
		return err
	}
	desc, err := referrers.AttachPolicy(c.Context, dst, subject, data, referrers.AttachOptions{Annotations: annotations})
	if err != nil {
		return wrapRegistry("attach", ref, err)
	}
	if jsonOutput(c) {
		return printJSON(c, map[string]any{"subject": subject.Digest, "digest": desc.Digest, "mediaType": desc.MediaType, "size": desc.Size,
			"artifactType": evidence.ArtifactTypeWasmPolicy})
	}
	fmt.Fprintln(c.App.Writer, desc.Digest)
	return nil
}

// maxKeyFile bounds a key file given on the command line: a PEM key is a
// few KiB; a certificate chain beside it stays well under this.
const maxKeyFile = 1 << 20

// readBounded reads a local file of at most max bytes.
func readBounded(path string, max int64) ([]byte, error) {
	data, err := boundedio.ReadFile(path, max)
	if errors.Is(err, boundedio.ErrTooLarge) {
		return nil, fmt.Errorf("%w: %w", artifact.ErrTooLarge, err)
	}
	return data, err
}

func copyCommand() *cli.Command {
	return &cli.Command{
		Name:      "copy",
		Aliases:   []string{"cp"},
		Usage:     "copy an artifact (with -r, and every referrer) between registries and OCI layouts, digests preserved",
		ArgsUsage: "SRC DST",
		Flags: withCommon(append(append(registryFlags(), discoverFlags()...),
			&cli.BoolFlag{Name: "recursive", Aliases: []string{"r"}, Usage: "copy referrers too, recursively"},
		)...),
		Before: before,
		Action: copyAction,
	}
}

func copyAction(c *cli.Context) error {
	if c.NArg() != 2 {
		return usageError("copy wants SRC and DST, got %d arguments", c.NArg())
	}
	srcRef, err := parseRef(c.Args().Get(0))
	if err != nil {
		return err
	}
	dstRef, err := parseRef(c.Args().Get(1))
	if err != nil {
		return err
	}
	client, err := newClient(c, registryHost(srcRef), registryHost(dstRef))
	if err != nil {
		return err
	}
	// Copies go straight through: filling the cache with another
	// registry's content would only cost disk.
	o := &access.Opener{Client: client}
	src, err := o.Source(srcRef)
	if err != nil {
		return err
	}
	dst, err := o.Destination(dstRef)
	if err != nil {
		return err
	}
	opts, err := discoverOptions(c, o, srcRef)
	if err != nil {
		return err
	}
	object := srcRef.Object()
	if object == "" {
		return usageError("%s names no tag or digest", srcRef)
	}
	dstObject := dstRef.Object()
	if dstObject == "" || dstRef.Digest != "" {
		dstObject = object // a digest destination keeps the source's tag or digest
	}
	res, err := referrers.Copy(c.Context, src, object, dst, dstObject, referrers.CopyOptions{Recursive: c.Bool("recursive"), Discover: opts})
	if err != nil {
		return wrapRegistry("copy", srcRef, err)
	}
	if jsonOutput(c) {
		return printJSON(c, res)
	}
	fmt.Fprintf(c.App.Writer, "Copied %s -> %s (%s), %d referrers\n", srcRef, dstRef, res.Descriptor.Digest, countTree(res.Referrers))
	for _, r := range res.Rejected {
		fmt.Fprintf(c.App.ErrWriter, "skipped rejected referrer %s (%s): %s\n", r.Digest, r.Found, r.Why)
	}
	return nil
}

func countTree(rs []referrers.Referrer) int {
	n := len(rs)
	for _, r := range rs {
		n += countTree(r.Referrers)
	}
	return n
}
