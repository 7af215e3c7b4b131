package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/urfave/cli/v2"

	"github.com/wasmgate/wasmgate/access"
	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/permissions"
)

func inspectCommand() *cli.Command {
	return &cli.Command{
		Name:  "inspect",
		Usage: "describe a wasm artifact: manifest, config, layers, policy, a component's imports and exports",
		Description: "For a registry or layout reference every digest is checked, and an artifact that pull would " +
			"refuse (too many layers, unknown layers) is still shown, with the reason. For a local FILE.wasm " +
			"(with --permissions), it describes the artifact push would create.",
		ArgsUsage: "REF",
		Flags: withCommon(append(append(registryFlags(), boundFlags()...),
			permissionsFlags("for a local FILE.wasm: the permission policy push would add")...,
		)...),
		Before: before,
		Action: inspectAction,
	}
}

func inspectAction(c *cli.Context) error {
	if c.NArg() != 1 {
		return usageError("inspect wants one REF, got %d arguments", c.NArg())
	}
	maxLayer, err := maxLayerSize(c)
	if err != nil {
		return err
	}
	ref, err := parseRef(c.Args().First())
	if err != nil {
		return err
	}
	if ref.Kind != artifact.RefFile && (c.IsSet("permissions") || c.IsSet("policy")) {
		return usageError("--permissions is for a local FILE.wasm; an artifact carries its own policy layer")
	}
	out := inspectOutput{}
	var in *artifact.Inspection
	switch ref.Kind {
	case artifact.RefFile:
		policy, err := readPermissions(c)
		if err != nil {
			return err
		}
		pkg, err := artifact.Pack(ref.Path, policy, artifact.BuildOptions{})
		if err != nil {
			return err
		}
		in = artifact.InspectPackage(pkg)
		in.Reference = ref.String()
	case artifact.RefHTTPS:
		return usageError("inspect reads registries, OCI layouts and local files; pull the https URL first")
	default:
		_, src, object, err := source(c, ref)
		if err != nil {
			return err
		}
		in, err = access.Inspect(c.Context, src, object, access.PullOptions{MaxLayerBytes: maxLayer})
		if err != nil {
			return wrapRegistry("inspect", ref, err)
		}
		in.Reference = ref.String()
		out.PullRefused = pullRefusal(in)
	}
	out.Inspection = in
	if jsonOutput(c) {
		return printJSON(c, out)
	}
	printInspection(c, in)
	if out.PullRefused != "" {
		fmt.Fprintf(c.App.Writer, "Pull:          refused: %s\n", out.PullRefused)
	}
	return nil
}

// inspectOutput is inspect's JSON: the inspection and, when `pull` would
// refuse the artifact, why.
type inspectOutput struct {
	*artifact.Inspection
	PullRefused string `json:"pullRefused,omitempty"`
}

// pullRefusal says why pull (without --verified) would refuse the
// artifact in, by the library's own layer rules; "" when it would not.
func pullRefusal(in *artifact.Inspection) string {
	layers := make([]ocispec.Descriptor, 0, len(in.Layers))
	for _, l := range in.Layers {
		if l.Role == artifact.RoleData {
			continue // a Spin app's data: pull neither counts nor writes it
		}
		layers = append(layers, ocispec.Descriptor{MediaType: l.MediaType, Digest: digest.Digest(l.Digest), Size: l.Size})
		i := len(layers) - 1
		if l.Role != artifact.RoleUnknown {
			// The rules are about roles: a compat tar+gzip, a Spin data
			// layer have the role their shape gives them whatever their
			// media type.
			layers[i].MediaType = artifact.MediaTypeWasm
		}
	}
	err := access.CheckLayers(layers, access.PullOptions{})
	switch {
	case err == nil:
		return ""
	case errors.Is(err, access.ErrUnknownLayers):
		return err.Error() + " (pull --allow-unknown-layers accepts them and skips them)"
	}
	return err.Error()
}

func printInspection(c *cli.Context, in *artifact.Inspection) {
	w := c.App.Writer
	fmt.Fprintf(w, "Reference:     %s\n", in.Reference)
	fmt.Fprintf(w, "Digest:        %s\n", in.Digest)
	fmt.Fprintf(w, "Artifact type: %s\n", in.ArtifactType)
	if in.Shape != "" {
		fmt.Fprintf(w, "Shape:         %s\n", in.Shape)
	}
	fmt.Fprintf(w, "Kind:          %s (os %s)\n", in.Kind, in.Config.OS)
	if c := in.Component; c != nil {
		printNames(w, "Imports:", c.Imports)
		printNames(w, "Exports:", c.Exports)
	}
	if in.Config.Created != "" {
		fmt.Fprintf(w, "Created:       %s\n", in.Config.Created)
	}
	fmt.Fprintf(w, "Config:        %s %s (%d bytes)\n", in.Config.MediaType, in.Config.Digest, in.Config.Size)
	if len(in.Components) > 0 {
		fmt.Fprintln(w, "Components:")
		for _, sc := range in.Components {
			fmt.Fprintf(w, "  %-16s %s (%d bytes) %s\n", sc.ID, sc.Source, sc.Size, sc.Kind)
		}
	}
	fmt.Fprintln(w, "Layers:")
	for _, l := range in.Layers {
		extra := ""
		if l.Kind != "" {
			extra = " " + string(l.Kind)
		}
		if l.Title != "" {
			extra += " " + l.Title
		}
		fmt.Fprintf(w, "  %-7s %s %s (%d bytes)%s\n", l.Role, l.MediaType, l.Digest, l.Size, extra)
	}
	if p := in.Policy; p != nil {
		fmt.Fprintln(w, "Policy:")
		printPolicy(w, p)
	} else {
		fmt.Fprintln(w, "Policy:        none (the module asks for no permissions)")
	}
	for k, v := range in.Annotations {
		fmt.Fprintf(w, "Annotation:    %s=%s\n", k, strings.ReplaceAll(v, "\n", " "))
	}
}

// printNames writes a component's imports or exports, one a line.
func printNames(w io.Writer, title string, names []string) {
	if len(names) == 0 {
		fmt.Fprintf(w, "%-14s (none)\n", title)
		return
	}
	for i, n := range names {
		if i > 0 {
			title = ""
		}
		fmt.Fprintf(w, "%-14s %s\n", title, n)
	}
}

// printPolicy writes a policy summary, one grant per line.
func printPolicy(w io.Writer, p *permissions.Summary) {
	line := func(format string, a ...any) { fmt.Fprintf(w, "  "+format+"\n", a...) }
	for _, g := range p.Storage {
		line("storage     %s (%s)", g.URI, joinAccess(g.Access))
	}
	for _, g := range p.StorageDeny {
		line("storage     deny %s (%s)", g.URI, joinAccess(g.Access))
	}
	for _, h := range p.NetworkHosts {
		line("network     %s", h)
	}
	for _, n := range p.NetworkCIDRs {
		line("network     %s", n)
	}
	if p.NetworkDefaults {
		line("network     host defaults")
	}
	for _, n := range p.NetworkDeny {
		line("network     deny %s", n)
	}
	for _, k := range p.EnvKeys {
		line("environment %s", k)
	}
	for _, u := range p.IPC {
		line("ipc         %s", u)
	}
	if p.MemoryBytes > 0 {
		line("memory      %d bytes", p.MemoryBytes)
	}
	if p.CPUMillis > 0 {
		line("cpu         %dm", p.CPUMillis)
	}
	if p.Timeout != "" {
		line("timeout     %s", p.Timeout)
	}
}

func joinAccess(a []permissions.Access) string {
	s := make([]string, len(a))
	for i, x := range a {
		s[i] = string(x)
	}
	return strings.Join(s, ", ")
}
