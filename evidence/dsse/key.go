package dsse

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"

	"github.com/sigstore/sigstore/pkg/cryptoutils/goodkey"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/sigstore/sigstore/pkg/signature/options"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/wasmgate/wasmgate/internal/cosignkey"
)

// Key is a public key to verify envelopes with. Build one with
// [LoadPublicKey] or [NewKey]; the zero Key verifies nothing.
type Key struct {
	id  string
	pub crypto.PublicKey
}

// ID names the key: the hex SHA-256 of its PKIX DER encoding, as cosign
// and the rest of wasmgate name keys (`openssl pkey -pubin -in key.pem
// -outform DER | sha256sum` prints it).
func (k Key) ID() string { return k.id }

// Public is the key itself: an *ecdsa.PublicKey, an *rsa.PublicKey or an
// ed25519.PublicKey.
func (k Key) Public() crypto.PublicKey { return k.pub }

// LoadPublicKey reads a PEM "PUBLIC KEY" block (PKIX, as cosign.pub and
// `openssl pkey -pubout` write it); only the first block is read. The key
// must be ECDSA on P-256, P-384 or P-521, RSA of 2048, 3072 or 4096 bits,
// or Ed25519; anything else fails with [ErrKey], which wraps the reason.
func LoadPublicKey(pemBytes []byte) (Key, error) {
	pub, err := cosignkey.LoadPublicKey(pemBytes)
	if err != nil {
		return Key{}, fmt.Errorf("%w: %w", ErrKey, err)
	}
	return NewKey(pub)
}

// NewKey is a Key from a public key in memory, held to the same policy as
// [LoadPublicKey] (sigstore's goodkey: the types, curves and sizes above,
// points on the curve, no weak RSA moduli).
func NewKey(pub crypto.PublicKey) (Key, error) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey, *rsa.PublicKey:
	case ed25519.PublicKey:
		// goodkey checks nothing of an Ed25519 key, and ed25519.Verify
		// panics on a key of another length.
		if len(k) != ed25519.PublicKeySize {
			return Key{}, fmt.Errorf("%w: an Ed25519 public key of %d bytes (it has %d)", ErrKey, len(k), ed25519.PublicKeySize)
		}
	default:
		return Key{}, fmt.Errorf("%w: %T (accepted: ECDSA P-256, P-384 or P-521; RSA 2048, 3072 or 4096 bits; Ed25519)", ErrKey, pub)
	}
	if err := goodkey.ValidatePubKey(pub); err != nil {
		return Key{}, fmt.Errorf("%w: %w (accepted: ECDSA P-256, P-384 or P-521; RSA 2048, 3072 or 4096 bits; Ed25519)", ErrKey, err)
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return Key{}, fmt.Errorf("%w: encoding it as PKIX: %w", ErrKey, err)
	}
	sum := sha256.Sum256(der)
	return Key{id: hex.EncodeToString(sum[:]), pub: pub}, nil
}

// verifier is the key as go-securesystemslib's envelope verifier asks for
// it, with sigstore's signature verifier for the key's algorithm.
func (k Key) verifier(o Options) (*keyVerifier, error) {
	v := &keyVerifier{key: k}
	var err error
	switch pub := k.pub.(type) {
	case *ecdsa.PublicKey:
		var h crypto.Hash
		switch pub.Curve {
		case elliptic.P256():
			h = crypto.SHA256
		case elliptic.P384():
			h = crypto.SHA384
		case elliptic.P521():
			h = crypto.SHA512
		default:
			return nil, fmt.Errorf("%w: ECDSA on %s (accepted: P-256, P-384, P-521)", ErrKey, pub.Curve.Params().Name)
		}
		v.ecdsaSize = (pub.Curve.Params().BitSize + 7) / 8
		v.sv, err = signature.LoadECDSAVerifier(pub, h)
	case *rsa.PublicKey:
		if o.RSAPKCS1v15 {
			v.sv, err = signature.LoadRSAPKCS1v15Verifier(pub, crypto.SHA256)
		} else {
			// nil options: any salt length (rsa.PSSSaltLengthAuto).
			v.sv, err = signature.LoadRSAPSSVerifier(pub, crypto.SHA256, nil)
		}
	case ed25519.PublicKey:
		v.sv, err = signature.LoadED25519Verifier(pub)
	default:
		return nil, fmt.Errorf("%w: %T; build keys with LoadPublicKey or NewKey", ErrKey, k.pub)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKey, err)
	}
	return v, nil
}

// keyVerifier implements go-securesystemslib's dsse.Verifier.
type keyVerifier struct {
	key Key
	sv  signature.Verifier
	// ecdsaSize is the byte length of the curve's order for ECDSA keys
	// (r||s is twice that), 0 for others.
	ecdsaSize int
}

// errSigEncoding: an ECDSA signature in neither encoding. The envelope
// verifier only skips a signature that fails, so this is never returned
// to a caller.
var errSigEncoding = errors.New("ECDSA signature is neither ASN.1 DER nor fixed-width r||s")

func (v *keyVerifier) Verify(ctx context.Context, data, sig []byte) error {
	if v.ecdsaSize > 0 {
		der, err := ecdsaDER(sig, v.ecdsaSize)
		if err != nil {
			return err
		}
		sig = der
	}
	return v.sv.VerifySignature(bytes.NewReader(sig), bytes.NewReader(data), options.WithContext(ctx))
}

// KeyID is the key's own ID, never the envelope's hint (see Verify).
func (v *keyVerifier) KeyID() (string, error) { return v.key.id, nil }

func (v *keyVerifier) Public() crypto.PublicKey { return v.key.pub }

// ecdsaDER is sig in ASN.1 DER: sig itself when it is a DER SEQUENCE of
// two INTEGERs and nothing else (what ecdsa.VerifyASN1 parses), else sig
// read as IEEE P1363 r||s when it is exactly 2*size bytes. It changes an
// encoding and checks nothing. Without it sigstore's verifier would guess
// the encoding by whether encoding/asn1 parses a prefix of sig, and would
// take r||s of any even length.
func ecdsaDER(sig []byte, size int) ([]byte, error) {
	in := cryptobyte.String(sig)
	var seq cryptobyte.String
	r, s := new(big.Int), new(big.Int)
	if in.ReadASN1(&seq, cbasn1.SEQUENCE) && in.Empty() &&
		seq.ReadASN1Integer(r) && seq.ReadASN1Integer(s) && seq.Empty() {
		return sig, nil
	}
	if len(sig) != 2*size {
		return nil, fmt.Errorf("%w (%d bytes; r||s on this curve is %d)", errSigEncoding, len(sig), 2*size)
	}
	r.SetBytes(sig[:size])
	s.SetBytes(sig[size:])
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1BigInt(r)
		b.AddASN1BigInt(s)
	})
	return b.Bytes()
}
