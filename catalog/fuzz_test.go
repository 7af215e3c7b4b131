package catalog_test

import (
	"errors"
	"testing"

	"github.com/wasmgate/wasmgate/catalog"
)

// FuzzParse: any catalog either parses into entries that each have a name
// and a uri that is a reference, or fails with ErrInvalid; searching it
// never panics.
func FuzzParse(f *testing.F) {
	f.Add([]byte(wassette), "weather js")
	f.Add([]byte(`{"components":[{"name":"a","uri":"oci://r.test/a@sha256:00"}]}`), "")
	f.Add([]byte(`{"components":null}`), "x")
	f.Fuzz(func(t *testing.T, raw []byte, query string) {
		c, err := catalog.Parse(raw)
		if err != nil {
			if !errors.Is(err, catalog.ErrInvalid) {
				t.Fatalf("untyped: %v", err)
			}
			return
		}
		for _, e := range c.Components {
			if e.Name == "" || e.URI == "" {
				t.Fatalf("accepted %+v", e)
			}
		}
		for _, e := range c.Search(query) {
			_, _ = e.Reference()
		}
	})
}
