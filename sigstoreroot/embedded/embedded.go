package embedded

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"time"
)

// Snapshot is trust material taken from a TUF repository at a known time.
type Snapshot struct {
	Name        string    // "public-good", "github"
	MirrorURL   string    // the TUF repository it was taken from
	TUFRoot     []byte    // the newest root.json of the chain: the trust anchor to start a live TUF client from
	TrustedRoot []byte    // the trusted_root.json target's bytes
	Taken       time.Time // the time the metadata was verified at (go-tuf's RefTime): the timestamp's signing time
	Expires     time.Time // the earliest expiry among the metadata that vouches for TrustedRoot
	Verified    string    // how it was authenticated, e.g. "TUF (root v14→v15, timestamp v799, snapshot v165, targets v14)"
}

// ErrNotEmbedded: no signed snapshot of that repository is embedded.
var ErrNotEmbedded = errors.New("no signed TUF snapshot embedded")

const (
	publicGoodName   = "public-good"
	publicGoodMirror = "https://tuf-repo-cdn.sigstore.dev"
	githubName       = "github"
	githubMirror     = "https://tuf-repo.github.com"
	trustedRootName  = "trusted_root.json"
)

//go:embed publicgood
var publicGoodFiles embed.FS

//go:embed github/root.json
var githubRoot []byte

// Where github/root.json comes from: the TUF root of
// https://tuf-repo.github.com that the GitHub CLI embeds, at GitHubRootPath
// in the module version GitHubRootModule (authenticated by the Go checksum
// database), with the sha256 GitHubRootSHA256. The same bytes are in gh
// v2.100.0 through v2.105.0; v2.100.0 is named because it is the newest
// whose go.mod this machine's Go accepts, so CI can download it.
const (
	GitHubRootModule = "github.com/cli/cli/v2@v2.100.0"
	GitHubRootPath   = "pkg/cmd/attestation/verification/embed/tuf-repo.github.com/root.json"
	GitHubRootSHA256 = "98cba97be9075bc98b2322de3de85fbd1b70ec7392991dfd2f53d215bede1a8d"
)

var publicGood = sync.OnceValues(func() (*Snapshot, error) {
	files, err := fs.Sub(publicGoodFiles, "publicgood")
	if err != nil {
		return nil, err
	}
	return verifySnapshot(&tufRepo{name: publicGoodName, mirror: publicGoodMirror, files: files, target: trustedRootName})
})

// PublicGood is the embedded signed snapshot of the Sigstore public-good
// instance's trusted_root.json (https://tuf-repo-cdn.sigstore.dev),
// verified with TUF from the root sigstore-go embeds. The snapshot is
// verified once, at its own time (Snapshot.Taken); each call returns a
// copy the caller may keep or change.
func PublicGood() (*Snapshot, error) {
	s, err := publicGood()
	if err != nil {
		return nil, err
	}
	return s.clone(), nil
}

// GitHubTUFRoot is the root.json of GitHub's TUF repository
// (https://tuf-repo.github.com) as the GitHub CLI embeds it: the trust
// anchor to start a live TUF client from. See GitHubRootModule.
func GitHubTUFRoot() []byte { return bytes.Clone(githubRoot) }

// GitHub would be the embedded signed snapshot of GitHub's
// trusted_root.json. None is embedded: only GitHub's TUF root is (see
// GitHubTUFRoot), so GitHub always returns ErrNotEmbedded.
func GitHub() (*Snapshot, error) {
	return nil, fmt.Errorf("%s (%s): %w; only its TUF root is embedded", githubName, githubMirror, ErrNotEmbedded)
}

// verifySnapshot verifies a repository snapshot and describes it.
func verifySnapshot(r *tufRepo) (*Snapshot, error) {
	v, err := verifyRepo(r)
	if err != nil {
		return nil, err
	}
	chain := make([]string, len(v.rootVersions))
	for i, n := range v.rootVersions {
		chain[i] = fmt.Sprintf("v%d", n)
	}
	return &Snapshot{
		Name:        r.name,
		MirrorURL:   r.mirror,
		TUFRoot:     v.tufRoot,
		TrustedRoot: v.target,
		Taken:       v.refTime,
		Expires:     v.expires,
		Verified: fmt.Sprintf("TUF (root %s, timestamp v%d, snapshot v%d, targets v%d)",
			strings.Join(chain, "→"), v.timestampVersion, v.snapshotVersion, v.targetsVersion),
	}, nil
}

func (s *Snapshot) clone() *Snapshot {
	c := *s
	c.TUFRoot = bytes.Clone(s.TUFRoot)
	c.TrustedRoot = bytes.Clone(s.TrustedRoot)
	return &c
}
