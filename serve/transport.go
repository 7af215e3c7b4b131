package serve

import (
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// RegistryTransport counts the requests the service sends to registries,
// by host and outcome, for /metrics: give it to the registry client
// (remote.Options.Transport) and to Options.RegistryTransport.
type RegistryTransport struct {
	base     http.RoundTripper
	requests *prometheus.CounterVec
}

// NewRegistryTransport wraps base (nil: a clone of
// http.DefaultTransport).
func NewRegistryTransport(base http.RoundTripper) *RegistryTransport {
	if base == nil {
		base = http.DefaultTransport.(*http.Transport).Clone()
	}
	return &RegistryTransport{base: base, requests: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "wasmgate_serve_registry_requests_total",
		Help: "Requests sent to registries, by host and HTTP status (\"error\" when none came back).",
	}, []string{"host", "code"})}
}

// RoundTrip sends req through the base transport and counts it.
func (t *RegistryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	code := "error"
	if err == nil {
		code = strconv.Itoa(resp.StatusCode)
	}
	t.requests.WithLabelValues(req.URL.Host, code).Inc()
	return resp, err
}
