package artifact

import (
	"fmt"
	"sync"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Docker's distribution media types: what `docker push`, Docker Hub and
// most registries' older content carry. Image Manifest Version 2,
// Schema 2 (distribution/distribution docs/content/spec/manifest-v2-2.md)
// defines the manifest and the manifest list; the image-spec's manifest
// and index grew from them and keep their structure.
const (
	MediaTypeDockerManifest     = "application/vnd.docker.distribution.manifest.v2+json"
	MediaTypeDockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
	MediaTypeDockerConfig       = "application/vnd.docker.container.image.v1+json"
	// MediaTypeDockerLayerGzip is a Docker image layer; a Docker image of
	// exactly one such layer is Istio's compat variant when the layer
	// holds plugin.wasm (solo-io/wasm spec/spec-compat.md needs no
	// annotation for this type).
	MediaTypeDockerLayerGzip        = "application/vnd.docker.image.rootfs.diff.tar.gzip"
	MediaTypeDockerForeignLayerGzip = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
	// MediaTypeDockerManifestV1 and MediaTypeDockerManifestV1Signed are
	// schema 1 (manifest-v2-1.md): deprecated by Docker, removed from
	// distribution v3 and Docker Hub; refused with [ErrObsoleteManifest].
	MediaTypeDockerManifestV1       = "application/vnd.docker.distribution.manifest.v1+json"
	MediaTypeDockerManifestV1Signed = "application/vnd.docker.distribution.manifest.v1+prettyjws"
)

// IsDockerDocument reports whether [ValidateDocument] has rules for
// mediaType as one of Docker's schema 2 documents.
func IsDockerDocument(mediaType string) bool {
	return mediaType == MediaTypeDockerManifest || mediaType == MediaTypeDockerManifestList
}

// isObsolete: Docker's schema 1, by media type.
func isObsolete(mediaType string) bool {
	return mediaType == MediaTypeDockerManifestV1 || mediaType == MediaTypeDockerManifestV1Signed
}

// dockerShapes are Docker's schema 2 documents as shapes, following
// distribution/distribution docs/content/spec/manifest-v2-2.md. The
// structure is the image-spec's (the descriptor rules, layers at least
// one, the same checks beyond the schema in goRules); what Docker's spec
// adds is that mediaType is REQUIRED and is the document's own type, and
// that every entry of a manifest list carries a platform (architecture
// and os required; features is Docker's own, kept as a list of strings).
var dockerShapes = sync.OnceValue(func() map[string]*shape {
	ownType := func(mt string) *shape { return &shape{typ: "string", enum: mt} }
	manifest := object(map[string]*shape{
		"schemaVersion": schemaVersionShape(), "mediaType": ownType(MediaTypeDockerManifest),
		"config":      contentDescriptor(),
		"layers":      {typ: "array", minItems: 1, items: contentDescriptor()},
		"annotations": mapStringString(),
	}, "schemaVersion", "mediaType", "config", "layers")
	list := object(map[string]*shape{
		"schemaVersion": schemaVersionShape(), "mediaType": ownType(MediaTypeDockerManifestList),
		"manifests": {typ: "array", items: object(map[string]*shape{
			"mediaType": mediaTypeShape(), "size": int64Shape(), "digest": digestShape(), "urls": urlsShape(),
			"platform": object(map[string]*shape{
				"architecture": str(), "os": str(), "os.version": str(), "os.features": strArray(), "variant": str(),
				"features": strArray(),
			}, "architecture", "os"),
			"annotations": mapStringString(),
		}, "mediaType", "size", "digest", "platform")},
		"annotations": mapStringString(),
	}, "schemaVersion", "mediaType", "manifests")
	return map[string]*shape{MediaTypeDockerManifest: manifest, MediaTypeDockerManifestList: list}
})

// ociEquivalent is the image-spec document whose Go rules a Docker
// document shares.
func ociEquivalent(mediaType string) string {
	switch mediaType {
	case MediaTypeDockerManifest:
		return ocispec.MediaTypeImageManifest
	case MediaTypeDockerManifestList:
		return ocispec.MediaTypeImageIndex
	}
	return mediaType
}

// obsolete is the refusal of a schema 1 manifest.
func obsolete(what, mediaType string) error {
	if mediaType == "" {
		mediaType = "schemaVersion 1"
	}
	return &MediaTypeError{What: what + " mediaType", Found: mediaType,
		Expected: []string{ocispec.MediaTypeImageManifest, ocispec.MediaTypeImageIndex, MediaTypeDockerManifest, MediaTypeDockerManifestList},
		Err:      fmt.Errorf("%w: %w", ErrInvalidManifest, ErrObsoleteManifest)}
}
