package sign

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/sigstore/sigstore-go/pkg/root"
	sgsign "github.com/sigstore/sigstore-go/pkg/sign"
	"google.golang.org/protobuf/encoding/protojson"
)

// Keyless is what keyless signing needs: a Fulcio to certify an ephemeral
// key for the identity in an OIDC token, and at least one observer (a
// Rekor log or an RFC 3161 timestamp authority) to prove the signature was
// made while the short-lived certificate was valid.
type Keyless struct {
	// FulcioURL is the base URL of Fulcio (https://fulcio.sigstore.dev).
	FulcioURL string
	// IDToken is the OIDC identity token Fulcio certifies. It is sent to
	// Fulcio only and never printed.
	IDToken string
	// RekorURL is a Rekor v1 log (https://rekor.sigstore.dev) to record
	// the signature in; empty means none.
	RekorURL string
	// TimestampURLs are RFC 3161 timestamp authorities, full endpoint URLs
	// (https://timestamp.sigstore.dev/api/v1/timestamp), each asked for
	// one signed timestamp.
	TimestampURLs []string
	// TrustedRoot, when set, verifies the bundle right after signing (the
	// certificate chain, timestamps and log entries; not the identity), so
	// that a signature verifiers would refuse is never published.
	TrustedRoot root.TrustedMaterial
	// Transport carries the requests to Fulcio and the timestamp
	// authorities; nil means http.DefaultTransport. sigstore-go v1.3.0
	// takes no transport for Rekor, whose client makes its own.
	Transport http.RoundTripper
}

// KeylessBundle signs payload (an in-toto statement) as a DSSE envelope in
// a sigstore bundle v0.3 with an ephemeral key, certified by Fulcio for the
// identity of k.IDToken, timestamped and logged as k says. Each request is
// bounded by ctx and by sigstore-go's 30-second timeout.
func KeylessBundle(ctx context.Context, payload []byte, k Keyless) ([]byte, error) {
	if k.FulcioURL == "" || k.IDToken == "" {
		return nil, ErrKeylessIncomplete
	}
	if k.RekorURL == "" && len(k.TimestampURLs) == 0 {
		return nil, ErrKeylessNoTime
	}
	fulcioURL, err := checkURL(k.FulcioURL)
	if err != nil {
		return nil, err
	}
	transport := ctxTransport{ctx: ctx, base: k.Transport}
	if transport.base == nil {
		transport.base = http.DefaultTransport
	}
	opts := sgsign.BundleOptions{
		CertificateProvider: fulcio{
			Fulcio: sgsign.NewFulcio(&sgsign.FulcioOptions{BaseURL: k.FulcioURL, Transport: transport}),
			url:    fulcioURL,
		},
		CertificateProviderOptions: &sgsign.CertificateProviderOptions{IDToken: k.IDToken},
		Context:                    ctx,
		TrustedRoot:                k.TrustedRoot,
	}
	for _, u := range k.TimestampURLs {
		if _, err := checkURL(u); err != nil {
			return nil, err
		}
		opts.TimestampAuthorities = append(opts.TimestampAuthorities,
			sgsign.NewTimestampAuthority(&sgsign.TimestampAuthorityOptions{URL: u, Transport: transport}))
	}
	if k.RekorURL != "" {
		if _, err := checkURL(k.RekorURL); err != nil {
			return nil, err
		}
		opts.TransparencyLogs = append(opts.TransparencyLogs, sgsign.NewRekor(&sgsign.RekorOptions{BaseURL: k.RekorURL}))
	}
	kp, err := sgsign.NewEphemeralKeypair(nil)
	if err != nil {
		return nil, err
	}
	pb, err := sgsign.Bundle(&sgsign.DSSEData{Data: payload, PayloadType: "application/vnd.in-toto+json"}, kp, opts)
	if err != nil {
		var ke *KeylessError
		if errors.As(err, &ke) {
			return nil, err
		}
		return nil, &KeylessError{Op: "sign", Err: err}
	}
	return protojson.Marshal(pb)
}

// checkURL accepts absolute http(s) URLs and returns the URL as errors
// may print it.
func checkURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("sign: keyless service URL: %w", err)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", fmt.Errorf("sign: keyless service URL %s is not an absolute http(s) URL", u.Redacted())
	}
	return u.Redacted(), nil
}

// fulcio marks Fulcio's errors, so that a refused token is told apart from
// a failing timestamp authority.
type fulcio struct {
	*sgsign.Fulcio
	url string
}

func (f fulcio) GetCertificate(ctx context.Context, kp sgsign.Keypair, opts *sgsign.CertificateProviderOptions) ([]byte, error) {
	der, err := f.Fulcio.GetCertificate(ctx, kp, opts)
	if err != nil {
		return nil, &KeylessError{Op: "certificate", URL: f.url, Err: err}
	}
	return der, nil
}

// ctxTransport ties each request to the signing call's context:
// sigstore-go v1.3.0 builds its Fulcio and TSA requests without one.
type ctxTransport struct {
	ctx  context.Context
	base http.RoundTripper
}

func (t ctxTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rctx, cancel := context.WithCancelCause(r.Context())
	stop := context.AfterFunc(t.ctx, func() { cancel(context.Cause(t.ctx)) })
	resp, err := t.base.RoundTrip(r.WithContext(rctx))
	if err != nil {
		stop()
		cancel(nil)
		return nil, err
	}
	resp.Body = &cancelBody{ReadCloser: resp.Body, done: func() { stop(); cancel(nil) }}
	return resp, nil
}

type cancelBody struct {
	io.ReadCloser
	done func()
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.done()
	return err
}

// bundleFor signs a statement for [Cosign]'s bundle format: keyless when
// opts.Keyless is set (signer is then ignored), else with signer.
func bundleFor(ctx context.Context, st []byte, signer crypto.Signer, opts Options) ([]byte, error) {
	if opts.Keyless != nil {
		return KeylessBundle(ctx, st, *opts.Keyless)
	}
	if signer == nil {
		return nil, errors.New("sign: no signing key and no keyless configuration")
	}
	return Bundle(st, signer)
}

// legacyAllowed refuses keyless signing in the legacy format.
func legacyAllowed(opts Options) error {
	if opts.Keyless != nil {
		return ErrKeylessLegacy
	}
	return nil
}
