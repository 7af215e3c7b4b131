package main

import (
	"errors"
	"fmt"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/wasmgate/wasmgate/apply"
	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/verify"
)

func applyCommand() *cli.Command {
	return &cli.Command{
		Name:  "apply",
		Usage: "provision many components declaratively: verify each under its trust policy, check its sandbox against its grants, write the verified files",
		Description: "Idempotent: a component already verified and written for the same digest, trust policy and trust " +
			"material is not fetched again. Exit codes: 0 all applied or present, 1 some denied or refused, " +
			"2 usage or configuration error, 3 some could not be decided.",
		Flags: withCommon(append(registryFlags(),
			&cli.StringFlag{Name: "file", Aliases: []string{"f"}, Required: true, Usage: "the components file (YAML)"},
			&cli.StringFlag{Name: "dir", Value: "components", Usage: "write each component to DIR/<name>"},
			&cli.BoolFlag{Name: "no-strict", Usage: "accept references not pinned by digest (each apply then resolves them)"},
			&cli.IntFlag{Name: "concurrency", Value: apply.DefaultConcurrency, Usage: "components applied at once"},
			resultCacheFlag(),
		)...),
		Before: before,
		Action: applyAction,
	}
}

func applyAction(c *cli.Context) error {
	spec, err := apply.Load(c.String("file"))
	if err != nil {
		return usageError("%v", err)
	}
	refs := make([]artifact.Reference, 0, len(spec.Components))
	for _, comp := range spec.Components {
		ref, _ := artifact.ParseReference(comp.Ref)
		refs = append(refs, ref)
	}
	o, err := opener(c, refs...)
	if err != nil {
		return err
	}
	results, ttl, err := resultCache(c, nil)
	if err != nil {
		return err
	}
	outcomes, err := apply.Apply(c.Context, spec, o, apply.Options{
		Dir: c.String("dir"), Strict: !c.Bool("no-strict"), Concurrency: c.Int("concurrency"),
		Load:   verify.LoadOptions{Roots: sigstoreRoots(c)},
		Verify: verify.Options{Results: results, ResultTTL: ttl},
	})
	if err != nil {
		var pe *verify.PolicyError
		if errors.As(err, &pe) || errors.Is(err, apply.ErrNotPinned) {
			return usageError("%v", err)
		}
		return err
	}
	if jsonOutput(c) {
		if err := printJSON(c, map[string]any{"components": outcomes}); err != nil {
			return err
		}
	} else {
		tw := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tSTATUS\tDIGEST\tDETAIL")
		for _, o := range outcomes {
			d := string(o.Digest)
			if len(d) > 19 {
				d = d[:19] + "…"
			}
			detail := o.Reason
			if detail == "" {
				detail = o.Files.Wasm
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", o.Name, o.Status, d, firstLine(detail))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	// The verify table, component by component: a denial or refusal is 1;
	// an error takes its cause's code (not found, auth, configuration) and
	// 3 only when a retry may help; the most pressing wins.
	code, counts := exitOK, map[apply.Status]int{}
	for _, o := range outcomes {
		counts[o.Status]++
		switch o.Status {
		case apply.StatusDenied, apply.StatusRefused:
			code = worseExit(code, exitDenied)
		case apply.StatusError:
			oc := registryExit(o.Err, exitUndecided)
			if o.Result != nil {
				oc = referenceExit(o.Result, o.Err)
			}
			code = worseExit(code, oc)
		}
	}
	if code != exitOK {
		return cli.Exit(fmt.Sprintf("%d applied, %d present, %d denied, %d refused, %d could not be decided",
			counts[apply.StatusApplied], counts[apply.StatusPresent], counts[apply.StatusDenied], counts[apply.StatusRefused], counts[apply.StatusError]), code)
	}
	return nil
}

func firstLine(s string) string {
	for i, r := range s {
		if r == '\n' {
			return s[:i]
		}
	}
	return s
}
