package access

import (
	"fmt"

	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/registry"

	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/cache"
	"github.com/wasmgate/wasmgate/internal/ocilayout"
	"github.com/wasmgate/wasmgate/remote"
)

// Opener turns references into oras-go targets: a registry repository
// through one shared [remote.Client], or an OCI layout directory.
type Opener struct {
	// Client reaches registries. Required for registry references.
	Client *remote.Client
	// Cache, when not nil, sits in front of every registry source.
	Cache *cache.Cache
	// Offline makes registry sources answer from the cache only.
	Offline bool
}

// Source opens ref for reading.
func (o *Opener) Source(ref artifact.Reference) (oras.ReadOnlyTarget, error) {
	switch ref.Kind {
	case artifact.RefRegistry:
		if o.Offline && o.Cache == nil {
			return nil, fmt.Errorf("%w: offline needs the cache", artifact.ErrUnsupported)
		}
		repo := o.Client.Repository(ref.Registry)
		if o.Cache == nil {
			return repo, nil
		}
		return o.Cache.Target(repo, ref.Registry.Registry+"/"+ref.Registry.Repository, o.Offline), nil
	case artifact.RefLayout:
		return ocilayout.OpenReadOnly(ref.Path)
	default:
		return nil, fmt.Errorf("%w: %s references are not OCI artifacts", artifact.ErrUnsupported, ref.Kind)
	}
}

// Destination opens ref for writing; a layout directory is created when
// it does not exist.
func (o *Opener) Destination(ref artifact.Reference) (oras.Target, error) {
	switch ref.Kind {
	case artifact.RefRegistry:
		if o.Offline {
			return nil, fmt.Errorf("%w: cannot push offline", artifact.ErrUnsupported)
		}
		return o.Client.Repository(ref.Registry), nil
	case artifact.RefLayout:
		return ocilayout.Open(ref.Path, ocilayout.Options{})
	default:
		return nil, fmt.Errorf("%w: cannot push to a %s reference", artifact.ErrUnsupported, ref.Kind)
	}
}

// ReferrersAPI returns a lister for the Referrers API of ref's repository,
// or nil when ref is not a registry reference (layouts have no API).
func (o *Opener) ReferrersAPI(ref artifact.Reference) registry.ReferrerLister {
	if ref.Kind != artifact.RefRegistry || o.Client == nil || o.Offline {
		return nil
	}
	return o.Client.ReferrersAPI(ref.Registry, 0)
}
