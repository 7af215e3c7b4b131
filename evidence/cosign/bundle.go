package cosign

import (
	"bytes"
	_ "crypto/sha512" // registers sha384 and sha512 with go-digest
	"encoding/hex"
	"fmt"
	"io"
	"strings"

	"github.com/opencontainers/go-digest"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/verify"
)

// VerifyBundle verifies a sigstore bundle (v0.1 to v0.3) over the artifact
// whose digest is subject: a DSSE envelope whose in-toto statement names
// subject, or a message signature over it. It is pure and offline.
func VerifyBundle(b *bundle.Bundle, subject digest.Digest, auth Authority) *Result {
	return VerifyEntity(b, subject, auth)
}

// VerifyEntity is [VerifyBundle] for any sigstore-go signed entity.
func VerifyEntity(b verify.SignedEntity, subject digest.Digest, auth Authority) *Result {
	r := &Result{Format: FormatBundle, Subject: subject}
	alg, raw, err := artifactDigest(subject)
	if err != nil {
		return r.fail(err)
	}
	return verifyEntity(b, verify.WithArtifactDigest(alg, raw), subjectCheck{explain: statementNames(subject)}, auth, r)
}

// VerifyBlob verifies a bundle over a local artifact given by its digests:
// the digests of the same bytes under several algorithms, as [DigestBlob]
// returns them, or the one digest a user gave. The digest presented to
// sigstore-go is the one whose algorithm the bundle signs (a message
// signature's digest algorithm, or the statement's subject digests); a
// bundle over an algorithm none of digests uses is a subject mismatch
// that names the algorithm to give.
func VerifyBlob(b verify.SignedEntity, digests []digest.Digest, auth Authority) *Result {
	d, err := pickDigest(b, digests)
	if err != nil {
		return (&Result{Format: FormatBundle}).fail(err)
	}
	return VerifyEntity(b, d, auth)
}

// BlobAlgorithms are the digest algorithms sigstore bundles sign blobs
// with, and that [DigestBlob] computes.
var BlobAlgorithms = []digest.Algorithm{digest.SHA256, digest.SHA384, digest.SHA512}

// DigestBlob reads r once, at most max bytes (ErrBlobTooLarge beyond),
// and returns its digest under each of BlobAlgorithms.
func DigestBlob(r io.Reader, max int64) ([]digest.Digest, error) {
	ds := make([]digest.Digester, len(BlobAlgorithms))
	ws := make([]io.Writer, len(BlobAlgorithms))
	for i, a := range BlobAlgorithms {
		ds[i] = a.Digester()
		ws[i] = ds[i].Hash()
	}
	n, err := io.Copy(io.MultiWriter(ws...), io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if n > max {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrBlobTooLarge, max)
	}
	out := make([]digest.Digest, len(ds))
	for i, d := range ds {
		out[i] = d.Digest()
	}
	return out, nil
}

// ParseBundle parses a bundle's JSON; sigstore-go validates its form.
func ParseBundle(raw []byte) (*bundle.Bundle, error) {
	var b bundle.Bundle
	if err := b.UnmarshalJSON(raw); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return &b, nil
}

// artifactDigest is subject as sigstore-go's artifact policy takes it.
func artifactDigest(subject digest.Digest) (string, []byte, error) {
	if err := subject.Validate(); err != nil {
		return "", nil, fmt.Errorf("%w: subject %q: %w", ErrSubjectMismatch, subject, err)
	}
	alg := subject.Algorithm()
	switch alg {
	case digest.SHA256, digest.SHA384, digest.SHA512:
	default:
		return "", nil, fmt.Errorf("%w: %s (sha256, sha384 and sha512 are)", ErrUnsupportedDigest, alg)
	}
	raw, err := hex.DecodeString(subject.Encoded())
	if err != nil {
		return "", nil, fmt.Errorf("%w: subject %s: %w", ErrSubjectMismatch, subject, err)
	}
	return alg.String(), raw, nil
}

// pickDigest is the digest among ds that b signs: for a message
// signature, the one whose bytes are the signed digest (the algorithm
// label beside them is not signed); for an in-toto statement, the first
// whose algorithm a subject names. When none is, it is the first digest,
// and the verification that follows refuses it as another artifact.
func pickDigest(b verify.SignedEntity, ds []digest.Digest) (digest.Digest, error) {
	if len(ds) == 0 {
		return "", fmt.Errorf("%w: no artifact digest", ErrSubjectMismatch)
	}
	sc, err := b.SignatureContent()
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	switch {
	case sc.MessageSignatureContent() != nil:
		signed := hex.EncodeToString(sc.MessageSignatureContent().Digest())
		for _, d := range ds {
			if d.Encoded() == signed {
				return d, nil
			}
		}
		if alg := hashAlgorithm(sc.MessageSignatureContent().DigestAlgorithm()); alg != "" {
			for _, d := range ds {
				if d.Algorithm().String() == alg {
					return d, nil
				}
			}
		}
	case sc.EnvelopeContent() != nil:
		st, err := sc.EnvelopeContent().Statement()
		if err != nil {
			return "", fmt.Errorf("%w: %w", ErrMalformed, err)
		}
		for _, d := range ds {
			for _, s := range st.GetSubject() {
				if _, ok := s.GetDigest()[d.Algorithm().String()]; ok {
					return d, nil
				}
			}
		}
	}
	return ds[0], nil
}

// hashAlgorithm maps a bundle's HashAlgorithm name (SHA2_256, ...) to the
// OCI digest algorithm name.
func hashAlgorithm(name string) string {
	switch name {
	case "SHA2_256":
		return string(digest.SHA256)
	case "SHA2_384":
		return string(digest.SHA384)
	case "SHA2_512":
		return string(digest.SHA512)
	}
	return ""
}

// statementNames explains a refused artifact: a DSSE statement that does
// not list the subject among its subjects, or a message signature over
// another digest.
func statementNames(subject digest.Digest) func(verify.SignedEntity) error {
	return func(e verify.SignedEntity) error {
		_, raw, err := artifactDigest(subject)
		if err != nil {
			return err
		}
		sc, err := e.SignatureContent()
		if err != nil {
			return fmt.Errorf("%w: %w", ErrMalformed, err)
		}
		if env := sc.EnvelopeContent(); env != nil {
			st, err := env.Statement()
			if err != nil {
				return fmt.Errorf("%w: %w", ErrMalformed, err)
			}
			for _, s := range st.GetSubject() {
				if s.GetDigest()[subject.Algorithm().String()] == subject.Encoded() {
					return nil
				}
			}
			return fmt.Errorf("%w: the statement's subjects do not include %s", ErrSubjectMismatch, subject)
		}
		if msg := sc.MessageSignatureContent(); msg != nil {
			if bytes.Equal(msg.Digest(), raw) && hashAlgorithm(msg.DigestAlgorithm()) == subject.Algorithm().String() {
				return nil
			}
			return fmt.Errorf("%w: the message digest is %s:%x, not %s", ErrSubjectMismatch, strings.ToLower(msg.DigestAlgorithm()), msg.Digest(), subject)
		}
		return fmt.Errorf("%w: no signature content", ErrMalformed)
	}
}
