package embedded

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/tuf"
	"github.com/theupdateframework/go-tuf/v2/metadata"
	"github.com/theupdateframework/go-tuf/v2/metadata/trustedmetadata"
)

func TestPublicGoodVerifies(t *testing.T) {
	s, err := PublicGood()
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "public-good" || s.MirrorURL != "https://tuf-repo-cdn.sigstore.dev" {
		t.Fatalf("name %q mirror %q", s.Name, s.MirrorURL)
	}
	if want := "TUF (root v14→v15, timestamp v799, snapshot v165, targets v14)"; s.Verified != want {
		t.Fatalf("Verified = %q, want %q", s.Verified, want)
	}
	// timestamp v799 expires 2026-10-10T01:39:25Z; tuf-on-ci signs it 7 days before.
	if want := time.Date(2026, 10, 3, 1, 39, 25, 0, time.UTC); !s.Taken.Equal(want) {
		t.Fatalf("Taken = %s, want %s", s.Taken, want)
	}
	// The earliest expiry: timestamp v799's (root v15: 2026-11-20, snapshot and targets: 2036).
	if want := time.Date(2026, 10, 10, 1, 39, 25, 0, time.UTC); !s.Expires.Equal(want) {
		t.Fatalf("Expires = %s, want %s", s.Expires, want)
	}
	newest, err := fs.ReadFile(publicGoodFiles, "publicgood/15.root.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(s.TUFRoot, newest) {
		t.Fatal("TUFRoot is not the newest root of the chain (15.root.json)")
	}
	if sum := sha256.Sum256(s.TrustedRoot); hex.EncodeToString(sum[:]) != "6494e21ea73fa7ee769f85f57d5a3e6a08725eae1e38c755fc3517c9e6bc0b66" {
		t.Fatalf("trusted root sha256 %x", sum)
	}

	tr, err := root.NewTrustedRootFromJSON(s.TrustedRoot)
	if err != nil {
		t.Fatalf("sigstore-go refuses the trusted root: %v", err)
	}
	if n := len(tr.FulcioCertificateAuthorities()); n < 1 {
		t.Fatalf("%d Fulcio CAs", n)
	}
	if n := len(tr.CTLogs()); n < 1 {
		t.Fatalf("%d CT logs", n)
	}
	if n := len(tr.TimestampingAuthorities()); n < 1 {
		t.Fatalf("%d timestamping authorities", n)
	}
	var rekorURLs []string
	for _, l := range tr.RekorLogs() {
		rekorURLs = append(rekorURLs, l.BaseURL)
	}
	sort.Strings(rekorURLs)
	if want := []string{"https://log2025-1.rekor.sigstore.dev", "https://rekor.sigstore.dev"}; strings.Join(rekorURLs, " ") != strings.Join(want, " ") {
		t.Fatalf("Rekor logs %v, want %v (Rekor v1 and the Rekor v2 log2025-1 shard)", rekorURLs, want)
	}
	var raw struct {
		TimestampAuthorities []struct{ URI string } `json:"timestampAuthorities"`
	}
	if err := json.Unmarshal(s.TrustedRoot, &raw); err != nil {
		t.Fatal(err)
	}
	if len(raw.TimestampAuthorities) != 1 || raw.TimestampAuthorities[0].URI != "https://timestamp.sigstore.dev/api/v1/timestamp" {
		t.Fatalf("timestamp authorities %+v, want timestamp.sigstore.dev", raw.TimestampAuthorities)
	}
}

func TestPublicGoodReturnsCopies(t *testing.T) {
	a, err := PublicGood()
	if err != nil {
		t.Fatal(err)
	}
	want := bytes.Clone(a.TrustedRoot)
	a.TrustedRoot[0] ^= 0xff
	a.TUFRoot[0] ^= 0xff
	b, err := PublicGood()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.TrustedRoot, want) || b.TUFRoot[0] != '{' {
		t.Fatal("changing a returned Snapshot changed the next one")
	}
}

func TestPublicGoodConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := PublicGood()
			if err != nil {
				t.Error(err)
				return
			}
			s.TrustedRoot[0] = 'x' // each caller owns its copy
		}()
	}
	wg.Wait()
}

// The chain starts from the root that the pinned sigstore-go embeds (and
// that go.sum authenticates). After upgrading sigstore-go: if its default
// root changed, regenerate publicgood/ from that root (README.md).
func TestInitialRootIsSigstoreGoDefault(t *testing.T) {
	initial, err := fs.ReadFile(publicGoodFiles, "publicgood/14.root.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(initial, tuf.DefaultRoot()) {
		t.Fatal("publicgood/14.root.json is not sigstore-go's embedded default root (tuf.DefaultRoot())")
	}
}

// The digests doc.go and README.md give for each embedded file.
var provenance = map[string]string{
	"publicgood/14.root.json":       "a0dfcc5d51c1ce4a66b541a3fff0afa97225ccc40456b21140bb2e2f113122e2",
	"publicgood/15.root.json":       "73747011d0857ada15479a16c4cae0f3ed03aac698b523b97e1de314ac9d9ca8",
	"publicgood/timestamp.json":     "b8cd928494ed0736a71f93bf0bcb0e1d5bcfc4b871bc564b235306dac513b783",
	"publicgood/165.snapshot.json":  "8f784ab614ec62bfdd5f568eb2a2e3011668449ba235ed4eb7befa99f8469933",
	"publicgood/14.targets.json":    "6a697f7f8908c8ab26c11786ecb490b54acec97fa8c802e399f065f8a0cc1acd",
	"publicgood/" + trustedRootFile: "6494e21ea73fa7ee769f85f57d5a3e6a08725eae1e38c755fc3517c9e6bc0b66",
}

func TestProvenanceDigests(t *testing.T) {
	seen := map[string]bool{}
	err := fs.WalkDir(publicGoodFiles, "publicgood", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		seen[path] = true
		want, ok := provenance[path]
		if !ok {
			t.Errorf("%s is embedded but has no recorded provenance", path)
			return nil
		}
		b, err := fs.ReadFile(publicGoodFiles, path)
		if err != nil {
			return err
		}
		if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != want {
			t.Errorf("%s: sha256 %x, recorded %s", path, sum, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for path := range provenance {
		if !seen[path] {
			t.Errorf("%s is recorded but not embedded", path)
		}
	}
}

func TestGitHubHasNoSnapshot(t *testing.T) {
	s, err := GitHub()
	if s != nil || !errors.Is(err, ErrNotEmbedded) {
		t.Fatalf("GitHub() = %v, %v; want ErrNotEmbedded", s, err)
	}
}

func TestGitHubTUFRoot(t *testing.T) {
	b := GitHubTUFRoot()
	if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != GitHubRootSHA256 {
		t.Fatalf("github/root.json sha256 %x, recorded %s", sum, GitHubRootSHA256)
	}
	// A root must carry a threshold of its own root keys' signatures;
	// trustedmetadata.New checks exactly that.
	trusted, err := trustedmetadata.New(b)
	if err != nil {
		t.Fatalf("GitHub's root.json does not verify against itself: %v", err)
	}
	if n := signatureCount(b); n < trusted.Root.Signed.Roles[metadata.ROOT].Threshold {
		t.Fatalf("%d signatures", n)
	}
	if v := trusted.Root.Signed.Version; v != 3 {
		t.Fatalf("GitHub root version %d, want 3", v)
	}
	if _, err := trustedmetadata.New(corruptSignatures(t, b, signatureCount(b))); !errors.Is(err, &metadata.ErrUnsignedMetadata{}) {
		t.Fatalf("GitHub root with broken signatures: %v", err)
	}
	b[0] = 'x'
	if GitHubTUFRoot()[0] != '{' {
		t.Fatal("changing the returned root changed the embedded one")
	}
}

// When the GitHub CLI module version is in the module cache (it is not a
// dependency: it needs a newer Go), its bytes must be ours.
func TestGitHubTUFRootMatchesModuleCache(t *testing.T) {
	out, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		t.Skipf("go env GOMODCACHE: %v", err)
	}
	cache := strings.TrimSpace(string(out))
	path := filepath.Join(cache, filepath.FromSlash(GitHubRootModule), filepath.FromSlash(GitHubRootPath))
	want, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		t.Skipf("%s is not in the module cache (%s); fetch it with: go mod download %s", GitHubRootModule, cache, GitHubRootModule)
	}
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(GitHubTUFRoot(), want) {
		t.Fatalf("github/root.json differs from %s", path)
	}
}
