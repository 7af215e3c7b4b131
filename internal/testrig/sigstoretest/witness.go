package sigstoretest

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"time"

	"golang.org/x/mod/sumdb/note"
)

// witness is a checkpoint witness: an Ed25519 key the trusted root does
// not know, that co-signs checkpoints.
type witness struct {
	name string
	key  ed25519.PrivateKey
	vkey string
}

// witnessesFor returns the first n witnesses, making any that do not exist
// yet.
func (s *Sigstore) witnessesFor(n int) ([]*witness, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.witnesses) < n {
		pub, key, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		name := fmt.Sprintf("witness%d.sigstoretest.example", len(s.witnesses)+1)
		vkey, err := note.NewEd25519VerifierKey(name, pub)
		if err != nil {
			return nil, err
		}
		s.witnesses = append(s.witnesses, &witness{name: name, key: key, vkey: vkey})
	}
	return s.witnesses[:n], nil
}

// WitnessKeys are the verifier keys (signed-note vkeys, Ed25519, as
// witness policies list them) of the witnesses that have co-signed so
// far, in order: witness1.sigstoretest.example first.
func (s *Sigstore) WitnessKeys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var keys []string
	for _, w := range s.witnesses {
		keys = append(keys, w.vkey)
	}
	return keys
}

// The signature type of C2SP tlog-cosignature v1 (Ed25519, timestamped).
const algCosignatureV1 = 0x04

// cosigner co-signs checkpoints with a C2SP tlog-cosignature/v1 signature
// (https://c2sp.org/tlog-cosignature), as witnesses do: Ed25519 over
// "cosignature/v1\ntime T\n" followed by the note text, encoded as the
// 8-byte big-endian T followed by the signature, under key ID
// SHA-256(name || "\n" || 0x04 || public key)[:4].
//
// This is written out here rather than taken from transparency-dev/formats
// (note.NewSignerForCosignatureV1, which this mirrors): that package
// imports filippo.io/mldsa, which wasmgate's go.mod does not require.
type cosigner struct {
	w  *witness
	at time.Time
}

var _ note.Signer = cosigner{}

// Name is the witness's name.
func (c cosigner) Name() string { return c.w.name }

// KeyHash is the cosignature/v1 key ID.
func (c cosigner) KeyHash() uint32 {
	h := sha256.New()
	h.Write([]byte(c.w.name + "\n"))
	h.Write([]byte{algCosignatureV1})
	h.Write(c.w.key.Public().(ed25519.PublicKey))
	return binary.BigEndian.Uint32(h.Sum(nil))
}

// Sign co-signs the note text msg at the observation time.
func (c cosigner) Sign(msg []byte) ([]byte, error) {
	t := uint64(c.at.Unix())
	signed := fmt.Appendf(nil, "cosignature/v1\ntime %d\n%s", t, msg)
	sig := binary.BigEndian.AppendUint64(nil, t)
	return append(sig, ed25519.Sign(c.w.key, signed)...), nil
}
