package serve

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the server's Prometheus metrics, served on /metrics.
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec   // endpoint, code
	latency  *prometheus.HistogramVec // endpoint
	verdicts *prometheus.CounterVec   // verdict, source
	reloads  *prometheus.CounterVec   // result
	overload prometheus.Counter
	own      []prometheus.Collector
}

func newMetrics(s *Server) *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "wasmgate_serve_requests_total",
			Help: "Requests answered, by endpoint and HTTP status."}, []string{"endpoint", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "wasmgate_serve_request_duration_seconds",
			Help:    "Time to answer a request, by endpoint.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}}, []string{"endpoint"}),
		verdicts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "wasmgate_serve_verdicts_total",
			Help: "References decided, by verdict and by where the verdict came from (verified, cache, refused, undecided)."}, []string{"verdict", "source"}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "wasmgate_serve_policy_reloads_total",
			Help: "Policy loads, by result (ok, failed: the previous policy stays)."}, []string{"result"}),
		overload: prometheus.NewCounter(prometheus.CounterOpts{Name: "wasmgate_serve_overload_total",
			Help: "Requests refused at once because MaxInFlight requests were being served."}),
	}
	stat := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, f)
	}
	m.own = []prometheus.Collector{m.requests, m.latency, m.verdicts, m.reloads, m.overload,
		stat("wasmgate_serve_cache_hits_total", "Verdicts answered from the result cache.", func() float64 { return float64(s.cache.Stats().Hits) }),
		stat("wasmgate_serve_cache_misses_total", "Lookups that found no kept verdict.", func() float64 { return float64(s.cache.Stats().Misses) }),
		stat("wasmgate_serve_coalesced_total", "Requests that waited for a verification another request was running.", func() float64 { return float64(s.cache.Stats().Coalesced) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "wasmgate_serve_in_flight", Help: "Requests being served."},
			func() float64 { return float64(len(s.inFlight)) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "wasmgate_serve_ready", Help: "1 when a trust policy is loaded."},
			func() float64 {
				if s.Ready() {
					return 1
				}
				return 0
			}),
	}
	if t := s.opts.RegistryTransport; t != nil {
		m.own = append(m.own, t.requests)
	}
	for _, c := range m.own {
		m.registry.MustRegister(c)
	}
	m.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// register adds the server's own metrics to r as well.
func (m *metrics) register(r prometheus.Registerer) error {
	var errs []error
	for _, c := range m.own {
		errs = append(errs, r.Register(c))
	}
	return errors.Join(errs...)
}

func (m *metrics) verdict(d Decision) {
	m.verdicts.WithLabelValues(string(d.Verdict), string(d.Source)).Inc()
}
