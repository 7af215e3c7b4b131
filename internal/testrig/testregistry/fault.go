package testregistry

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"time"
)

// Fault is what a [Rule] does to the requests it matches. Make one with the
// functions below; the zero Fault is not valid. A Fault is a value: Times
// returns a changed copy.
//
// Faults that change a body call the wrapped registry first and keep its
// status and headers, Docker-Content-Digest included, unless said otherwise.
// On a HEAD request they pass through, except ReplaceBody and LargeBody,
// which answer HEAD with the headers their GET would send, so that a client
// that resolves with HEAD and then fetches with GET sees one consistent lie.
type Fault struct {
	name  string
	times int
	fn    func(f *Faults, w *statusWriter, r *http.Request)
}

// Times limits the fault to the first n requests its rule matches; later
// ones pass through (or fall to a later rule). n <= 0 means every request,
// the default of every fault but Status.
func (ft Fault) Times(n int) Fault {
	ft.times = n
	return ft
}

func (ft Fault) String() string { return ft.name }

func (ft Fault) serve(f *Faults, w *statusWriter, r *http.Request) {
	ft.fn(f, w, r)
}

// Hang never answers: the request is held until the client gives up (its
// context ends) or [Faults.Close] aborts it. The wrapped registry is not
// called.
func Hang() Fault {
	return Fault{name: "Hang", fn: func(f *Faults, w *statusWriter, r *http.Request) {
		f.wait(r.Context(), -1)
		panic(http.ErrAbortHandler)
	}}
}

// Delay waits d before passing the request through.
func Delay(d time.Duration) Fault {
	return Fault{name: "Delay(" + d.String() + ")", fn: func(f *Faults, w *statusWriter, r *http.Request) {
		if !f.wait(r.Context(), d) {
			panic(http.ErrAbortHandler)
		}
		f.next.ServeHTTP(w, r)
	}}
}

// Status answers code with a registry-style JSON error body, without calling
// the registry, the first times requests the rule matches; later ones pass
// through. times <= 0 means always.
func Status(code, times int) Fault {
	return Fault{name: "Status(" + strconv.Itoa(code) + ")", times: times, fn: func(f *Faults, w *statusWriter, r *http.Request) {
		writeError(w, r, code, "UNKNOWN", fmt.Sprintf("testregistry: injected status %d", code))
	}}
}

// Unauthorized answers 401 with `WWW-Authenticate: Basic realm="test"`,
// without calling the registry, to every request the rule matches.
func Unauthorized() Fault {
	return Fault{name: "Unauthorized", fn: func(f *Faults, w *statusWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
		writeError(w, r, http.StatusUnauthorized, "UNAUTHORIZED", "testregistry: injected 401")
	}}
}

// TamperBody flips the lowest bit of the middle byte of the body, keeping
// its length and the registry's Docker-Content-Digest, which then lies. An
// empty body passes unchanged.
func TamperBody() Fault {
	return Fault{name: "TamperBody", fn: func(f *Faults, w *statusWriter, r *http.Request) {
		if passHead(f, w, r) {
			return
		}
		up := f.fetch(r)
		body := bytes.Clone(up.body)
		if len(body) > 0 {
			body[len(body)/2] ^= 0x01
		}
		up.writeHead(w, int64(len(body)))
		w.Write(body)
	}}
}

// Truncate promises the full Content-Length but sends n bytes fewer (at
// least one fewer, at most the whole body), then closes the connection: the
// client sees an unexpected EOF.
func Truncate(n int) Fault {
	return Fault{name: "Truncate(" + strconv.Itoa(n) + ")", fn: func(f *Faults, w *statusWriter, r *http.Request) {
		if passHead(f, w, r) {
			return
		}
		up := f.fetch(r)
		n := min(max(n, 1), len(up.body))
		up.writeHead(w, int64(len(up.body)))
		w.Write(up.body[:len(up.body)-n])
		w.Flush()
		panic(http.ErrAbortHandler)
	}}
}

// Extend drops Content-Length and sends the body followed by n filler bytes
// ('A') with chunked encoding, so only a client that bounds its read by the
// expected size notices.
func Extend(n int) Fault {
	return Fault{name: "Extend(" + strconv.Itoa(n) + ")", fn: func(f *Faults, w *statusWriter, r *http.Request) {
		if passHead(f, w, r) {
			return
		}
		up := f.fetch(r)
		up.writeHead(w, -1)
		w.Flush() // commits the headers without a length: chunked from here
		w.Write(up.body)
		io.CopyN(w, fillerReader{}, int64(n))
	}}
}

// Overrun keeps the registry's Content-Length but writes n filler bytes past
// it on the raw connection, then closes it. net/http refuses to write past a
// declared length, so the response is written by hand on the hijacked
// connection.
func Overrun(n int) Fault {
	return Fault{name: "Overrun(" + strconv.Itoa(n) + ")", fn: func(f *Faults, w *statusWriter, r *http.Request) {
		if passHead(f, w, r) {
			return
		}
		up := f.fetch(r)
		conn, bw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(fmt.Sprintf("testregistry: Overrun needs an HTTP/1 connection: %v", err))
		}
		defer conn.Close()
		w.status = up.status
		h := up.header.Clone()
		h.Set("Content-Length", strconv.Itoa(len(up.body)))
		h.Set("Connection", "close")
		h.Del("Transfer-Encoding")
		fmt.Fprintf(bw, "HTTP/1.1 %d %s\r\n", up.status, http.StatusText(up.status))
		h.Write(bw)
		bw.WriteString("\r\n")
		bw.Write(up.body)
		io.CopyN(bw, fillerReader{}, int64(n))
		bw.Flush()
	}}
}

// Slow sends the body at about bytesPerSecond (at least 1), keeping
// Content-Length and flushing every 50 ms or so.
func Slow(bytesPerSecond int) Fault {
	bps := max(bytesPerSecond, 1)
	return Fault{name: "Slow(" + strconv.Itoa(bps) + ")", fn: func(f *Faults, w *statusWriter, r *http.Request) {
		if passHead(f, w, r) {
			return
		}
		up := f.fetch(r)
		up.writeHead(w, int64(len(up.body)))
		step := max(bps/20, 1)
		pause := time.Duration(step) * time.Second / time.Duration(bps)
		for body := up.body; len(body) > 0; {
			k := min(step, len(body))
			if _, err := w.Write(body[:k]); err != nil {
				return
			}
			w.Flush()
			body = body[k:]
			if len(body) > 0 && !f.wait(r.Context(), pause) {
				panic(http.ErrAbortHandler)
			}
		}
	}}
}

// ReplaceBody serves replace(original body) instead of the registry's body,
// with a matching Content-Length and, if the registry sent one, a
// Docker-Content-Digest recomputed for the new body (so a client that fetched
// by tag trusts it; one that fetched by digest must reject it).
func ReplaceBody(replace func(original []byte) []byte) Fault {
	return Fault{name: "ReplaceBody", fn: func(f *Faults, w *statusWriter, r *http.Request) {
		up := f.fetchGET(r)
		body := replace(bytes.Clone(up.body))
		if up.header.Get("Docker-Content-Digest") != "" {
			sum := sha256.Sum256(body)
			up.header.Set("Docker-Content-Digest", "sha256:"+hex.EncodeToString(sum[:]))
		}
		up.writeHead(w, int64(len(body)))
		if r.Method != http.MethodHead {
			w.Write(body)
		}
	}}
}

// LargeBody serves size filler bytes ('A') with Content-Length: size,
// generated as they are sent, instead of the registry's body. The registry's
// Docker-Content-Digest is kept (it lies).
func LargeBody(size int64) Fault {
	return Fault{name: "LargeBody(" + strconv.FormatInt(size, 10) + ")", fn: func(f *Faults, w *statusWriter, r *http.Request) {
		up := f.fetchGET(r)
		up.writeHead(w, size)
		if r.Method != http.MethodHead {
			io.CopyN(w, fillerReader{}, size)
		}
	}}
}

// Endless keeps the registry's status and headers but drops Content-Length
// and streams filler bytes ('A'), chunked, until the client disconnects or
// [Faults.Close] is called.
func Endless() Fault {
	return Fault{name: "Endless", fn: func(f *Faults, w *statusWriter, r *http.Request) {
		if passHead(f, w, r) {
			return
		}
		up := f.fetch(r)
		up.writeHead(w, -1)
		w.Flush()
		for {
			select {
			case <-r.Context().Done():
				return
			case <-f.stop:
				panic(http.ErrAbortHandler)
			default:
			}
			if _, err := w.Write(filler[:]); err != nil {
				return
			}
		}
	}}
}

// Respond answers with h instead of the registry, for anything the faults
// above do not cover (redirects, odd headers, a different JSON per call).
func Respond(h http.Handler) Fault {
	return Fault{name: "Respond", fn: func(f *Faults, w *statusWriter, r *http.Request) {
		h.ServeHTTP(w, r)
	}}
}

// wait sleeps for d (forever if d < 0) and reports whether it slept the
// whole time rather than being cut short by ctx or Close.
func (f *Faults) wait(ctx context.Context, d time.Duration) bool {
	var timeout <-chan time.Time
	if d >= 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-timeout:
		return true
	case <-ctx.Done():
		return false
	case <-f.stop:
		return false
	}
}

// passHead passes a HEAD request through and reports whether it did.
func passHead(f *Faults, w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodHead {
		return false
	}
	f.next.ServeHTTP(w, r)
	return true
}

// upstream is the wrapped registry's complete answer.
type upstream struct {
	status int
	header http.Header
	body   []byte
}

// fetch runs the request against the wrapped handler and buffers the answer:
// test registries serve small bodies from memory.
func (f *Faults) fetch(r *http.Request) upstream {
	rec := httptest.NewRecorder()
	f.next.ServeHTTP(rec, r)
	res := rec.Result()
	return upstream{status: res.StatusCode, header: res.Header, body: rec.Body.Bytes()}
}

// fetchGET is fetch, with HEAD turned into GET so the body is known.
func (f *Faults) fetchGET(r *http.Request) upstream {
	if r.Method == http.MethodHead {
		r = r.Clone(r.Context())
		r.Method = http.MethodGet
	}
	return f.fetch(r)
}

// writeHead sends the registry's status and headers with Content-Length set
// to length, or removed if length < 0.
func (up upstream) writeHead(w http.ResponseWriter, length int64) {
	h := w.Header()
	for k, v := range up.header {
		h[k] = v
	}
	h.Del("Transfer-Encoding")
	if length >= 0 {
		h.Set("Content-Length", strconv.FormatInt(length, 10))
	} else {
		h.Del("Content-Length")
	}
	w.WriteHeader(up.status)
}

func writeError(w http.ResponseWriter, r *http.Request, code int, errCode, msg string) {
	body := fmt.Sprintf(`{"errors":[{"code":%q,"message":%q}]}`+"\n", errCode, msg)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	if r.Method != http.MethodHead {
		io.WriteString(w, body)
	}
}

var filler = func() (b [32 << 10]byte) {
	for i := range b {
		b[i] = 'A'
	}
	return b
}()

// fillerReader reads an endless run of 'A'.
type fillerReader struct{}

func (fillerReader) Read(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		p = p[copy(p, filler[:]):]
	}
	return n, nil
}
