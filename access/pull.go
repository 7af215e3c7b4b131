package access

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sync/errgroup"
	"oras.land/oras-go/v2"

	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/internal/ocilayout"
	"github.com/wasmgate/wasmgate/permissions"
)

// ProgressFunc is called once for each blob a pull or push transfers. The
// returned writer sees every byte as it streams and is closed when the
// blob is done. It may return nil.
type ProgressFunc func(desc ocispec.Descriptor, title string) io.WriteCloser

// DefaultMaxLayers bounds the layers of a manifest that [Pull] accepts.
// A wasm artifact has one wasm layer, at most one policy layer and, from
// some publishers, a few others (an SBOM, a README); a manifest that lists
// more is refused before anything else is fetched.
const DefaultMaxLayers = 16

// Sentinel errors of [Pull]'s layer rules ([CheckLayers]).
var (
	// ErrTooManyLayers: the manifest lists more layers than
	// PullOptions.MaxLayers.
	ErrTooManyLayers = errors.New("too many layers for a wasm artifact")
	// ErrUnknownLayers: layers that are neither wasm nor policy, and
	// PullOptions.AllowUnknownLayers is not set.
	ErrUnknownLayers = errors.New("layers that are neither wasm nor policy")
)

// PullOptions bound and shape a pull. The zero value uses the defaults.
type PullOptions struct {
	MaxManifestBytes int64 // 0: DefaultMaxManifestBytes
	MaxConfigBytes   int64 // 0: DefaultMaxConfigBytes
	MaxLayerBytes    int64 // 0: DefaultMaxLayerBytes; for the wasm layer
	MaxLayers        int   // layers the manifest may list; 0: DefaultMaxLayers
	// AllowUnknownLayers accepts layers that are neither wasm nor policy;
	// they are reported in Layers.Unknown and never fetched or written.
	// The zero value refuses them, as verify's default layer rules do: a
	// pull does not hand over less than the publisher shipped without
	// being told to.
	AllowUnknownLayers bool
	Concurrency        int // blobs fetched at once; 0: 3
	Progress           ProgressFunc
}

func (o PullOptions) withDefaults() PullOptions {
	if o.MaxManifestBytes <= 0 {
		o.MaxManifestBytes = artifact.DefaultMaxManifestBytes
	}
	if o.MaxConfigBytes <= 0 {
		o.MaxConfigBytes = artifact.DefaultMaxConfigBytes
	}
	if o.MaxLayerBytes <= 0 {
		o.MaxLayerBytes = artifact.DefaultMaxLayerBytes
	}
	if o.MaxLayers <= 0 {
		o.MaxLayers = DefaultMaxLayers
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 3
	}
	return o
}

// CheckLayers applies [Pull]'s layer rules to a manifest's layers without
// fetching anything: at most opts.MaxLayers of them, and none that is
// neither wasm nor policy unless opts.AllowUnknownLayers. The error wraps
// [ErrTooManyLayers] or [ErrUnknownLayers]. Inspect uses it to say whether
// a pull would take an artifact it describes.
func CheckLayers(layers []ocispec.Descriptor, opts PullOptions) error {
	var unknown []ocispec.Descriptor
	for _, d := range layers {
		if artifact.RoleOf(d.MediaType) == artifact.RoleUnknown {
			unknown = append(unknown, d)
		}
	}
	return checkLayers(layers, unknown, opts)
}

// checkManifestLayers is CheckLayers on a classified manifest: a layer is
// unknown when its shape gave it no role (a compat tar+gzip is its wasm
// layer, whatever its media type says).
func checkManifestLayers(m *artifact.Manifest, opts PullOptions) error {
	layers := m.OCI.Layers
	if len(m.Layers.Data) > 0 {
		// A Spin application's data layers (one per static file) are
		// neither fetched nor written: they do not count.
		layers = slices.DeleteFunc(slices.Clone(layers), func(d ocispec.Descriptor) bool { return m.LayerRole(d) == artifact.RoleData })
	}
	return checkLayers(layers, m.Layers.Unknown, opts)
}

func checkLayers(layers, unknown []ocispec.Descriptor, opts PullOptions) error {
	opts = opts.withDefaults()
	if len(layers) > opts.MaxLayers {
		return fmt.Errorf("%w: the manifest lists %d layers, more than %d (a wasm artifact has one wasm layer, "+
			"at most one policy layer and a few others)", ErrTooManyLayers, len(layers), opts.MaxLayers)
	}
	if opts.AllowUnknownLayers {
		return nil
	}
	if len(unknown) > 0 {
		return fmt.Errorf("%w: %d of the %d layers (first: %s %s) are refused unless unknown layers are allowed",
			ErrUnknownLayers, len(unknown), len(layers), unknown[0].MediaType, unknown[0].Digest)
	}
	return nil
}

// Pulled describes an artifact written to a directory.
type Pulled struct {
	Manifest *artifact.Manifest
	Config   artifact.Config
	Kind     artifact.Kind
	// Component is what a component imports and exports; nil for a core
	// module.
	Component *artifact.ComponentInfo
	Policy    *permissions.Policy // nil without a policy layer
	Files     []File              // what was written, wasm first
	// Components are a Spin application's components, each written as
	// ID.wasm (Kind is then the first component's).
	Components []artifact.SpinComponent
}

// File is one layer written out.
type File struct {
	Role      artifact.LayerRole `json:"role"`
	Path      string             `json:"path"`
	MediaType string             `json:"mediaType"`
	Digest    string             `json:"digest"`
	Size      int64              `json:"size"`
	// LayerDigest is set when the file was extracted from a layer (Istio's
	// compat plugin.wasm): the layer verified, whose digest is not the
	// file's. MediaType is then the layer's.
	LayerDigest string `json:"layerDigest,omitempty"`
}

// Pull fetches the artifact that reference names in src and writes its
// wasm and policy layers into dir. The reference is resolved once; the
// config and every layer are streamed with their size and digest checked
// in the same pass, into temporary files that are renamed into place only
// after every blob has passed. On error nothing is left in dir (and dir is
// removed again if Pull created it). Before anything but the manifest is
// fetched, the layers must pass [CheckLayers]; unknown layers that
// opts.AllowUnknownLayers lets through are reported in the manifest's
// Layers.Unknown and neither fetched nor written.
func Pull(ctx context.Context, src oras.ReadOnlyTarget, reference, dir string, opts PullOptions) (*Pulled, error) {
	opts = opts.withDefaults()
	m, err := FetchManifest(ctx, src, reference, opts.MaxManifestBytes)
	if err != nil {
		return nil, err
	}
	return PullManifest(ctx, src, m, dir, opts)
}

// PullManifest is [Pull] for a manifest already fetched with
// [FetchManifest]: a caller that verified signatures over m.Descriptor
// pulls exactly what it verified.
func PullManifest(ctx context.Context, src oras.ReadOnlyTarget, m *artifact.Manifest, dir string, opts PullOptions) (_ *Pulled, err error) {
	opts = opts.withDefaults()
	if err := checkManifestLayers(m, opts); err != nil {
		return nil, fmt.Errorf("manifest %s: %w", m.Descriptor.Digest, err)
	}
	if m.Shape == artifact.ShapeSpin {
		return pullSpin(ctx, src, m, dir, opts)
	}
	if m.Layers.Wasm.Size > opts.MaxLayerBytes {
		return nil, &artifact.SizeError{What: "wasm layer", Digest: m.Layers.Wasm.Digest, Limit: opts.MaxLayerBytes, Actual: -1, Err: artifact.ErrTooLarge}
	}
	created, err := ensureDir(dir)
	if err != nil {
		return nil, err
	}
	st := &staging{dir: dir}
	defer func() {
		if err != nil {
			st.discard()
			if created {
				os.Remove(dir) // only succeeds when empty, which is the point
			}
		}
	}()

	p := &Pulled{Manifest: m}
	wasmHeader := &artifact.ComponentBuffer{Max: opts.MaxLayerBytes}
	var policyRaw []byte
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(opts.Concurrency)
	g.Go(func() error {
		raw, err := FetchVerified(gctx, src, m.OCI.Config, opts.MaxConfigBytes, "config")
		if err != nil {
			return err
		}
		p.Config, err = artifact.ParseConfig(m.OCI.Config, raw)
		return err
	})
	g.Go(func() error {
		return st.downloadWasm(gctx, src, m.Layers, wasmHeader, opts)
	})
	if pd := m.Layers.Policy; pd != nil {
		g.Go(func() error {
			raw, err := FetchVerified(gctx, src, *pd, permissions.MaxSize, "policy layer")
			if err != nil {
				return err
			}
			if p.Policy, err = artifact.ParsePolicyLayer(raw); err != nil {
				return err
			}
			policyRaw = raw
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if p.Kind, err = artifact.DetectKind(wasmHeader.Header()); err != nil {
		return nil, &artifact.Error{Op: "pull", Reference: m.Layers.Wasm.Digest.String(), Err: err}
	}
	if p.Component, err = wasmHeader.Info(); err != nil {
		return nil, &artifact.Error{Op: "pull", Reference: m.Layers.Wasm.Digest.String(), Err: err}
	}
	if err := p.Config.CheckComponent("config "+m.OCI.Config.Digest.String(), p.Component); err != nil {
		return nil, &artifact.Error{Op: "pull", Reference: m.Descriptor.Digest.String(), Err: err}
	}
	if m.Layers.Policy != nil {
		if err := st.writeBytes(*m.Layers.Policy, artifact.RolePolicy, policyRaw); err != nil {
			return nil, err
		}
	}
	st.name(p.Kind)
	if err := st.commit(); err != nil {
		return nil, err
	}
	p.Files = st.files()
	return p, nil
}

func ensureDir(dir string) (created bool, err error) {
	if _, err := os.Stat(dir); err == nil {
		return false, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return false, err
	}
	return true, os.MkdirAll(dir, 0o755)
}

// staged is one verified blob waiting in a temporary file.
type staged struct {
	desc  ocispec.Descriptor
	role  artifact.LayerRole
	tmp   string
	final string
	// archive: the file is plugin.wasm extracted from desc, whose digest
	// and size are extracted and size.
	archive   bool
	extracted digest.Digest
	size      int64
	// fixed is the file name, when the shape gives one (a Spin
	// component's id).
	fixed string
}

// staging holds verified blobs in temporary files inside dir until every
// blob of the pull has passed; then commit renames them into place.
type staging struct {
	dir   string
	mu    sync.Mutex // guards items while downloads run in parallel
	items []*staged
}

func (s *staging) add(it *staged) {
	s.mu.Lock()
	s.items = append(s.items, it)
	s.mu.Unlock()
}

// downloadWasm streams the wasm layer of l into a temporary file: the
// layer itself, or plugin.wasm extracted from a compat archive in the
// same pass that checks the layer.
func (s *staging) downloadWasm(ctx context.Context, src oras.ReadOnlyTarget, l artifact.Layers, header io.Writer, opts PullOptions) error {
	desc, role := l.Wasm, artifact.RoleWasm
	f, err := os.CreateTemp(s.dir, ".wasmgate-*.partial")
	if err != nil {
		return err
	}
	it := &staged{desc: desc, role: role, tmp: f.Name(), archive: l.Archive}
	s.add(it)
	ww := NewWasmWriter(io.MultiWriter(f, header), l, opts.MaxLayerBytes)
	err = ww.Finish(s.fetch(ctx, src, desc, role, ww, opts.Progress))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && l.Archive {
		it.extracted, it.size = ww.ExtractedDigest(), ww.Compat().WasmSize
	}
	return err
}

func (s *staging) fetch(ctx context.Context, src oras.ReadOnlyTarget, desc ocispec.Descriptor, role artifact.LayerRole, w io.Writer, progress ProgressFunc) error {
	if err := checkable(desc, string(role)+" layer"); err != nil {
		return err
	}
	rc, err := src.Fetch(ctx, desc)
	if err != nil {
		return err
	}
	defer rc.Close()
	if progress != nil {
		if pw := progress(desc, artifact.Title(desc)); pw != nil {
			defer pw.Close()
			w = io.MultiWriter(w, pw)
		}
	}
	return copyVerified(w, rc, desc, string(role)+" layer")
}

func (s *staging) writeBytes(desc ocispec.Descriptor, role artifact.LayerRole, raw []byte) error {
	f, err := os.CreateTemp(s.dir, ".wasmgate-*.partial")
	if err != nil {
		return err
	}
	s.add(&staged{desc: desc, role: role, tmp: f.Name()})
	_, err = f.Write(raw)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// safeName accepts a file name from an annotation only when it cannot
// escape the directory or hide: the tag grammar has no separator and no
// leading dot.
var safeName = ocilayout.ValidTag

// name picks each file's final name: the layer's title annotation when it
// is a safe base name, else a default by role and kind.
func (s *staging) name(kind artifact.Kind) {
	used := map[string]bool{}
	for _, it := range s.items {
		def := "policy.yaml"
		if it.role == artifact.RoleWasm {
			def = string(kind) + ".wasm"
		}
		n := artifact.Title(it.desc)
		if it.fixed != "" {
			def, n = it.fixed, it.fixed
		}
		if it.archive {
			// The layer's title names the archive, not the module in it.
			def, n = artifact.CompatWasmFile, artifact.CompatWasmFile
		}
		if !safeName(n) || used[n] {
			n = def
		}
		used[n] = true
		it.final = filepath.Join(s.dir, n)
	}
}

func (s *staging) commit() error {
	for _, it := range s.items {
		if err := os.Chmod(it.tmp, 0o644); err != nil {
			return err
		}
		if err := os.Rename(it.tmp, it.final); err != nil {
			return err
		}
		it.tmp = ""
	}
	return nil
}

func (s *staging) discard() {
	for _, it := range s.items {
		if it.tmp != "" {
			os.Remove(it.tmp)
		}
	}
}

func (s *staging) files() []File {
	out := make([]File, 0, len(s.items))
	for _, it := range s.items {
		f := File{Role: it.role, Path: it.final, MediaType: it.desc.MediaType, Digest: it.desc.Digest.String(), Size: it.desc.Size}
		if it.archive {
			f.Digest, f.Size, f.LayerDigest = it.extracted.String(), it.size, it.desc.Digest.String()
		}
		if it.role == artifact.RoleWasm {
			out = append([]File{f}, out...)
		} else {
			out = append(out, f)
		}
	}
	return out
}
