package testregistry

import (
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
)

// Faults is an http.Handler middleware that logs every request and applies
// injected faults to the requests they match. It knows nothing about
// registries, so it works in front of any handler. Its methods are safe for
// concurrent use.
type Faults struct {
	next http.Handler

	mu    sync.Mutex
	rules []*Rule
	log   []*Request

	stop     chan struct{}
	stopOnce sync.Once
}

// NewFaults wraps next. With no fault injected, requests pass through
// unchanged and are only logged.
func NewFaults(next http.Handler) *Faults {
	return &Faults{next: next, stop: make(chan struct{})}
}

// Request is one entry of the request log.
type Request struct {
	Method string
	Path   string
	Query  string      // raw query, without "?"
	Header http.Header // the request's headers
	// Status is the status code sent, or 0 while the request is still being
	// served or when no response was sent (Hang, an aborted body).
	Status int
	// Fault names the fault applied to this request, "" if none.
	Fault string
}

// Rule is an injected fault with the requests it matches. Its counters can be
// read while requests are served.
type Rule struct {
	method  string
	path    *regexp.Regexp
	fault   Fault
	matched atomic.Int64
	applied atomic.Int64
}

// Matched is how many requests matched the rule, whether or not the fault
// was applied to them.
func (r *Rule) Matched() int { return int(r.matched.Load()) }

// Applied is how many times the fault was applied.
func (r *Rule) Applied() int { return int(r.applied.Load()) }

func (r *Rule) String() string {
	m := r.method
	if m == "" {
		m = "*"
	}
	return m + " " + r.path.String() + " → " + r.fault.String()
}

// Inject adds a fault for requests whose method is method ("" for any,
// compared case-insensitively) and whose URL path matches the regular
// expression pathPattern (unanchored: `/manifests/` matches every manifest
// request). Rules are tried in the order they were injected; the first
// matching rule whose fault has applications left wins, so a rule limited with
// [Fault.Times] stops shadowing the ones after it once it is spent.
//
// Inject panics if pathPattern does not compile, like regexp.MustCompile:
// patterns are literals in tests.
func (f *Faults) Inject(method, pathPattern string, fault Fault) *Rule {
	r := &Rule{method: strings.ToUpper(method), path: regexp.MustCompile(pathPattern), fault: fault}
	f.mu.Lock()
	f.rules = append(f.rules, r)
	f.mu.Unlock()
	return r
}

// Remove takes a rule out; requests it would have matched pass through.
func (f *Faults) Remove(r *Rule) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, x := range f.rules {
		if x == r {
			f.rules = append(f.rules[:i:i], f.rules[i+1:]...)
			return
		}
	}
}

// Clear removes every rule.
func (f *Faults) Clear() {
	f.mu.Lock()
	f.rules = nil
	f.mu.Unlock()
}

// Requests returns a copy of the request log, oldest first. A request is
// logged when it arrives, so one still being served (a Hang) is listed with
// Status 0.
func (f *Faults) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Request, len(f.log))
	for i, r := range f.log {
		out[i] = *r
	}
	return out
}

// Count is how many logged requests have the method ("" for any) and a path
// matching pathPattern. It panics if pathPattern does not compile.
func (f *Faults) Count(method, pathPattern string) int {
	re := regexp.MustCompile(pathPattern)
	n := 0
	for _, r := range f.Requests() {
		if (method == "" || strings.EqualFold(method, r.Method)) && re.MatchString(r.Path) {
			n++
		}
	}
	return n
}

// ResetLog empties the request log, e.g. after seeding a registry, so that
// a test counts only the requests made by the code under test.
func (f *Faults) ResetLog() {
	f.mu.Lock()
	f.log = nil
	f.mu.Unlock()
}

// Close releases every request held by Hang, Delay, Slow or Endless: they
// abort their connection without a response. Requests after Close pass
// through their faults without waiting. Registries made by this package
// close their Faults before their server.
func (f *Faults) Close() {
	f.stopOnce.Do(func() { close(f.stop) })
}

func (f *Faults) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	entry := &Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone()}
	f.mu.Lock()
	f.log = append(f.log, entry)
	var rule *Rule
	for _, x := range f.rules {
		if (x.method != "" && x.method != r.Method) || !x.path.MatchString(r.URL.Path) {
			continue
		}
		x.matched.Add(1)
		if rule == nil && (x.fault.times <= 0 || x.applied.Load() < int64(x.fault.times)) {
			x.applied.Add(1)
			rule = x
		}
	}
	if rule != nil {
		entry.Fault = rule.fault.String()
	}
	f.mu.Unlock()

	sw := &statusWriter{ResponseWriter: w}
	// Deferred so that aborted handlers (panic(http.ErrAbortHandler)) are
	// logged too.
	defer func() {
		f.mu.Lock()
		entry.Status = sw.status
		f.mu.Unlock()
	}()
	if rule == nil {
		f.next.ServeHTTP(sw, r)
		return
	}
	rule.fault.serve(f, sw, r)
}

// statusWriter remembers the status code sent.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() {
	if fl, ok := w.ResponseWriter.(http.Flusher); ok {
		fl.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection (Hijack).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
