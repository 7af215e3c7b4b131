package embedded

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/theupdateframework/go-tuf/v2/metadata"
	"github.com/theupdateframework/go-tuf/v2/metadata/trustedmetadata"
)

// The step of the verification that refused a snapshot. A refusal is a
// *[VerifyError] whose Step is one of these; errors.Is matches both the
// step and the cause (go-tuf's own error types, such as
// *metadata.ErrUnsignedMetadata, included).
var (
	// ErrRootChain: the root.json chain does not verify from the initial
	// root (a signature threshold not met, a version skipped, a file that
	// is not root metadata).
	ErrRootChain = errors.New("root.json chain refused")
	// ErrTimestamp: timestamp.json is missing, badly signed, of the wrong
	// type, or expired (or the final root is) at the snapshot's time.
	ErrTimestamp = errors.New("timestamp.json refused")
	// ErrSnapshot: the snapshot.json that timestamp.json names is missing,
	// badly signed, expired, or not the version timestamp.json names.
	ErrSnapshot = errors.New("snapshot.json refused")
	// ErrTargets: the targets.json that snapshot.json names is missing,
	// badly signed, expired, or not the version snapshot.json names.
	ErrTargets = errors.New("targets.json refused")
	// ErrTargetNotListed: targets.json does not list the target at all.
	ErrTargetNotListed = errors.New("target not listed in targets.json")
	// ErrTargetMismatch: the target's bytes are missing or do not have the
	// length and hashes targets.json lists for it.
	ErrTargetMismatch = errors.New("target does not match targets.json")
)

// ErrMissingFile is wrapped (under the step's error) when a file the
// metadata names is not in the snapshot.
var ErrMissingFile = errors.New("file missing from the snapshot")

// VerifyError is a refusal of an embedded TUF snapshot.
type VerifyError struct {
	Repository string // the TUF repository the snapshot was taken from
	File       string // the file being verified, as named in the repository
	Step       error  // ErrRootChain, ErrTimestamp, ErrSnapshot, ErrTargets, ErrTargetNotListed or ErrTargetMismatch
	Err        error  // the cause: usually a go-tuf metadata error
}

func (e *VerifyError) Error() string {
	return fmt.Sprintf("embedded TUF snapshot of %s: %s: %v: %v", e.Repository, e.File, e.Step, e.Err)
}

func (e *VerifyError) Unwrap() []error { return []error{e.Step, e.Err} }

// tufRepo is a TUF repository laid out as its mirror serves it
// (N.root.json, timestamp.json, N.snapshot.json, N.targets.json and
// targets/<sha256>.<name> when consistent_snapshot is set; snapshot.json,
// targets.json and targets/<name> when it is not).
type tufRepo struct {
	name   string // "public-good"
	mirror string // https://tuf-repo-cdn.sigstore.dev
	files  fs.FS
	target string // the target file to take: "trusted_root.json"
}

// verified is what verifyRepo returns: the target and how it was vouched for.
type verified struct {
	rootVersions     []int64 // the chain, initial root first
	tufRoot          []byte  // the newest root.json of the chain, as stored
	target           []byte
	refTime          time.Time
	expires          time.Time
	timestampVersion int64
	snapshotVersion  int64
	targetsVersion   int64
}

func (r *tufRepo) refuse(file string, step, err error) error {
	return &VerifyError{Repository: r.mirror, File: file, Step: step, Err: err}
}

func (r *tufRepo) read(name string, step error) ([]byte, error) {
	b, err := fs.ReadFile(r.files, name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, r.refuse(name, step, fmt.Errorf("%w: %s", ErrMissingFile, name))
	}
	if err != nil {
		return nil, r.refuse(name, step, err)
	}
	return b, nil
}

type rootFile struct {
	version int64
	name    string
}

// rootChain lists the N.root.json files of the repository, oldest first.
// The oldest is the trust anchor: it is trusted as it is, and every newer
// one must be signed by a threshold of the previous one's root keys and
// of its own (go-tuf's UpdateRoot, which also refuses a skipped version).
func (r *tufRepo) rootChain() ([]rootFile, error) {
	names, err := fs.Glob(r.files, "*.root.json")
	if err != nil {
		return nil, r.refuse("N.root.json", ErrRootChain, err)
	}
	var chain []rootFile
	for _, name := range names {
		v, err := strconv.ParseInt(strings.TrimSuffix(name, ".root.json"), 10, 64)
		if err != nil || v < 1 {
			return nil, r.refuse(name, ErrRootChain, errors.New("root file name is not N.root.json"))
		}
		chain = append(chain, rootFile{version: v, name: name})
	}
	if len(chain) == 0 {
		return nil, r.refuse("N.root.json", ErrRootChain, fmt.Errorf("%w: no N.root.json", ErrMissingFile))
	}
	sort.Slice(chain, func(i, j int) bool { return chain[i].version < chain[j].version })
	return chain, nil
}

// verifyRepo verifies a TUF repository snapshot the way a TUF client
// verifies a repository it downloads — root chain, timestamp, snapshot,
// targets, then the target's length and hashes — with go-tuf's
// trustedmetadata doing every signature, threshold, version, expiry and
// hash check. Only the reference time differs: a client uses the current
// time, a snapshot uses its own time (see snapshotTime).
func verifyRepo(r *tufRepo) (*verified, error) {
	chain, err := r.rootChain()
	if err != nil {
		return nil, err
	}
	rootData, err := r.read(chain[0].name, ErrRootChain)
	if err != nil {
		return nil, err
	}
	trusted, err := trustedmetadata.New(rootData)
	if err != nil {
		return nil, r.refuse(chain[0].name, ErrRootChain, err)
	}
	out := &verified{rootVersions: []int64{trusted.Root.Signed.Version}, tufRoot: rootData}
	if trusted.Root.Signed.Version != chain[0].version {
		return nil, r.refuse(chain[0].name, ErrRootChain, fmt.Errorf("file holds root version %d", trusted.Root.Signed.Version))
	}
	for _, next := range chain[1:] {
		data, err := r.read(next.name, ErrRootChain)
		if err != nil {
			return nil, err
		}
		if _, err := trusted.UpdateRoot(data); err != nil {
			return nil, r.refuse(next.name, ErrRootChain, err)
		}
		if trusted.Root.Signed.Version != next.version {
			return nil, r.refuse(next.name, ErrRootChain, fmt.Errorf("file holds root version %d", trusted.Root.Signed.Version))
		}
		out.rootVersions = append(out.rootVersions, trusted.Root.Signed.Version)
		out.tufRoot = data
	}
	consistent := trusted.Root.Signed.ConsistentSnapshot

	const timestampName = "timestamp.json"
	tsData, err := r.read(timestampName, ErrTimestamp)
	if err != nil {
		return nil, err
	}
	// Parsed unverified only to read its expiry; UpdateTimestamp below
	// verifies the same bytes, so an altered expiry breaks the signature.
	unverifiedTS, err := metadata.Timestamp().FromBytes(tsData)
	if err != nil {
		return nil, r.refuse(timestampName, ErrTimestamp, err)
	}
	trusted.RefTime = snapshotTime(trusted.Root, unverifiedTS)
	if _, err := trusted.UpdateTimestamp(tsData); err != nil {
		return nil, r.refuse(timestampName, ErrTimestamp, err)
	}

	snapshotMeta := trusted.Timestamp.Signed.Meta["snapshot.json"]
	if snapshotMeta == nil {
		return nil, r.refuse(timestampName, ErrTimestamp, errors.New("timestamp names no snapshot.json"))
	}
	snapshotName := metadataName(consistent, "snapshot", snapshotMeta.Version)
	snapshotData, err := r.read(snapshotName, ErrSnapshot)
	if err != nil {
		return nil, err
	}
	if _, err := trusted.UpdateSnapshot(snapshotData, false); err != nil {
		return nil, r.refuse(snapshotName, ErrSnapshot, err)
	}

	targetsMeta := trusted.Snapshot.Signed.Meta["targets.json"]
	if targetsMeta == nil {
		return nil, r.refuse(snapshotName, ErrSnapshot, errors.New("snapshot names no targets.json"))
	}
	targetsName := metadataName(consistent, "targets", targetsMeta.Version)
	targetsData, err := r.read(targetsName, ErrTargets)
	if err != nil {
		return nil, err
	}
	if _, err := trusted.UpdateDelegatedTargets(targetsData, metadata.TARGETS, metadata.ROOT); err != nil {
		return nil, r.refuse(targetsName, ErrTargets, err)
	}
	targets := trusted.Targets[metadata.TARGETS]

	info, ok := targets.Signed.Targets[r.target]
	if !ok {
		return nil, r.refuse(targetsName, ErrTargetNotListed, fmt.Errorf("%s is not a target", r.target))
	}
	targetName := "targets/" + r.target
	if consistent {
		sum, ok := info.Hashes["sha256"]
		if !ok {
			return nil, r.refuse(targetsName, ErrTargetMismatch, fmt.Errorf("no sha256 listed for %s", r.target))
		}
		targetName = "targets/" + hex.EncodeToString(sum) + "." + r.target
	}
	data, err := r.read(targetName, ErrTargetMismatch)
	if err != nil {
		return nil, err
	}
	if err := info.VerifyLengthHashes(data); err != nil {
		return nil, r.refuse(targetName, ErrTargetMismatch, err)
	}

	out.target = data
	out.refTime = trusted.RefTime
	out.expires = earliest(trusted.Root.Signed.Expires, trusted.Timestamp.Signed.Expires,
		trusted.Snapshot.Signed.Expires, targets.Signed.Expires)
	out.timestampVersion = trusted.Timestamp.Signed.Version
	out.snapshotVersion = trusted.Snapshot.Signed.Version
	out.targetsVersion = targets.Signed.Version
	return out, nil
}

// snapshotTime is the time the snapshot is verified at (go-tuf's RefTime)
// and the time it reports as taken: the signing time of its
// timestamp.json, when that can be known.
//
// Why that time. An embedded snapshot cannot be verified at the current
// time — its timestamp.json expires within days by design — so it is
// verified at a time of its own, at which every file must be valid. The
// timestamp's signing time is the truest answer to "how old is this
// trust material": the repository vouched for exactly this state then.
// The latest instant at which all files were still unexpired (the
// timestamp's expiry, for Sigstore's repositories) would also verify, but
// it would make the material look a week younger than it is, and it
// equals Expires, so it says nothing more.
//
// How it is known. TUF metadata carries no signing time. Repositories
// run by tuf-on-ci (Sigstore's public-good and GitHub's are) sign a
// timestamp with an expiry of exactly "x-tuf-on-ci-expiry-period" days
// (a field of the timestamp role in root.json) after signing, so the
// signing time is that expiry minus that period. When root.json does not
// declare the period, the time falls back to the latest instant at which
// the final root and the timestamp are both unexpired; snapshot and
// targets expiries are then checked by go-tuf at that time, so a
// repository whose snapshot or targets expire before its timestamp is
// refused rather than silently verified at an earlier time.
//
// The timestamp is read unverified here; UpdateTimestamp verifies it at
// the time computed, so altering its expiry breaks its signature.
func snapshotTime(root *metadata.Metadata[metadata.RootType], ts *metadata.Metadata[metadata.TimestampType]) time.Time {
	if role, ok := root.Signed.Roles[metadata.TIMESTAMP]; ok && role != nil {
		if days, ok := role.UnrecognizedFields["x-tuf-on-ci-expiry-period"].(float64); ok &&
			days >= 1 && days <= 366 && days == math.Trunc(days) {
			return ts.Signed.Expires.Add(-time.Duration(days) * 24 * time.Hour).UTC()
		}
	}
	return earliest(root.Signed.Expires, ts.Signed.Expires)
}

// metadataName is the file name of a role's metadata on the mirror.
func metadataName(consistent bool, role string, version int64) string {
	if consistent {
		return fmt.Sprintf("%d.%s.json", version, role)
	}
	return role + ".json"
}

func earliest(first time.Time, rest ...time.Time) time.Time {
	min := first
	for _, t := range rest {
		if t.Before(min) {
			min = t
		}
	}
	return min.UTC()
}
