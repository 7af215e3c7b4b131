package cosign

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
)

// GitHubActionsIssuer is the OIDC issuer of GitHub Actions workflow
// tokens: the issuer of every certificate a GitHub workflow signs with,
// on the public-good instance and on GitHub's own.
const GitHubActionsIssuer = "https://token.actions.githubusercontent.com"

// GitHubClaims are the repository owner and repository that a GitHub
// Actions certificate must name in its Fulcio extensions. They are
// compared without regard to case, after sigstore-go has verified the
// certificate, as `gh attestation verify` compares them (GitHub names are
// case-insensitive; the certificate carries the canonical spelling).
type GitHubClaims struct {
	OwnerURI      string `json:"ownerUri"`
	RepositoryURI string `json:"repositoryUri,omitempty"`
}

func (c *GitHubClaims) check(s certificate.Summary) error {
	if c == nil {
		return nil
	}
	if !strings.EqualFold(s.SourceRepositoryOwnerURI, c.OwnerURI) {
		return fmt.Errorf("%w: the certificate's source repository owner is %q, not %q", ErrIdentityMismatch, s.SourceRepositoryOwnerURI, c.OwnerURI)
	}
	if c.RepositoryURI != "" && !strings.EqualFold(s.SourceRepositoryURI, c.RepositoryURI) {
		return fmt.Errorf("%w: the certificate's source repository is %q, not %q", ErrIdentityMismatch, s.SourceRepositoryURI, c.RepositoryURI)
	}
	return nil
}

var (
	githubName     = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)
	workflowHasRef = regexp.MustCompile(`@(refs/.*|[0-9a-fA-F]+)$`)
)

// GitHubIdentity is the identity that `gh attestation verify` enforces
// for --owner OWNER, --repo OWNER/REPO and --signer-workflow: the GitHub
// Actions issuer; a certificate SAN under the owner's or repository's URL
// (case-insensitive), or exactly the signer workflow (any ref, unless the
// workflow names one); and the owner (and repository) in the
// certificate's source-repository extensions. repo, when given, names the
// owner; owner may then be empty. signerWorkflow is
// [HOST/]OWNER/REPO/.github/workflows/FILE[@REF], github.com by default.
func GitHubIdentity(owner, repo, signerWorkflow string) (Identity, error) {
	if repo != "" {
		o, name, ok := strings.Cut(repo, "/")
		if !ok || !githubName.MatchString(o) || !githubName.MatchString(name) {
			return Identity{}, fmt.Errorf("%w: repository %q is not OWNER/REPO", ErrGitHubIdentity, repo)
		}
		if owner != "" && !strings.EqualFold(owner, o) {
			return Identity{}, fmt.Errorf("%w: repository %q is not owned by %q", ErrGitHubIdentity, repo, owner)
		}
		owner = o
	}
	if owner == "" || !githubName.MatchString(owner) {
		return Identity{}, fmt.Errorf("%w: owner %q is not a GitHub user or organization name", ErrGitHubIdentity, owner)
	}
	id := Identity{
		Issuer: GitHubActionsIssuer,
		GitHub: &GitHubClaims{OwnerURI: "https://github.com/" + owner},
	}
	under := owner
	if repo != "" {
		under = repo
		id.GitHub.RepositoryURI = "https://github.com/" + repo
	}
	id.SANRegexp = `(?i)^` + regexp.QuoteMeta("https://github.com/"+under+"/")
	if signerWorkflow != "" {
		w := signerWorkflow
		if first, _, _ := strings.Cut(w, "/"); !strings.Contains(first, ".") {
			w = "github.com/" + w
		}
		if strings.Count(w, "/") < 3 || !strings.Contains(w, "/.github/workflows/") {
			return Identity{}, fmt.Errorf("%w: signer workflow %q is not [HOST/]OWNER/REPO/.github/workflows/FILE[@REF]", ErrGitHubIdentity, signerWorkflow)
		}
		// Anchored at both ends, as gh anchors it: a prefix match would let
		// release.yml.attacker.yml or a second ref after the pinned one pass.
		pattern := "^" + regexp.QuoteMeta("https://"+w)
		if workflowHasRef.MatchString(w) {
			pattern += "$"
		} else {
			pattern += `(@(refs/.*|[0-9a-fA-F]+))?$`
		}
		id.SANRegexp = pattern
	}
	return id, nil
}
