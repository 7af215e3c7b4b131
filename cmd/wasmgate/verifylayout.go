package main

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	in_toto "github.com/in-toto/in-toto-golang/in_toto"
	"github.com/urfave/cli/v2"

	"github.com/wasmgate/wasmgate/evidence/intoto"
)

func verifyLayoutCommand() *cli.Command {
	return &cli.Command{
		Name:      "verify-layout",
		Usage:     "verify an in-toto supply-chain layout and its links (in-toto-golang; a layout with inspections is refused: they run commands)",
		ArgsUsage: "ROOT.layout",
		Flags: withCommon(
			&cli.StringSliceFlag{Name: "layout-key", Usage: "a public key (PEM) of the layout's owner; every key given must have signed the layout (repeatable; required)"},
			&cli.StringFlag{Name: "link-dir", Required: true, Usage: "the directory of links, <step>.<keyid8>.link as in-toto-run writes them; required"},
		),
		Before: before,
		Action: verifyLayoutAction,
	}
}

func verifyLayoutAction(c *cli.Context) error {
	if c.NArg() != 1 {
		return usageError("verify-layout wants one ROOT.layout file")
	}
	if len(c.StringSlice("layout-key")) == 0 {
		return usageError("verify-layout needs --layout-key FILE, the layout owner's public key")
	}
	path := c.Args().First()
	layout, err := readBounded(path, intoto.MaxLayoutBytes)
	if err != nil {
		return usageError("%s: %v", path, err)
	}
	var keys []in_toto.Key
	for _, f := range c.StringSlice("layout-key") {
		raw, err := readBounded(f, maxKeyFile)
		if err != nil {
			return usageError("--layout-key: %v", err)
		}
		k, err := intoto.ParseKey(raw)
		if err != nil {
			return usageError("--layout-key %s: %v", f, err)
		}
		keys = append(keys, k)
	}
	dir := c.String("link-dir")
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return usageError("--link-dir %s is not a directory", dir)
	}

	res, verr := intoto.VerifyLayout(layout, keys, intoto.LinkDir(dir))
	if jsonOutput(c) {
		if err := printJSON(c, struct {
			Layout string `json:"layout"`
			*intoto.LayoutResult
		}{path, res}); err != nil {
			return err
		}
	} else {
		printLayout(c.App.Writer, path, res, "")
	}
	if verr != nil {
		return cli.Exit("", exitDenied)
	}
	return nil
}

// printLayout writes a layout's result, a sublayout's indented under its
// step.
func printLayout(w io.Writer, name string, r *intoto.LayoutResult, indent string) {
	if r.Verified {
		fmt.Fprintf(w, "%s%s: verified (expires %s, signed by %s)\n", indent, name, r.Expires.Format("2006-01-02T15:04:05Z"), shortIDs(r.OwnerKeys))
	} else {
		fmt.Fprintf(w, "%s%s: not verified: %s\n", indent, name, r.Reason)
	}
	for _, s := range r.Steps {
		fmt.Fprintf(w, "%s  step %s: %d of %d links counted (%s)\n", indent, s.Name, len(s.Functionaries), s.Threshold, shortIDs(s.Functionaries))
		if s.Sublayout != nil {
			printLayout(w, "sublayout", s.Sublayout, indent+"    ")
		}
	}
	if len(r.Inspections) > 0 {
		fmt.Fprintf(w, "%s  inspections (not run): %s\n", indent, strings.Join(r.Inspections, ", "))
	}
	names := make([]string, 0, len(r.Products))
	for p := range r.Products {
		names = append(names, p)
	}
	slices.Sort(names)
	for _, p := range names {
		fmt.Fprintf(w, "%s  product %s %s\n", indent, p, firstHash(r.Products[p]))
	}
	for _, warn := range r.Warnings {
		fmt.Fprintf(w, "%s  ! %s\n", indent, warn)
	}
}

// shortIDs are key IDs as in-toto's link names show them: 8 hex digits.
func shortIDs(ids []string) string {
	if len(ids) == 0 {
		return "none"
	}
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = fmt.Sprintf("%.8s", id)
	}
	return strings.Join(out, ", ")
}

// firstHash is one of an artifact's hashes, alg:hex, sha256 if it has one.
func firstHash(h map[string]string) string {
	if v, ok := h["sha256"]; ok {
		return "sha256:" + v
	}
	algs := make([]string, 0, len(h))
	for a := range h {
		algs = append(algs, a)
	}
	slices.Sort(algs)
	if len(algs) == 0 {
		return "(no hash)"
	}
	return algs[0] + ":" + h[algs[0]]
}
