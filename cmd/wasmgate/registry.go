package main

import (
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	"oras.land/oras-go/v2"

	"github.com/wasmgate/wasmgate/access"
	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/cache"
	"github.com/wasmgate/wasmgate/remote"
)

// envPlainHTTP lists hosts spoken to over plain HTTP, comma-separated.
const envPlainHTTP = "WASMGATE_PLAIN_HTTP"

// registryFlags are the flags of every command that reaches a registry.
func registryFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "plain-http", Usage: "speak plain HTTP to the registry of this command's reference (also: " + envPlainHTTP + "=host,host)"},
		&cli.DurationFlag{Name: "timeout", Value: remote.DefaultTimeout, Usage: "fail when a registry sends nothing for this long"},
		&cli.BoolFlag{Name: "offline", Usage: "use only the local cache (artifacts, TUF trust roots), never the network"},
		&cli.BoolFlag{Name: "no-cache", Usage: "neither read nor write the local cache"},
	}
}

// newClient builds the registry client from the flags. hosts are the
// registries the command's references name; --plain-http applies to them.
func newClient(c *cli.Context, hosts ...string) (*remote.Client, error) {
	plain := remote.PlainHTTPHostsFromEnv(os.Getenv(envPlainHTTP))
	if c.Bool("plain-http") {
		for _, h := range hosts {
			if h != "" {
				plain = append(plain, h)
			}
		}
	}
	return remote.New(remote.Options{
		PlainHTTP: plain,
		Timeout:   c.Duration("timeout"),
		UserAgent: "wasmgate/" + version,
	})
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
