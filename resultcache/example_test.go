package resultcache_test

import (
	"context"
	"fmt"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/wasmgate/wasmgate/resultcache"
)

// Verify once per digest: the first request runs the verification, the
// ones after it (or waiting on it) share its verdict until the TTL ends.
// A denial is returned with a TTL of 0, so it is never kept.
func Example() {
	cache, err := resultcache.Open(resultcache.Options{}) // Dir: keep across processes
	if err != nil {
		panic(err)
	}
	key := resultcache.Key{
		Manifest:   digest.FromString("the manifest the tag resolved to"),
		Repository: "registry.example/wasm/app",
		Policy:     digest.FromString("trust.yaml's bytes"),
		Trust:      digest.FromString("the keys and roots it loaded"),
	}
	verify := func(context.Context) (any, time.Duration, error) {
		fmt.Println("verifying")
		return map[string]string{"verdict": "verified"}, 10 * time.Minute, nil
	}
	for range 3 {
		e, shared, err := cache.Do(context.Background(), key, verify)
		if err != nil {
			panic(err)
		}
		fmt.Println(string(e.Value), shared)
	}
	// Output:
	// verifying
	// {"verdict":"verified"} false
	// {"verdict":"verified"} true
	// {"verdict":"verified"} true
}
