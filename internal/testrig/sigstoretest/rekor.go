package sigstoretest

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/cyberphone/json-canonicalization/go/src/webpki.org/jsoncanonicalizer"
	"github.com/go-openapi/strfmt"
	"github.com/go-openapi/swag/conv"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	rekortilespb "github.com/sigstore/rekor-tiles/v2/pkg/generated/protobuf"
	rekornote "github.com/sigstore/rekor-tiles/v2/pkg/note"
	"github.com/sigstore/rekor-tiles/v2/pkg/types/hashedrekord"
	"github.com/sigstore/rekor/pkg/generated/client/entries"
	"github.com/sigstore/rekor/pkg/generated/models"
	"github.com/sigstore/rekor/pkg/types"
	"github.com/sigstore/rekor/pkg/util"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/sign"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/sigstore/sigstore/pkg/signature/options"
	flog "github.com/transparency-dev/formats/log"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/merkle/testonly"
	"golang.org/x/mod/sumdb/note"
	"google.golang.org/protobuf/encoding/protojson"

	// The Rekor v1 entry types the signer writes.
	_ "github.com/sigstore/rekor/pkg/types/dsse/v0.0.1"
	_ "github.com/sigstore/rekor/pkg/types/hashedrekord/v0.0.1"
)

// Each log starts with leavesBefore leaves of other signers, and every
// entry is followed by leavesAfter more before the checkpoint is signed, so
// that proofs are neither empty nor about the last leaf.
const (
	leavesBefore = 5
	leavesAfter  = 2
)

// v1ShardOffset is the size of the Rekor v1 log's inactive shards: the
// entry's logIndex is this plus its index in the active shard's tree,
// which is the inclusion proof's logIndex (as on rekor.sigstore.dev).
const v1ShardOffset = 1_000_000

// tree is a log's Merkle tree.
type tree struct {
	mu sync.Mutex
	t  *testonly.Tree
}

func newTree() (*tree, error) {
	tr := &tree{t: testonly.New(rfc6962.DefaultHasher)}
	if err := tr.appendOthers(leavesBefore); err != nil {
		return nil, err
	}
	return tr, nil
}

// appendOthers appends n leaves that stand for other signers' entries.
func (tr *tree) appendOthers(n int) error {
	for range n {
		leaf := make([]byte, 64)
		if _, err := rand.Read(leaf); err != nil {
			return err
		}
		tr.t.AppendData(leaf)
	}
	return nil
}

// add appends leaf (and then others') and returns its index, the tree size
// and root, and the inclusion proof.
func (tr *tree) add(leaf []byte) (index, size uint64, rootHash []byte, proof [][]byte, err error) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	index = tr.t.Size()
	tr.t.AppendData(leaf)
	if err := tr.appendOthers(leavesAfter); err != nil {
		return 0, 0, nil, nil, err
	}
	size = tr.t.Size()
	proof, err = tr.t.InclusionProof(index, size)
	return index, size, tr.t.Hash(), proof, err
}

// rekorV1 is a Rekor v1 log (Trillian-backed, one active shard).
type rekorV1 struct {
	signer   signature.SignerVerifier
	pub      crypto.PublicKey
	id       []byte // SHA-256 of the DER public key
	treeID   int64
	hostname string
	tree     *tree
}

func newRekorV1(key *ecdsa.PrivateKey) (*rekorV1, error) {
	sv, err := signature.LoadSignerVerifier(key, crypto.SHA256)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return nil, err
	}
	id := sha256.Sum256(der)
	treeID, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(RekorV1URL)
	if err != nil {
		return nil, err
	}
	tr, err := newTree()
	if err != nil {
		return nil, err
	}
	return &rekorV1{signer: sv, pub: key.Public(), id: id[:], treeID: treeID.Int64() + 1, hostname: u.Hostname(), tree: tr}, nil
}

func (l *rekorV1) hexID() string { return hex.EncodeToString(l.id) }

func (l *rekorV1) trusted(start, end time.Time) *root.TransparencyLog {
	return &root.TransparencyLog{
		BaseURL: RekorV1URL, ID: l.id, ValidityPeriodStart: start, ValidityPeriodEnd: end,
		HashFunc: crypto.SHA256, PublicKey: l.pub, SignatureHashFunc: crypto.SHA256,
	}
}

// rekorV1Client is the Rekor v1 API for one signing, as sigstore-go's
// signer calls it: the server side of POST /api/v1/log/entries, as
// rekor's pkg/api createLogEntry does it, integrating at a chosen time.
type rekorV1Client struct {
	log *rekorV1
	at  time.Time
}

var _ sign.RekorClient = (*rekorV1Client)(nil)

// CreateLogEntry validates and canonicalizes the proposed entry with
// rekor's types, appends it, and answers with the entry, its signed entry
// timestamp and its inclusion proof.
func (c *rekorV1Client) CreateLogEntry(params *entries.CreateLogEntryParams, _ ...entries.ClientOption) (*entries.CreateLogEntryCreated, error) {
	ctx := params.Context
	if ctx == nil {
		ctx = context.Background()
	}
	entry, err := types.CreateVersionedEntry(params.ProposedEntry)
	if err != nil {
		return nil, fmt.Errorf("rekor v1: validating entry: %w", err)
	}
	leaf, err := types.CanonicalizeEntry(ctx, entry)
	if err != nil {
		return nil, fmt.Errorf("rekor v1: canonicalizing entry: %w", err)
	}
	l := c.log
	index, size, rootHash, proof, err := l.tree.add(leaf)
	if err != nil {
		return nil, err
	}
	anon := models.LogEntryAnon{
		LogID:          conv.Pointer(l.hexID()),
		LogIndex:       conv.Pointer(int64(v1ShardOffset + index)),
		Body:           base64.StdEncoding.EncodeToString(leaf),
		IntegratedTime: conv.Pointer(c.at.Unix()),
	}
	// The signed entry timestamp: the canonical JSON of the entry without
	// its verification, signed by the log (rekor's api.signEntry).
	payload, err := anon.MarshalBinary()
	if err != nil {
		return nil, err
	}
	canonical, err := jsoncanonicalizer.Transform(payload)
	if err != nil {
		return nil, err
	}
	set, err := l.signer.SignMessage(bytes.NewReader(canonical), options.WithContext(ctx))
	if err != nil {
		return nil, err
	}
	checkpoint, err := util.CreateAndSignCheckpoint(ctx, l.hostname, l.treeID, size, rootHash, l.signer)
	if err != nil {
		return nil, err
	}
	hashes := make([]string, len(proof))
	for i, h := range proof {
		hashes[i] = hex.EncodeToString(h)
	}
	anon.Verification = &models.LogEntryAnonVerification{
		InclusionProof: &models.InclusionProof{
			TreeSize:   conv.Pointer(int64(size)),
			RootHash:   conv.Pointer(hex.EncodeToString(rootHash)),
			LogIndex:   conv.Pointer(int64(index)),
			Hashes:     hashes,
			Checkpoint: conv.Pointer(string(checkpoint)),
		},
		SignedEntryTimestamp: strfmt.Base64(set),
	}
	entryID := fmt.Sprintf("%016x%s", l.treeID, hex.EncodeToString(rfc6962.DefaultHasher.HashLeaf(leaf)))
	return &entries.CreateLogEntryCreated{
		ETag:     entryID,
		Location: strfmt.URI(RekorV1URL + "/api/v1/log/entries/" + entryID),
		Payload:  models.LogEntry{entryID: anon},
	}, nil
}

// GetLogEntryByUUID is not served: entries are never duplicates here.
func (c *rekorV1Client) GetLogEntryByUUID(*entries.GetLogEntryByUUIDParams, ...entries.ClientOption) (*entries.GetLogEntryByUUIDOK, error) {
	return nil, errors.New("rekor v1: GetLogEntryByUUID is not implemented")
}

// rekorV2 is a Rekor v2 (rekor-tiles) log.
type rekorV2 struct {
	noteSigner note.Signer
	pub        crypto.PublicKey
	origin     string
	id         []byte // rekor-tiles' log ID: note.KeyHash's full hash
	tree       *tree
}

func newRekorV2(key crypto.Signer) (*rekorV2, error) {
	u, err := url.Parse(RekorV2URL)
	if err != nil {
		return nil, err
	}
	origin := u.Hostname()
	sv, err := signature.LoadSignerVerifier(key, crypto.SHA256)
	if err != nil {
		return nil, err
	}
	ns, err := rekornote.NewNoteSigner(context.Background(), origin, sv)
	if err != nil {
		return nil, err
	}
	_, id, err := rekornote.KeyHash(origin, key.Public())
	if err != nil {
		return nil, err
	}
	tr, err := newTree()
	if err != nil {
		return nil, err
	}
	return &rekorV2{noteSigner: ns, pub: key.Public(), origin: origin, id: id, tree: tr}, nil
}

func (l *rekorV2) hexID() string { return hex.EncodeToString(l.id) }

func (l *rekorV2) trusted(start, end time.Time) *root.TransparencyLog {
	return &root.TransparencyLog{
		BaseURL: RekorV2URL, ID: l.id, ValidityPeriodStart: start, ValidityPeriodEnd: end,
		HashFunc: crypto.SHA256, PublicKey: l.pub, SignatureHashFunc: crypto.SHA256,
	}
}

// append logs a rekor-tiles entry as the server does (protojson, then
// canonical JSON, as the leaf) and returns the transparency log entry it
// answers with: integrated time 0, no promise, an inclusion proof with a
// checkpoint signed by the log and then by the witnesses.
func (l *rekorV2) append(entry *rekortilespb.Entry, witnesses []note.Signer) (*protorekor.TransparencyLogEntry, error) {
	serialized, err := protojson.Marshal(entry)
	if err != nil {
		return nil, err
	}
	leaf, err := jsoncanonicalizer.Transform(serialized)
	if err != nil {
		return nil, err
	}
	index, size, rootHash, proof, err := l.tree.add(leaf)
	if err != nil {
		return nil, err
	}
	body := flog.Checkpoint{Origin: l.origin, Size: size, Hash: rootHash}.Marshal()
	signed, err := note.Sign(&note.Note{Text: string(body)}, append([]note.Signer{l.noteSigner}, witnesses...)...)
	if err != nil {
		return nil, err
	}
	return &protorekor.TransparencyLogEntry{
		LogIndex:    int64(index),
		LogId:       &protocommon.LogId{KeyId: l.id},
		KindVersion: &protorekor.KindVersion{Kind: entry.GetKind(), Version: entry.GetApiVersion()},
		InclusionProof: &protorekor.InclusionProof{
			LogIndex:   int64(index),
			RootHash:   rootHash,
			TreeSize:   int64(size),
			Hashes:     proof,
			Checkpoint: &protorekor.Checkpoint{Envelope: string(signed)},
		},
		CanonicalizedBody: leaf,
	}, nil
}

// rekorV2Client is the Rekor v2 write API for one signing, as
// sigstore-go's signer calls it: the server side of POST /api/v2/log/entries
// as rekor-tiles' server.CreateEntry does it.
type rekorV2Client struct {
	s         *Sigstore
	witnesses []note.Signer
}

var _ sign.RekorV2Client = (*rekorV2Client)(nil)

// Add checks the request with rekor-tiles' hashedrekord.ToLogEntry (which
// verifies the signature over the digest, as the server does) and logs
// the entry.
func (c *rekorV2Client) Add(_ context.Context, req any) (*protorekor.TransparencyLogEntry, error) {
	hr, ok := req.(*rekortilespb.HashedRekordRequestV002)
	if !ok {
		return nil, fmt.Errorf("rekor v2: invalid type %T, must be hashedrekord", req)
	}
	entry, err := hashedrekord.ToLogEntry(hr, c.s.rekorAlgorithms)
	if err != nil {
		return nil, fmt.Errorf("rekor v2: invalid hashedrekord request: %w", err)
	}
	return c.s.v2.append(entry, c.witnesses)
}

// legacyDSSEEntry is the dsse 0.0.2 entry rekor-tiles v1 wrote for a DSSE
// envelope (pkg/types/dsse ToLogEntry, removed in rekor-tiles v2, which
// accepts hashedrekord only): the SHA-256 of the payload, and the
// signatures, sorted by their raw bytes, each with its verifier.
func legacyDSSEEntry(payload []byte, sigs [][]byte, verifier *rekortilespb.Verifier) *rekortilespb.Entry {
	sigs = slices.Clone(sigs)
	slices.SortFunc(sigs, bytes.Compare)
	sum := sha256.Sum256(payload)
	d := &rekortilespb.DSSELogEntryV002{
		PayloadHash: &protocommon.HashOutput{Algorithm: protocommon.HashAlgorithm_SHA2_256, Digest: sum[:]},
	}
	for _, sig := range sigs {
		d.Signatures = append(d.Signatures, &rekortilespb.Signature{Content: sig, Verifier: verifier})
	}
	return &rekortilespb.Entry{
		Kind:       "dsse",
		ApiVersion: "0.0.2",
		Spec:       &rekortilespb.Spec{Spec: &rekortilespb.Spec_DsseV002{DsseV002: d}},
	}
}
