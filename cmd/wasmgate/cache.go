package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/wasmgate/wasmgate/cache"
)

func cacheCommand() *cli.Command {
	open := func() (*cache.Cache, error) {
		dir, err := cache.DefaultDir()
		if err != nil {
			return nil, err
		}
		return cache.Open(dir)
	}
	return &cli.Command{
		Name:  "cache",
		Usage: "list, verify or clear the local cache (" + cache.EnvDir + " overrides its location)",
		Subcommands: []*cli.Command{
			{
				Name:   "ls",
				Usage:  "list cached references",
				Flags:  withCommon(),
				Before: before,
				Action: func(c *cli.Context) error {
					ch, err := open()
					if err != nil {
						return err
					}
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
				},
			},
			{
				Name:   "verify",
				Usage:  "re-hash every cached blob; remove and report the corrupt ones",
				Flags:  withCommon(),
				Before: before,
				Action: func(c *cli.Context) error {
					ch, err := open()
					if err != nil {
						return err
					}
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
				},
			},
			{
				Name:   "clear",
				Usage:  "remove everything in the cache",
				Flags:  withCommon(),
				Before: before,
				Action: func(c *cli.Context) error {
					ch, err := open()
					if err != nil {
						return err
					}
					if err := ch.Clear(); err != nil {
						return err
					}
					fmt.Fprintf(c.App.ErrWriter, "Cleared %s\n", ch.Dir())
					return nil
				},
			},
		},
	}
}
