package cosign_test

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"testing"

	"github.com/opencontainers/go-digest"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"
	"github.com/sigstore/sigstore-go/pkg/tlog"

	"github.com/wasmgate/wasmgate/evidence"
	"github.com/wasmgate/wasmgate/evidence/cosign"
	"github.com/wasmgate/wasmgate/sign"
)

// legacyAnnotations turns a keyless message signature made by
// VirtualSigstore (a real Fulcio CA and Rekor log, in memory) into the
// annotations cosign writes on a legacy .sig layer: signature, certificate,
// chain and the Rekor SET bundle.
func legacyAnnotations(t *testing.T, vs *ca.VirtualSigstore, e *ca.TestEntity) map[string]string {
	t.Helper()
	vc, err := e.VerificationContent()
	if err != nil {
		t.Fatal(err)
	}
	certPEM := func(cs ...*x509.Certificate) string {
		var out []byte
		for _, c := range cs {
			out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
		}
		return string(out)
	}
	sc, err := e.SignatureContent()
	if err != nil {
		t.Fatal(err)
	}
	entries, err := e.TlogEntries()
	if err != nil || len(entries) != 1 {
		t.Fatalf("tlog entries: %v %d", err, len(entries))
	}
	pe := entries[0].TransparencyLogEntry()
	// The entry keeps its SET private; the log signs the same payload again
	// (Rekor's SET is a deterministic statement over these four fields,
	// signed by the log key).
	rp := tlog.RekorPayload{
		Body:           base64.StdEncoding.EncodeToString(pe.GetCanonicalizedBody()),
		IntegratedTime: pe.GetIntegratedTime(),
		LogIndex:       pe.GetLogIndex(),
		LogID:          hex.EncodeToString(pe.GetLogId().GetKeyId()),
	}
	set, err := vs.RekorSignPayload(rp)
	if err != nil {
		t.Fatal(err)
	}
	rb, err := json.Marshal(map[string]any{"SignedEntryTimestamp": set, "Payload": rp})
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{
		evidence.AnnotationCosignSignature:   base64.StdEncoding.EncodeToString(sc.MessageSignatureContent().Signature()),
		evidence.AnnotationCosignCertificate: certPEM(vc.Certificate()),
		evidence.AnnotationCosignChain:       certPEM(vc.Intermediates()...),
		evidence.AnnotationCosignRekorBundle: string(rb),
	}
}

func TestVerifyLegacyKeyless(t *testing.T) {
	vs, err := ca.NewVirtualSigstore()
	if err != nil {
		t.Fatal(err)
	}
	const (
		san    = "release@acme.example"
		issuer = "https://accounts.example"
	)
	subject := digest.FromString("a wasm manifest")
	payload, err := sign.SimpleSigningPayload("registry.example/wasm/hello", subject)
	if err != nil {
		t.Fatal(err)
	}
	e, err := vs.Sign(san, issuer, payload)
	if err != nil {
		t.Fatal(err)
	}
	ann := legacyAnnotations(t, vs, e)
	auth := cosign.Authority{Identities: []cosign.Identity{{Issuer: issuer, SAN: san}}, Roots: []cosign.TrustedRoot{{Material: vs, TlogThreshold: 1, IgnoreSCTUnsafe: true}}}

	r := cosign.VerifyLegacy(payload, ann, subject, auth)
	if !r.Verified || r.Identity == nil || r.Identity.SAN != san || len(r.LogEntries) != 1 {
		t.Fatalf("want verified with identity and log entry: %+v", r)
	}

	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for a, b := range ann {
			m[a] = b
		}
		if v == "" {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	var set map[string]any
	json.Unmarshal([]byte(ann[evidence.AnnotationCosignRekorBundle]), &set)
	sum := set["SignedEntryTimestamp"].(string)
	set["SignedEntryTimestamp"] = "A" + sum[1:]
	badSET, _ := json.Marshal(set)
	// A genuine signature, logged, over a payload that names another
	// manifest: sigstore-go accepts it; cosign's binding refuses it.
	other, _ := sign.SimpleSigningPayload("registry.example/wasm/hello", digest.FromString("another manifest"))
	eOther, err := vs.Sign(san, issuer, other)
	if err != nil {
		t.Fatal(err)
	}
	annOther := legacyAnnotations(t, vs, eOther)

	cases := []struct {
		name    string
		payload []byte
		ann     map[string]string
		auth    cosign.Authority
		want    error
	}{
		{"wrong identity", payload, ann, cosign.Authority{Identities: []cosign.Identity{{Issuer: issuer, SAN: "mallory@evil.example"}}, Roots: []cosign.TrustedRoot{{Material: vs, TlogThreshold: 1, IgnoreSCTUnsafe: true}}}, cosign.ErrIdentityMismatch},
		{"tampered SET", payload, with(evidence.AnnotationCosignRekorBundle, string(badSET)), auth, cosign.ErrTlogInvalid},
		{"no Rekor bundle while a log entry is required", payload, with(evidence.AnnotationCosignRekorBundle, ""), auth, cosign.ErrMissingTlog},
		{"payload naming another manifest", other, annOther, auth, cosign.ErrSubjectMismatch},
		{"signature annotation that is not base64", payload, with(evidence.AnnotationCosignSignature, "%%%"), auth, cosign.ErrMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := cosign.VerifyLegacy(tc.payload, tc.ann, subject, tc.auth)
			if r.Verified || !errors.Is(r.Err, tc.want) {
				t.Fatalf("verified=%v err=%v, want %v", r.Verified, r.Err, tc.want)
			}
		})
	}
}
