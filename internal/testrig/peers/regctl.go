package peers

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
)

// RegctlArtifactPut pushes filePath as a referrer of repoRef@subjectDigest
// (repoRef is HOST/REPO) with `regctl artifact put --subject`, and returns
// the referrer manifest's digest. The referrer is pushed by digest, without
// a tag of its own. Its config is the OCI empty descriptor and its one layer
// has mediaType; annotations go on the manifest.
//
// regctl is told the host is plain HTTP (`regctl registry set HOST --tls
// disabled`) in the test's sandbox config first.
func RegctlArtifactPut(t testing.TB, repoRef string, subjectDigest digest.Digest, artifactType, filePath, mediaType string, annotations map[string]string) digest.Digest {
	t.Helper()
	bin := Binary(t, "regctl")
	s := sandboxFor(t)
	host, repo, ok := strings.Cut(repoRef, "/")
	if !ok || repo == "" || strings.ContainsAny(repo, "@:") {
		t.Fatalf("peers: regctl: %q is not HOST/REPO", repoRef)
	}
	s.regctlPlainHTTP(t, bin, host)
	args := []string{"artifact", "put",
		"--subject", repoRef + "@" + subjectDigest.String(),
		"--artifact-type", artifactType,
		"--file", filePath,
		"--file-media-type", mediaType,
		"--format", `{{ printf "%s\n" .Manifest.GetDescriptor.Digest }}`,
	}
	for _, k := range slices.Sorted(maps.Keys(annotations)) {
		args = append(args, "--annotation", k+"="+annotations[k])
	}
	out := s.mustRun(t, "", bin, args...)
	d, err := digest.Parse(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatalf("peers: regctl artifact put printed %q, not a digest: %v", out, err)
	}
	return d
}

func (s *sandbox) regctlPlainHTTP(t testing.TB, bin, host string) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.regctlHosts[host] {
		return
	}
	s.mustRun(t, "", bin, "registry", "set", host, "--tls", "disabled")
	s.regctlHosts[host] = true
}
