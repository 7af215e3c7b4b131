// Package sigstoreroot obtains the Sigstore trust roots that keyless
// verification needs — the Fulcio CAs, Rekor and CT log keys and
// timestamp authorities of a deployment, as a sigstore trusted_root.json —
// the way the Sigstore clients do: through TUF.
//
// A [Provider] fetches the trusted_root.json target of a TUF repository
// with sigstore-go's TUF client (go-tuf underneath: every signature,
// version, expiry, length and hash check is theirs), starting from a
// trusted TUF root, and keeps the verified metadata in a cache directory
// so that the next verification needs no network. Two deployments are
// built in:
//
//   - the public-good instance (https://tuf-repo-cdn.sigstore.dev), from
//     the TUF root sigstore-go embeds: what cosign and sigstore-go verify
//     against by default;
//   - GitHub's own instance (https://tuf-repo.github.com), from the TUF
//     root the GitHub CLI embeds: it signs the artifact attestations of
//     private repositories.
//
// Any other TUF repository is reached with [Provider.Mirror] and its
// initial root.json.
//
// When the mirror cannot be reached (no network, a server error) the
// Provider falls back to its cache, then, for the built-in deployments,
// to a signed snapshot embedded in the binary (package embedded), and
// says so in [Root.Warnings] with the snapshot's date and whether it has
// expired. When the mirror answers with metadata that TUF refuses —
// expired, rolled back, badly signed, a target whose hash does not match —
// nothing falls back: the error wraps [ErrRefused], because an attacker
// who can answer can also keep a client on old trust material.
package sigstoreroot
