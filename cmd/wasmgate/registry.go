package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	"oras.land/oras-go/v2"

	"github.com/wasmgate/wasmgate/access"
	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/cache"
	"github.com/wasmgate/wasmgate/permissions"
	"github.com/wasmgate/wasmgate/remote"
)

// envPlainHTTP lists hosts spoken to over plain HTTP, comma-separated.
const envPlainHTTP = "WASMGATE_PLAIN_HTTP"

// defaultMinRate is --min-rate's default, remote.DefaultMinRate as a
// quantity.
const defaultMinRate = "1Ki"

// registryFlags are the flags of every command that reaches a registry.
func registryFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "plain-http", Usage: "speak plain HTTP to the registry of this command's reference (also: " + envPlainHTTP + "=host,host)"},
		&cli.DurationFlag{Name: "timeout", Value: remote.DefaultTimeout, Usage: "fail when a registry sends nothing for this long"},
		&cli.StringFlag{Name: "min-rate", Value: defaultMinRate, Usage: "fail a download slower than this many bytes per second (a quantity: 1Ki, 500k) over --min-rate-window; 0 turns the check off"},
		&cli.DurationFlag{Name: "min-rate-window", Value: remote.DefaultMinRateWindow, Usage: "how long a download may stay below --min-rate"},
		&cli.DurationFlag{Name: "deadline", Value: remote.DefaultDeadline, Usage: "fail the whole command after this long (0: no deadline); run's module is bounded by --max-time instead"},
		&cli.BoolFlag{Name: "debug", Aliases: []string{"d"}, Usage: "print every registry request and response to stderr (credentials, tokens and signed URL parameters redacted)"},
		&cli.BoolFlag{Name: "offline", Usage: "use only the local cache (artifacts, TUF trust roots), never the network"},
		&cli.BoolFlag{Name: "no-cache", Usage: "neither read nor write the local cache"},
	}
}

// newClient builds the registry client from the flags. hosts are the
// registries the command's references name; --plain-http applies to them.
// A command without the registry flags (logout) gets the defaults.
func newClient(c *cli.Context, hosts ...string) (*remote.Client, error) {
	plain := remote.PlainHTTPHostsFromEnv(os.Getenv(envPlainHTTP))
	if c.Bool("plain-http") {
		for _, h := range hosts {
			if h != "" {
				plain = append(plain, h)
			}
		}
	}
	minRate, err := parseMinRate(c.String("min-rate"))
	if err != nil {
		return nil, err
	}
	if c.Duration("min-rate-window") < 0 {
		return nil, usageError("--min-rate-window must not be negative")
	}
	opts := remote.Options{
		PlainHTTP:     plain,
		Timeout:       c.Duration("timeout"),
		MinRate:       minRate,
		MinRateWindow: c.Duration("min-rate-window"),
		Deadline:      deadlineOption(c.Duration("deadline")),
		UserAgent:     "wasmgate/" + version,
	}
	if c.Bool("debug") {
		opts.Trace = c.App.ErrWriter
	}
	return remote.New(opts)
}

// parseMinRate reads --min-rate: a byte quantity per second as
// permissions.ParseBytes reads it, "/s" allowed, "0" for no check, "" (a
// command without the flag) for the default. It returns remote's
// convention: negative for off, 0 for the default.
func parseMinRate(s string) (int64, error) {
	s = strings.TrimSuffix(strings.TrimSpace(s), "/s")
	switch s {
	case "":
		return 0, nil
	case "0":
		return -1, nil
	}
	n, err := permissions.ParseBytes(s)
	if err != nil {
		return 0, usageError("--min-rate: %v (bytes per second; 0 turns the check off)", err)
	}
	if n > math.MaxInt64 {
		return 0, usageError("--min-rate: %q is too large", s)
	}
	return int64(n), nil
}

// deadlineOption turns --deadline into remote's convention: the flag's 0
// means none, which remote spells negative.
func deadlineOption(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

// withDeadlines bounds every command that has --deadline by it: the
// action runs with a context that ends then, with a *remote.DeadlineError
// as its cause. An error the deadline caused names it, and wraps
// remote.ErrTimeout whatever layer reported it (a retry wait, a verifier),
// so it exits as a timed-out registry does.
func withDeadlines(cmds []*cli.Command) {
	for _, cmd := range cmds {
		withDeadlines(cmd.Subcommands)
		if cmd.Action == nil || !slices.ContainsFunc(cmd.Flags, func(f cli.Flag) bool { return slices.Contains(f.Names(), "deadline") }) {
			continue
		}
		action := cmd.Action
		cmd.Action = func(c *cli.Context) error {
			d := c.Duration("deadline")
			if d < 0 {
				return usageError("--deadline must not be negative (0: no deadline)")
			}
			parent := c.Context
			ctx, cancel := remote.WithDeadline(parent, deadlineOption(d))
			defer cancel()
			c.Context = context.WithValue(ctx, unboundedKey{}, parent)
			err := action(c)
			var de *remote.DeadlineError
			if err == nil || !errors.As(context.Cause(ctx), &de) || !errors.Is(err, context.DeadlineExceeded) {
				return err
			}
			if !errors.As(err, new(*remote.DeadlineError)) {
				err = fmt.Errorf("%w: %w", de, err)
			}
			return fmt.Errorf("%w (--deadline %s; raise it, or 0 for none)", err, d)
		}
	}
}

type unboundedKey struct{}

// unbounded is the command's context without its --deadline (still
// cancelled by a signal), for what the deadline must not cut short: the
// module run runs for as long as its own --max-time allows.
func unbounded(c *cli.Context) context.Context {
	if parent, ok := c.Context.Value(unboundedKey{}).(context.Context); ok {
		return parent
	}
	return c.Context
}

// registryHost is the registry a reference names, "" for other kinds.
func registryHost(ref artifact.Reference) string {
	if ref.Kind == artifact.RefRegistry {
		return ref.Registry.Registry
	}
	return ""
}

// opener builds the library's Opener from the flags, with the cache
// unless --no-cache; --plain-http applies to the registries of refs.
func opener(c *cli.Context, refs ...artifact.Reference) (*access.Opener, error) {
	hosts := make([]string, 0, len(refs))
	for _, ref := range refs {
		hosts = append(hosts, registryHost(ref))
	}
	client, err := newClient(c, hosts...)
	if err != nil {
		return nil, err
	}
	o := &access.Opener{Client: client, Offline: c.Bool("offline")}
	if c.Bool("no-cache") {
		if o.Offline {
			return nil, usageError("--offline needs the cache; drop --no-cache")
		}
		return o, nil
	}
	dir, err := cache.DefaultDir()
	if err != nil {
		return nil, err
	}
	if o.Cache, err = cache.Open(dir); err != nil {
		return nil, err
	}
	return o, nil
}

// parseRef parses a positional reference, as a usage error when bad.
func parseRef(s string) (artifact.Reference, error) {
	ref, err := artifact.ParseReference(s)
	if err != nil {
		return ref, usageError("%v", err)
	}
	return ref, nil
}

// parseAnnotations reads repeated k=v flags.
func parseAnnotations(kvs []string) (map[string]string, error) {
	if len(kvs) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, usageError("--annotation wants key=value, got %q", kv)
		}
		out[k] = v
	}
	return out, nil
}

// parseCreated reads --created: RFC 3339, "now", or empty for none.
func parseCreated(s string) (time.Time, error) {
	switch s {
	case "":
		return time.Time{}, nil
	case "now":
		return time.Now().UTC().Truncate(time.Second), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, usageError("--created wants RFC 3339 (2026-01-02T15:04:05Z) or \"now\": %v", err)
	}
	return t, nil
}

// wrapRegistry classifies a registry failure and names the reference.
func wrapRegistry(op string, ref artifact.Reference, err error) error {
	if ref.Kind == artifact.RefRegistry {
		err = remote.Classify(op, ref.Registry.Registry, err)
	}
	return &artifact.Error{Op: op, Reference: ref.String(), Err: err}
}

// source opens ref for reading and returns what to look up in it: the
// --digest flag when given (on commands that have it), else the
// reference's own tag or digest.
func source(c *cli.Context, ref artifact.Reference) (*access.Opener, oras.ReadOnlyTarget, string, error) {
	pinned, err := pinnedDigest(c, ref)
	if err != nil {
		return nil, nil, "", err
	}
	object := ref.Object()
	if pinned != "" {
		object = pinned.String()
	}
	if object == "" {
		return nil, nil, "", usageError("%s names no tag or digest", ref)
	}
	o, err := opener(c, ref)
	if err != nil {
		return nil, nil, "", err
	}
	src, err := o.Source(ref)
	if err != nil {
		return nil, nil, "", err
	}
	return o, src, object, nil
}

// repository is "host/path" of a registry reference, "" otherwise.
func repository(ref artifact.Reference) string {
	if ref.Kind != artifact.RefRegistry {
		return ""
	}
	return ref.Registry.Registry + "/" + ref.Registry.Repository
}
