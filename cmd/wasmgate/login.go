package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/credentials"

	"github.com/wasmgate/wasmgate/remote"
)

func loginCommand() *cli.Command {
	return &cli.Command{
		Name:      "login",
		Usage:     "check credentials against a registry and store them as docker does",
		ArgsUsage: "REGISTRY",
		Description: "The password comes from --password-stdin, else a prompt when standard input is a terminal " +
			"(as docker login does); --password works but ends up in shell history.",
		Flags: withCommon(append(registryFlags(),
			&cli.StringFlag{Name: "username", Aliases: []string{"u"}, Usage: "user name (prompted for on a terminal when missing)"},
			&cli.StringFlag{Name: "password", Aliases: []string{"p"}, Usage: "password (prefer --password-stdin or the prompt: flags end up in shell history)"},
			&cli.BoolFlag{Name: "password-stdin", Usage: "read the password from standard input"},
		)...),
		Before: before,
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageError("login wants one REGISTRY host")
			}
			host := c.Args().First()
			user, pass, err := loginCredentials(c, host)
			if err != nil {
				return err
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

// loginCredentials gets the user name and password from the flags,
// standard input (--password-stdin) or, on a terminal, a prompt.
func loginCredentials(c *cli.Context, host string) (user, pass string, err error) {
	user, pass = c.String("username"), c.String("password")
	if c.Bool("password-stdin") {
		if pass != "" {
			return "", "", usageError("--password and --password-stdin exclude each other")
		}
		if user == "" {
			return "", "", usageError("--password-stdin needs --username")
		}
		line, err := bufio.NewReader(io.LimitReader(c.App.Reader, 64<<10)).ReadString('\n')
		if err != nil && err != io.EOF {
			return "", "", err
		}
		pass = strings.TrimRight(line, "\r\n")
		if pass == "" {
			return "", "", usageError("--password-stdin read an empty password")
		}
		return user, pass, nil
	}
	if user != "" && pass != "" {
		return user, pass, nil
	}
	tty, ok := c.App.Reader.(*os.File)
	if !ok || !term.IsTerminal(int(tty.Fd())) {
		return "", "", usageError("login to %s needs --username and a password, and standard input is not a terminal to prompt on; "+
			"pipe the password: printf '%%s\\n' \"$TOKEN\" | wasmgate login -u USER --password-stdin %s", host, host)
	}
	// Prompts go to stderr when it is the terminal, else to the terminal
	// itself, so that a user whose stderr is redirected still sees them.
	var prompt io.Writer = tty
	if f, ok := isTerminal(c.App.ErrWriter); ok {
		prompt = f
	}
	if user == "" {
		fmt.Fprintf(prompt, "Username for %s: ", host)
		if user, err = readLine(tty, 1024); err != nil {
			return "", "", err
		}
		if user == "" {
			return "", "", usageError("login needs a user name")
		}
	}
	fmt.Fprintf(prompt, "Password for %s@%s: ", user, host)
	raw, err := term.ReadPassword(int(tty.Fd()))
	fmt.Fprintln(prompt)
	if err != nil {
		return "", "", fmt.Errorf("reading the password: %w", err)
	}
	if len(raw) == 0 {
		return "", "", usageError("login needs a password")
	}
	return user, string(raw), nil
}

// readLine reads one line from the terminal a byte at a time, so that
// nothing after it (the password) is read ahead into a buffer.
func readLine(r io.Reader, max int) (string, error) {
	var b strings.Builder
	buf := make([]byte, 1)
	for b.Len() < max {
		n, err := r.Read(buf)
		if n == 1 {
			if buf[0] == '\n' {
				break
			}
			b.WriteByte(buf[0])
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", err
		}
	}
	return strings.TrimRight(b.String(), "\r"), nil
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
			host := c.Args().First()
			// The store the client would use (Docker's), read first: its
			// Delete does not say whether there was anything to delete.
			store, err := credentials.NewStoreFromDocker(credentials.StoreOptions{AllowPlaintextPut: true})
			if err != nil {
				return fmt.Errorf("reading Docker credentials: %w", err)
			}
			cred, err := store.Get(c.Context, credentials.ServerAddressFromRegistry(host))
			if err != nil {
				return fmt.Errorf("reading the credentials for %s: %w", host, err)
			}
			if cred == auth.EmptyCredential {
				// As docker logout: nothing to do is not a failure.
				fmt.Fprintf(c.App.ErrWriter, "Not logged in to %s\n", host)
				return nil
			}
			client, err := remote.New(remote.Options{Credentials: store, UserAgent: "wasmgate/" + version})
			if err != nil {
				return err
			}
			if err := client.Logout(c.Context, host); err != nil {
				return err
			}
			fmt.Fprintf(c.App.ErrWriter, "Removed credentials for %s\n", host)
			return nil
		},
	}
}
