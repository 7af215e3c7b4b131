package catalog_test

import (
	"errors"
	"fmt"
	"log"

	"github.com/wasmgate/wasmgate/catalog"
)

// A Wassette component-registry.json, one entry pinned by digest and
// verified under its own trust policy.
const registryJSON = `{
  "components": [
    {"name": "get-weather-js", "description": "Get the weather for a location",
     "uri": "oci://ghcr.io/microsoft/get-weather-js:latest"},
    {"name": "github-js", "description": "GitHub API integration via WebAssembly",
     "uri": "oci://ghcr.io/microsoft/github-js:latest"},
    {"name": "fetch-rs", "description": "Fetch a URL",
     "uri": "oci://ghcr.io/microsoft/fetch-rs:latest",
     "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
     "trustPolicy": "policies/microsoft.yaml"}
  ]
}`

// Search matches every term, case-insensitively, in the name, the
// description or the uri, as Wassette's search does.
func ExampleCatalog_Search() {
	c, err := catalog.Parse([]byte(registryJSON))
	if err != nil {
		log.Fatal(err)
	}
	for _, q := range []string{"weather", "JS api", "microsoft", "weather github"} {
		var names []string
		for _, e := range c.Search(q) {
			names = append(names, e.Name)
		}
		fmt.Printf("%q: %v\n", q, names)
	}
	// Output:
	// "weather": [get-weather-js]
	// "JS api": [github-js]
	// "microsoft": [get-weather-js github-js fetch-rs]
	// "weather github": []
}

// An entry with a digest is pulled by that digest, not by its uri's tag,
// and verified under its own trust policy, relative to the catalog (Load
// sets Dir; Parse leaves it empty).
func ExampleEntry_Reference() {
	c, err := catalog.Parse([]byte(registryJSON))
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range c.Search("fetch") {
		ref, err := e.Reference()
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(ref.Kind, ref.Registry.Repository, ref.Object())
		fmt.Println(c.TrustPolicyPath(e))
	}
	// Output:
	// registry microsoft/fetch-rs sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a
	// policies/microsoft.yaml
}

// Parsing is strict: a field Wassette does not define, a missing uri or a
// malformed digest is refused rather than ignored.
func ExampleParse_invalid() {
	_, err := catalog.Parse([]byte(`{"components": [{"name": "a", "uri": "oci://r.example/a:1", "url": "typo"}]}`))
	fmt.Println(errors.Is(err, catalog.ErrInvalid))
	// Output: true
}
