package referrers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sync/errgroup"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry"

	"github.com/wasmgate/wasmgate/access"
	"github.com/wasmgate/wasmgate/artifact"
)

// Path is how a referrer was found.
type Path string

const (
	PathAPI       Path = "api"        // the Referrers API
	PathTag       Path = "tag"        // the <alg>-<hex> fallback index
	PathCosignSig Path = "cosign-sig" // cosign's legacy <alg>-<hex>.sig tag
	PathCosignAtt Path = "cosign-att" // cosign's legacy <alg>-<hex>.att tag
)

// Mode chooses how referrers are listed.
type Mode string

const (
	// ModeAuto uses the Referrers API when the registry has one, and the
	// tag schema always: a registry that gained the API keeps the older
	// referrers only in the fallback index, and some tools write both.
	// Duplicates are merged. The zero Mode is ModeAuto.
	ModeAuto Mode = "auto"
	// ModeAPI uses only the Referrers API; without one it fails with ErrNoAPI.
	ModeAPI Mode = "api"
	// ModeTag uses only the tag schema.
	ModeTag Mode = "tag"
)

// Defaults for [Options].
const (
	DefaultMaxReferrers     = 10000
	DefaultMaxIndexBytes    = 4 << 20
	DefaultMaxManifestBytes = 4 << 20
	DefaultConcurrency      = 8
)

// Options shape a discovery. The zero value is auto mode with the
// defaults, every kind of referrer, cosign legacy tags included.
type Options struct {
	Mode Mode
	// API lists referrers through the Referrers API without falling back
	// (remote.Client.ReferrersAPI gives one). Nil means the source has no
	// API (an OCI layout): only the tag schema is asked.
	API registry.ReferrerLister
	// ArtifactType, when set, keeps only referrers of that type, decided
	// from each referrer's own manifest. Index entries whose listed type is
	// another specific type are skipped without a fetch.
	ArtifactType string
	// Kinds, when set, keeps only referrers of these kinds and asks only
	// for what can hold them: an entry listed with an artifact type of
	// another kind is skipped without a fetch (an entry listed with no
	// type, or with a config type as some registries list it, is fetched
	// and judged by its manifest), and cosign's .sig and .att tags are read
	// only when KindCosignSignature or KindCosignAttestation is wanted.
	// Skipping is fail-closed: a referrer whose listing misnames its kind
	// can be missed, never accepted. Empty keeps every kind.
	Kinds []Kind
	// NoLegacyTags skips cosign's .sig and .att tags.
	NoLegacyTags     bool
	MaxReferrers     int   // listed entries; 0: DefaultMaxReferrers
	MaxIndexBytes    int64 // a fallback index; 0: DefaultMaxIndexBytes
	MaxManifestBytes int64 // a referrer manifest; 0: DefaultMaxManifestBytes
	Concurrency      int   // manifests fetched at once; 0: DefaultConcurrency
}

func (o Options) withDefaults() Options {
	if o.Mode == "" {
		o.Mode = ModeAuto
	}
	if o.MaxReferrers <= 0 {
		o.MaxReferrers = DefaultMaxReferrers
	}
	if o.MaxIndexBytes <= 0 {
		o.MaxIndexBytes = DefaultMaxIndexBytes
	}
	if o.MaxManifestBytes <= 0 {
		o.MaxManifestBytes = DefaultMaxManifestBytes
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	return o
}

// Result is what [Discover] found.
type Result struct {
	Subject ocispec.Descriptor `json:"subject"`
	// Listing is the path that listed the referrers: PathAPI or PathTag.
	Listing   Path       `json:"listing"`
	Referrers []Referrer `json:"referrers"`
	Rejected  []Rejected `json:"rejected,omitempty"`
	// Skipped counts entries left out by Options.ArtifactType or
	// Options.Kinds; Unfetched is how many of them were judged by their
	// listing alone, without a request, and SkippedTypes counts them by
	// the artifact type that decided (the listed one, or the manifest's).
	Skipped      int            `json:"skipped,omitempty"`
	Unfetched    int            `json:"unfetched,omitempty"`
	SkippedTypes map[string]int `json:"skippedTypes,omitempty"`
}

// Referrer is a checked referrer: fetched by digest, hashed, its subject
// verified (except cosign's legacy tags, bound by their payload).
type Referrer struct {
	MediaType     string            `json:"mediaType"`
	Digest        digest.Digest     `json:"digest"`
	Size          int64             `json:"size"`
	ArtifactType  string            `json:"artifactType"`
	Kind          Kind              `json:"kind"`
	PredicateType string            `json:"predicateType,omitempty"`
	Envelope      string            `json:"envelope,omitempty"`
	Annotations   map[string]string `json:"annotations,omitempty"`
	Found         []Path            `json:"found"`
	// Referrers of this referrer, filled by [Tree].
	Referrers []Referrer `json:"referrers,omitempty"`

	// Manifest and Raw are the verified manifest, for verifiers.
	Manifest ocispec.Manifest `json:"-"`
	Raw      []byte           `json:"-"`
}

// Descriptor is the referrer's own descriptor.
func (r Referrer) Descriptor() ocispec.Descriptor {
	return ocispec.Descriptor{MediaType: r.MediaType, Digest: r.Digest, Size: r.Size, ArtifactType: r.ArtifactType, Annotations: r.Annotations}
}

// Rejected is a listed referrer that was not returned, and why.
type Rejected struct {
	Digest digest.Digest `json:"digest"`
	Found  Path          `json:"found"`
	Reason error         `json:"-"`
	Why    string        `json:"reason"`
}

// TagSchema is the fallback tag for subject: "<alg>-<hex>", the algorithm
// truncated to 32 and the hex to 64 characters, as the distribution spec
// defines it.
func TagSchema(subject digest.Digest) string {
	alg, hex := string(subject.Algorithm()), subject.Encoded()
	if len(alg) > 32 {
		alg = alg[:32]
	}
	if len(hex) > 64 {
		hex = hex[:64]
	}
	return alg + "-" + hex
}

// Discover lists the referrers of subject in src and returns those that
// pass every check. Listing failures (a registry that cannot be reached,
// more pages or entries than allowed) are errors; a referrer that breaks a
// rule is reported in Result.Rejected.
func Discover(ctx context.Context, src oras.ReadOnlyTarget, subject ocispec.Descriptor, opts Options) (*Result, error) {
	opts = opts.withDefaults()
	d := &discovery{src: src, subject: subject, opts: opts, res: &Result{Subject: subject}, byDigest: map[digest.Digest]*candidate{}}
	if err := d.list(ctx); err != nil {
		return nil, err
	}
	if err := d.check(ctx); err != nil {
		return nil, err
	}
	res := d.res
	slices.SortFunc(res.Referrers, func(a, b Referrer) int { return strings.Compare(string(a.Digest), string(b.Digest)) })
	slices.SortFunc(res.Rejected, func(a, b Rejected) int { return strings.Compare(string(a.Digest), string(b.Digest)) })
	if res.Referrers == nil {
		res.Referrers = []Referrer{}
	}
	return res, nil
}

type candidate struct {
	desc  ocispec.Descriptor
	found []Path
}

type discovery struct {
	src      oras.ReadOnlyTarget
	subject  ocispec.Descriptor
	opts     Options
	res      *Result
	order    []*candidate
	byDigest map[digest.Digest]*candidate
	mu       sync.Mutex
}

// add records a listed descriptor, merging duplicates (notation writes
// both an API referrer and a fallback tag on some registries).
func (d *discovery) add(desc ocispec.Descriptor, p Path) error {
	if c, ok := d.byDigest[desc.Digest]; ok {
		if !slices.Contains(c.found, p) {
			c.found = append(c.found, p)
		}
		return nil
	}
	if len(d.order) >= d.opts.MaxReferrers {
		return fmt.Errorf("%w: more than %d listed for %s", ErrTooManyReferrers, d.opts.MaxReferrers, d.subject.Digest)
	}
	if d.filteredOut(desc) {
		d.skip(desc.ArtifactType, false)
		return nil
	}
	c := &candidate{desc: desc, found: []Path{p}}
	d.byDigest[desc.Digest] = c
	d.order = append(d.order, c)
	return nil
}

// filteredOut skips, without a fetch, entries listed with an artifact type
// that neither is the one asked for nor names a wanted kind. Entries
// listed with a config type (as some registries report) or none are
// fetched and judged by their manifest. Cosign's legacy tags name no
// type: they are asked for only when wanted (see list).
func (d *discovery) filteredOut(desc ocispec.Descriptor) bool {
	listed := desc.ArtifactType
	switch listed {
	case "", ocispec.MediaTypeEmptyJSON, ocispec.MediaTypeImageConfig:
		return false
	}
	if want := d.opts.ArtifactType; want != "" && listed != want {
		return true
	}
	return !d.wants(kindOfType(listed))
}

// skip counts an entry left out, by the artifact type that decided.
func (d *discovery) skip(artifactType string, fetched bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.res.Skipped++
	if !fetched {
		d.res.Unfetched++
	}
	if d.res.SkippedTypes == nil {
		d.res.SkippedTypes = map[string]int{}
	}
	if artifactType == "" {
		artifactType = "(none)"
	}
	d.res.SkippedTypes[artifactType]++
}

func (d *discovery) reject(dg digest.Digest, p Path, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.res.Rejected = append(d.res.Rejected, Rejected{Digest: dg, Found: p, Reason: &RejectError{Digest: dg, Found: p, Err: err}, Why: err.Error()})
}

// check fetches every candidate by digest, in parallel, and keeps those
// that pass.
func (d *discovery) check(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(d.opts.Concurrency)
	for _, c := range d.order {
		g.Go(func() error { return d.checkOne(gctx, c) })
	}
	return g.Wait()
}

func (d *discovery) checkOne(ctx context.Context, c *candidate) error {
	first := c.found[0]
	if c.desc.Digest == d.subject.Digest {
		d.reject(c.desc.Digest, first, ErrSelfReference)
		return nil
	}
	desc := ocispec.Descriptor{MediaType: c.desc.MediaType, Digest: c.desc.Digest, Size: c.desc.Size}
	raw, err := access.FetchVerified(ctx, d.src, desc, d.opts.MaxManifestBytes, "referrer manifest")
	if err != nil {
		if rejectable(err) {
			d.reject(c.desc.Digest, first, err)
			return nil
		}
		return err
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		d.reject(c.desc.Digest, first, fmt.Errorf("%w: %w", ErrNotManifest, err))
		return nil
	}
	if m.MediaType != ocispec.MediaTypeImageManifest && !(m.MediaType == "" && m.Config.MediaType != "") {
		d.reject(c.desc.Digest, first, fmt.Errorf("%w: mediaType %q", ErrNotManifest, m.MediaType))
		return nil
	}
	legacyOnly := !slices.Contains(c.found, PathAPI) && !slices.Contains(c.found, PathTag)
	if !legacyOnly && (m.Subject == nil || m.Subject.Digest != d.subject.Digest) {
		got := digest.Digest("none")
		if m.Subject != nil {
			got = m.Subject.Digest
		}
		d.reject(c.desc.Digest, first, fmt.Errorf("%w: it names %s", ErrSubjectMismatch, got))
		return nil
	}
	at := ArtifactType(m)
	cl := classify(m, first)
	if (d.opts.ArtifactType != "" && at != d.opts.ArtifactType) || !d.wants(cl.kind) {
		d.skip(at, true)
		return nil
	}
	// Validated only once kept: a referrer nobody reads is skipped
	// whatever it holds, and a thousand of them cost no validation.
	if err := artifact.ValidateDocument(ocispec.MediaTypeImageManifest, raw); err != nil {
		d.reject(c.desc.Digest, first, fmt.Errorf("%w: %w", ErrNotManifest, err))
		return nil
	}
	r := Referrer{
		MediaType: ocispec.MediaTypeImageManifest, Digest: c.desc.Digest, Size: int64(len(raw)),
		ArtifactType: at, Kind: cl.kind, PredicateType: cl.predicateType, Envelope: cl.envelope,
		Annotations: m.Annotations, Found: c.found, Manifest: m, Raw: raw,
	}
	d.mu.Lock()
	d.res.Referrers = append(d.res.Referrers, r)
	d.mu.Unlock()
	return nil
}

// rejectable reports failures that condemn one referrer (bad bytes,
// missing content) rather than the whole discovery (network, time).
func rejectable(err error) bool {
	return artifact.IsBadContent(err) || errors.Is(err, errdef.ErrNotFound) || errors.Is(err, errdef.ErrSizeExceedsLimit)
}
