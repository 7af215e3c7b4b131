package artifact_test

import (
	"bytes"
	"fmt"
	"io"
	"sync"
	"testing"

	"github.com/opencontainers/image-spec/schema"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/santhosh-tekuri/jsonschema/v5"
)

// The oracle: image-spec's own schema files, compiled once with the
// engine image-spec's Validator uses (its Validator compiles them on
// every call, too slow to fuzz against). ValidateDocument's Go form of
// the schema is held to it.

var oracleFiles = map[string]string{
	ocispec.MediaTypeImageManifest: "image-manifest-schema.json",
	ocispec.MediaTypeImageIndex:    "image-index-schema.json",
	ocispec.MediaTypeImageConfig:   "config-schema.json",
	ocispec.MediaTypeDescriptor:    "content-descriptor.json",
	ocispec.MediaTypeLayoutHeader:  "image-layout-schema.json",
}

// oracleAliases are the URLs the schema files refer to each other by, as
// image-spec/schema registers them.
var oracleAliases = map[string][]string{
	"config-schema.json":         {"https://opencontainers.org/schema/image/config"},
	"content-descriptor.json":    {"https://opencontainers.org/schema/descriptor", "https://opencontainers.org/schema/image/content-descriptor.json"},
	"defs-descriptor.json":       {"https://opencontainers.org/schema/image/descriptor/mediaType", "https://opencontainers.org/schema/defs-descriptor.json", "https://opencontainers.org/schema/image/defs-descriptor.json"},
	"defs.json":                  {"https://opencontainers.org/schema/defs.json", "https://opencontainers.org/schema/image/defs.json", "https://opencontainers.org/schema/image/descriptor/defs.json"},
	"image-index-schema.json":    {"https://opencontainers.org/schema/image/index"},
	"image-layout-schema.json":   {"https://opencontainers.org/schema/image/layout"},
	"image-manifest-schema.json": {"https://opencontainers.org/schema/image/manifest"},
}

var oracle = sync.OnceValues(func() (map[string]*jsonschema.Schema, error) {
	files := schema.FileSystem()
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft4
	c.LoadURL = func(s string) (io.ReadCloser, error) { return nil, fmt.Errorf("not embedded: %s", s) }
	for name, aliases := range oracleAliases {
		f, err := files.Open("/" + name)
		if err != nil {
			return nil, err
		}
		raw, err := io.ReadAll(f)
		f.Close()
		if err != nil {
			return nil, err
		}
		for _, url := range append([]string{name}, aliases...) {
			if err := c.AddResource(url, bytes.NewReader(raw)); err != nil {
				return nil, err
			}
		}
	}
	out := map[string]*jsonschema.Schema{}
	for mediaType, name := range oracleFiles {
		s, err := c.Compile(name)
		if err != nil {
			return nil, err
		}
		out[mediaType] = s
	}
	return out, nil
})

// oracleValid is the verdict of image-spec's schema files on doc.
func oracleValid(t testing.TB, mediaType string, doc any) bool {
	t.Helper()
	schemas, err := oracle()
	if err != nil {
		t.Fatal(err)
	}
	return schemas[mediaType].Validate(doc) == nil
}
