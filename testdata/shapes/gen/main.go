// Command gen writes the OCI layouts under testdata/shapes, one per wasm
// shape that other tools publish, with the manifests those tools write
// (which tool's code each follows is in testdata/shapes/README.md). The
// tools themselves cannot be installed here. Every layout carries
// testdata/shapes/plugin.wasm and is tagged v1. Output is deterministic.
//
//	go run ./testdata/shapes/gen
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	_ "crypto/sha256" // digest.FromBytes needs it registered
	"encoding/json"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// envoyRuntimeConfig is wasme's runtime config (config.Runtime marshalled
// as JSON): the target runtime, its ABI versions, the filter's root ids.
const envoyRuntimeConfig = `{"type":"envoy_proxy","abiVersions":["v0-541b2c1155fffb15ccde92b8324f3e38f7339ba6"],"config":{"rootIds":["add_header_root_id"]}}`

// tiny is testdata/wasm/tiny.wasm, the Spin app's second component.
var tiny []byte

// created is the time written into configs and tar headers.
var created = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

func main() {
	root := filepath.Join("testdata", "shapes")
	plugin, err := os.ReadFile(filepath.Join(root, "plugin.wasm"))
	if err != nil {
		log.Fatal(err)
	}
	if tiny, err = os.ReadFile(filepath.Join("testdata", "wasm", "tiny.wasm")); err != nil {
		log.Fatal(err)
	}
	for name, build := range map[string]func([]byte) (*layout, error){
		"wasme":               wasme,
		"istio-compat":        istioCompat,
		"istio-compat-docker": istioCompatDocker,
		"runwasi":             runwasi,
		"spin":                spin,
		"wasmcloud":           wasmcloud,
	} {
		l, err := build(plugin)
		if err != nil {
			log.Fatalf("%s: %v", name, err)
		}
		if err := l.write(filepath.Join(root, name)); err != nil {
			log.Fatalf("%s: %v", name, err)
		}
	}
}

// layout is one OCI image layout: its blobs and the manifest tagged v1.
type layout struct {
	blobs    map[digest.Digest][]byte
	manifest []byte
	platform *ocispec.Platform // on the index's descriptor, when the tool writes one
	// mediaType is the manifest's, on the index's descriptor; "" for
	// the image-spec's.
	mediaType string
}

func (l *layout) add(mediaType string, b []byte, annotations map[string]string) ocispec.Descriptor {
	if l.blobs == nil {
		l.blobs = map[digest.Digest][]byte{}
	}
	d := digest.FromBytes(b)
	l.blobs[d] = b
	return ocispec.Descriptor{MediaType: mediaType, Digest: d, Size: int64(len(b)), Annotations: annotations}
}

func (l *layout) write(dir string) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	blobs := filepath.Join(dir, "blobs", "sha256")
	if err := os.MkdirAll(blobs, 0o755); err != nil {
		return err
	}
	mt := l.mediaType
	if mt == "" {
		mt = ocispec.MediaTypeImageManifest
	}
	md := l.add(mt, l.manifest, nil)
	md.Annotations = map[string]string{ocispec.AnnotationRefName: "v1"}
	md.Platform = l.platform
	for d, b := range l.blobs {
		if err := os.WriteFile(filepath.Join(blobs, d.Encoded()), b, 0o644); err != nil {
			return err
		}
	}
	idx := ocispec.Index{Manifests: []ocispec.Descriptor{md}}
	idx.SchemaVersion = 2
	ij, err := json.Marshal(idx)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, ocispec.ImageIndexFile), ij, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, ocispec.ImageLayoutFile), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644)
}

// wasme follows solo-io/wasm tools/wasme/pkg/push/push.go: an oras v0.x
// memory store, the runtime config added as runtime-config.json and the
// module as filter.wasm (each with its title annotation), both pushed as
// layers with the runtime config also the manifest's config, and the
// runtime's type and ABI versions as manifest annotations. oras v0.x built
// on image-spec v1.0.1, whose Manifest has no mediaType field.
func wasme(plugin []byte) (*layout, error) {
	l := &layout{}
	cfg := l.add("application/vnd.module.wasm.config.v1+json", []byte(envoyRuntimeConfig),
		map[string]string{ocispec.AnnotationTitle: "runtime-config.json"})
	filter := l.add("application/vnd.module.wasm.content.layer.v1+wasm", plugin,
		map[string]string{ocispec.AnnotationTitle: "filter.wasm"})
	m := struct {
		SchemaVersion int                  `json:"schemaVersion"`
		Config        ocispec.Descriptor   `json:"config"`
		Layers        []ocispec.Descriptor `json:"layers"`
		Annotations   map[string]string    `json:"annotations,omitempty"`
	}{2, cfg, []ocispec.Descriptor{cfg, filter}, map[string]string{
		"module.wasm.runtime/abi_version": "v0-541b2c1155fffb15ccde92b8324f3e38f7339ba6",
		"module.wasm.runtime/type":        "envoy_proxy",
	}}
	var err error
	l.manifest, err = json.Marshal(m)
	return l, err
}

// istioCompat follows the compat variant of solo-io/wasm spec/spec-compat.md
// as its Appendix 1 builds it with buildah (`buildah from scratch`,
// `buildah config --annotation module.wasm.image/variant=compat`, one
// `buildah copy` of plugin.wasm and runtime-config.json, `buildah commit`):
// an OCI image manifest, an OCI image config with one diff_id, one
// tar+gzip layer holding the two files.
func istioCompat(plugin []byte) (*layout, error) {
	tb, gz, err := compatLayer(plugin)
	if err != nil {
		return nil, err
	}
	l := &layout{}
	layer := l.add(ocispec.MediaTypeImageLayerGzip, gz, nil)
	img := ocispec.Image{
		Created:  &created,
		Platform: ocispec.Platform{Architecture: "amd64", OS: "linux"},
		RootFS:   ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{digest.FromBytes(tb)}},
		History: []ocispec.History{{Created: &created,
			CreatedBy: "/bin/sh -c #(nop) COPY multi:plugin.wasm,runtime-config.json in ./ "}},
	}
	cj, err := json.Marshal(img)
	if err != nil {
		return nil, err
	}
	cfg := l.add(ocispec.MediaTypeImageConfig, cj, nil)
	m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest, Config: cfg, Layers: []ocispec.Descriptor{layer},
		Annotations: map[string]string{
			"module.wasm.image/variant":            "compat",
			"org.opencontainers.image.base.digest": "",
			"org.opencontainers.image.base.name":   "",
		}}
	m.SchemaVersion = 2
	if l.manifest, err = json.Marshal(m); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	return l, nil
}

// dockerCompatConfig is the image config the classic `docker build` writes
// for `FROM scratch` + `COPY plugin.wasm runtime-config.json ./` (Docker's
// image config v1.2 fields, the default PATH, the COPY in history); %s
// is the layer's diff_id.
const dockerCompatConfig = `{"architecture":"amd64","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":null,"Image":"","Volumes":null,"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":null},` +
	`"created":"2024-01-02T03:04:05Z","docker_version":"24.0.7","history":[{"created":"2024-01-02T03:04:05Z","created_by":"COPY plugin.wasm runtime-config.json ./ # buildkit","comment":"buildkit.dockerfile.v0"}],` +
	`"os":"linux","rootfs":{"type":"layers","diff_ids":["%s"]}}`

// istioCompatDocker is the compat variant as `docker build` (Dockerfile
// `FROM scratch`, `COPY plugin.wasm runtime-config.json ./`) and `docker
// push` write it without the containerd image store: Docker's schema 2
// manifest (distribution docs/content/spec/manifest-v2-2.md), Docker's
// image config, one application/vnd.docker.image.rootfs.diff.tar.gzip
// layer holding the two files and no annotation, which solo-io/wasm
// spec/spec-compat.md requires only of the OCI layer type.
func istioCompatDocker(plugin []byte) (*layout, error) {
	tb, gz, err := compatLayer(plugin)
	if err != nil {
		return nil, err
	}
	l := &layout{mediaType: "application/vnd.docker.distribution.manifest.v2+json"}
	cfg := l.add("application/vnd.docker.container.image.v1+json", []byte(fmt.Sprintf(dockerCompatConfig, digest.FromBytes(tb))), nil)
	layer := l.add("application/vnd.docker.image.rootfs.diff.tar.gzip", gz, nil)
	m := ocispec.Manifest{MediaType: l.mediaType, Config: cfg, Layers: []ocispec.Descriptor{layer}}
	m.SchemaVersion = 2
	if l.manifest, err = json.MarshalIndent(m, "", "   "); err != nil { // docker push indents by three spaces
		return nil, fmt.Errorf("manifest: %w", err)
	}
	return l, nil
}

// compatLayer is the tar of plugin.wasm and runtime-config.json, and its
// gzip.
func compatLayer(plugin []byte) (tarBytes, gzBytes []byte, err error) {
	var tb bytes.Buffer
	tw := tar.NewWriter(&tb)
	for _, f := range []struct {
		name string
		data []byte
	}{{"plugin.wasm", plugin}, {"runtime-config.json", []byte(envoyRuntimeConfig)}} {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: f.name, Mode: 0o644, Size: int64(len(f.data)), ModTime: created}); err != nil {
			return nil, nil, err
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, nil, err
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := zw.Write(tb.Bytes()); err != nil {
		return nil, nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, nil, err
	}
	return tb.Bytes(), gz.Bytes(), nil
}

// runwasiConfig is the image config runwasi's oci-tar-builder binary
// builds (oci-spec-rs ImageConfiguration: entrypoint [""], os wasi,
// architecture wasm, no diff_ids, an empty history), serialized in
// oci-spec-rs's field order: 118 bytes, the size runwasi's README shows.
const runwasiConfig = `{"architecture":"wasm","os":"wasi","config":{"Entrypoint":[""]},"rootfs":{"type":"layers","diff_ids":[]},"history":[]}`

// runwasi follows containerd/runwasi crates/oci-tar-builder (src/bin.rs
// with --module, src/lib.rs): the module as a layer of media type
// application/vnd.w3c.wasm.module.v1+wasm (the file itself, no tar), the
// config above, and manifest annotations io.containerd.image.name and
// org.opencontainers.image.ref.name (the builder takes what follows the
// first ':' of the name, so "localhost:5000/wasi-demo-app" gives
// "5000/wasi-demo-app", as its README shows). The builder writes an OCI
// layout in a tar whose index carries the platform; this layout is the
// same content with the manifest tagged v1, as `regctl image import`
// leaves it in a registry.
func runwasi(plugin []byte) (*layout, error) {
	l := &layout{}
	mod := l.add("application/vnd.w3c.wasm.module.v1+wasm", plugin, nil)
	cfg := l.add(ocispec.MediaTypeImageConfig, []byte(runwasiConfig), nil)
	m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest, Config: cfg, Layers: []ocispec.Descriptor{mod},
		Annotations: map[string]string{
			"io.containerd.image.name":          "localhost:5000/wasi-demo-app",
			"org.opencontainers.image.ref.name": "5000/wasi-demo-app",
		}}
	m.SchemaVersion = 2
	var err error
	l.manifest, err = json.Marshal(m)
	l.platform = &ocispec.Platform{OS: "wasi", Architecture: "wasm"}
	return l, err
}

// spinIndexHTML is the static file the Spin app's first component mounts:
// over Spin's 128-byte inline limit, so it is pushed as a data layer.
const spinIndexHTML = `<!doctype html>
<html><head><title>shapes-app</title></head>
<body><p>A static file of a Spin application, pushed as a data layer by spin registry push.</p></body></html>
`

// spin follows fermyon/spin crates/oci/src/client.rs (push_locked_core,
// assemble_layers in AssemblyMode::Simple, Spin 3): one layer
// application/vnd.wasm.content.layer.v1+wasm per component (no
// annotations), one application/vnd.wasm.content.layer.v1+data per file
// over 128 bytes (smaller ones are inlined), the locked application
// (serde_json, keys of maps sorted, "origin" removed, each source and file
// replaced by its digest) as the last layer
// application/vnd.fermyon.spin.application.v1+config, an OCI image config
// (architecture wasm, os wasip1, the label com.fermyon.spin.lockedAppDigest)
// and the inferred annotations (created, authors, version, title).
// Components: "hello" (plugin.wasm, mounting index.html) and "adder"
// (tiny.wasm).
func spin(plugin []byte) (*layout, error) {
	l := &layout{}
	hello := l.add("application/vnd.wasm.content.layer.v1+wasm", plugin, nil)
	adder := l.add("application/vnd.wasm.content.layer.v1+wasm", tiny, nil)
	index := l.add("application/vnd.wasm.content.layer.v1+data", []byte(spinIndexHTML), nil)
	locked := `{"spin_lock_version":0,"metadata":{"authors":["wasmgate tests"],"name":"shapes-app","trigger":{"type":"http"},"version":"0.1.0"},` +
		`"triggers":[{"id":"trigger--hello","trigger_type":"http","trigger_config":{"component":"hello","route":"/hello"}},` +
		`{"id":"trigger--adder","trigger_type":"http","trigger_config":{"component":"adder","route":"/add"}}],` +
		`"components":[{"id":"hello","metadata":{"allowed_outbound_hosts":[]},"source":{"content_type":"application/wasm","digest":"` + hello.Digest.String() + `"},` +
		`"files":[{"digest":"` + index.Digest.String() + `","path":"index.html"}]},` +
		`{"id":"adder","metadata":{"allowed_outbound_hosts":[]},"source":{"content_type":"application/wasm","digest":"` + adder.Digest.String() + `"}}]}`
	app := l.add("application/vnd.fermyon.spin.application.v1+config", []byte(locked), nil)
	cfg := l.add(ocispec.MediaTypeImageConfig, []byte(`{"architecture":"wasm","os":"wasip1","config":{"Labels":{"com.fermyon.spin.lockedAppDigest":"`+app.Digest.String()+`"}},"rootfs":{"type":"layers","diff_ids":[]}}`), nil)
	m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest, Config: cfg, Layers: []ocispec.Descriptor{hello, adder, index, app},
		Annotations: map[string]string{
			ocispec.AnnotationCreated: created.Format(time.RFC3339),
			ocispec.AnnotationAuthors: "wasmgate tests",
			ocispec.AnnotationVersion: "0.1.0",
			ocispec.AnnotationTitle:   "shapes-app",
		}}
	m.SchemaVersion = 2
	var err error
	l.manifest, err = json.Marshal(m)
	return l, err
}

// wasmcloud follows wasmCloud's wash `reg push` of an actor
// (push_oci_artifact in wash-lib's registry code): the blank config {}
// typed application/vnd.wasmcloud.actor.archive.config, the module as
// one layer application/vnd.module.wasm.content.layer.v1+wasm without
// annotations, the manifest built by oci-distribution's
// OciImageManifest::build (mediaType set, no annotations). wash checks
// the module carries wascap claims before pushing; plugin.wasm has none,
// which nothing here reads.
func wasmcloud(plugin []byte) (*layout, error) {
	l := &layout{}
	cfg := l.add("application/vnd.wasmcloud.actor.archive.config", []byte(`{}`), nil)
	mod := l.add("application/vnd.module.wasm.content.layer.v1+wasm", plugin, nil)
	m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest, Config: cfg, Layers: []ocispec.Descriptor{mod}}
	m.SchemaVersion = 2
	var err error
	l.manifest, err = json.Marshal(m)
	return l, err
}
