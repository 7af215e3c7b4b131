package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/wasmgate/wasmgate/catalog"
)

func catalogCommand() *cli.Command {
	file := &cli.StringFlag{Name: "file", Aliases: []string{"f"}, Value: "component-registry.json", Usage: "the catalog (Wassette's component-registry.json format)"}
	list := func(c *cli.Context, query string) error {
		cat, err := catalog.Load(c.String("file"))
		if err != nil {
			return usageError("%v", err)
		}
		found := cat.Search(query)
		if jsonOutput(c) {
			if found == nil {
				found = []catalog.Entry{}
			}
			return printJSON(c, map[string]any{"components": found})
		}
		if len(found) == 0 {
			fmt.Fprintf(c.App.Writer, "no component matches %q\n", query)
			return nil
		}
		tw := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tURI\tDESCRIPTION")
		for _, e := range found {
			uri := e.URI
			if e.Digest != "" {
				uri += " (" + e.Digest.String()[:19] + "…)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\n", e.Name, uri, e.Description)
		}
		return tw.Flush()
	}
	return &cli.Command{
		Name:  "catalog",
		Usage: "search a component catalog (component-registry.json, as Wassette's, with optional digests and trust policies)",
		Subcommands: []*cli.Command{
			{
				Name: "search", Usage: "components whose name, description or uri contain every term (case-insensitive)",
				ArgsUsage: "TERMS...", Flags: withCommon(file), Before: before,
				Action: func(c *cli.Context) error {
					if c.NArg() == 0 {
						return usageError("catalog search wants at least one term")
					}
					return list(c, strings.Join(c.Args().Slice(), " "))
				},
			},
			{
				Name: "list", Usage: "every component", Flags: withCommon(file), Before: before,
				Action: func(c *cli.Context) error { return list(c, "") },
			},
		},
	}
}
