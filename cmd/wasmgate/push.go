package main

import (
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/wasmgate/wasmgate/access"
	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/internal/boundedio"
	"github.com/wasmgate/wasmgate/permissions"
)

func pushCommand() *cli.Command {
	return &cli.Command{
		Name:      "push",
		Usage:     "push a wasm module or component, with its permission policy, as an OCI artifact",
		ArgsUsage: "FILE.wasm REF",
		Flags: withCommon(append(append(registryFlags(), permissionsFlags("the permission policy (Wassette policy v1.0 YAML) to add as a layer, validated before anything is pushed")...),
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
	policy, err := readPermissions(c)
	if err != nil {
		return err
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

// permissionsFlags are --permissions and its old spelling --policy, kept
// on the commands where it can only mean a permission policy (push, and
// inspect of a local file); everywhere else --policy is the trust policy.
func permissionsFlags(usage string) []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "permissions", Usage: usage},
		&cli.StringFlag{Name: "policy", Usage: "deprecated: the old name of --permissions here (--policy is the trust policy of verify, run and pull --verified)"},
	}
}

// readPermissions reads the permission policy --permissions (or the
// deprecated --policy) names, nil without one. A trust policy given there
// is refused as such, naming the flag that takes it; other errors in the
// policy are left to artifact.Pack, which reports them as layer errors.
func readPermissions(c *cli.Context) ([]byte, error) {
	flag, path := "--permissions", c.String("permissions")
	if old := c.String("policy"); old != "" {
		if path != "" {
			return nil, usageError("--policy is the old name of --permissions; give one of them")
		}
		flag, path = "--policy", old
		fmt.Fprintf(c.App.ErrWriter, "wasmgate: warning: %s --policy is deprecated: use --permissions (--policy is the trust policy of verify, run and pull --verified)\n", c.Command.Name)
	}
	if path == "" {
		return nil, nil
	}
	data, err := boundedio.ReadFile(path, permissions.MaxSize)
	if err != nil {
		return nil, err
	}
	if _, err := permissions.Parse(data); errors.Is(err, permissions.ErrTrustPolicy) {
		return nil, &wrongPolicyError{err: err, msg: fmt.Sprintf(
			"%s is a trust policy (policies:), not a permission policy; %s %s wants the module's permission policy "+
				"(version: \"1.0\", permissions:); give a trust policy to verify, run or pull --verified as --policy",
			path, c.Command.Name, flag)}
	}
	return data, nil
}

// wrongPolicyError is one kind of policy file given where the other is
// expected. Its message names the flag each kind belongs to; it is a usage
// error and still wraps the parser's typed error.
type wrongPolicyError struct {
	msg string
	err error
}

func (e *wrongPolicyError) Error() string   { return e.msg }
func (e *wrongPolicyError) Unwrap() []error { return []error{errUsage, e.err} }
