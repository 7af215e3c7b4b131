package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
)

type discoverJSON struct {
	Reference string `json:"reference"`
	Listing   string `json:"listing"`
	Referrers []struct {
		Digest       string   `json:"digest"`
		Kind         string   `json:"kind"`
		ArtifactType string   `json:"artifactType"`
		Found        []string `json:"found"`
		Referrers    []struct {
			Digest string `json:"digest"`
		} `json:"referrers"`
	} `json:"referrers"`
}

func discoverDigests(t *testing.T, ref string) ([]string, discoverJSON) {
	t.Helper()
	code, stdout, stderr := wasmgate(t, "discover", ref, "--output", "json")
	if code != 0 {
		t.Fatalf("discover %s: exit %d: %s", ref, code, stderr)
	}
	var d discoverJSON
	if err := json.Unmarshal([]byte(stdout), &d); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	var out []string
	for _, r := range d.Referrers {
		out = append(out, r.Digest)
		for _, rr := range r.Referrers {
			out = append(out, rr.Digest)
		}
	}
	slices.Sort(out)
	return out, d
}

// attach on one registry, copy -r through an OCI layout to the other kind,
// and discover the same referrer digests at every stop.
func TestAttachDiscoverCopyCLI(t *testing.T) {
	ggcr, dist := testregistry.GGCR(t), testregistry.Distribution(t)
	cliEnv(t, nil)
	t.Setenv(envPlainHTTP, ggcr.Host+","+dist.Host)
	wasmPath, policyPath := sampleOnDisk(t)
	src := ggcr.Ref("wasm/hello", "v1")
	if code, _, stderr := wasmgate(t, "push", wasmPath, src, "--policy", policyPath); code != 0 {
		t.Fatal(stderr)
	}
	dir := t.TempDir()
	sbom := filepath.Join(dir, "sbom.spdx.json")
	os.WriteFile(sbom, []byte(`{"spdxVersion":"SPDX-2.3"}`), 0o644)
	code, stdout, stderr := wasmgate(t, "attach", src, sbom+":application/spdx+json", "--artifact-type", "application/spdx+json", "--annotation", "org.example=1")
	if code != 0 {
		t.Fatalf("attach: %s", stderr)
	}
	sbomDigest := strings.TrimSpace(stdout)
	sig := filepath.Join(dir, "sig.bin")
	os.WriteFile(sig, []byte("signature"), 0o644)
	if code, _, stderr := wasmgate(t, "attach", ggcr.Ref("wasm/hello", sbomDigest), sig, "--artifact-type", "application/vnd.example.sig"); code != 0 {
		t.Fatalf("attach to the sbom: %s", stderr)
	}

	want, d := discoverDigests(t, src)
	if len(want) != 2 || d.Listing != "api" || d.Referrers[0].Kind != "sbom" || len(d.Referrers[0].Referrers) != 1 {
		t.Fatalf("discover on ggcr: %+v", d)
	}

	layout := "oci-layout:" + filepath.Join(t.TempDir(), "usb") + ":v1"
	if code, _, stderr := wasmgate(t, "copy", "-r", src, layout); code != 0 {
		t.Fatalf("copy to layout: %s", stderr)
	}
	dst := dist.Ref("mirror/hello", "v1")
	if code, _, stderr := wasmgate(t, "copy", layout, dst, "--recursive"); code != 0 {
		t.Fatalf("copy to distribution: %s", stderr)
	}
	for _, ref := range []string{layout, dst} {
		got, d := discoverDigests(t, ref)
		if !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", ref, got, want)
		}
		if ref == dst && d.Listing != "tag" {
			t.Errorf("distribution listed by %s", d.Listing)
		}
	}
	code, stdout, _ = wasmgate(t, "discover", dst)
	if code != 0 || !strings.Contains(stdout, "└── sbom application/spdx+json") || !strings.Contains(stdout, "    └── other application/vnd.example.sig") {
		t.Errorf("discover text:\n%s", stdout)
	}
	if code, _, _ := wasmgate(t, "discover", "--mode", "api", dst); code != 1 {
		t.Errorf("--mode api on distribution: exit %d, want 1", code)
	}
}
