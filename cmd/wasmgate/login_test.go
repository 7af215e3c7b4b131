package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
)

// authRegistry is go-containerregistry's registry behind HTTP Basic
// authentication for user me, password s3cret; it counts requests.
func authRegistry(t *testing.T) (*testregistry.Registry, *atomic.Int64) {
	t.Helper()
	var requests atomic.Int64
	next := testregistry.NewGGCRHandler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if u, p, ok := r.BasicAuth(); ok && u == "me" && p == "s3cret" {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`)
	}))
	t.Cleanup(srv.Close)
	return &testregistry.Registry{Host: strings.TrimPrefix(srv.URL, "http://"), Server: srv}, &requests
}

// stdin makes f the process's standard input for the test; urfave/cli
// reads os.Stdin when the command runs.
func stdin(t *testing.T, f *os.File) {
	t.Helper()
	old := os.Stdin
	os.Stdin = f
	t.Cleanup(func() { os.Stdin = old })
}

// Regression: `login -u me` without --password-stdin neither prompted nor
// said what to do. Without a terminal it is refused, naming the way that
// works, before any request.
func TestLoginWithoutTerminalIsRefused(t *testing.T) {
	reg, requests := authRegistry(t)
	cliEnv(t, reg)
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	stdin(t, devnull)
	for _, args := range [][]string{{"login", "-u", "me", reg.Host}, {"login", reg.Host}} {
		code, _, stderr := wasmgate(t, args...)
		if code != exitUsage || !strings.Contains(stderr, "not a terminal") || !strings.Contains(stderr, "--password-stdin") {
			t.Errorf("%v: exit %d: %s", args, code, stderr)
		}
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("%d requests to the registry", n)
	}
}

func TestLoginPasswordStdinAndLogoutTwice(t *testing.T) {
	reg, _ := authRegistry(t)
	cliEnv(t, reg)
	pw, err := os.CreateTemp(t.TempDir(), "pw")
	if err != nil {
		t.Fatal(err)
	}
	pw.WriteString("s3cret\n")
	pw.Seek(0, io.SeekStart)
	stdin(t, pw)
	if code, _, stderr := wasmgate(t, "login", "-u", "me", "--password-stdin", reg.Host); code != 0 || !strings.Contains(stderr, "Login succeeded") {
		t.Fatalf("login: exit %d: %s", code, stderr)
	}
	assertLogout(t, reg.Host)
}

// assertLogout logs out of host twice: the first removes what login
// stored, the second says there was nothing (exit 0, as docker logout).
func assertLogout(t *testing.T, host string) {
	t.Helper()
	config := filepath.Join(os.Getenv("DOCKER_CONFIG"), "config.json")
	if raw, _ := os.ReadFile(config); !strings.Contains(string(raw), host) {
		t.Fatalf("config.json does not name %s after login: %s", host, raw)
	}
	code, _, stderr := wasmgate(t, "logout", host)
	if code != 0 || stderr != "Removed credentials for "+host+"\n" {
		t.Errorf("first logout: exit %d: %q", code, stderr)
	}
	if raw, _ := os.ReadFile(config); strings.Contains(string(raw), host) {
		t.Errorf("config.json still names %s: %s", host, raw)
	}
	code, _, stderr = wasmgate(t, "logout", host)
	if code != 0 || stderr != "Not logged in to "+host+"\n" {
		t.Errorf("second logout: exit %d: %q", code, stderr)
	}
}
