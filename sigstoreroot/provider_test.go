package sigstoreroot_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/wasmgate/wasmgate/internal/testrig/testtuf"
	"github.com/wasmgate/wasmgate/sigstoreroot"
	"github.com/wasmgate/wasmgate/sigstoreroot/embedded"
)

// trustedRootJSON is a real trusted root to publish: the public-good one
// embedded in wasmgate (any valid trusted_root.json would do).
func trustedRootJSON(t *testing.T) []byte {
	t.Helper()
	s, err := embedded.PublicGood()
	if err != nil {
		t.Fatal(err)
	}
	return s.TrustedRoot
}

// otherTrustedRootJSON is a second, different valid trusted root.
func otherTrustedRootJSON(t *testing.T) []byte {
	t.Helper()
	tr, err := root.NewTrustedRootFromJSON(trustedRootJSON(t))
	if err != nil {
		t.Fatal(err)
	}
	other, err := root.NewTrustedRoot(root.TrustedRootMediaType01, tr.FulcioCertificateAuthorities(), nil, tr.TimestampingAuthorities(), nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := other.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func provider(t *testing.T, cacheDir string, opts sigstoreroot.Options) *sigstoreroot.Provider {
	opts.CacheDir = cacheDir
	return sigstoreroot.NewProvider(opts)
}

func TestMirror(t *testing.T) {
	first, second := trustedRootJSON(t), otherTrustedRootJSON(t)
	repo := testtuf.New(t, map[string][]byte{sigstoreroot.TrustedRootTarget: first})
	dir := t.TempDir()
	ctx := context.Background()

	r, err := provider(t, dir, sigstoreroot.Options{}).Mirror(ctx, repo.URL, repo.InitialRoot())
	if err != nil {
		t.Fatal(err)
	}
	if r.Digest != digest.FromBytes(first) || r.Source != "TUF "+repo.URL || len(r.Warnings) != 0 || len(r.TrustedRoot.FulcioCertificateAuthorities()) == 0 {
		t.Fatalf("got %s from %q, warnings %q", r.Digest, r.Source, r.Warnings)
	}

	t.Run("a fresh cache answers without a request", func(t *testing.T) {
		before := repo.Requests()
		r, err := provider(t, dir, sigstoreroot.Options{}).Mirror(ctx, repo.URL, repo.InitialRoot())
		if err != nil || r.Digest != digest.FromBytes(first) {
			t.Fatalf("%v %+v", err, r)
		}
		if n := repo.Requests() - before; n != 0 {
			t.Fatalf("%d requests within the cache's validity", n)
		}
	})

	t.Run("a new version and a rotated root are followed", func(t *testing.T) {
		repo.RotateRoot()
		repo.Publish(sigstoreroot.TrustedRootTarget, second)
		r, err := provider(t, dir, sigstoreroot.Options{CacheValidity: -1}).Mirror(ctx, repo.URL, repo.InitialRoot())
		if err != nil || r.Digest != digest.FromBytes(second) {
			t.Fatalf("%v %+v", err, r)
		}
	})

	t.Run("one Provider fetches once", func(t *testing.T) {
		p := provider(t, t.TempDir(), sigstoreroot.Options{})
		if _, err := p.Mirror(ctx, repo.URL, repo.InitialRoot()); err != nil {
			t.Fatal(err)
		}
		before := repo.Requests()
		if _, err := p.Mirror(ctx, repo.URL, repo.InitialRoot()); err != nil {
			t.Fatal(err)
		}
		if n := repo.Requests() - before; n != 0 {
			t.Fatalf("%d requests for a root already obtained", n)
		}
	})
}

// Outages fall back to the cache, with a warning; refusals do not fall
// back at all.
func TestMirrorFallBack(t *testing.T) {
	ctx := context.Background()
	warm := func(t *testing.T) (*testtuf.Repo, string) {
		repo := testtuf.New(t, map[string][]byte{sigstoreroot.TrustedRootTarget: trustedRootJSON(t)})
		dir := t.TempDir()
		if _, err := provider(t, dir, sigstoreroot.Options{}).Mirror(ctx, repo.URL, repo.InitialRoot()); err != nil {
			t.Fatal(err)
		}
		return repo, dir
	}
	refresh := sigstoreroot.Options{CacheValidity: -1}

	for _, tc := range []struct {
		name  string
		stage func(*testtuf.Repo)
	}{
		{"network down", func(r *testtuf.Repo) { r.Offline(true) }},
		{"server error", func(r *testtuf.Repo) { r.FailStatus(http.StatusServiceUnavailable) }},
	} {
		t.Run(tc.name+": cache, with a warning", func(t *testing.T) {
			repo, dir := warm(t)
			tc.stage(repo)
			r, err := provider(t, dir, refresh).Mirror(ctx, repo.URL, repo.InitialRoot())
			if err != nil {
				t.Fatal(err)
			}
			if r.Source != "TUF cache of "+repo.URL || len(r.Warnings) != 2 || !strings.Contains(r.Warnings[0], "could not be reached") {
				t.Fatalf("source %q warnings %q", r.Source, r.Warnings)
			}
		})
		t.Run(tc.name+": no cache, no snapshot: unavailable", func(t *testing.T) {
			repo, _ := warm(t)
			tc.stage(repo)
			_, err := provider(t, t.TempDir(), refresh).Mirror(ctx, repo.URL, repo.InitialRoot())
			if !errors.Is(err, sigstoreroot.ErrUnavailable) || errors.Is(err, sigstoreroot.ErrRefused) {
				t.Fatalf("want ErrUnavailable, got %v", err)
			}
		})
	}

	for _, tc := range []struct {
		name  string
		cold  bool // an empty cache: a warm one would not download the target again
		stage func(*testing.T, *testtuf.Repo)
	}{
		{"an expired timestamp", false, func(_ *testing.T, r *testtuf.Repo) { r.ExpireTimestamp() }},
		{"a rollback to an older snapshot", false, func(t *testing.T, r *testtuf.Repo) {
			r.Publish(sigstoreroot.TrustedRootTarget, otherTrustedRootJSON(t))
			// The cache sees the new version, then the mirror serves the old one.
		}},
		{"a tampered target", true, func(t *testing.T, r *testtuf.Repo) {
			r.TamperTarget(sigstoreroot.TrustedRootTarget, append([]byte(" "), trustedRootJSON(t)[1:]...))
		}},
		{"an oversized target", true, func(t *testing.T, r *testtuf.Repo) {
			r.TamperTarget(sigstoreroot.TrustedRootTarget, append(trustedRootJSON(t), ' '))
		}},
	} {
		t.Run(tc.name+": refused, not replaced by the cache", func(t *testing.T) {
			repo, dir := warm(t)
			if tc.cold {
				dir = t.TempDir()
			}
			tc.stage(t, repo)
			if tc.name == "a rollback to an older snapshot" {
				if _, err := provider(t, dir, refresh).Mirror(ctx, repo.URL, repo.InitialRoot()); err != nil {
					t.Fatal(err)
				}
				repo.Rollback()
			}
			r, err := provider(t, dir, refresh).Mirror(ctx, repo.URL, repo.InitialRoot())
			if !errors.Is(err, sigstoreroot.ErrRefused) {
				t.Fatalf("want ErrRefused, got %v (%+v)", err, r)
			}
		})
	}

	t.Run("a target that is not a trusted root: refused", func(t *testing.T) {
		repo := testtuf.New(t, map[string][]byte{sigstoreroot.TrustedRootTarget: []byte(`{"mediaType": "not a trusted root"}`)})
		_, err := provider(t, t.TempDir(), sigstoreroot.Options{}).Mirror(ctx, repo.URL, repo.InitialRoot())
		if !errors.Is(err, sigstoreroot.ErrRefused) {
			t.Fatalf("want ErrRefused, got %v", err)
		}
	})

	t.Run("offline: the cache, and not one request", func(t *testing.T) {
		repo, dir := warm(t)
		before := repo.Requests()
		r, err := provider(t, dir, sigstoreroot.Options{Offline: true}).Mirror(ctx, repo.URL, repo.InitialRoot())
		if err != nil || r.Source != "TUF cache of "+repo.URL {
			t.Fatalf("%v %+v", err, r)
		}
		if n := repo.Requests() - before; n != 0 {
			t.Fatalf("%d requests while offline", n)
		}
	})
}

// A machine that has never been online verifies with the snapshot
// embedded in wasmgate, and is told its date and that it expired.
func TestPublicGoodEmbeddedSnapshot(t *testing.T) {
	snap, err := embedded.PublicGood()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	check := func(t *testing.T, r *sigstoreroot.Root, now time.Time) {
		t.Helper()
		if r.Name != sigstoreroot.PublicGood || r.Digest != digest.FromBytes(snap.TrustedRoot) ||
			!strings.HasPrefix(r.Source, "embedded snapshot of "+snap.Taken.UTC().Format(time.DateOnly)) {
			t.Fatalf("got %s %q", r.Digest, r.Source)
		}
		expired := now.After(snap.Expires)
		said := strings.Contains(strings.Join(r.Warnings, "\n"), "expired on "+snap.Expires.UTC().Format(time.DateOnly))
		if expired != said {
			t.Fatalf("expired=%v, warnings %q", expired, r.Warnings)
		}
	}
	t.Run("offline", func(t *testing.T) {
		r, err := provider(t, t.TempDir(), sigstoreroot.Options{Offline: true}).PublicGood(ctx)
		if err != nil {
			t.Fatal(err)
		}
		check(t, r, time.Now())
	})
	t.Run("offline, before the snapshot expired: no expiry warning", func(t *testing.T) {
		then := snap.Taken.Add(time.Hour)
		r, err := provider(t, t.TempDir(), sigstoreroot.Options{Offline: true, Now: func() time.Time { return then }}).PublicGood(ctx)
		if err != nil {
			t.Fatal(err)
		}
		check(t, r, then)
	})
	t.Run("the mirror unreachable", func(t *testing.T) {
		// Every connection goes to a closed port on loopback.
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		client := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		}}}
		r, err := provider(t, t.TempDir(), sigstoreroot.Options{HTTPClient: client}).PublicGood(ctx)
		if err != nil {
			t.Fatal(err)
		}
		check(t, r, time.Now())
		if !strings.Contains(r.Warnings[0], sigstoreroot.PublicGoodMirror+" could not be reached") {
			t.Fatalf("warnings %q", r.Warnings)
		}
	})
}

func TestMirrorInvalid(t *testing.T) {
	p := provider(t, t.TempDir(), sigstoreroot.Options{})
	for _, tc := range []struct{ url, root string }{{"ftp://mirror.example", "{}"}, {"https://mirror.example", ""}, {"not a url", "{}"}} {
		if _, err := p.Mirror(context.Background(), tc.url, []byte(tc.root)); !errors.Is(err, sigstoreroot.ErrInvalidMirror) {
			t.Errorf("%q: want ErrInvalidMirror, got %v", tc.url, err)
		}
	}
}

// The default cache is under wasmgate's cache directory.
func TestDefaultCacheDir(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("WASMGATE_CACHE", dir)
	if _, err := sigstoreroot.NewProvider(sigstoreroot.Options{Offline: true}).PublicGood(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "tuf")); err != nil {
		t.Fatalf("no tuf cache under $WASMGATE_CACHE: %v", err)
	}
}
