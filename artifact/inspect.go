package artifact

import (
	"context"
	"io"
	"time"

	"golang.org/x/sync/errgroup"
	"oras.land/oras-go/v2"

	"github.com/wasmgate/wasmgate/permissions"
)

// Inspection describes an artifact. Its JSON form is what
// `wasmgate inspect --output json` prints.
type Inspection struct {
	Reference    string               `json:"reference"`
	Digest       string               `json:"digest"`
	MediaType    string               `json:"mediaType"`
	ArtifactType string               `json:"artifactType"`
	Size         int64                `json:"size"`
	Annotations  map[string]string    `json:"annotations,omitempty"`
	Config       ConfigInfo           `json:"config"`
	Kind         Kind                 `json:"kind"`
	Layers       []LayerInfo          `json:"layers"`
	Policy       *permissions.Summary `json:"policy,omitempty"`
}

// ConfigInfo is the config part of an [Inspection].
type ConfigInfo struct {
	MediaType    string `json:"mediaType"`
	Digest       string `json:"digest"`
	Size         int64  `json:"size"`
	Architecture string `json:"architecture,omitempty"`
	OS           string `json:"os,omitempty"`
	Created      string `json:"created,omitempty"`
}

// LayerInfo is one layer of an [Inspection].
type LayerInfo struct {
	Role      LayerRole `json:"role"`
	MediaType string    `json:"mediaType"`
	Digest    string    `json:"digest"`
	Size      int64     `json:"size"`
	Title     string    `json:"title,omitempty"`
	Kind      Kind      `json:"kind,omitempty"` // wasm layers: module or component
}

// Inspect fetches the manifest reference names, its config and every
// known layer, checking each digest (the wasm layer is streamed and
// discarded), and describes them. Unknown layers are listed, not fetched.
func Inspect(ctx context.Context, src oras.ReadOnlyTarget, reference string, opts PullOptions) (*Inspection, error) {
	opts = opts.withDefaults()
	m, err := FetchManifest(ctx, src, reference, opts.MaxManifestBytes)
	if err != nil {
		return nil, err
	}
	in := &Inspection{
		Digest:       m.Descriptor.Digest.String(),
		MediaType:    m.Descriptor.MediaType,
		ArtifactType: m.ArtifactType(),
		Size:         m.Descriptor.Size,
		Annotations:  m.OCI.Annotations,
		Config: ConfigInfo{
			MediaType: m.OCI.Config.MediaType, Digest: m.OCI.Config.Digest.String(), Size: m.OCI.Config.Size,
		},
	}
	if m.Layers.Wasm.Size > opts.MaxLayerBytes {
		return nil, &SizeError{What: "wasm layer", Digest: m.Layers.Wasm.Digest, Limit: opts.MaxLayerBytes, Actual: -1, Err: ErrTooLarge}
	}
	var header headerWriter
	var policy *permissions.Policy
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(opts.Concurrency)
	g.Go(func() error {
		raw, err := FetchVerified(gctx, src, m.OCI.Config, opts.MaxConfigBytes, "config")
		if err != nil {
			return err
		}
		cfg, err := ParseConfig(m.OCI.Config, raw)
		in.Config.Architecture, in.Config.OS = cfg.Architecture, cfg.OS
		if cfg.Created != nil {
			in.Config.Created = cfg.Created.Format(time.RFC3339)
		}
		return err
	})
	g.Go(func() error {
		rc, err := src.Fetch(gctx, m.Layers.Wasm)
		if err != nil {
			return err
		}
		defer rc.Close()
		var w io.Writer = &header
		if opts.Progress != nil {
			if pw := opts.Progress(m.Layers.Wasm, title(m.Layers.Wasm)); pw != nil {
				defer pw.Close()
				w = io.MultiWriter(w, pw)
			}
		}
		return copyVerified(w, rc, m.Layers.Wasm, "wasm layer")
	})
	if pd := m.Layers.Policy; pd != nil {
		g.Go(func() error {
			raw, err := FetchVerified(gctx, src, *pd, permissions.MaxSize, "policy layer")
			if err != nil {
				return err
			}
			policy, err = parsePolicy(raw)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if in.Kind, err = DetectKind(header.b[:header.n]); err != nil {
		return nil, err
	}
	if policy != nil {
		s := policy.Summary()
		in.Policy = &s
	}
	for _, d := range m.OCI.Layers {
		li := LayerInfo{Role: RoleOf(d.MediaType), MediaType: d.MediaType, Digest: d.Digest.String(), Size: d.Size, Title: title(d)}
		if d.Digest == m.Layers.Wasm.Digest && li.Role == RoleWasm {
			li.Kind = in.Kind
		}
		in.Layers = append(in.Layers, li)
	}
	return in, nil
}

// InspectPackage describes the artifact a push of pkg would create.
func InspectPackage(pkg *Package) *Inspection {
	in := &Inspection{
		Digest:       pkg.Manifest.Digest.String(),
		MediaType:    pkg.Manifest.MediaType,
		ArtifactType: MediaTypeConfig,
		Size:         pkg.Manifest.Size,
		Kind:         pkg.Kind,
		Config:       ConfigInfo{MediaType: pkg.Config.MediaType, Digest: pkg.Config.Digest.String(), Size: pkg.Config.Size, Architecture: "wasm", OS: pkg.Kind.OS()},
		Layers: []LayerInfo{{Role: RoleWasm, MediaType: pkg.Wasm.MediaType, Digest: pkg.Wasm.Digest.String(),
			Size: pkg.Wasm.Size, Title: title(pkg.Wasm), Kind: pkg.Kind}},
	}
	if p := pkg.Policy; p != nil {
		in.Layers = append(in.Layers, LayerInfo{Role: RolePolicy, MediaType: p.MediaType, Digest: p.Digest.String(), Size: p.Size, Title: title(*p)})
		if pol, err := parsePolicy(pkg.PolicyYAML); err == nil {
			s := pol.Summary()
			in.Policy = &s
		}
	}
	return in
}
