package testtuf

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"path"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/theupdateframework/go-tuf/v2/metadata"
)

// Lifetimes of freshly signed metadata. They are long enough that nothing
// expires during a test unless [Repo.ExpireTimestamp] is called.
const (
	rootLifetime      = 365 * 24 * time.Hour
	targetsLifetime   = 365 * 24 * time.Hour
	snapshotLifetime  = 30 * 24 * time.Hour
	timestampLifetime = 7 * 24 * time.Hour
)

// Repo is a TUF repository served over HTTP on 127.0.0.1. Make one with
// [New]. Its methods are safe to call while requests are being served; each
// change is visible to the next request as a whole. Publish, RotateRoot,
// ExpireTimestamp, Rollback and TamperTarget call t.Fatal on error, so call
// them from the test's goroutine.
type Repo struct {
	// URL is the repository's base URL, "http://127.0.0.1:<port>" without a
	// trailing slash: the RepositoryBaseURL of a sigstore-go TUF client.
	URL string

	t testing.TB

	mu sync.Mutex // guards everything below

	rootKey, targetsKey, snapshotKey, timestampKey ed25519.PrivateKey

	root      *metadata.Metadata[metadata.RootType]
	targets   *metadata.Metadata[metadata.TargetsType]
	snapshot  *metadata.Metadata[metadata.SnapshotType]
	timestamp *metadata.Metadata[metadata.TimestampType]

	initialRoot   []byte
	targetsBytes  []byte // the current N.targets.json
	snapshotBytes []byte // the current N.snapshot.json
	// timestampBytes is the latest timestamp.json signed, which is the one
	// served unless Rollback is in effect.
	timestampBytes []byte
	// beforePublish is the timestampBytes of just before the last Publish;
	// nil until Publish is called.
	beforePublish []byte

	files    map[string][]byte // served path, without the leading "/"
	offline  bool
	status   int
	requests int
}

// New builds a repository holding targets (name → content; it may be empty),
// publishes root, targets, snapshot and timestamp version 1 and starts
// serving them. The server is closed by t.Cleanup. New calls t.Fatal on
// error.
func New(t testing.TB, targets map[string][]byte) *Repo {
	t.Helper()
	r := &Repo{t: t, files: map[string][]byte{}}
	r.rootKey = newKey(t)
	r.targetsKey = newKey(t)
	r.snapshotKey = newKey(t)
	r.timestampKey = newKey(t)

	now := time.Now().UTC().Truncate(time.Second)
	r.root = metadata.Root(now.Add(rootLifetime)) // consistent_snapshot: true
	for role, k := range map[string]ed25519.PrivateKey{
		metadata.ROOT:      r.rootKey,
		metadata.TARGETS:   r.targetsKey,
		metadata.SNAPSHOT:  r.snapshotKey,
		metadata.TIMESTAMP: r.timestampKey,
	} {
		if err := r.root.Signed.AddKey(publicKey(t, k), role); err != nil {
			t.Fatalf("testtuf: add %s key: %v", role, err)
		}
	}
	r.storeRoot(r.rootKey)
	r.initialRoot = r.files["1.root.json"]

	r.targets = metadata.Targets(now.Add(targetsLifetime))
	for name, data := range targets {
		r.addTarget(name, data)
	}
	r.storeTargets()
	r.snapshot = metadata.Snapshot(now.Add(snapshotLifetime))
	r.storeSnapshot()
	r.timestamp = metadata.Timestamp(now.Add(timestampLifetime))
	r.storeTimestamp()

	srv := httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(srv.Close)
	r.URL = srv.URL
	return r
}

// InitialRoot returns 1.root.json: the trust anchor a client starts from
// (the Root of sigstore-go's tuf.Options). It does not change when the root
// is rotated.
func (r *Repo) InitialRoot() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return clone(r.initialRoot)
}

// Publish adds the target name with content data, or replaces its content,
// and publishes new versions of targets, snapshot and timestamp. The content
// is served at targets/<sha256 of data>.<name>; the previous content stays
// served at its own path.
func (r *Repo) Publish(name string, data []byte) {
	r.t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.beforePublish = r.timestampBytes
	r.addTarget(name, data)
	now := time.Now().UTC().Truncate(time.Second)
	r.targets.Signed.Version++
	r.targets.Signed.Expires = now.Add(targetsLifetime)
	r.storeTargets()
	r.snapshot.Signed.Version++
	r.snapshot.Signed.Expires = now.Add(snapshotLifetime)
	r.storeSnapshot()
	r.timestamp.Signed.Version++
	r.timestamp.Signed.Expires = now.Add(timestampLifetime)
	r.storeTimestamp()
}

// RotateRoot publishes the next root version, N.root.json, in which the root
// role's only key is a new one; it is signed by the old root key and by the
// new one, as a client needs to accept it. The other roles keep their keys,
// so targets, snapshot and timestamp stay valid and are not re-signed.
func (r *Repo) RotateRoot() {
	r.t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	oldKey := r.rootKey
	oldID, err := publicKey(r.t, oldKey).ID()
	if err != nil {
		r.t.Fatalf("testtuf: root key ID: %v", err)
	}
	r.rootKey = newKey(r.t)
	if err := r.root.Signed.RevokeKey(oldID, metadata.ROOT); err != nil {
		r.t.Fatalf("testtuf: revoke root key: %v", err)
	}
	if err := r.root.Signed.AddKey(publicKey(r.t, r.rootKey), metadata.ROOT); err != nil {
		r.t.Fatalf("testtuf: add root key: %v", err)
	}
	r.root.Signed.Version++
	r.root.Signed.Expires = time.Now().UTC().Truncate(time.Second).Add(rootLifetime)
	r.storeRoot(oldKey, r.rootKey)
}

// ExpireTimestamp publishes the next timestamp version, properly signed and
// pointing at the current snapshot, whose expiry is an hour in the past: a
// freeze attack as a client sees it. The next Publish publishes a fresh
// timestamp again.
func (r *Repo) ExpireTimestamp() {
	r.t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.timestamp.Signed.Version++
	r.timestamp.Signed.Expires = time.Now().UTC().Truncate(time.Second).Add(-time.Hour)
	r.storeTimestamp()
}

// Rollback serves again the timestamp.json that was current just before the
// last Publish: a replay of old, validly signed metadata. Since every
// snapshot and targets version stays served, the client is shown the whole
// older state. A client that has already seen a newer timestamp must refuse
// it; one starting from an empty cache cannot tell.
//
// Only what is served changes: the next Publish or ExpireTimestamp signs a
// timestamp newer than any so far, which ends the rollback. Rollback calls
// t.Fatal if Publish was never called.
func (r *Repo) Rollback() {
	r.t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.beforePublish == nil {
		r.t.Fatalf("testtuf: Rollback before any Publish")
	}
	r.files["timestamp.json"] = r.beforePublish
}

// TamperTarget serves data instead of the published content of target name,
// at the same path (targets/<sha256 of the published content>.<name>),
// leaving all metadata untouched: a compromised mirror. Publishing the target
// again with other content moves it to another path, which is served
// honestly. TamperTarget calls t.Fatal if name was never published.
func (r *Repo) TamperTarget(name string, data []byte) {
	r.t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	tf, ok := r.targets.Signed.Targets[name]
	if !ok {
		r.t.Fatalf("testtuf: TamperTarget: no target %q", name)
	}
	r.files[targetPath(tf)] = clone(data)
}

// Offline models the network going down. While on, every request that
// reaches the server is counted and then its TCP connection is reset (the
// handler hijacks it and closes it with SO_LINGER 0) without an HTTP
// response. A client sees the connection error of its HTTP stack: with
// net/http, a *url.Error wrapping a *net.OpError whose cause is
// syscall.ECONNRESET, which no TUF error type matches. Offline(false) serves
// again. Offline takes precedence over FailStatus.
func (r *Repo) Offline(on bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.offline = on
}

// FailStatus models a server that is up but failing, such as a CDN answering
// 503: while code is not 0, every request is counted and answered with that
// HTTP status and an empty body. go-tuf's fetcher turns it into a
// *metadata.ErrDownloadHTTP. Note that go-tuf reads 404 on N.root.json as
// "no newer root", so FailStatus(404) fails only at timestamp.json.
// FailStatus(0) serves again.
func (r *Repo) FailStatus(code int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.status = code
}

// Requests returns how many requests have reached the server so far,
// including those failed by Offline or FailStatus and those answered 404.
// A client that retries a reset connection may count twice.
func (r *Repo) Requests() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.requests
}

func (r *Repo) serve(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	r.requests++
	offline, status := r.offline, r.status
	data, found := r.files[strings.TrimPrefix(req.URL.Path, "/")]
	r.mu.Unlock()

	switch {
	case offline:
		reset(w)
		return
	case status != 0:
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(status)
		return
	case req.Method != http.MethodGet && req.Method != http.MethodHead:
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	case !found:
		http.NotFound(w, req)
		return
	}
	if strings.HasSuffix(req.URL.Path, ".json") {
		w.Header().Set("Content-Type", "application/json")
	} else {
		w.Header().Set("Content-Type", "application/octet-stream")
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(http.StatusOK)
	if req.Method == http.MethodGet {
		_, _ = w.Write(data)
	}
}

// reset closes the request's connection with a TCP RST and no response.
func reset(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		// Not reachable with httptest.NewServer (HTTP/1.1). Closes the
		// connection without a response, with FIN rather than RST.
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// addTarget records name in the targets metadata and serves data at its
// hash-prefixed path. The caller holds r.mu.
func (r *Repo) addTarget(name string, data []byte) {
	r.t.Helper()
	tf, err := metadata.TargetFile().FromBytes(name, data, "sha256")
	if err != nil {
		r.t.Fatalf("testtuf: target %q: %v", name, err)
	}
	r.targets.Signed.Targets[name] = tf
	r.files[targetPath(tf)] = clone(data)
}

// The store functions sign the role's current metadata (its version already
// set) and serve it. The caller holds r.mu.

func (r *Repo) storeRoot(keys ...ed25519.PrivateKey) {
	r.t.Helper()
	data := sign(r.t, r.root, keys...)
	r.files[fmt.Sprintf("%d.root.json", r.root.Signed.Version)] = data
}

func (r *Repo) storeTargets() {
	r.t.Helper()
	r.targetsBytes = sign(r.t, r.targets, r.targetsKey)
	r.files[fmt.Sprintf("%d.targets.json", r.targets.Signed.Version)] = r.targetsBytes
}

func (r *Repo) storeSnapshot() {
	r.t.Helper()
	r.snapshot.Signed.Meta = map[string]*metadata.MetaFiles{
		"targets.json": metaFile(r.targets.Signed.Version, r.targetsBytes),
	}
	r.snapshotBytes = sign(r.t, r.snapshot, r.snapshotKey)
	r.files[fmt.Sprintf("%d.snapshot.json", r.snapshot.Signed.Version)] = r.snapshotBytes
}

func (r *Repo) storeTimestamp() {
	r.t.Helper()
	r.timestamp.Signed.Meta = map[string]*metadata.MetaFiles{
		"snapshot.json": metaFile(r.snapshot.Signed.Version, r.snapshotBytes),
	}
	r.timestampBytes = sign(r.t, r.timestamp, r.timestampKey)
	r.files["timestamp.json"] = r.timestampBytes
}

// sign replaces m's signatures by ones made with keys and returns m
// serialised as Sigstore's repository does (tab-indented JSON).
func sign[T metadata.Roles](t testing.TB, m *metadata.Metadata[T], keys ...ed25519.PrivateKey) []byte {
	t.Helper()
	m.ClearSignatures()
	for _, k := range keys {
		signer, err := signature.LoadSigner(k, crypto.Hash(0))
		if err != nil {
			t.Fatalf("testtuf: load signer: %v", err)
		}
		if _, err := m.Sign(signer); err != nil {
			t.Fatalf("testtuf: sign: %v", err)
		}
	}
	data, err := m.ToBytes(true)
	if err != nil {
		t.Fatalf("testtuf: serialise metadata: %v", err)
	}
	return data
}

func metaFile(version int64, data []byte) *metadata.MetaFiles {
	sum := sha256.Sum256(data)
	mf := metadata.MetaFile(version)
	mf.Length = int64(len(data))
	mf.Hashes = metadata.Hashes{"sha256": sum[:]}
	return mf
}

// targetPath is where a consistent-snapshot client fetches tf:
// targets/[<dir>/]<sha256 hex>.<base name>, as go-tuf's updater builds it.
func targetPath(tf *metadata.TargetFiles) string {
	dir, base := path.Split(tf.Path)
	return "targets/" + dir + hex.EncodeToString(tf.Hashes["sha256"]) + "." + base
}

func newKey(t testing.TB) ed25519.PrivateKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatalf("testtuf: generate key: %v", err)
	}
	return k
}

func publicKey(t testing.TB, k ed25519.PrivateKey) *metadata.Key {
	t.Helper()
	key, err := metadata.KeyFromPublicKey(k.Public())
	if err != nil {
		t.Fatalf("testtuf: public key: %v", err)
	}
	return key
}

func clone(b []byte) []byte { return append([]byte(nil), b...) }
