package testtuf_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/sigstore/sigstore-go/pkg/tuf"
	"github.com/theupdateframework/go-tuf/v2/metadata"

	"github.com/wasmgate/wasmgate/internal/testrig/testtuf"
)

const target = "trusted_root.json"

var (
	v1 = []byte(`{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1","v":1}`)
	v2 = []byte(`{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1","v":2}`)
)

// client starts sigstore-go's TUF client on r with the cache at cache,
// trusting r.InitialRoot(). opt, if not nil, adjusts the options first.
func client(r *testtuf.Repo, cache string, opt func(*tuf.Options)) (*tuf.Client, error) {
	opts := &tuf.Options{
		Root:              r.InitialRoot(),
		RepositoryBaseURL: r.URL,
		CachePath:         cache,
		CacheValidity:     tuf.NoCache,
	}
	if opt != nil {
		opt(opts)
	}
	return tuf.New(opts)
}

// fetch starts a client as client does and gets target with it.
func fetch(r *testtuf.Repo, cache string, opt func(*tuf.Options)) ([]byte, error) {
	c, err := client(r, cache, opt)
	if err != nil {
		return nil, err
	}
	return c.GetTarget(target)
}

func mustFetch(t *testing.T, r *testtuf.Repo, cache string, opt func(*tuf.Options)) []byte {
	t.Helper()
	got, err := fetch(r, cache, opt)
	if err != nil {
		t.Fatalf("fetch %s: %v", target, err)
	}
	return got
}

func forceCache(o *tuf.Options) { o.ForceCache = true }

// chain describes err's tree, one error per line with its dynamic type, so
// that a failing or verbose run shows exactly what sigstore-go wrapped.
func chain(err error) string {
	var b strings.Builder
	var walk func(error, int)
	walk = func(e error, depth int) {
		if e == nil {
			return
		}
		fmt.Fprintf(&b, "\n%s%T: %v", strings.Repeat("  ", depth), e, e)
		switch u := e.(type) {
		case interface{ Unwrap() []error }:
			for _, c := range u.Unwrap() {
				walk(c, depth+1)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap(), depth+1)
		}
	}
	walk(err, 0)
	return b.String()
}

// notTUF fails t if err matches any go-tuf error type: a network failure
// must not look like something the repository said.
func notTUF(t *testing.T, err error) {
	t.Helper()
	for _, target := range []error{
		&metadata.ErrRepository{}, // parent of every verification error
		&metadata.ErrDownload{},   // parent of ErrDownloadHTTP, ErrDownloadLengthMismatch
		&metadata.ErrValue{},
		&metadata.ErrType{},
		&metadata.ErrRuntime{},
	} {
		if errors.Is(err, target) {
			t.Errorf("error matches %T:%s", target, chain(err))
		}
	}
}

// cachedRootVersion reads the root.json that the client persisted in cache.
func cachedRootVersion(t *testing.T, r *testtuf.Repo, cache string) int64 {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(cache, tuf.URLToPath(r.URL), "root.json"))
	if err != nil {
		t.Fatal(err)
	}
	root, err := metadata.Root().FromBytes(data)
	if err != nil {
		t.Fatal(err)
	}
	return root.Signed.Version
}

func get(t *testing.T, u string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

// TestLayout pins the file names sigstore-go's client depends on, the
// loopback address, and the consistent-snapshot flag in the initial root.
func TestLayout(t *testing.T) {
	r := testtuf.New(t, map[string][]byte{target: v1})
	if !strings.HasPrefix(r.URL, "http://127.0.0.1:") || strings.HasSuffix(r.URL, "/") {
		t.Errorf("URL = %q, want http://127.0.0.1:<port> without trailing slash", r.URL)
	}
	root, err := metadata.Root().FromBytes(r.InitialRoot())
	if err != nil {
		t.Fatal(err)
	}
	if root.Signed.Version != 1 || !root.Signed.ConsistentSnapshot {
		t.Errorf("initial root: version %d, consistent_snapshot %v; want 1, true",
			root.Signed.Version, root.Signed.ConsistentSnapshot)
	}
	for _, role := range []string{metadata.ROOT, metadata.TARGETS, metadata.SNAPSHOT, metadata.TIMESTAMP} {
		if n := root.Signed.Roles[role].Threshold; n != 1 {
			t.Errorf("%s threshold = %d, want 1", role, n)
		}
	}

	sum := sha256.Sum256(v1)
	for p, want := range map[string]int{
		"/1.root.json":      http.StatusOK,
		"/timestamp.json":   http.StatusOK,
		"/1.snapshot.json":  http.StatusOK,
		"/1.targets.json":   http.StatusOK,
		"/2.root.json":      http.StatusNotFound,
		"/root.json":        http.StatusNotFound,
		"/snapshot.json":    http.StatusNotFound,
		"/targets.json":     http.StatusNotFound,
		"/1.timestamp.json": http.StatusNotFound,
		"/targets/" + hex.EncodeToString(sum[:]) + "." + target: http.StatusOK,
		"/targets/" + target: http.StatusNotFound,
	} {
		if got, _ := get(t, r.URL+p); got != want {
			t.Errorf("GET %s = %d, want %d", p, got, want)
		}
	}
	if _, body := get(t, r.URL+"/1.root.json"); !bytes.Equal(body, r.InitialRoot()) {
		t.Error("1.root.json differs from InitialRoot()")
	}
}

func TestFetchAndPublish(t *testing.T) {
	r := testtuf.New(t, map[string][]byte{target: v1})
	cache := t.TempDir()
	if got := mustFetch(t, r, cache, nil); !bytes.Equal(got, v1) {
		t.Fatalf("got %q, want %q", got, v1)
	}
	if r.Requests() == 0 {
		t.Fatal("Requests() = 0 after a fetch with an empty cache")
	}

	r.Publish(target, v2)

	// A client on the warm cache that is told not to refresh keeps v1.
	if got := mustFetch(t, r, cache, forceCache); !bytes.Equal(got, v1) {
		t.Errorf("ForceCache: got %q, want the cached %q", got, v1)
	}
	// A new client with CacheValidity 0 refreshes and gets v2.
	if got := mustFetch(t, r, cache, nil); !bytes.Equal(got, v2) {
		t.Errorf("after Publish: got %q, want %q", got, v2)
	}
	// So does an empty cache.
	if got := mustFetch(t, r, t.TempDir(), nil); !bytes.Equal(got, v2) {
		t.Errorf("after Publish, empty cache: got %q, want %q", got, v2)
	}

	// Client.Refresh on a long-lived client picks up a new version too.
	c, err := client(r, cache, nil)
	if err != nil {
		t.Fatal(err)
	}
	v3 := []byte(`{"v":3}`)
	r.Publish(target, v3)
	if err := c.Refresh(); err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	if got, err := c.GetTarget(target); err != nil || !bytes.Equal(got, v3) {
		t.Errorf("after Refresh: got %q, %v; want %q", got, err, v3)
	}

	// Another target, added later.
	r.Publish("signing_config.v0.2.json", []byte(`{}`))
	c, err = client(r, cache, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := c.GetTarget("signing_config.v0.2.json"); err != nil || string(got) != `{}` {
		t.Errorf("second target: got %q, %v", got, err)
	}
}

func TestRotateRoot(t *testing.T) {
	r := testtuf.New(t, map[string][]byte{target: v1})
	warm := t.TempDir()
	mustFetch(t, r, warm, nil)
	if v := cachedRootVersion(t, r, warm); v != 1 {
		t.Fatalf("cached root version %d before rotation, want 1", v)
	}

	r.RotateRoot()
	r.RotateRoot() // 3.root.json is not signed by any key 1.root.json trusts
	r.Publish(target, v2)

	for name, cache := range map[string]string{"warm cache": warm, "empty cache": t.TempDir()} {
		t.Run(name, func(t *testing.T) {
			if got := mustFetch(t, r, cache, nil); !bytes.Equal(got, v2) {
				t.Errorf("got %q, want %q", got, v2)
			}
			if v := cachedRootVersion(t, r, cache); v != 3 {
				t.Errorf("cached root version %d, want 3", v)
			}
		})
	}
}

// TestExpireTimestamp: a freeze attack. go-tuf refuses the expired timestamp
// with *metadata.ErrExpiredMetadata whether or not the cache is warm.
func TestExpireTimestamp(t *testing.T) {
	r := testtuf.New(t, map[string][]byte{target: v1})
	warm := t.TempDir()
	mustFetch(t, r, warm, nil)

	r.ExpireTimestamp()

	for name, cache := range map[string]string{"warm cache": warm, "empty cache": t.TempDir()} {
		t.Run(name, func(t *testing.T) {
			got, err := fetch(r, cache, nil)
			if err == nil {
				t.Fatalf("fetch succeeded with an expired timestamp: %q", got)
			}
			t.Logf("error tree:%s", chain(err))
			if _, ok := errors.AsType[*metadata.ErrExpiredMetadata](err); !ok {
				t.Errorf("no *metadata.ErrExpiredMetadata in:%s", chain(err))
			}
			if errors.Is(err, &metadata.ErrDownload{}) {
				t.Errorf("expired timestamp looks like a download error:%s", chain(err))
			}
		})
	}

	// The expired timestamp was not persisted: the warm cache still serves
	// its verified copy offline.
	n := r.Requests()
	if got := mustFetch(t, r, warm, forceCache); !bytes.Equal(got, v1) {
		t.Errorf("ForceCache after refused refresh: got %q, want %q", got, v1)
	}
	if r.Requests() != n {
		t.Errorf("ForceCache client made %d requests", r.Requests()-n)
	}

	// A new timestamp heals the repository.
	r.Publish(target, v2)
	if got := mustFetch(t, r, warm, nil); !bytes.Equal(got, v2) {
		t.Errorf("after Publish: got %q, want %q", got, v2)
	}
}

// TestRollback: a replay of the timestamp from before the last Publish. A
// client that saw the newer timestamp refuses it with
// *metadata.ErrBadVersionNumber; one with an empty cache cannot know.
func TestRollback(t *testing.T) {
	r := testtuf.New(t, map[string][]byte{target: v1})
	warm := t.TempDir()
	mustFetch(t, r, warm, nil)
	r.Publish(target, v2)
	if got := mustFetch(t, r, warm, nil); !bytes.Equal(got, v2) {
		t.Fatalf("got %q, want %q", got, v2)
	}

	r.Rollback()

	got, err := fetch(r, warm, nil)
	if err == nil {
		t.Fatalf("rollback accepted, got %q", got)
	}
	t.Logf("error tree:%s", chain(err))
	if _, ok := errors.AsType[*metadata.ErrBadVersionNumber](err); !ok {
		t.Errorf("no *metadata.ErrBadVersionNumber in:%s", chain(err))
	}
	// ErrEqualVersionNumber (a repository with nothing new, which go-tuf
	// swallows) also matches errors.Is(err, &ErrBadVersionNumber{}); this
	// is the strict kind.
	if _, ok := errors.AsType[*metadata.ErrEqualVersionNumber](err); ok {
		t.Errorf("rollback reported as equal version:%s", chain(err))
	}
	if errors.Is(err, &metadata.ErrDownload{}) {
		t.Errorf("rollback looks like a download error:%s", chain(err))
	}

	// Without prior state the old, validly signed repository is accepted.
	if got := mustFetch(t, r, t.TempDir(), nil); !bytes.Equal(got, v1) {
		t.Errorf("empty cache under rollback: got %q, want the old %q", got, v1)
	}

	// The warm cache was not downgraded: it still serves v2 offline.
	if got := mustFetch(t, r, warm, forceCache); !bytes.Equal(got, v2) {
		t.Errorf("ForceCache after refused rollback: got %q, want %q", got, v2)
	}
}

// TestTamperTarget: a mirror serving other bytes at the target's path. The
// error type depends on the length of the bytes served.
func TestTamperTarget(t *testing.T) {
	evil := func(n int) []byte { return bytes.Repeat([]byte("x"), n) }
	for _, tc := range []struct {
		name string
		data []byte
		// check reports whether err is of the expected type.
		check func(error) bool
		want  string
	}{
		{"same length", evil(len(v1)), isLengthOrHash, "*metadata.ErrLengthOrHashMismatch"},
		{"shorter", evil(len(v1) - 1), isLengthOrHash, "*metadata.ErrLengthOrHashMismatch"},
		{"empty", nil, isLengthOrHash, "*metadata.ErrLengthOrHashMismatch"},
		// The fetcher stops at the length in targets.json before any hash
		// is computed: a *download* error type.
		{"longer", evil(len(v1) + 1), isDownloadLength, "*metadata.ErrDownloadLengthMismatch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := testtuf.New(t, map[string][]byte{target: v1})
			r.TamperTarget(target, tc.data)
			c, err := client(r, t.TempDir(), nil)
			if err != nil {
				t.Fatalf("metadata is untouched, yet: %v", err)
			}
			got, err := c.GetTarget(target)
			if err == nil {
				t.Fatalf("tampered target accepted: %q", got)
			}
			t.Logf("error tree:%s", chain(err))
			if !tc.check(err) {
				t.Errorf("want %s in:%s", tc.want, chain(err))
			}
			if _, ok := errors.AsType[*url.Error](err); ok {
				t.Errorf("tampering looks like a network error:%s", chain(err))
			}
		})
	}
}

func isLengthOrHash(err error) bool {
	_, ok := errors.AsType[*metadata.ErrLengthOrHashMismatch](err)
	return ok && errors.Is(err, &metadata.ErrRepository{}) && !errors.Is(err, &metadata.ErrDownload{})
}

func isDownloadLength(err error) bool {
	_, ok := errors.AsType[*metadata.ErrDownloadLengthMismatch](err)
	return ok && errors.Is(err, &metadata.ErrDownload{}) && !errors.Is(err, &metadata.ErrRepository{})
}

// TestOffline: with the network down, a warm cache with ForceCache (or a
// CacheValidity still running) reads the target without a request; anything
// that goes to the network fails with net/http's connection error, which no
// go-tuf type matches.
func TestOffline(t *testing.T) {
	r := testtuf.New(t, map[string][]byte{target: v1})
	warm := t.TempDir()
	// CacheValidity 1 persists the refresh time for the check below.
	mustFetch(t, r, warm, func(o *tuf.Options) { o.CacheValidity = 1 })

	r.Offline(true)
	n := r.Requests()

	t.Run("warm cache, ForceCache", func(t *testing.T) {
		if got := mustFetch(t, r, warm, forceCache); !bytes.Equal(got, v1) {
			t.Errorf("got %q, want %q", got, v1)
		}
		if d := r.Requests() - n; d != 0 {
			t.Errorf("%d requests, want 0", d)
		}
	})
	t.Run("warm cache, CacheValidity 1 day", func(t *testing.T) {
		if got := mustFetch(t, r, warm, func(o *tuf.Options) { o.CacheValidity = 1 }); !bytes.Equal(got, v1) {
			t.Errorf("got %q, want %q", got, v1)
		}
		if d := r.Requests() - n; d != 0 {
			t.Errorf("%d requests, want 0", d)
		}
	})
	for name, cache := range map[string]string{
		"warm cache, CacheValidity 0": warm,
		"empty cache":                 t.TempDir(),
	} {
		t.Run(name, func(t *testing.T) {
			before := r.Requests()
			got, err := fetch(r, cache, nil)
			if err == nil {
				t.Fatalf("fetch succeeded offline: %q", got)
			}
			if r.Requests() == before {
				t.Error("the failed fetch never reached the server")
			}
			t.Logf("error tree:%s", chain(err))
			isConnReset(t, err)
			notTUF(t, err)
		})
	}

	r.Offline(false)
	if got := mustFetch(t, r, t.TempDir(), nil); !bytes.Equal(got, v1) {
		t.Errorf("back online: got %q, want %q", got, v1)
	}
}

// isConnReset checks the shape of a connection-level failure as net/http
// reports it.
func isConnReset(t *testing.T, err error) {
	t.Helper()
	if _, ok := errors.AsType[*url.Error](err); !ok {
		t.Errorf("no *url.Error in:%s", chain(err))
	}
	if _, ok := errors.AsType[*net.OpError](err); !ok {
		t.Errorf("no *net.OpError in:%s", chain(err))
	}
	if ne, ok := errors.AsType[net.Error](err); !ok || ne.Timeout() {
		t.Errorf("want a net.Error that is not a timeout in:%s", chain(err))
	}
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("not ECONNRESET:%s", chain(err))
	}
}

// TestFailStatus: a server that answers 503. go-tuf's fetcher reports
// *metadata.ErrDownloadHTTP, a child of *metadata.ErrDownload.
func TestFailStatus(t *testing.T) {
	r := testtuf.New(t, map[string][]byte{target: v1})
	warm := t.TempDir()
	mustFetch(t, r, warm, nil)

	r.FailStatus(http.StatusServiceUnavailable)
	for name, cache := range map[string]string{"warm cache": warm, "empty cache": t.TempDir()} {
		t.Run(name, func(t *testing.T) {
			got, err := fetch(r, cache, nil)
			if err == nil {
				t.Fatalf("fetch succeeded: %q", got)
			}
			t.Logf("error tree:%s", chain(err))
			e, ok := errors.AsType[*metadata.ErrDownloadHTTP](err)
			if !ok || e.StatusCode != http.StatusServiceUnavailable {
				t.Errorf("want *metadata.ErrDownloadHTTP with status 503 in:%s", chain(err))
			}
			if !errors.Is(err, &metadata.ErrDownload{}) || errors.Is(err, &metadata.ErrRepository{}) {
				t.Errorf("want ErrDownload and not ErrRepository:%s", chain(err))
			}
			if _, ok := errors.AsType[*url.Error](err); ok {
				t.Errorf("an HTTP answer looks like a network error:%s", chain(err))
			}
		})
	}
	if got := mustFetch(t, r, warm, forceCache); !bytes.Equal(got, v1) {
		t.Errorf("ForceCache: got %q, want %q", got, v1)
	}

	r.FailStatus(0)
	if got := mustFetch(t, r, t.TempDir(), nil); !bytes.Equal(got, v1) {
		t.Errorf("after FailStatus(0): got %q, want %q", got, v1)
	}
}
