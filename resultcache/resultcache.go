// Package resultcache keeps verification verdicts so that the same
// artifact, under the same policy and trust material, is verified once:
// CI jobs on one runner re-checking a digest, a host restarting, the
// replicas of a service.
//
// A verdict is keyed by what it was reached on and under (the manifest
// digest, the repository its statement was selected by, the policy's
// digest and the trust material's digest, and any option that changes the
// outcome), never by a tag: a tag is resolved on every request, so a moved
// tag can never be answered with another artifact's verdict, and a change
// of policy or trust material misses by construction.
//
// Each entry lives for the TTL it was stored with. A cached pass outlives
// what happens after it (a revoked certificate, an expired attestation)
// by at most that TTL: callers choose it, and wasmgate's CLI keeps the
// cache off unless asked.
//
// Entries live in memory (bounded in number, least recently used first
// out) and, when the cache has a directory, in one file each, written
// atomically with mode 0600 in a 0700 directory: the directory must be as
// trusted as the binary, since a verdict file is not self-verifying.
package resultcache

import (
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"
	"golang.org/x/sync/singleflight"

	"github.com/wasmgate/wasmgate/internal/atomicfile"
	"github.com/wasmgate/wasmgate/internal/boundedio"
)

// DefaultMaxEntries bounds the entries held in memory.
const DefaultMaxEntries = 10000

// MaxEntryBytes bounds one entry, on disk and in memory.
const MaxEntryBytes = 4 << 20

// ErrNoKey: a key lacks a field a verdict depends on (a policy built in Go
// has no digest to key it by; load it from a file to cache its verdicts).
var ErrNoKey = errors.New("incomplete result cache key")

// Key is what a verdict was reached on and under.
type Key struct {
	// Manifest is the digest the reference resolved to.
	Manifest digest.Digest `json:"manifest"`
	// Repository is the name the policy statement was selected by.
	Repository string `json:"repository"`
	// Policy and Trust are the policy's digest and its trust material's.
	Policy digest.Digest `json:"policy"`
	Trust  digest.Digest `json:"trust"`
	// Options names the options that change an outcome ("" for none).
	Options string `json:"options,omitempty"`
}

// Validate reports a key that misses a field, as ErrNoKey.
func (k Key) Validate() error {
	var missing []string
	if k.Manifest.Validate() != nil {
		missing = append(missing, "manifest digest")
	}
	if k.Repository == "" {
		missing = append(missing, "repository")
	}
	if k.Policy.Validate() != nil {
		missing = append(missing, "policy digest (a policy built in Go has none: load it from a file)")
	}
	if k.Trust.Validate() != nil {
		missing = append(missing, "trust material digest")
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: no %s", ErrNoKey, strings.Join(missing, ", "))
	}
	return nil
}

// id is the key's name: the SHA-256 of its JSON form.
func (k Key) id() string {
	raw, _ := json.Marshal(k) // strings only: cannot fail
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:])
}

// Entry is a stored verdict.
type Entry struct {
	Key    Key             `json:"key"`
	Value  json.RawMessage `json:"value"`
	Stored time.Time       `json:"stored"`
	// Expires is when the entry stops being served.
	Expires time.Time `json:"expires"`
}

// Options shape a Cache. The zero value is an in-memory cache of
// DefaultMaxEntries.
type Options struct {
	// Dir, when set, keeps entries across processes, one file each.
	Dir string
	// MaxEntries bounds the entries held in memory; 0 means
	// DefaultMaxEntries.
	MaxEntries int
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// Cache holds verdicts. It is safe for concurrent use.
type Cache struct {
	opts  Options
	group singleflight.Group

	mu    sync.Mutex
	mem   map[string]*list.Element // of *node
	lru   *list.List               // most recently used first
	stats Stats
}

type node struct {
	id    string
	entry Entry
}

// Stats count what the cache did.
type Stats struct {
	Hits, Misses, Stores, Expired, Evicted, Coalesced int64
}

// Open returns a cache; with Options.Dir, that directory is created (0700)
// if missing.
func Open(opts Options) (*Cache, error) {
	if opts.MaxEntries <= 0 {
		opts.MaxEntries = DefaultMaxEntries
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Dir != "" {
		if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
			return nil, fmt.Errorf("result cache: %w", err)
		}
	}
	return &Cache{opts: opts, mem: map[string]*list.Element{}, lru: list.New()}, nil
}

// Stats returns the counters so far.
func (c *Cache) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}

// Get returns the entry stored under k if it has not expired. An expired
// or unreadable entry is a miss (and is removed).
func (c *Cache) Get(k Key) (Entry, bool) {
	if k.Validate() != nil {
		return Entry{}, false
	}
	id := k.id()
	now := c.opts.Now()
	c.mu.Lock()
	if el, ok := c.mem[id]; ok {
		if e := el.Value.(*node).entry; now.Before(e.Expires) {
			c.lru.MoveToFront(el)
			c.stats.Hits++
			c.mu.Unlock()
			return e, true
		}
		c.remove(el)
		c.stats.Expired++
	}
	c.mu.Unlock()

	if e, ok := c.readFile(id, k, now); ok {
		c.mu.Lock()
		c.insert(id, e)
		c.stats.Hits++
		c.mu.Unlock()
		return e, true
	}
	c.mu.Lock()
	c.stats.Misses++
	c.mu.Unlock()
	return Entry{}, false
}

// Put stores value (as JSON) under k for ttl. A ttl of zero or less
// stores nothing.
func (c *Cache) Put(k Key, value any, ttl time.Duration) error {
	if err := k.Validate(); err != nil {
		return err
	}
	if ttl <= 0 {
		return nil
	}
	raw, err := json.Marshal(value)
	if err != nil {
		return fmt.Errorf("result cache: %w", err)
	}
	now := c.opts.Now()
	e := Entry{Key: k, Value: raw, Stored: now, Expires: now.Add(ttl)}
	if len(raw) > MaxEntryBytes {
		return fmt.Errorf("result cache: an entry of %d bytes is over %d", len(raw), MaxEntryBytes)
	}
	id := k.id()
	c.mu.Lock()
	c.insert(id, e)
	c.stats.Stores++
	c.mu.Unlock()
	if c.opts.Dir == "" {
		return nil
	}
	file, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("result cache: %w", err)
	}
	if err := atomicfile.Write(c.path(id), file); err != nil {
		return fmt.Errorf("result cache: %w", err)
	}
	return os.Chmod(c.path(id), 0o600)
}

// Do returns the entry stored under k, or runs fn once for every caller
// asking for k at the same time (one verification, many waiters) and
// stores what it returns for the ttl it returns (0: not stored, as for a
// denial). fn runs detached from the cancellation of the caller that
// started it, so one caller giving up does not fail the others; it must
// bound its own time. A caller whose ctx ends stops waiting. shared
// reports an answer that was not this caller's own run: a hit or a
// coalesced wait.
func (c *Cache) Do(ctx context.Context, k Key, fn func(ctx context.Context) (value any, ttl time.Duration, err error)) (e Entry, shared bool, err error) {
	if err := k.Validate(); err != nil {
		return Entry{}, false, err
	}
	if e, ok := c.Get(k); ok {
		return e, true, nil
	}
	ran := false // set in this caller's own run only
	ch := c.group.DoChan(k.id(), func() (any, error) {
		// Stored between this caller's miss and its turn: a hit.
		if e, ok := c.Get(k); ok {
			return e, nil
		}
		ran = true
		// Detached from this caller's cancellation: the others still
		// wait for it. fn bounds its own time.
		v, ttl, err := fn(context.WithoutCancel(ctx))
		if err != nil {
			return nil, err
		}
		raw, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		now := c.opts.Now()
		e := Entry{Key: k, Value: raw, Stored: now, Expires: now.Add(ttl)}
		return e, c.Put(k, json.RawMessage(raw), ttl)
	})
	select {
	case <-ctx.Done():
		return Entry{}, false, ctx.Err()
	case r := <-ch:
		if !ran {
			c.mu.Lock()
			c.stats.Coalesced++
			c.mu.Unlock()
		}
		if r.Err != nil {
			return Entry{}, !ran, r.Err
		}
		return r.Val.(Entry), !ran, nil
	}
}

func (c *Cache) path(id string) string { return filepath.Join(c.opts.Dir, id+".json") }

// readFile reads the entry of id from disk, if there is one for k that
// has not expired; anything else there is removed.
func (c *Cache) readFile(id string, k Key, now time.Time) (Entry, bool) {
	if c.opts.Dir == "" {
		return Entry{}, false
	}
	raw, err := boundedio.ReadFile(c.path(id), MaxEntryBytes*2)
	if err != nil {
		return Entry{}, false
	}
	var e Entry
	if json.Unmarshal(raw, &e) != nil || e.Key != k || !now.Before(e.Expires) || e.Stored.After(now) {
		_ = os.Remove(c.path(id))
		return Entry{}, false
	}
	return e, true
}

// insert adds or replaces id as the most recently used, evicting the
// least recently used beyond MaxEntries. c.mu is held.
func (c *Cache) insert(id string, e Entry) {
	if el, ok := c.mem[id]; ok {
		el.Value.(*node).entry = e
		c.lru.MoveToFront(el)
		return
	}
	c.mem[id] = c.lru.PushFront(&node{id: id, entry: e})
	for len(c.mem) > c.opts.MaxEntries {
		c.remove(c.lru.Back())
		c.stats.Evicted++
	}
}

func (c *Cache) remove(el *list.Element) {
	c.lru.Remove(el)
	delete(c.mem, el.Value.(*node).id)
}
