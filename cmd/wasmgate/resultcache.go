package main

import (
	"path/filepath"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/wasmgate/wasmgate/cache"
	"github.com/wasmgate/wasmgate/resultcache"
	"github.com/wasmgate/wasmgate/verify"
)

func resultCacheFlag() cli.Flag {
	return &cli.DurationFlag{Name: "result-cache-ttl", Usage: "keep verified verdicts this long in the local cache " +
		"(keyed by manifest digest, repository, policy and trust material digests; never by tag) and answer a repeat " +
		"from it; off by default: a kept pass outlives a revocation by up to this long"}
}

// resultCache opens the result cache --result-cache-ttl asks for under
// the local cache directory, or returns nil when it is off. policy, when
// given, must have come from a file (nil: every policy does, as apply's).
func resultCache(c *cli.Context, policy *verify.Policy) (*resultcache.Cache, time.Duration, error) {
	ttl := c.Duration("result-cache-ttl")
	switch {
	case ttl == 0:
		return nil, 0, nil
	case ttl < 0:
		return nil, 0, usageError("--result-cache-ttl must be positive, not %s", ttl)
	case c.Bool("no-cache"):
		return nil, 0, usageError("--result-cache-ttl keeps verdicts in the local cache; drop --no-cache")
	case policy != nil && policy.Digest() == "":
		return nil, 0, usageError("--result-cache-ttl needs --policy FILE: verdicts are keyed by the policy file's digest")
	}
	dir, err := cache.DefaultDir()
	if err != nil {
		return nil, 0, err
	}
	rc, err := resultcache.Open(resultcache.Options{Dir: filepath.Join(dir, "results")})
	if err != nil {
		return nil, 0, err
	}
	return rc, ttl, nil
}
