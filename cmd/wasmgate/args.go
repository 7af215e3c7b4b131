package main

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// reorderArgs moves each command's flags in front of its positional
// arguments. urfave/cli stops parsing flags at the first positional
// argument, while cosign and oras users type `wasmgate push x.wasm
// --policy p.yaml REF`. Everything after a literal "--" stays in place.
func reorderArgs(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	out := []string{args[0]}
	rest := args[1:]
	cmds := app.Commands
	var cmd *cli.Command
	// Descend through the command path: `cache verify`, say.
	for len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		c := findCommand(cmds, rest[0])
		if c == nil {
			break
		}
		cmd, cmds = c, c.Subcommands
		out = append(out, rest[0])
		rest = rest[1:]
	}
	if cmd == nil || cmd.SkipFlagParsing {
		return args // serve: the arguments are another program's
	}
	var flags, positional, tail []string
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		if a == "--" {
			tail = rest[i:]
			break
		}
		if len(a) < 2 || a[0] != '-' {
			positional = append(positional, a)
			continue
		}
		flags = append(flags, a)
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !hasValue && takesValue(cmd, name) && i+1 < len(rest) {
			i++
			flags = append(flags, rest[i])
		}
	}
	out = append(out, flags...)
	if len(tail) == 0 && len(positional) > 0 {
		// Keep positionals that start with "-" (unlikely, but "-" is a
		// file name for some) from being read as flags.
		tail = []string{"--"}
	}
	if len(tail) > 0 && tail[0] == "--" {
		out = append(out, "--")
		tail = tail[1:]
	}
	out = append(out, positional...)
	return append(out, tail...)
}

func findCommand(cmds []*cli.Command, name string) *cli.Command {
	for _, c := range cmds {
		if c.HasName(name) {
			return c
		}
	}
	return nil
}

// takesValue reports whether the flag called name on cmd consumes the
// next argument.
func takesValue(cmd *cli.Command, name string) bool {
	for _, f := range cmd.Flags {
		for _, n := range f.Names() {
			if n != name {
				continue
			}
			if _, ok := f.(*cli.BoolFlag); ok {
				return false
			}
			return true
		}
	}
	return false
}
