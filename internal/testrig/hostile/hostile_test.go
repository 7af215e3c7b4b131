package hostile_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry/remote/auth"

	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/evidence/cosign"
	"github.com/wasmgate/wasmgate/evidence/notation"
	"github.com/wasmgate/wasmgate/internal/sample"
	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
	"github.com/wasmgate/wasmgate/loader"
	"github.com/wasmgate/wasmgate/referrers"
	"github.com/wasmgate/wasmgate/remote"
	"github.com/wasmgate/wasmgate/sign"
	"github.com/wasmgate/wasmgate/verify"
)

var sprintf = fmt.Sprintf

// scenario is one row of the table in SECURITY.md.
type scenario struct {
	name string
	kind testregistry.Kind
	// timeout is the client's stall timeout; 0 is 10 s.
	timeout time.Duration
	// attack sets the scenario up and returns the reference to use.
	attack func(t *testing.T, e *env) string
	// stage: "pull" (into the output directory through the cache) or
	// "gate" (verify under the trust policy, then load).
	stage string
	// want: the typed error, among those met.
	want error
	// untrusted: digests whose content must not be in the cache.
	untrusted func(e *env) []digest.Digest
	// unsigned: the artifact starts without its legitimate signature.
	unsigned bool
	// loads: the attack is defeated by design and the verified artifact
	// loads (the row checks how, in attack's cleanup).
	loads bool
}

func wasmDigest(e *env) []digest.Digest   { return []digest.Digest{e.pkg.Wasm.Digest} }
func configDigest(e *env) []digest.Digest { return []digest.Digest{e.pkg.Config.Digest} }
func manifestDigest(e *env) []digest.Digest {
	return []digest.Digest{e.pkg.Manifest.Digest}
}

func blobPath(d digest.Digest) string { return "/blobs/" + d.String() + "$" }

// TestHostile runs every scenario and checks, beyond the typed error, what
// a refusal must leave: no output directory, no untrusted blob in the
// cache, no module loaded.
func TestHostile(t *testing.T) {
	for _, s := range scenarios() {
		t.Run(s.name, func(t *testing.T) {
			kind := s.kind
			if kind == "" {
				kind = testregistry.KindDistribution
			}
			timeout := s.timeout
			if timeout == 0 {
				timeout = 10 * time.Second
			}
			e := newEnv(t, kind, timeout, !s.unsigned)
			ref := s.attack(t, e)
			var errs []error
			loaded := false
			switch s.stage {
			case "pull":
				errs = []error{e.pull(t, ref)}
			case "gate":
				errs, loaded = e.gate(t, ref)
			default:
				t.Fatalf("stage %q", s.stage)
			}
			if s.loads {
				if !loaded {
					t.Fatalf("did not load: %v", errors.Join(errs...))
				}
				return
			}
			if loaded {
				t.Fatalf("a module loaded; errors met: %v", errs)
			}
			if !errors.Is(errors.Join(errs...), s.want) {
				t.Errorf("want %v among the errors, got %v", s.want, errors.Join(errs...))
			}
			if entries, err := os.ReadDir(e.out); err == nil && len(entries) > 0 {
				t.Errorf("the output directory holds %d entries", len(entries))
			}
			// The cache's trusted area holds only blobs that match their
			// digests: re-hash all of it.
			if rep, err := e.cache.Verify(testkit.Context(t)); err != nil || len(rep.Corrupt) > 0 {
				t.Errorf("cache verify: %v %+v", err, rep)
			}
			if s.untrusted != nil {
				for _, d := range s.untrusted(e) {
					if has, _ := e.cache.Has(testkit.Context(t), d); has {
						t.Errorf("the attacked blob %s was cached", d)
					}
				}
			}
		})
	}
}

func scenarios() []scenario {
	return []scenario{
		// Content the registry lies about.
		{name: "tampered wasm layer", stage: "pull", want: artifact.ErrDigestMismatch, untrusted: wasmDigest,
			attack: func(t *testing.T, e *env) string {
				e.reg.Faults.Inject("GET", blobPath(e.pkg.Wasm.Digest), testregistry.TamperBody())
				return e.ref
			}},
		{name: "tampered config", stage: "pull", want: artifact.ErrDigestMismatch, untrusted: configDigest,
			attack: func(t *testing.T, e *env) string {
				e.reg.Faults.Inject("GET", blobPath(e.pkg.Config.Digest), testregistry.TamperBody())
				return e.ref
			}},
		{name: "tampered manifest for a pinned digest", stage: "pull", want: artifact.ErrDigestMismatch, untrusted: manifestDigest,
			attack: func(t *testing.T, e *env) string {
				e.reg.Faults.Inject("GET", "/manifests/sha256:", testregistry.TamperBody())
				return e.pinned
			}},
		{name: "another manifest served for a pinned digest, with a digest header to match it", stage: "pull", want: artifact.ErrDigestMismatch, untrusted: manifestDigest,
			attack: func(t *testing.T, e *env) string {
				e.reg.Faults.Inject("GET", "/manifests/sha256:", testregistry.ReplaceBody(func(b []byte) []byte { return append(b, ' ') }))
				return e.pinned
			}},
		{name: "layer shorter than its descriptor", stage: "pull", want: artifact.ErrSizeMismatch, untrusted: wasmDigest,
			attack: func(t *testing.T, e *env) string {
				e.reg.Faults.Inject("GET", blobPath(e.pkg.Wasm.Digest), testregistry.Truncate(100))
				return e.ref
			}},
		{name: "layer longer than its descriptor (chunked)", stage: "pull", want: artifact.ErrSizeMismatch, untrusted: wasmDigest,
			attack: func(t *testing.T, e *env) string {
				e.reg.Faults.Inject("GET", blobPath(e.pkg.Wasm.Digest), testregistry.Extend(100))
				return e.ref
			}},
		{name: "manifest that grows without end (chunked, no length)", stage: "pull", want: artifact.ErrSizeMismatch,
			attack: func(t *testing.T, e *env) string {
				e.reg.Faults.Inject("GET", "/manifests/v1$", testregistry.Endless())
				return e.ref
			}},
		{name: "manifest of 100 MB", stage: "pull", want: artifact.ErrTooLarge,
			attack: func(t *testing.T, e *env) string {
				e.reg.Faults.Inject("GET", "/manifests/v1$", testregistry.LargeBody(100<<20))
				return e.ref
			}},
		{name: "manifest that is not JSON", stage: "pull", want: artifact.ErrInvalidManifest,
			attack: func(t *testing.T, e *env) string {
				e.reg.Faults.Inject("GET", "/manifests/v1$", testregistry.ReplaceBody(func([]byte) []byte { return []byte("<html>not a manifest</html>") }))
				return e.ref
			}},
		{name: "gzip bomb as a manifest (64 MiB from 64 KiB)", stage: "pull", want: artifact.ErrSizeMismatch,
			attack: func(t *testing.T, e *env) string {
				var bomb bytes.Buffer
				zw := gzip.NewWriter(&bomb)
				zw.Write(bytes.Repeat([]byte("A"), 64<<20))
				zw.Close()
				e.reg.Faults.Inject("GET", "/manifests/v1$", testregistry.Respond(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", ocispec.MediaTypeImageManifest)
					w.Header().Set("Content-Encoding", "gzip")
					w.Write(bomb.Bytes())
				})))
				return e.ref
			}},
		{name: "gzip-encoded layer (compressed content is never accepted as other bytes)", stage: "pull", want: artifact.ErrDigestMismatch, untrusted: wasmDigest,
			attack: func(t *testing.T, e *env) string {
				e.reg.Faults.Inject("GET", blobPath(e.pkg.Wasm.Digest), testregistry.Respond(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					var z bytes.Buffer
					zw := gzip.NewWriter(&z)
					zw.Write(bytes.Repeat([]byte{0}, int(e.pkg.Wasm.Size)))
					zw.Close()
					w.Header().Set("Content-Encoding", "gzip")
					w.Write(z.Bytes())
				})))
				return e.ref
			}},
		{name: "duplicate wasm layers", stage: "gate", want: artifact.ErrMultipleWasm,
			attack: func(t *testing.T, e *env) string {
				m := e.pkg
				var man ocispec.Manifest
				json.Unmarshal(m.ManifestJSON, &man)
				man.Layers = append(man.Layers, man.Layers[0])
				raw, _ := json.Marshal(man)
				desc, err := oras_pushManifest(t, e, raw, "dup")
				if err != nil {
					t.Fatal(err)
				}
				e.sign(t, e.dst, desc)
				return e.reg.Ref("wasm/app", "dup")
			}},
		{name: "a wasm layer that is not wasm", stage: "gate", want: verify.ErrLayers,
			attack: func(t *testing.T, e *env) string {
				pkg := e.pushRaw(t, []byte("MZ\x90\x00 this is a PE file, not wasm"), "notwasm")
				e.sign(t, e.dst, pkg)
				return e.reg.Ref("wasm/app", "notwasm")
			}},
		{name: "an extra unknown layer (strict mode)", stage: "gate", want: verify.ErrLayers,
			attack: func(t *testing.T, e *env) string {
				var man ocispec.Manifest
				json.Unmarshal(e.pkg.ManifestJSON, &man)
				extra, err := pushBlob(t, e, "application/x-shellscript", []byte("#!/bin/sh\nrm -rf /\n"))
				if err != nil {
					t.Fatal(err)
				}
				man.Layers = append(man.Layers, extra)
				raw, _ := json.Marshal(man)
				desc, err := oras_pushManifest(t, e, raw, "extra")
				if err != nil {
					t.Fatal(err)
				}
				e.sign(t, e.dst, desc)
				return e.reg.Ref("wasm/app", "extra")
			}},
		{name: "policy layer swapped for a more permissive one after signing", stage: "gate", want: verify.ErrThreshold,
			attack: func(t *testing.T, e *env) string {
				wider := []byte("version: \"1.0\"\npermissions:\n  storage:\n    allow:\n      - uri: \"fs:///**\"\n        access: [read, write]\n")
				e.push(t, e.dst, sample.HelloWasm(), wider, "v1") // the tag now names the unsigned swap
				return e.ref
			}},
		{name: "policy layer swapped under the same digest", stage: "gate", want: artifact.ErrDigestMismatch,
			attack: func(t *testing.T, e *env) string {
				e.reg.Faults.Inject("GET", blobPath(e.pkg.Policy.Digest), testregistry.ReplaceBody(func(b []byte) []byte {
					return bytes.Replace(b, []byte(`["read"]`), []byte(`["read","write"]`), 1)
				}))
				return e.ref
			}},
		{name: "a wasm binary that claims a huge memory", stage: "gate", want: loader.ErrMemoryLimit,
			attack: func(t *testing.T, e *env) string {
				// \0asm v1, memory section: one memory, min 65536 pages (4 GiB).
				huge := []byte("\x00asm\x01\x00\x00\x00\x05\x05\x01\x00\x80\x80\x04")
				pkg := e.push(t, e.dst, huge, sample.PolicyYAML(), "huge")
				e.sign(t, e.dst, pkg.Manifest)
				return e.reg.Ref("wasm/app", "huge")
			}},

		// Referrers and signatures that belong elsewhere.
		{name: "a referrer whose subject is another artifact, listed by the Referrers API", kind: testregistry.KindGGCR, unsigned: true, stage: "gate", want: referrers.ErrSubjectMismatch,
			attack: func(t *testing.T, e *env) string {
				other := e.otherArtifact(t)
				sig := e.sign(t, e.dst, other.Manifest) // a real signature, of the other artifact
				e.serveReferrers(t, e.pkg.Manifest.Digest, []ocispec.Descriptor{sig})
				return e.ref
			}},
		{name: "a fallback index listing another artifact's signatures", kind: testregistry.KindDistribution, unsigned: true, stage: "gate", want: referrers.ErrSubjectMismatch,
			attack: func(t *testing.T, e *env) string {
				other := e.otherArtifact(t)
				e.sign(t, e.dst, other.Manifest)
				e.copyFallbackIndex(t, other.Manifest.Digest, e.pkg.Manifest.Digest)
				return e.ref
			}},
		{name: "the fallback tag resolving to the subject itself", kind: testregistry.KindDistribution, unsigned: true, stage: "gate", want: referrers.ErrSelfReference,
			attack: func(t *testing.T, e *env) string {
				tag := strings.Replace(e.pkg.Manifest.Digest.String(), ":", "-", 1)
				if err := e.dst.Tag(testkit.Context(t), e.pkg.Manifest, tag); err != nil {
					t.Fatal(err)
				}
				return e.ref
			}},
		{name: "a cosign signature copied from another artifact", kind: testregistry.KindGGCR, unsigned: true, stage: "gate", want: cosign.ErrSubjectMismatch,
			attack: func(t *testing.T, e *env) string {
				other := e.otherArtifact(t)
				e.resubject(t, e.sign(t, e.dst, other.Manifest), e.pkg.Manifest)
				return e.ref
			}},
		{name: "a Notation signature copied from another artifact", kind: testregistry.KindGGCR, unsigned: true, stage: "gate", want: notation.ErrSubjectMismatch,
			attack: func(t *testing.T, e *env) string {
				other := e.otherArtifact(t)
				e.useNotation(t)
				e.resubject(t, e.notationSign(t, other.Manifest), e.pkg.Manifest)
				return e.ref
			}},
		{name: "a signature by a key the policy does not trust", unsigned: true, stage: "gate", want: verify.ErrThreshold,
			attack: func(t *testing.T, e *env) string {
				e.key = newKey(t)
				e.sign(t, e.dst, e.pkg.Manifest)
				return e.ref
			}},
		{name: "an attestation whose subject is another artifact", kind: testregistry.KindGGCR, stage: "gate", want: verify.ErrAttestation,
			attack: func(t *testing.T, e *env) string {
				e.setPolicy(t, "[{predicateType: slsaprovenance1, signedBy: [release]}]")
				other := e.otherArtifact(t)
				d, err := sign.Attest(testkit.Context(t), e.dst, other.Manifest, e.key, "slsaprovenance1", []byte(`{"buildDefinition":{"buildType":"https://example.test/build@v1","externalParameters":{"ref":"main"}},"runDetails":{"builder":{"id":"x"}}}`), sign.AttestOptions{})
				if err != nil {
					t.Fatal(err)
				}
				e.resubject(t, d, e.pkg.Manifest)
				return e.ref
			}},

		// Resolution.
		{name: "a tag that moves between resolve and fetch", stage: "gate", loads: true,
			attack: func(t *testing.T, e *env) string {
				// The first GET of the tag gets the signed manifest; any later
				// request by tag would get another, signed too. wasmgate asks
				// once and loads what it verified.
				var calls atomic.Int32
				other := e.otherArtifact(t)
				e.sign(t, e.dst, other.Manifest)
				e.reg.Faults.Inject("GET", "/manifests/v1$", testregistry.Respond(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					raw := e.pkg.ManifestJSON
					if calls.Add(1) > 1 {
						raw = other.ManifestJSON
					}
					w.Header().Set("Content-Type", ocispec.MediaTypeImageManifest)
					w.Header().Set("Docker-Content-Digest", digest.FromBytes(raw).String())
					w.Write(raw)
				})))
				t.Cleanup(func() {
					if n := calls.Load() + int32(e.reg.Faults.Count("HEAD", "/manifests/v1$")); n != 1 {
						t.Errorf("the tag was resolved %d times (GET and HEAD)", n)
					}
					if n := e.reg.Faults.Count("", "/"+other.Manifest.Digest.String()); n != 0 {
						t.Errorf("the moved tag's content was requested %d times", n)
					}
				})
				return e.ref
			}},

		// The network and the registry's behaviour.
		{name: "a slow server sending one byte a second", timeout: 500 * time.Millisecond, stage: "pull", want: remote.ErrTimeout, untrusted: wasmDigest,
			attack: func(t *testing.T, e *env) string {
				e.reg.Faults.Inject("GET", blobPath(e.pkg.Wasm.Digest), testregistry.Slow(1))
				return e.ref
			}},
		{name: "a server that never answers", timeout: time.Second, stage: "pull", want: remote.ErrTimeout,
			attack: func(t *testing.T, e *env) string {
				e.reg.Faults.Inject("GET", "/manifests/", testregistry.Hang())
				return e.ref
			}},
		{name: "a 401 loop (credentials refused again and again)", stage: "gate", want: remote.ErrUnauthorized,
			attack: func(t *testing.T, e *env) string {
				if err := e.creds.Put(testkit.Context(t), e.reg.Host, auth.Credential{Username: "user", Password: "wrong"}); err != nil {
					t.Fatal(err)
				}
				e.reg.Faults.Inject("", "", testregistry.Unauthorized())
				return e.ref
			}},
		{name: "a fallback index that is not an index", kind: testregistry.KindDistribution, unsigned: true, stage: "gate", want: referrers.ErrNotIndex,
			attack: func(t *testing.T, e *env) string {
				other := e.otherArtifact(t)
				tag := strings.Replace(e.pkg.Manifest.Digest.String(), ":", "-", 1)
				if err := e.dst.Tag(testkit.Context(t), other.Manifest, tag); err != nil {
					t.Fatal(err)
				}
				return e.ref
			}},
		{name: "a registry failing with 500", stage: "gate", want: remote.ErrServer,
			attack: func(t *testing.T, e *env) string {
				e.reg.Faults.Inject("", "/manifests/", testregistry.Status(500, 0))
				return e.ref
			}},
		{name: "an https to http redirect", stage: "pull", want: remote.ErrInsecureRedirect,
			attack: func(t *testing.T, e *env) string { return e.tlsRedirectToHTTP(t) }},
		{name: "a redirect loop", stage: "pull", want: remote.ErrTooManyRedirects,
			attack: func(t *testing.T, e *env) string {
				e.reg.Faults.Inject("GET", "/manifests/v1$", testregistry.Respond(http.RedirectHandler("/v2/wasm/app/manifests/v1", http.StatusTemporaryRedirect)))
				return e.ref
			}},
		{name: "a redirect to another host carrying credentials", stage: "pull", want: artifact.ErrDigestMismatch,
			attack: func(t *testing.T, e *env) string { return e.redirectWithCredentials(t) }},
		{name: "an endless referrers Link chain", kind: testregistry.KindGGCR, stage: "gate", want: errdef.ErrTooManyPages,
			attack: func(t *testing.T, e *env) string { e.endlessReferrers(t, 1); return e.ref }},
		{name: "100,000 referrers (1,000 a page): the listing stops at 10,000", kind: testregistry.KindGGCR, stage: "gate", want: referrers.ErrTooManyReferrers,
			attack: func(t *testing.T, e *env) string { e.endlessReferrers(t, 1000); return e.ref }},
	}
}
