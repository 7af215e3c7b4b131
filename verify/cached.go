package verify

import (
	"encoding/json"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/wasmgate/wasmgate/resultcache"
)

// Cached says a Result's evidence checks came from the result cache.
type Cached struct {
	// Verified is when the verdict was reached; Expires when the cache
	// stops serving it.
	Verified time.Time `json:"verified"`
	Expires  time.Time `json:"expires"`
}

// resultKey is what a verdict on manifest, selected by repo, depends on.
func (v *Verifier) resultKey(repo string, manifest digest.Digest) resultcache.Key {
	k := resultcache.Key{Manifest: manifest, Repository: repo, Policy: v.policy.Digest(), Trust: v.policy.TrustDigest()}
	if v.opts.CosignFormat != "" {
		k.Options = "cosignFormat=" + string(v.opts.CosignFormat)
	}
	return k
}

// cached fills res from a verified verdict the cache holds for key: the
// checks that read the artifact's content and evidence (layers,
// signatures, attestations, layouts) and their reports. The scope, digest and
// manifest checks are this run's own.
func (v *Verifier) cached(key resultcache.Key, res *Result) bool {
	if v.opts.Results == nil {
		return false
	}
	e, ok := v.opts.Results.Get(key)
	if !ok {
		return false
	}
	var old Result
	if json.Unmarshal(e.Value, &old) != nil || old.Verdict != VerdictVerified || old.Digest != key.Manifest {
		return false
	}
	evidence := func(c Check) bool {
		return c.Name == CheckLayers || c.Name == CheckSignatures || c.Name == CheckAttestation || c.Name == CheckLayout || c.Name == CheckPlatform || c.Name == CheckPermissionPolicy
	}
	for _, c := range res.Checks {
		if prev := old.check(c.Name, c.Subject); evidence(c) && (prev == nil || prev.Status != StatusPassed) {
			return false // not the shape of this statement: do not mix
		}
	}
	for i, c := range res.Checks {
		if evidence(c) {
			res.Checks[i] = *old.check(c.Name, c.Subject)
		}
	}
	res.Layers, res.Signatures, res.Attestations, res.Layouts = old.Layers, old.Signatures, old.Attestations, old.Layouts
	res.Content, res.Platforms, res.PermissionPolicy = old.Content, old.Platforms, old.PermissionPolicy
	res.Listing, res.Rejected, res.SkippedReferrers = old.Listing, old.Rejected, old.SkippedReferrers
	res.Cached = &Cached{Verified: e.Stored, Expires: e.Expires}
	return true
}
