package resultcache_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/wasmgate/wasmgate/resultcache"
)

// clock is a settable time for TTL tests.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func key(manifest string) resultcache.Key {
	return resultcache.Key{Manifest: digest.FromString(manifest), Repository: "registry.example/wasm/app",
		Policy: digest.FromString("policy"), Trust: digest.FromString("trust")}
}

type verdict struct{ Verdict string }

func get(t *testing.T, c *resultcache.Cache, k resultcache.Key) (verdict, bool) {
	t.Helper()
	e, ok := c.Get(k)
	if !ok {
		return verdict{}, false
	}
	var v verdict
	if err := json.Unmarshal(e.Value, &v); err != nil {
		t.Fatal(err)
	}
	return v, true
}

// An entry is served for its TTL, under its exact key only: another
// manifest, repository, policy, trust material or option misses.
func TestKeyAndTTL(t *testing.T) {
	clk := &clock{now: time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)}
	c, err := resultcache.Open(resultcache.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	k := key("app")
	if err := c.Put(k, verdict{"verified"}, time.Minute); err != nil {
		t.Fatal(err)
	}
	if v, ok := get(t, c, k); !ok || v.Verdict != "verified" {
		t.Fatalf("got %v %v", v, ok)
	}
	others := map[string]resultcache.Key{}
	for name, edit := range map[string]func(*resultcache.Key){
		"manifest":   func(k *resultcache.Key) { k.Manifest = digest.FromString("other") },
		"repository": func(k *resultcache.Key) { k.Repository = "registry.example/wasm/other" },
		"policy":     func(k *resultcache.Key) { k.Policy = digest.FromString("policy v2") },
		"trust":      func(k *resultcache.Key) { k.Trust = digest.FromString("rotated key") },
		"options":    func(k *resultcache.Key) { k.Options = "cosignFormat=legacy" },
	} {
		o := k
		edit(&o)
		others[name] = o
	}
	for name, o := range others {
		if _, ok := c.Get(o); ok {
			t.Errorf("another %s hit the entry", name)
		}
	}
	clk.Add(time.Minute)
	if _, ok := c.Get(k); ok {
		t.Error("served at its expiry")
	}
	if s := c.Stats(); s.Hits != 1 || s.Expired != 1 || s.Stores != 1 {
		t.Errorf("stats %+v", s)
	}
	if err := c.Put(k, verdict{"denied"}, 0); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Get(k); ok {
		t.Error("a TTL of 0 stored")
	}
}

// A key without a policy digest (a policy built in Go) cannot be used.
func TestIncompleteKey(t *testing.T) {
	c, _ := resultcache.Open(resultcache.Options{})
	k := key("app")
	k.Policy = ""
	if err := c.Put(k, verdict{"verified"}, time.Hour); !errors.Is(err, resultcache.ErrNoKey) {
		t.Fatalf("err %v, want ErrNoKey", err)
	}
	if _, ok := c.Get(k); ok {
		t.Fatal("an incomplete key hit")
	}
}

// With a directory, entries outlive the process: a new Cache on the same
// directory serves them, and refuses a file whose key or times do not
// match (a copied or edited file).
func TestDiskEntries(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "results")
	clk := &clock{now: time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)}
	first, err := resultcache.Open(resultcache.Options{Dir: dir, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	a, b := key("a"), key("b")
	for _, k := range []resultcache.Key{a, b} {
		if err := first.Put(k, verdict{"verified"}, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("dir mode %v, err %v", fi.Mode(), err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) != 2 {
		t.Fatalf("%d files", len(files))
	}
	for _, f := range files {
		if fi, _ := os.Stat(f); fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v", f, fi.Mode())
		}
	}
	second, _ := resultcache.Open(resultcache.Options{Dir: dir, Now: clk.Now})
	if _, ok := get(t, second, a); !ok {
		t.Fatal("a new cache on the directory missed")
	}
	// b's file copied over a's: a names another key in it, and is refused.
	var bFile string
	for _, f := range files {
		raw, _ := os.ReadFile(f)
		var e resultcache.Entry
		_ = json.Unmarshal(raw, &e)
		if e.Key == b {
			bFile = f
		}
	}
	for _, f := range files {
		if f != bFile {
			raw, _ := os.ReadFile(bFile)
			if err := os.WriteFile(f, raw, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	third, _ := resultcache.Open(resultcache.Options{Dir: dir, Now: clk.Now})
	if _, ok := third.Get(a); ok {
		t.Error("a file holding another key's entry was served")
	}
	clk.Add(2 * time.Hour)
	if _, ok := third.Get(b); ok {
		t.Error("an expired file was served")
	}
}

// Memory holds at most MaxEntries, the least recently used going first.
func TestEviction(t *testing.T) {
	c, _ := resultcache.Open(resultcache.Options{MaxEntries: 2})
	a, b, d := key("a"), key("b"), key("d")
	_ = c.Put(a, verdict{"a"}, time.Hour)
	_ = c.Put(b, verdict{"b"}, time.Hour)
	c.Get(a) // a is now the most recently used
	_ = c.Put(d, verdict{"d"}, time.Hour)
	if _, ok := c.Get(b); ok {
		t.Error("b, the least recently used, was kept")
	}
	if _, ok := c.Get(a); !ok {
		t.Error("a was evicted")
	}
	if s := c.Stats(); s.Evicted != 1 {
		t.Errorf("evicted %d", s.Evicted)
	}
}

// Identical concurrent requests run one verification; the others wait
// for it and share its answer; a later one is a hit.
func TestDoCoalesces(t *testing.T) {
	c, _ := resultcache.Open(resultcache.Options{})
	k := key("app")
	var runs atomic.Int32
	release := make(chan struct{})
	const callers = 16
	var wg sync.WaitGroup
	var shared atomic.Int32
	started := make(chan struct{}, callers)
	for range callers {
		wg.Go(func() {
			started <- struct{}{}
			e, sh, err := c.Do(context.Background(), k, func(context.Context) (any, time.Duration, error) {
				runs.Add(1)
				<-release
				return verdict{"verified"}, time.Hour, nil
			})
			if err != nil || string(e.Value) != `{"Verdict":"verified"}` {
				t.Errorf("Do: %s, %v", e.Value, err)
			}
			if sh {
				shared.Add(1)
			}
		})
	}
	for range callers {
		<-started
	}
	// Whether a caller joins the running verification or arrives after it
	// stored its answer, it shares that answer.
	close(release)
	wg.Wait()
	if runs.Load() != 1 {
		t.Errorf("%d verifications for %d identical requests", runs.Load(), callers)
	}
	if shared.Load() != callers-1 {
		t.Errorf("%d callers shared the answer, want %d", shared.Load(), callers-1)
	}
	if _, sh, _ := c.Do(context.Background(), k, func(context.Context) (any, time.Duration, error) {
		t.Error("ran again on a hit")
		return nil, 0, nil
	}); !sh {
		t.Error("a hit is not shared")
	}
}

// A caller that gives up does not wait for the verification it joined.
func TestDoHonoursContext(t *testing.T) {
	c, _ := resultcache.Open(resultcache.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	release := make(chan struct{})
	defer close(release)
	go func() { time.Sleep(5 * time.Millisecond); cancel() }()
	_, _, err := c.Do(ctx, key("app"), func(context.Context) (any, time.Duration, error) {
		<-release
		return verdict{"verified"}, time.Hour, nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
}
