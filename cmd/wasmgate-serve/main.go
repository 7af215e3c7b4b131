// Command wasmgate-serve is wasmgate's verification as a service for
// Kubernetes admission: an OPA Gatekeeper external data provider, a
// Kyverno service call, validating and mutating admission webhooks, with
// health, readiness and Prometheus metrics (package serve). `wasmgate
// serve` runs it; it is its own binary so that the CLI does not pay for
// the initialisation of OPA's and Kubernetes' types on every run.
//
//	wasmgate-serve --policy trust.yaml --tls-cert tls.crt --tls-key tls.key [--client-ca ca.crt] [--addr :8443]
//
// The policy, its trust material and the TLS certificate are read again on
// SIGHUP and every --reload-interval; a reload that fails keeps what was
// loaded and says why. SIGTERM and SIGINT stop it gracefully.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/wasmgate/wasmgate/access"
	"github.com/wasmgate/wasmgate/internal/boundedio"
	"github.com/wasmgate/wasmgate/internal/cosignkey"
	"github.com/wasmgate/wasmgate/remote"
	"github.com/wasmgate/wasmgate/serve"
	"github.com/wasmgate/wasmgate/sigstoreroot"
	"github.com/wasmgate/wasmgate/verify"
)

// Exit codes, as wasmgate's: 2 is how it was called or configured.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args, os.Stderr, nil)
	stop()
	os.Exit(code)
}

// usageError is a mistake in how the command was called or configured.
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

// run is the command. listening, when set, receives the address the
// server listens on once it does (for tests).
func run(ctx context.Context, args []string, stderr io.Writer, listening func(net.Addr)) int {
	app := &cli.App{
		Name:      "wasmgate-serve",
		Usage:     "verify artifacts for Kubernetes admission: Gatekeeper external data, Kyverno, admission webhooks",
		UsageText: "wasmgate serve --policy trust.yaml --tls-cert tls.crt --tls-key tls.key [--client-ca ca.crt] [--addr :8443]",
		Description: "Endpoints: POST " + serve.PathGatekeeper + " (Gatekeeper ProviderRequest), POST " + serve.PathKyverno +
			" ({\"images\": [...]}), POST " + serve.PathValidate + " and " + serve.PathMutate + " (AdmissionReview v1: Pods, " +
			"workloads with a pod template, SpinKube SpinApps), GET " + serve.PathHealthz + ", " + serve.PathReadyz + ", " + serve.PathMetrics +
			". Each tag is resolved on every request; verdicts are kept by digest, policy and trust material. " +
			"See docs/kubernetes.md.",
		Writer: stderr, ErrWriter: stderr,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "policy", Usage: "the trust policy file (YAML), as `wasmgate verify --policy` takes it"},
			&cli.StringFlag{Name: "addr", Value: ":8443", Usage: "listen on `HOST:PORT`"},
			&cli.StringFlag{Name: "tls-cert", Usage: "the server's certificate chain (PEM)"},
			&cli.StringFlag{Name: "tls-key", Usage: "the server's private key (PEM)"},
			&cli.StringFlag{Name: "client-ca", Usage: "require client certificates issued by these CAs (PEM): mutual TLS"},
			&cli.BoolFlag{Name: "insecure-listen-http", Usage: "serve plain HTTP, without TLS: for local tests only"},
			&cli.StringSliceFlag{Name: "plain-http", EnvVars: []string{"WASMGATE_PLAIN_HTTP"}, Usage: "registry `HOST:PORT`s spoken to over plain HTTP"},
			&cli.DurationFlag{Name: "verified-ttl", Value: serve.DefaultVerifiedTTL, Usage: "keep a verified verdict this long"},
			&cli.DurationFlag{Name: "denied-ttl", Value: serve.DefaultDeniedTTL, Usage: "keep a denial this long (negative: never); undecided verdicts are never kept"},
			&cli.DurationFlag{Name: "request-timeout", Value: serve.DefaultRequestTimeout, Usage: "answer every request within this (keep it under the caller's: Gatekeeper's provider timeout, the webhook's timeoutSeconds)"},
			&cli.IntFlag{Name: "max-in-flight", Value: serve.DefaultMaxInFlight, Usage: "requests served at once; more are refused at once with 429"},
			&cli.IntFlag{Name: "max-keys", Value: serve.DefaultMaxKeys, Usage: "references in one request"},
			&cli.IntFlag{Name: "max-per-registry", Value: serve.DefaultMaxPerRegistry, Usage: "verifications running against one registry at once"},
			&cli.DurationFlag{Name: "reload-interval", Value: 30 * time.Second, Usage: "read the policy, its trust material and the TLS certificate again this often (0: only on SIGHUP)"},
			&cli.DurationFlag{Name: "read-timeout", Value: 10 * time.Second, Usage: "a request (headers and body) must arrive within this: a client trickling bytes is cut off"},
			&cli.DurationFlag{Name: "timeout", Value: remote.DefaultTimeout, Usage: "registry: the longest wait for response headers or a stalled body"},
			&cli.StringFlag{Name: "log-format", Value: "json", Usage: "json or text"},
			&cli.StringFlag{Name: "vsa-verifier-id", Usage: "carry verdicts across replicas as signed VSAs on the artifacts, under this verifier `ID` (a URI naming this service)"},
			&cli.StringFlag{Name: "vsa-key", Usage: "sign a VSA after each verification that passes with this cosign key (`cosign.key`; password in COSIGN_PASSWORD) and attach it (needs push access)"},
			&cli.StringSliceFlag{Name: "vsa-trust", Usage: "accept fresh VSAs signed by this public key (`cosign.pub`; repeatable)"},
			&cli.DurationFlag{Name: "vsa-max-age", Value: serve.DefaultVSAMaxAge, Usage: "accept a VSA at most this old"},
		},
		Action: func(c *cli.Context) error { return serveAction(c, listening) },
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return usageError{err}
		},
	}
	err := app.RunContext(ctx, args)
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, new(usageError)) || errors.As(err, new(*verify.PolicyError)):
		fmt.Fprintln(stderr, "wasmgate serve:", err)
		return exitUsage
	default:
		fmt.Fprintln(stderr, "wasmgate serve:", err)
		return exitError
	}
}

func serveAction(c *cli.Context, listening func(net.Addr)) error {
	if c.String("policy") == "" {
		return usageError{errors.New("--policy FILE is required: the trust policy every request is verified under")}
	}
	var handler slog.Handler
	switch c.String("log-format") {
	case "json":
		handler = slog.NewJSONHandler(c.App.ErrWriter, nil)
	case "text":
		handler = slog.NewTextHandler(c.App.ErrWriter, nil)
	default:
		return usageError{fmt.Errorf("--log-format must be json or text, not %q", c.String("log-format"))}
	}
	log := slog.New(handler)

	tlsConfig, certs, err := tlsSetup(c)
	if err != nil {
		return err
	}
	transport := serve.NewRegistryTransport(nil)
	client, err := remote.New(remote.Options{PlainHTTP: c.StringSlice("plain-http"), Timeout: c.Duration("timeout"),
		UserAgent: "wasmgate-serve", Transport: transport})
	if err != nil {
		return err
	}
	vsa, err := vsaOptions(c)
	if err != nil {
		return err
	}
	srv, err := serve.New(c.Context, serve.Options{
		VSA: vsa, RegistryTransport: transport,
		PolicyFile: c.String("policy"), Opener: &access.Opener{Client: client},
		Load:        verify.LoadOptions{Roots: sigstoreroot.NewProvider(sigstoreroot.Options{})},
		VerifiedTTL: c.Duration("verified-ttl"), DeniedTTL: c.Duration("denied-ttl"),
		RequestTimeout: c.Duration("request-timeout"), MaxInFlight: c.Int("max-in-flight"),
		MaxKeys: c.Int("max-keys"), MaxPerRegistry: c.Int("max-per-registry"), Logger: log,
	})
	if err != nil {
		return err
	}
	hs := &http.Server{
		Handler:           srv.Handler(),
		TLSConfig:         tlsConfig,
		ReadHeaderTimeout: min(5*time.Second, c.Duration("read-timeout")),
		ReadTimeout:       c.Duration("read-timeout"), // a body trickled slower than this is cut
		WriteTimeout:      c.Duration("request-timeout") + 10*time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(handler, slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", c.String("addr"))
	if err != nil {
		return usageError{err}
	}
	log.Info("listening", "addr", ln.Addr().String(), "tls", tlsConfig != nil, "mutualTLS", c.String("client-ca") != "")
	if listening != nil {
		listening(ln.Addr())
	}

	reload := func(why string) {
		if err := srv.Reload(c.Context); err != nil {
			log.Error("policy reload failed; the previous policy stays", "trigger", why, "error", err.Error())
		}
		if certs != nil {
			if err := certs.load(); err != nil {
				log.Error("certificate reload failed; the previous certificate stays", "trigger", why, "error", err.Error())
			}
		}
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	var tick <-chan time.Time
	if d := c.Duration("reload-interval"); d > 0 {
		t := time.NewTicker(d)
		defer t.Stop()
		tick = t.C
	}
	errc := make(chan error, 1)
	go func() {
		if tlsConfig != nil {
			errc <- hs.ServeTLS(ln, "", "")
		} else {
			errc <- hs.Serve(ln)
		}
	}()
	for {
		select {
		case <-hup:
			reload("SIGHUP")
		case <-tick:
			reload("interval")
		case err := <-errc:
			return err
		case <-c.Context.Done():
			log.Info("shutting down: finishing the requests in flight")
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			return hs.Shutdown(ctx)
		}
	}
}

// vsaOptions reads the --vsa-* flags: nil without --vsa-verifier-id.
func vsaOptions(c *cli.Context) (*serve.VSAOptions, error) {
	id := c.String("vsa-verifier-id")
	if id == "" {
		if c.String("vsa-key") != "" || len(c.StringSlice("vsa-trust")) > 0 {
			return nil, usageError{errors.New("--vsa-key and --vsa-trust need --vsa-verifier-id: the verifier a VSA names")}
		}
		return nil, nil
	}
	v := &serve.VSAOptions{VerifierID: id, MaxAge: c.Duration("vsa-max-age")}
	if path := c.String("vsa-key"); path != "" {
		raw, err := boundedio.ReadFile(path, 1<<20)
		if err != nil {
			return nil, usageError{fmt.Errorf("--vsa-key: %w", err)}
		}
		password := func() ([]byte, error) { return []byte(os.Getenv("COSIGN_PASSWORD")), nil }
		if v.Signer, err = cosignkey.LoadPrivateKey(raw, password); err != nil {
			return nil, usageError{fmt.Errorf("--vsa-key %s (password from COSIGN_PASSWORD): %w", path, err)}
		}
	}
	for _, path := range c.StringSlice("vsa-trust") {
		raw, err := boundedio.ReadFile(path, 1<<20)
		if err != nil {
			return nil, usageError{fmt.Errorf("--vsa-trust: %w", err)}
		}
		pub, err := cosignkey.LoadPublicKey(raw)
		if err != nil {
			return nil, usageError{fmt.Errorf("--vsa-trust %s: %w", path, err)}
		}
		v.Trusted = append(v.Trusted, pub)
	}
	if v.Signer != nil && len(v.Trusted) == 0 {
		v.Trusted = append(v.Trusted, v.Signer.Public()) // its own VSAs, after a restart
	}
	return v, nil
}

// tlsSetup is the TLS configuration the flags ask for: TLS 1.2 or later
// (1.3 preferred by Go), the certificate re-read on reload, client
// certificates required with --client-ca; nil with --insecure-listen-http.
func tlsSetup(c *cli.Context) (*tls.Config, *certificate, error) {
	cert, key := c.String("tls-cert"), c.String("tls-key")
	if c.Bool("insecure-listen-http") {
		if cert != "" || key != "" || c.String("client-ca") != "" {
			return nil, nil, usageError{errors.New("--insecure-listen-http serves plain HTTP: drop --tls-cert, --tls-key and --client-ca")}
		}
		return nil, nil, nil
	}
	if cert == "" || key == "" {
		return nil, nil, usageError{errors.New("--tls-cert and --tls-key are required (Kubernetes calls webhooks and providers over HTTPS); --insecure-listen-http for a local test")}
	}
	certs := &certificate{certFile: cert, keyFile: key}
	if err := certs.load(); err != nil {
		return nil, nil, usageError{err}
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: certs.get}
	if ca := c.String("client-ca"); ca != "" {
		raw, err := boundedio.ReadFile(ca, 1<<20)
		if err != nil {
			return nil, nil, usageError{fmt.Errorf("--client-ca: %w", err)}
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(raw) {
			return nil, nil, usageError{fmt.Errorf("--client-ca %s: no PEM certificate in it", ca)}
		}
		cfg.ClientCAs, cfg.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	return cfg, certs, nil
}

// certificate is the server's certificate, re-read on reload.
type certificate struct {
	certFile, keyFile string
	mu                sync.RWMutex
	cert              *tls.Certificate
}

func (c *certificate) load() error {
	cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return fmt.Errorf("--tls-cert %s, --tls-key %s: %w", c.certFile, c.keyFile, err)
	}
	c.mu.Lock()
	c.cert = &cert
	c.mu.Unlock()
	return nil
}

func (c *certificate) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.cert, nil
}
