package main

import (
	"fmt"
	"runtime/debug"

	"github.com/urfave/cli/v2"
)

// version is set at link time (-ldflags "-X main.version=…"); otherwise
// the module version from the build info, else "devel".
var version = "devel"

func init() {
	if version != "devel" {
		return
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		version = bi.Main.Version
	}
}

func versionCommand() *cli.Command {
	return &cli.Command{
		Name:   "version",
		Usage:  "print the version",
		Flags:  withCommon(),
		Before: before,
		Action: func(c *cli.Context) error {
			if jsonOutput(c) {
				return printJSON(c, map[string]string{"version": version})
			}
			fmt.Fprintln(c.App.Writer, "wasmgate", version)
			return nil
		},
	}
}
