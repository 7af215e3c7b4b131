package catalog_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/wasmgate/wasmgate/catalog"
)

// Wassette's own catalog shape, as its repository ships it.
const wassette = `{
  "components": [
    {"name": "get-weather-js", "description": "Get the weather for a location", "uri": "oci://ghcr.io/microsoft/get-weather-js:latest"},
    {"name": "github-js", "description": "GitHub API integration via WebAssembly", "uri": "oci://ghcr.io/microsoft/github-js:latest"},
    {"name": "fetch-rs", "description": "Fetch a URL", "uri": "oci://ghcr.io/microsoft/fetch-rs:latest",
     "digest": "sha256:0000000000000000000000000000000000000000000000000000000000000000", "trustPolicy": "trust.yaml"}
  ]
}`

func TestSearch(t *testing.T) {
	c, err := catalog.Parse([]byte(wassette))
	if err != nil {
		t.Fatal(err)
	}
	for query, want := range map[string][]string{
		"weather":          {"get-weather-js"},
		"WEATHER location": {"get-weather-js"},
		"weather github":   nil,
		"js":               {"get-weather-js", "github-js"},
		"microsoft":        {"get-weather-js", "github-js", "fetch-rs"},
		"":                 {"get-weather-js", "github-js", "fetch-rs"},
		"webassembly api":  {"github-js"},
	} {
		var got []string
		for _, e := range c.Search(query) {
			got = append(got, e.Name)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%q: got %v, want %v", query, got, want)
		}
	}
	ref, err := c.Components[2].Reference()
	if err != nil || ref.Digest != c.Components[2].Digest {
		t.Errorf("pinned reference: %v %v", ref, err)
	}
}

func TestParseRejects(t *testing.T) {
	for name, doc := range map[string]string{
		"unknown field":   `{"components": [{"name": "a", "uri": "oci://r.test/a:1", "url": "x"}]}`,
		"no uri":          `{"components": [{"name": "a"}]}`,
		"duplicate name":  `{"components": [{"name": "a", "uri": "oci://r.test/a:1"}, {"name": "a", "uri": "oci://r.test/b:1"}]}`,
		"bad digest":      `{"components": [{"name": "a", "uri": "oci://r.test/a:1", "digest": "sha256:xyz"}]}`,
		"two documents":   `{"components": []} {}`,
		"not a reference": `{"components": [{"name": "a", "uri": "ftp://r.test/a"}]}`,
	} {
		if _, err := catalog.Parse([]byte(doc)); !errors.Is(err, catalog.ErrInvalid) {
			t.Errorf("%s: got %v, want ErrInvalid", name, err)
		}
	}
}
