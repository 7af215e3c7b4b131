package testkit

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
)

// Image is a real OCI container image made in the test: a gzipped tar
// layer holding one file, an image config whose rootfs names the layer's
// uncompressed digest, and the manifest over both.
type Image struct {
	Manifest ocispec.Descriptor
	Config   ocispec.Descriptor
	Layer    ocispec.Descriptor
}

// PushImage pushes an image for platform (os/arch) to dst, tagged tag
// unless tag is "". The file's content differs per platform, so each
// platform's image has its own digests.
func PushImage(t testing.TB, dst oras.Target, platform, tag string) Image {
	t.Helper()
	return pushImage(t, dst, platform, tag, ociTypes)
}

// imageTypes are the media types of an image's manifest, config and
// layer.
type imageTypes struct{ manifest, config, layer string }

var (
	ociTypes    = imageTypes{ocispec.MediaTypeImageManifest, ocispec.MediaTypeImageConfig, ocispec.MediaTypeImageLayerGzip}
	dockerTypes = imageTypes{"application/vnd.docker.distribution.manifest.v2+json", "application/vnd.docker.container.image.v1+json",
		"application/vnd.docker.image.rootfs.diff.tar.gzip"}
)

// PushDockerImage is PushImage under Docker's schema 2 media types, as
// `docker push` writes an image: manifest
// application/vnd.docker.distribution.manifest.v2+json, Docker's image
// config (with the docker_version and container_config Docker adds), a
// application/vnd.docker.image.rootfs.diff.tar.gzip layer.
func PushDockerImage(t testing.TB, dst oras.Target, platform, tag string) Image {
	t.Helper()
	return pushImage(t, dst, platform, tag, dockerTypes)
}

func pushImage(t testing.TB, dst oras.Target, platform, tag string, types imageTypes) Image {
	t.Helper()
	ctx := Context(t)
	var tarBuf bytes.Buffer
	tw := tar.NewWriter(&tarBuf)
	body := []byte("#!/bin/sh\necho hello from " + platform + "\n")
	if err := tw.WriteHeader(&tar.Header{Name: "bin/hello", Mode: 0o755, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write(body); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := zw.Write(tarBuf.Bytes()); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	osName, arch, _ := strings.Cut(platform, "/")
	cfg := ocispec.Image{
		Platform: ocispec.Platform{OS: osName, Architecture: arch},
		Config:   ocispec.ImageConfig{Entrypoint: []string{"/bin/hello"}},
		RootFS:   ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{digest.FromBytes(tarBuf.Bytes())}},
	}
	cfgJSON, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if types == dockerTypes {
		// Docker's config: the image-spec's fields and Docker's own.
		var fields map[string]any
		if err := json.Unmarshal(cfgJSON, &fields); err != nil {
			t.Fatal(err)
		}
		fields["docker_version"] = "24.0.7"
		fields["container_config"] = map[string]any{"Cmd": nil, "Image": "", "Labels": nil}
		if cfgJSON, err = json.Marshal(fields); err != nil {
			t.Fatal(err)
		}
	}
	push := func(mediaType string, b []byte) ocispec.Descriptor {
		d, err := oras.PushBytes(ctx, dst, mediaType, b)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	im := Image{Layer: push(types.layer, gz.Bytes()), Config: push(types.config, cfgJSON)}
	m := ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: types.manifest,
		Config: im.Config, Layers: []ocispec.Descriptor{im.Layer}}
	mJSON, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	im.Manifest = push(types.manifest, mJSON)
	if tag != "" {
		if err := dst.Tag(ctx, im.Manifest, tag); err != nil {
			t.Fatal(err)
		}
	}
	return im
}

// PushIndex pushes an image index of one image per platform, tagged tag.
func PushIndex(t testing.TB, dst oras.Target, tag string, platforms ...string) (ocispec.Descriptor, []Image) {
	t.Helper()
	return pushIndex(t, dst, tag, ocispec.MediaTypeImageIndex, ociTypes, platforms)
}

// PushDockerList is PushIndex under Docker's media types: a manifest list
// (application/vnd.docker.distribution.manifest.list.v2+json) of
// PushDockerImage images.
func PushDockerList(t testing.TB, dst oras.Target, tag string, platforms ...string) (ocispec.Descriptor, []Image) {
	t.Helper()
	return pushIndex(t, dst, tag, "application/vnd.docker.distribution.manifest.list.v2+json", dockerTypes, platforms)
}

func pushIndex(t testing.TB, dst oras.Target, tag, mediaType string, types imageTypes, platforms []string) (ocispec.Descriptor, []Image) {
	t.Helper()
	idx := ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: mediaType}
	var images []Image
	for _, p := range platforms {
		im := pushImage(t, dst, p, "", types)
		osName, arch, _ := strings.Cut(p, "/")
		d := im.Manifest
		d.Platform = &ocispec.Platform{OS: osName, Architecture: arch}
		idx.Manifests = append(idx.Manifests, d)
		images = append(images, im)
	}
	raw, err := json.Marshal(idx)
	if err != nil {
		t.Fatal(err)
	}
	d, err := oras.TagBytes(Context(t), dst, mediaType, raw, tag)
	if err != nil {
		t.Fatal(err)
	}
	return d, images
}
