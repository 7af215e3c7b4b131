package cosign

import (
	"bytes"
	"encoding/hex"
	"fmt"

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
	r := &Result{Format: FormatBundle}
	raw, err := hex.DecodeString(subject.Encoded())
	if err != nil || subject.Algorithm() != digest.SHA256 {
		return r.fail(fmt.Errorf("%w: subject %s is not a sha256 digest", ErrSubjectMismatch, subject))
	}
	return verifyEntity(b, verify.WithArtifactDigest("sha256", raw), statementNames(subject, raw), auth, r)
}

// VerifyBlob verifies a bundle over the bytes of a local file (or only
// their digest, when artifact is nil and digest is given): what
// `wasmgate verify-blob` and the sigstore conformance protocol ask.
func VerifyBlob(b *bundle.Bundle, artifact []byte, d digest.Digest, auth Authority) *Result {
	if artifact != nil {
		d = digest.FromBytes(artifact)
	}
	return VerifyBundle(b, d, auth)
}

// ParseBundle parses a bundle's JSON; sigstore-go validates its form.
func ParseBundle(raw []byte) (*bundle.Bundle, error) {
	var b bundle.Bundle
	if err := b.UnmarshalJSON(raw); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return &b, nil
}

// statementNames checks that a DSSE statement lists the subject digest
// among its subjects, or that a message signature is over it.
func statementNames(subject digest.Digest, raw []byte) subjectCheck {
	return func(e verify.SignedEntity) error {
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
				if s.GetDigest()["sha256"] == subject.Encoded() {
					return nil
				}
			}
			return fmt.Errorf("%w: the statement's subjects do not include %s", ErrSubjectMismatch, subject)
		}
		if msg := sc.MessageSignatureContent(); msg != nil {
			if bytes.Equal(msg.Digest(), raw) {
				return nil
			}
			return fmt.Errorf("%w: the message digest is %x, not %s", ErrSubjectMismatch, msg.Digest(), subject)
		}
		return fmt.Errorf("%w: no signature content", ErrMalformed)
	}
}
