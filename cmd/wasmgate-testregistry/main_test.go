package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestRunServesUntilCancelled(t *testing.T) {
	for _, kind := range []string{"distribution", "ggcr"} {
		t.Run(kind, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			pr, pw := io.Pipe()
			var stderr bytes.Buffer
			done := make(chan int, 1)
			go func() {
				done <- run(ctx, []string{"wasmgate-testregistry", "-kind", kind, "-addr", "127.0.0.1:0"}, pw, &stderr)
				pw.Close()
			}()
			line, err := bufio.NewReader(pr).ReadString('\n')
			if err != nil {
				t.Fatalf("reading the address: %v (stderr %q)", err, stderr.String())
			}
			addr := strings.TrimSpace(line)
			if !strings.HasPrefix(addr, "127.0.0.1:") {
				t.Fatalf("first line %q, want 127.0.0.1:PORT", line)
			}
			res, err := http.Get("http://" + addr + "/v2/")
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				t.Errorf("GET /v2/: %d", res.StatusCode)
			}
			http.DefaultClient.CloseIdleConnections()
			cancel()
			select {
			case code := <-done:
				if code != 0 {
					t.Errorf("exit code %d, stderr %q", code, stderr.String())
				}
			case <-time.After(10 * time.Second):
				t.Fatal("run did not return after cancel")
			}
		})
	}
}

func TestRunRefuses(t *testing.T) {
	for _, args := range [][]string{
		{"-addr", "0.0.0.0:0"},
		{"-addr", ":0"},
		{"-kind", "zot", "-addr", "127.0.0.1:0"},
		{"-addr", "127.0.0.1:0", "extra"},
		{"-nope"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(t.Context(), append([]string{"wasmgate-testregistry"}, args...), &stdout, &stderr)
		if code != 2 || stdout.Len() != 0 || stderr.Len() == 0 {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want 2, nothing, a message", args, code, stdout.String(), stderr.String())
		}
	}
}
