package serve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Endpoint paths.
const (
	PathGatekeeper = "/gatekeeper/v1/verify"
	PathKyverno    = "/kyverno/v1/verify"
	PathValidate   = "/admission/v1/validate"
	PathMutate     = "/admission/v1/mutate"
	PathHealthz    = "/healthz"
	PathReadyz     = "/readyz"
	PathMetrics    = "/metrics"
)

// Handler serves every endpoint: the Gatekeeper provider, the Kyverno
// service call, the admission webhooks, health, readiness and metrics.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("POST "+PathGatekeeper, s.endpoint("gatekeeper", s.gatekeeper))
	mux.Handle("POST "+PathKyverno, s.endpoint("kyverno", s.kyverno))
	mux.Handle("POST "+PathValidate, s.endpoint("validate", s.validate))
	mux.Handle("POST "+PathMutate, s.endpoint("mutate", s.mutate))
	mux.HandleFunc("GET "+PathHealthz, func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET "+PathReadyz, func(w http.ResponseWriter, _ *http.Request) {
		if !s.Ready() {
			http.Error(w, ErrNoPolicy.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.Handle("GET "+PathMetrics, promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{}))
	return mux
}

// httpError is a failure of a request as such (its body, its size, the
// server's load), answered with its status.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

// endpoint wraps a verification endpoint with the bounds (in flight, body,
// time), the metrics and one log line.
func (s *Server) endpoint(name string, serve func(ctx context.Context, body []byte) (any, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		status := http.StatusOK
		defer func() {
			s.metrics.requests.WithLabelValues(name, strconv.Itoa(status)).Inc()
			s.metrics.latency.WithLabelValues(name).Observe(time.Since(start).Seconds())
		}()
		select {
		case s.inFlight <- struct{}{}:
			defer func() { <-s.inFlight }()
		default:
			// Overloaded: answer now, so the caller's failure policy
			// decides, rather than queue past its deadline.
			s.metrics.overload.Inc()
			status = http.StatusTooManyRequests
			w.Header().Set("Retry-After", "1")
			http.Error(w, fmt.Sprintf("serving %d requests already; retry", cap(s.inFlight)), status)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), s.opts.RequestTimeout)
		defer cancel()
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes))
		var out any
		if err == nil {
			out, err = serve(ctx, body)
		}
		var mbe *http.MaxBytesError
		var he *httpError
		switch {
		case errors.As(err, &mbe):
			status = http.StatusRequestEntityTooLarge
			err = fmt.Errorf("the request body is over %d bytes", mbe.Limit)
		case errors.As(err, &he):
			status = he.status
		case err != nil:
			status = http.StatusBadRequest
		}
		if err != nil {
			s.opts.Logger.Warn("request refused", "endpoint", name, "status", status, "error", err.Error(), "remote", r.RemoteAddr)
			http.Error(w, err.Error(), status)
			return
		}
		raw, err := json.Marshal(out)
		if err != nil {
			status = http.StatusInternalServerError
			http.Error(w, err.Error(), status)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(raw)
		s.opts.Logger.Info("request", "endpoint", name, "ms", time.Since(start).Milliseconds(), "remote", r.RemoteAddr)
	})
}

// checkAll decides keys with bounded concurrency; answers are in the order
// of keys. Duplicate keys are decided once.
func (s *Server) checkAll(ctx context.Context, keys []string) ([]Decision, error) {
	if len(keys) > s.opts.MaxKeys {
		return nil, &httpError{status: http.StatusRequestEntityTooLarge, msg: fmt.Sprintf("%d references in one request; at most %d", len(keys), s.opts.MaxKeys)}
	}
	out := make([]Decision, len(keys))
	first := map[string]int{}
	sem := make(chan struct{}, s.opts.Concurrency)
	var wg sync.WaitGroup
	for i, k := range keys {
		if _, ok := first[k]; ok {
			continue
		}
		first[k] = i
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			out[i] = s.Check(ctx, k)
		})
	}
	wg.Wait()
	for i, k := range keys {
		if j := first[k]; j != i {
			out[i] = out[j]
		}
	}
	return out, nil
}
