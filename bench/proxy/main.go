// Command proxy is a benchmark tool for bench/*.sh: a reverse proxy in front
// of a loopback registry that waits -latency before forwarding each request
// (an injected round-trip delay) and counts the requests it forwards.
//
//	proxy -listen 127.0.0.1:0 -upstream http://127.0.0.1:PORT [-latency 20ms] [-log] -addr-file F
//
// Once listening it writes its host:port to F. Two paths are answered by the
// proxy itself, never forwarded nor counted: GET /_proxy/count (the count so
// far, plain text) and POST /_proxy/reset (sets it to zero). Bodies stream
// through in both directions (nothing is buffered), so large blobs work. The
// client's Host header is passed on, so absolute upload locations a registry
// builds from it point back at the proxy.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"sync/atomic"
	"time"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "loopback `host:port` to listen on")
	upstream := flag.String("upstream", "", "the registry's base `URL` (http://127.0.0.1:PORT)")
	latency := flag.Duration("latency", 0, "delay before forwarding each request")
	addrFile := flag.String("addr-file", "", "write the listen address to this `file` once listening")
	verbose := flag.Bool("log", false, "log each forwarded request's method and path to stderr")
	flag.Parse()
	target, err := url.Parse(*upstream)
	if err != nil || target.Host == "" {
		log.Fatalf("proxy: -upstream %q: want http://host:port", *upstream)
	}
	l, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal("proxy: ", err)
	}
	if !l.Addr().(*net.TCPAddr).IP.IsLoopback() { // the registry has no authentication
		log.Fatalf("proxy: -listen %s is not a loopback address", *listen)
	}
	var count atomic.Int64
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Host = r.In.Host
		},
		FlushInterval: -1, // pass each chunk on as it arrives
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/_proxy/count" && r.Method == http.MethodGet:
			fmt.Fprintln(w, count.Load())
		case r.URL.Path == "/_proxy/reset" && r.Method == http.MethodPost:
			count.Store(0)
		default:
			count.Add(1)
			if *verbose {
				log.Println(r.Method, r.URL.RequestURI())
			}
			select {
			case <-time.After(*latency):
				rp.ServeHTTP(w, r)
			case <-r.Context().Done():
			}
		}
	})
	if *addrFile != "" {
		if err := os.WriteFile(*addrFile, []byte(l.Addr().String()+"\n"), 0o644); err != nil {
			log.Fatal("proxy: ", err)
		}
	}
	log.Fatal(http.Serve(l, handler))
}
