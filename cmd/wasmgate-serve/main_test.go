package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
	"github.com/wasmgate/wasmgate/internal/testrig/testpki"
	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
	"github.com/wasmgate/wasmgate/remote"
	"github.com/wasmgate/wasmgate/serve"
)

// start runs the command with args in process and returns the address it
// listens on, its log, and a function that stops it and returns its exit
// code.
func start(t *testing.T, args ...string) (net.Addr, *testkit.SyncBuffer, func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	log := &testkit.SyncBuffer{}
	addrc := make(chan net.Addr, 1)
	codec := make(chan int, 1)
	go func() {
		codec <- run(ctx, append([]string{"wasmgate-serve"}, args...), log, func(a net.Addr) { addrc <- a })
	}()
	select {
	case a := <-addrc:
		var once sync.Once
		code := -1
		stop := func() int {
			once.Do(func() { cancel(); code = <-codec })
			return code
		}
		t.Cleanup(func() { stop() })
		return a, log, stop
	case code := <-codec:
		cancel()
		t.Fatalf("exited %d before listening:\n%s", code, log.String())
	case <-time.After(20 * time.Second):
		t.Fatalf("not listening after 20 s:\n%s", log.String())
	}
	return nil, nil, nil
}

// pki writes a server certificate for localhost, a client CA and a client
// certificate, as a cluster's cert-manager would issue them.
func pki(t *testing.T, dir string) (serverCA *x509.CertPool, client tls.Certificate) {
	root := testpki.NewRoot(t, "wasmgate test CA", testpki.P256)
	srv := root.TLSServer(t, "localhost", testpki.P256)
	testpki.WritePEM(t, filepath.Join(dir, "tls.crt"), srv.Chain...)
	if err := os.WriteFile(filepath.Join(dir, "tls.key"), testpki.KeyPEM(t, srv.Key), 0o600); err != nil {
		t.Fatal(err)
	}
	clientRoot := testpki.NewRoot(t, "gatekeeper client CA", testpki.P256)
	testpki.WritePEM(t, filepath.Join(dir, "client-ca.crt"), clientRoot.Root())
	leaf := clientRoot.Issue(t, testpki.LeafOptions{CommonName: "gatekeeper", ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	client = tls.Certificate{Certificate: [][]byte{leaf.Cert.Raw}, PrivateKey: leaf.Key}
	serverCA = x509.NewCertPool()
	serverCA.AddCert(root.Root())
	return serverCA, client
}

func httpsClient(ca *x509.CertPool, cert *tls.Certificate) *http.Client {
	cfg := &tls.Config{RootCAs: ca, ServerName: "localhost", MinVersion: tls.VersionTLS12}
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}, Timeout: 10 * time.Second}
}

// The service over mutual TLS: a client without a certificate from the
// client CA is refused at the handshake; one with it gets readiness and a
// Gatekeeper answer; TLS 1.3 is what Gatekeeper's client speaks. A broken
// policy on reload keeps the old one and says so; SIGTERM (here: the
// context) stops it with exit 0.
func TestServeMutualTLS(t *testing.T) {
	reg := testregistry.GGCR(t)
	dir := t.TempDir()
	site := testkit.Open(t, reg, reg.Ref("wasm/app", "v1"), remote.Options{})
	testkit.Push(t, site.Target, filepath.Join("..", "..", "testdata", "wasm", "tiny.wasm"), nil, "v1")
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	testkit.WritePublicKey(t, filepath.Join(dir, "release.pub"), key.Public())
	policy := filepath.Join(dir, "trust.yaml")
	valid := "version: v1\npolicies:\n  - name: fleet\n    scopes: [\"*\"]\n    signatures:\n      authorities:\n        - name: release\n          cosign: {key: release.pub, insecureIgnoreTlog: true}\n"
	if err := os.WriteFile(policy, []byte(valid), 0o644); err != nil {
		t.Fatal(err)
	}
	ca, clientCert := pki(t, dir)
	addr, log, stop := start(t, "--policy", policy, "--addr", "127.0.0.1:0", "--plain-http", reg.Host,
		"--tls-cert", filepath.Join(dir, "tls.crt"), "--tls-key", filepath.Join(dir, "tls.key"),
		"--client-ca", filepath.Join(dir, "client-ca.crt"), "--reload-interval", "100ms")
	url := "https://" + addr.String()

	if _, err := httpsClient(ca, nil).Get(url + serve.PathReadyz); err == nil {
		t.Fatal("a client without a certificate was served")
	}
	c := httpsClient(ca, &clientCert)
	resp, err := c.Get(url + serve.PathReadyz)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("readyz: %v %v", resp, err)
	}
	if resp.TLS.Version != tls.VersionTLS13 {
		t.Errorf("TLS version %x, want 1.3", resp.TLS.Version)
	}
	resp.Body.Close()
	body := `{"apiVersion":"externaldata.gatekeeper.sh/v1beta1","kind":"ProviderRequest","request":{"keys":["` + reg.Ref("wasm/app", "v1") + `"]}}`
	resp, err = c.Post(url+serve.PathGatekeeper, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(out), `"verdict":"denied"`) {
		t.Fatalf("gatekeeper: %d %s", resp.StatusCode, out)
	}

	if err := os.WriteFile(policy, []byte("version: v1\npolicies: ["), 0o644); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(log.String(), "policy reload failed") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(log.String(), "policy reload failed") {
		t.Fatalf("no reload failure logged:\n%s", log.String())
	}
	if resp, err := c.Get(url + serve.PathReadyz); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("not ready after a failed reload: %v %v", resp, err)
	}
	if code := stop(); code != exitOK {
		t.Fatalf("exit %d:\n%s", code, log.String())
	}
}

// Configuration mistakes exit 2 and name the fix.
func TestServeUsage(t *testing.T) {
	dir := t.TempDir()
	policy := filepath.Join(dir, "trust.yaml")
	if err := os.WriteFile(policy, []byte("version: v1\npolicies: ["), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"no TLS":           {[]string{"--policy", policy}, "--insecure-listen-http"},
		"http and TLS":     {[]string{"--policy", policy, "--insecure-listen-http", "--tls-cert", "x"}, "drop --tls-cert"},
		"broken policy":    {[]string{"--policy", policy, "--insecure-listen-http", "--addr", "127.0.0.1:0"}, "trust.yaml"},
		"bad log format":   {[]string{"--policy", policy, "--insecure-listen-http", "--log-format", "xml"}, "--log-format"},
		"missing --policy": {[]string{"--insecure-listen-http"}, "policy"},
		"vsa without id":   {[]string{"--policy", policy, "--insecure-listen-http", "--vsa-trust", "x.pub"}, "--vsa-verifier-id"},
	} {
		t.Run(name, func(t *testing.T) {
			var log bytes.Buffer
			code := run(context.Background(), append([]string{"wasmgate-serve"}, tc.args...), &log, nil)
			if code != exitUsage || !strings.Contains(log.String(), tc.want) {
				t.Fatalf("exit %d, want %d naming %q:\n%s", code, exitUsage, tc.want, log.String())
			}
		})
	}
}

// A client that trickles its request is cut off at --read-timeout, and the
// server goes on serving others.
func TestServeCutsTricklingClients(t *testing.T) {
	dir := t.TempDir()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	testkit.WritePublicKey(t, filepath.Join(dir, "release.pub"), key.Public())
	policy := filepath.Join(dir, "trust.yaml")
	if err := os.WriteFile(policy, []byte("version: v1\npolicies:\n  - name: fleet\n    scopes: [\"*\"]\n    signatures:\n      authorities:\n        - name: release\n          cosign: {key: release.pub, insecureIgnoreTlog: true}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	addr, _, _ := start(t, "--policy", policy, "--insecure-listen-http", "--addr", "127.0.0.1:0", "--read-timeout", "300ms")
	conn, err := net.Dial("tcp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "POST "+serve.PathKyverno+" HTTP/1.1\r\nHost: wasmgate\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	closed := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, conn) // returns when the server closes it
		close(closed)
	}()
	for range 100 {
		select {
		case <-closed:
			if took := time.Since(began); took > 3*time.Second {
				t.Errorf("cut off after %s; --read-timeout is 300ms", took)
			}
			resp, err := http.Get("http://" + addr.String() + serve.PathReadyz)
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("after the trickle: %v %v", resp, err)
			}
			return
		case <-time.After(100 * time.Millisecond):
			_, _ = conn.Write([]byte("a"))
		}
	}
	t.Fatal("a client trickling one byte every 100 ms was never cut off")
}
