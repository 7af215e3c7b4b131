package testregistry

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"sync"

	"github.com/distribution/distribution/v3/configuration"
	"github.com/distribution/distribution/v3/registry/handlers"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/inmemory" // registers the "inmemory" driver
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/sirupsen/logrus"
)

// Kind names a registry implementation.
type Kind string

const (
	// KindDistribution is distribution/distribution v3: no Referrers API.
	KindDistribution Kind = "distribution"
	// KindGGCR is go-containerregistry's registry with the Referrers API.
	KindGGCR Kind = "ggcr"
)

// ErrUnknownKind is returned by [NewHandler] for a kind it does not know.
var ErrUnknownKind = errors.New("testregistry: unknown registry kind")

// ErrNotLoopback is returned by [ListenLoopback] for an address that is not on
// the loopback interface.
var ErrNotLoopback = errors.New("testregistry: refusing to listen on a non-loopback address")

// NewHandler returns a fresh, empty registry of the given kind.
func NewHandler(kind Kind) (http.Handler, error) {
	switch kind {
	case KindDistribution:
		return NewDistributionHandler()
	case KindGGCR:
		return NewGGCRHandler(), nil
	default:
		return nil, fmt.Errorf("%w %q: use %q or %q", ErrUnknownKind, kind, KindDistribution, KindGGCR)
	}
}

var silenceLogrus sync.Once

// NewDistributionHandler returns an empty distribution v3 registry that keeps
// everything in memory, with deletes enabled and the upload purger off (it
// would otherwise start a goroutine per registry).
//
// distribution logs only through logrus's process-wide standard logger and
// offers no per-registry logger, so the first call sends that logger to
// io.Discard for the whole process. Access logs are written by distribution's
// own server, which is not used here, so there are none.
//
// Each call leaves one goroutine behind for good (distribution's
// notification broadcaster, which it never stops); tests that count
// goroutines should use [NewGGCRHandler]. The handler has a Shutdown() error
// method that cancels the registry's context.
func NewDistributionHandler() (h http.Handler, err error) {
	silenceLogrus.Do(func() {
		logrus.SetOutput(io.Discard)
		logrus.SetLevel(logrus.ErrorLevel)
	})

	// An explicit secret only silences a warning: it signs upload state,
	// which protects nothing in a test registry.
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, fmt.Errorf("testregistry: generating the HTTP secret: %w", err)
	}
	cfg := &configuration.Configuration{
		Storage: configuration.Storage{
			"inmemory": configuration.Parameters{},
			"delete":   configuration.Parameters{"enabled": true},
			"maintenance": configuration.Parameters{
				"uploadpurging": map[any]any{"enabled": false},
			},
		},
	}
	cfg.HTTP.Secret = string(secret)
	cfg.Log.AccessLog.Disabled = true

	// NewApp reports configuration errors by panicking.
	defer func() {
		if r := recover(); r != nil {
			h, err = nil, fmt.Errorf("testregistry: starting distribution: %v", r)
		}
	}()
	return handlers.NewApp(context.Background(), cfg), nil
}

// NewGGCRHandler returns an empty go-containerregistry registry with the
// Referrers API enabled and its request log discarded.
func NewGGCRHandler() http.Handler {
	return registry.New(
		registry.WithReferrersSupport(true),
		registry.Logger(log.New(io.Discard, "", 0)),
	)
}

// ListenLoopback listens on addr (host:port; port 0 picks one), refusing any
// host that is not a loopback IP address or "localhost", since a test
// registry accepts anything from anyone.
func ListenLoopback(addr string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("testregistry: parsing listen address %q: %w", addr, err)
	}
	if host != "localhost" {
		ip := net.ParseIP(host)
		if ip == nil || !ip.IsLoopback() {
			return nil, fmt.Errorf("%w: %q (use 127.0.0.1:PORT)", ErrNotLoopback, addr)
		}
	}
	return net.Listen("tcp", addr)
}
