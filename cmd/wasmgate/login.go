package main

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"
)

func loginCommand() *cli.Command {
	return &cli.Command{
		Name:      "login",
		Usage:     "check credentials against a registry and store them as docker does",
		ArgsUsage: "REGISTRY",
		Flags: withCommon(append(registryFlags(),
			&cli.StringFlag{Name: "username", Aliases: []string{"u"}, Usage: "user name"},
			&cli.StringFlag{Name: "password", Aliases: []string{"p"}, Usage: "password (prefer --password-stdin: flags end up in shell history)"},
			&cli.BoolFlag{Name: "password-stdin", Usage: "read the password from standard input"},
		)...),
		Before: before,
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageError("login wants one REGISTRY host")
			}
			host := c.Args().First()
			user, pass := c.String("username"), c.String("password")
			if c.Bool("password-stdin") {
				if pass != "" {
					return usageError("--password and --password-stdin exclude each other")
				}
				line, err := bufio.NewReader(io.LimitReader(c.App.Reader, 64<<10)).ReadString('\n')
				if err != nil && err != io.EOF {
					return err
				}
				pass = strings.TrimRight(line, "\r\n")
			}
			if user == "" || pass == "" {
				return usageError("login needs --username and a password (--password-stdin)")
			}
			client, err := newClient(c, host)
			if err != nil {
				return err
			}
			if err := client.Login(c.Context, host, user, pass); err != nil {
				return err
			}
			fmt.Fprintf(c.App.ErrWriter, "Login succeeded for %s\n", host)
			return nil
		},
	}
}

func logoutCommand() *cli.Command {
	return &cli.Command{
		Name:      "logout",
		Usage:     "remove stored credentials for a registry",
		ArgsUsage: "REGISTRY",
		Flags:     withCommon(),
		Before:    before,
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageError("logout wants one REGISTRY host")
			}
			client, err := newClient(c)
			if err != nil {
				return err
			}
			if err := client.Logout(c.Context, c.Args().First()); err != nil {
				return err
			}
			fmt.Fprintf(c.App.ErrWriter, "Removed credentials for %s\n", c.Args().First())
			return nil
		},
	}
}
