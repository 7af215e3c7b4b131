package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/wasmgate/wasmgate/cache"
)

func cacheCommand() *cli.Command {
	// sub is one subcommand that acts on the cache at its default place.
	sub := func(name, usage string, act func(*cli.Context, *cache.Cache) error) *cli.Command {
		return &cli.Command{Name: name, Usage: usage, Flags: withCommon(), Before: before,
			Action: func(c *cli.Context) error {
				dir, err := cache.DefaultDir()
				if err != nil {
					return err
				}
				ch, err := cache.Open(dir)
				if err != nil {
					return err
				}
				return act(c, ch)
			}}
	}
	return &cli.Command{
		Name:  "cache",
		Usage: "list, verify or clear the local cache (" + cache.EnvDir + " overrides its location)",
		Subcommands: []*cli.Command{
			sub("ls", "list cached references", func(c *cli.Context, ch *cache.Cache) error {
				entries, err := ch.List(c.Context)
				if err != nil {
					return err
				}
				if jsonOutput(c) {
					return printJSON(c, struct {
						Dir     string        `json:"dir"`
						Entries []cache.Entry `json:"entries"`
					}{ch.Dir(), entries})
				}
				for _, e := range entries {
					fmt.Fprintf(c.App.Writer, "%s\t%s\n", e.Reference, e.Digest)
				}
				return nil
			}),
			sub("verify", "re-hash every cached blob; remove and report the corrupt ones", func(c *cli.Context, ch *cache.Cache) error {
				rep, err := ch.Verify(c.Context)
				if err != nil {
					return err
				}
				if jsonOutput(c) {
					if err := printJSON(c, rep); err != nil {
						return err
					}
				} else {
					fmt.Fprintf(c.App.Writer, "%d blobs checked, %d corrupt removed\n", rep.Checked, len(rep.Corrupt))
					for _, d := range rep.Corrupt {
						fmt.Fprintf(c.App.Writer, "  removed %s\n", d)
					}
				}
				if len(rep.Corrupt) > 0 {
					return cli.Exit("", exitError)
				}
				return nil
			}),
			sub("clear", "remove everything in the cache", func(c *cli.Context, ch *cache.Cache) error {
				if err := ch.Clear(); err != nil {
					return err
				}
				fmt.Fprintf(c.App.ErrWriter, "Cleared %s\n", ch.Dir())
				return nil
			}),
		},
	}
}
