package main

import (
	"fmt"

	"github.com/urfave/cli/v2"
)

func policyCommand() *cli.Command {
	return &cli.Command{
		Name:  "policy",
		Usage: "work with trust policy files",
		Subcommands: []*cli.Command{{
			Name:      "lint",
			Usage:     "validate a trust policy and the trust material it names, and say in words what it requires",
			ArgsUsage: "FILE",
			Flags:     withCommon(),
			Before:    before,
			Action: func(c *cli.Context) error {
				if c.NArg() != 1 {
					return usageError("policy lint wants one FILE")
				}
				p, err := loadPolicy(c, c.Args().First())
				if err != nil {
					return err
				}
				if jsonOutput(c) {
					return printJSON(c, map[string]any{"file": p.File(), "digest": p.Digest(), "trustDigest": p.TrustDigest(), "valid": true, "explanation": p.Explain()})
				}
				fmt.Fprintf(c.App.Writer, "%s: valid (policy %s, trust material %s)\n\n%s", p.File(), p.Digest(), p.TrustDigest(), p.Explain())
				return nil
			},
		}},
	}
}
