package testregistry

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry/remote/errcode"
)

// faultKinds runs f against each registry with a seeded image, with the log
// of the seeding requests cleared.
func faultKinds(t *testing.T, f func(t *testing.T, reg *Registry, img image)) {
	for _, kind := range Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			reg := New(t, kind)
			img := seedImage(t, reg, "wasm/hello", "v1")
			reg.Faults.ResetLog()
			f(t, reg, img)
		})
	}
}

func manifestPath(ref string) string { return "/v2/wasm/hello/manifests/" + ref }

func TestStatus(t *testing.T) {
	faultKinds(t, func(t *testing.T, reg *Registry, img image) {
		rule := reg.Faults.Inject("GET", `/manifests/`, Status(http.StatusInternalServerError, 1))
		if code, _ := get(t, reg, manifestPath("v1")); code != http.StatusInternalServerError {
			t.Errorf("first GET: %d, want 500", code)
		}
		if code, body := get(t, reg, manifestPath("v1")); code != http.StatusOK || !bytes.Equal(body, img.manifestBytes) {
			t.Errorf("second GET: %d, want 200 and the manifest", code)
		}
		if rule.Applied() != 1 || rule.Matched() != 2 {
			t.Errorf("Applied %d Matched %d, want 1 and 2", rule.Applied(), rule.Matched())
		}
		// A HEAD does not match a GET rule.
		res := do(t, reg, "HEAD", manifestPath("v1"), ocispec.MediaTypeImageManifest)
		res.Body.Close()
		if rule.Matched() != 2 || res.StatusCode != http.StatusOK {
			t.Errorf("HEAD matched a GET rule (status %d)", res.StatusCode)
		}
		got := reg.Faults.Requests()
		want := []string{"GET 500 Status(500)", "GET 200 ", "HEAD 200 "}
		for i, r := range got {
			if s := fmt.Sprintf("%s %d %s", r.Method, r.Status, r.Fault); i >= len(want) || s != want[i] {
				t.Errorf("log[%d] = %q, want %q", i, s, want[min(i, len(want)-1)])
			}
		}
	})
}

func TestStatusAlwaysAndOras(t *testing.T) {
	reg := GGCR(t)
	seedImage(t, reg, "wasm/hello", "v1")
	reg.Faults.Inject("", `/manifests/v1$`, Status(http.StatusServiceUnavailable, 0))
	for range 3 {
		_, err := reg.Repository(t, "wasm/hello").Resolve(t.Context(), "v1")
		var er *errcode.ErrorResponse
		if !errors.As(err, &er) || er.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("resolve: got %v, want a 503 ErrorResponse", err)
		}
	}
}

func TestUnauthorized(t *testing.T) {
	faultKinds(t, func(t *testing.T, reg *Registry, img image) {
		reg.Faults.Inject("", `^/v2/`, Unauthorized())
		for range 2 {
			res := do(t, reg, "GET", "/v2/", "")
			res.Body.Close()
			if res.StatusCode != http.StatusUnauthorized || res.Header.Get("WWW-Authenticate") != `Basic realm="test"` {
				t.Errorf("GET /v2/: %d, WWW-Authenticate %q", res.StatusCode, res.Header.Get("WWW-Authenticate"))
			}
		}
		_, err := reg.Repository(t, "wasm/hello").Resolve(t.Context(), "v1")
		var er *errcode.ErrorResponse
		if !errors.As(err, &er) || er.StatusCode != http.StatusUnauthorized {
			t.Errorf("resolve: got %v, want a 401 ErrorResponse", err)
		}
	})
}

func TestHang(t *testing.T) {
	faultKinds(t, func(t *testing.T, reg *Registry, img image) {
		rule := reg.Faults.Inject("HEAD", `/manifests/v1$`, Hang().Times(1))
		ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := reg.Repository(t, "wasm/hello").Resolve(ctx, "v1")
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("resolve: got %v, want context.DeadlineExceeded", err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("gave up after %v", d)
		}
		// Times(1): the next request passes.
		desc, err := reg.Repository(t, "wasm/hello").Resolve(t.Context(), "v1")
		if err != nil || desc.Digest != img.manifest.Digest {
			t.Errorf("second resolve: %v, %v", desc.Digest, err)
		}
		if rule.Applied() != 1 || rule.Matched() != 2 {
			t.Errorf("Applied %d Matched %d", rule.Applied(), rule.Matched())
		}
	})
}

// TestHangReleasedAtCleanup leaves a hung request behind in a subtest: its
// cleanup must still return, release the client, and leave no goroutine.
func TestHangReleasedAtCleanup(t *testing.T) {
	before := runtime.NumGoroutine()
	errc := make(chan error, 1)
	t.Run("leave a request hanging", func(t *testing.T) {
		reg := GGCR(t)
		reg.Faults.Inject("", `^/v2/$`, Hang())
		go func() {
			res, err := reg.Server.Client().Get(reg.URL.String() + "/v2/")
			if err == nil {
				res.Body.Close()
				err = fmt.Errorf("got a response: %s", res.Status)
			}
			errc <- err
		}()
		for reg.Faults.Count("GET", `^/v2/$`) == 0 {
			time.Sleep(time.Millisecond)
		}
	})
	select {
	case err := <-errc:
		t.Logf("client released with: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("the hung client was not released by the registry's cleanup")
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines before, %d after:\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestDelay(t *testing.T) {
	reg := GGCR(t)
	seedImage(t, reg, "wasm/hello", "v1")
	reg.Faults.Inject("GET", `/manifests/`, Delay(150*time.Millisecond))
	start := time.Now()
	if code, _ := get(t, reg, manifestPath("v1")); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("answered after %v, want ≥ 150ms", d)
	}
}

func TestTamperBody(t *testing.T) {
	faultKinds(t, func(t *testing.T, reg *Registry, img image) {
		reg.Faults.Inject("GET", `/manifests/`, TamperBody())
		reg.Faults.Inject("GET", `/blobs/`, TamperBody())
		_, body := get(t, reg, manifestPath("v1"))
		if len(body) != len(img.manifestBytes) || bytes.Equal(body, img.manifestBytes) {
			t.Errorf("manifest: got %d bytes (equal: %v), want %d different bytes", len(body), bytes.Equal(body, img.manifestBytes), len(img.manifestBytes))
		}
		repo := reg.Repository(t, "wasm/hello")
		_, _, err := oras.FetchBytes(t.Context(), repo, img.manifest.Digest.String(), oras.DefaultFetchBytesOptions)
		if !errors.Is(err, content.ErrMismatchedDigest) {
			t.Errorf("manifest by digest: got %v, want ErrMismatchedDigest", err)
		}
		_, _, err = oras.FetchBytes(t.Context(), repo.Blobs(), img.layer.Digest.String(), oras.DefaultFetchBytesOptions)
		if !errors.Is(err, content.ErrMismatchedDigest) {
			t.Errorf("blob: got %v, want ErrMismatchedDigest", err)
		}
	})
}

func TestTruncate(t *testing.T) {
	faultKinds(t, func(t *testing.T, reg *Registry, img image) {
		reg.Faults.Inject("GET", `/blobs/`, Truncate(3))
		res := do(t, reg, "GET", "/v2/wasm/hello/blobs/"+img.layer.Digest.String(), "")
		defer res.Body.Close()
		if res.ContentLength != img.layer.Size {
			t.Errorf("Content-Length %d, want %d", res.ContentLength, img.layer.Size)
		}
		b, err := io.ReadAll(res.Body)
		if !errors.Is(err, io.ErrUnexpectedEOF) || len(b) != len(img.layerBytes)-3 {
			t.Errorf("read %d bytes, %v; want %d bytes and io.ErrUnexpectedEOF", len(b), err, len(img.layerBytes)-3)
		}
	})
}

func TestExtend(t *testing.T) {
	faultKinds(t, func(t *testing.T, reg *Registry, img image) {
		reg.Faults.Inject("GET", `/manifests/`, Extend(100))
		res := do(t, reg, "GET", manifestPath("v1"), ocispec.MediaTypeImageManifest)
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		if res.ContentLength != -1 || len(res.TransferEncoding) != 1 || res.TransferEncoding[0] != "chunked" {
			t.Errorf("Content-Length %d, Transfer-Encoding %v; want -1, chunked", res.ContentLength, res.TransferEncoding)
		}
		want := append(bytes.Clone(img.manifestBytes), strings.Repeat("A", 100)...)
		if !bytes.Equal(b, want) {
			t.Errorf("body: %d bytes, want the manifest and 100 × 'A'", len(b))
		}
		// oras-go reads a manifest fetched by tag only if it knows its size.
		if _, _, err := oras.FetchBytes(t.Context(), reg.Repository(t, "wasm/hello"), "v1", oras.DefaultFetchBytesOptions); err == nil {
			t.Error("oras-go accepted a manifest with no Content-Length")
		}
	})
}

func TestOverrun(t *testing.T) {
	faultKinds(t, func(t *testing.T, reg *Registry, img image) {
		reg.Faults.Inject("GET", `/blobs/`, Overrun(5))
		path := "/v2/wasm/hello/blobs/" + img.layer.Digest.String()
		// net/http reads exactly Content-Length bytes.
		if code, b := get(t, reg, path); code != http.StatusOK || !bytes.Equal(b, img.layerBytes) {
			t.Errorf("net/http: %d %q", code, b)
		}
		// On the wire, 5 more bytes follow.
		conn, err := net.Dial("tcp", reg.Host)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", path, reg.Host)
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		br := bufio.NewReader(conn)
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.ContentLength != img.layer.Size {
			t.Errorf("Content-Length %d, want %d", res.ContentLength, img.layer.Size)
		}
		rest, err := io.ReadAll(br) // bypass the length-limited body
		if err != nil {
			t.Fatal(err)
		}
		if want := append(bytes.Clone(img.layerBytes), "AAAAA"...); !bytes.Equal(rest, want) {
			t.Errorf("on the wire: %q, want %q", rest, want)
		}
	})
}

func TestSlow(t *testing.T) {
	faultKinds(t, func(t *testing.T, reg *Registry, img image) {
		// 2000 bytes/s in 100-byte steps: about 50 ms a step.
		reg.Faults.Inject("GET", `/manifests/`, Slow(2000))
		start := time.Now()
		res := do(t, reg, "GET", manifestPath("v1"), ocispec.MediaTypeImageManifest)
		defer res.Body.Close()
		first := make([]byte, 1)
		if _, err := io.ReadFull(res.Body, first); err != nil {
			t.Fatal(err)
		}
		ttfb := time.Since(start)
		rest, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		if b := append(first, rest...); !bytes.Equal(b, img.manifestBytes) {
			t.Errorf("body differs")
		}
		steps := (len(img.manifestBytes) + 99) / 100
		if d := time.Since(start); d < time.Duration(steps-1)*50*time.Millisecond*8/10 {
			t.Errorf("%d bytes took %v; want about %v", len(img.manifestBytes), d, time.Duration(steps-1)*50*time.Millisecond)
		}
		if ttfb > time.Second {
			t.Errorf("first byte after %v", ttfb)
		}
	})
}

func TestSlowAbortedByClient(t *testing.T) {
	reg := GGCR(t)
	seedImage(t, reg, "wasm/hello", "v1")
	reg.Faults.Inject("GET", `/manifests/`, Slow(1))
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	_, _, err := oras.FetchBytes(ctx, reg.Repository(t, "wasm/hello"), "v1", oras.DefaultFetchBytesOptions)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("got %v, want context.DeadlineExceeded", err)
	}
}

func TestReplaceBody(t *testing.T) {
	faultKinds(t, func(t *testing.T, reg *Registry, img image) {
		evil := []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":"not a list"}`)
		sum := sha256.Sum256(evil)
		evilDigest := "sha256:" + hex.EncodeToString(sum[:])
		reg.Faults.Inject("", `/manifests/v1$`, ReplaceBody(func([]byte) []byte { return evil }))

		repo := reg.Repository(t, "wasm/hello")
		desc, got, err := oras.FetchBytes(t.Context(), repo, "v1", oras.DefaultFetchBytesOptions)
		if err != nil {
			t.Fatal(err)
		}
		if desc.Digest.String() != evilDigest || desc.Size != int64(len(evil)) || !bytes.Equal(got, evil) {
			t.Errorf("by tag: %s %d %q; want the replacement, consistently", desc.Digest, desc.Size, got)
		}
		if n := reg.Faults.Count("HEAD", `/manifests/v1$`) + reg.Faults.Count("GET", `/manifests/v1$`); n == 0 {
			t.Error("no request logged")
		}
		// By digest the rule does not match and the real manifest comes back.
		_, got, err = oras.FetchBytes(t.Context(), repo, img.manifest.Digest.String(), oras.DefaultFetchBytesOptions)
		if err != nil || !bytes.Equal(got, img.manifestBytes) {
			t.Errorf("by digest: %v", err)
		}
	})
}

func TestLargeBody(t *testing.T) {
	faultKinds(t, func(t *testing.T, reg *Registry, img image) {
		const size = 100 << 20
		reg.Faults.Inject("", `/manifests/`, LargeBody(size))
		res := do(t, reg, "GET", manifestPath("v1"), ocispec.MediaTypeImageManifest)
		if res.ContentLength != size {
			t.Errorf("Content-Length %d, want %d", res.ContentLength, size)
		}
		head := make([]byte, 4)
		io.ReadFull(res.Body, head)
		res.Body.Close() // not reading the 100 MB
		if string(head) != "AAAA" {
			t.Errorf("body starts %q", head)
		}

		repo := reg.Repository(t, "wasm/hello")
		desc, err := repo.Resolve(t.Context(), "v1")
		if err != nil || desc.Size != size || desc.Digest != img.manifest.Digest {
			t.Errorf("resolve (HEAD): %d bytes, %s, %v; want %d bytes and the stale digest", desc.Size, desc.Digest, err, size)
		}
		// oras-go checks Content-Length against its limit before reading.
		_, _, err = oras.FetchBytes(t.Context(), repo, "v1", oras.DefaultFetchBytesOptions)
		if !errors.Is(err, errdef.ErrSizeExceedsLimit) {
			t.Errorf("oras-go: got %v, want ErrSizeExceedsLimit", err)
		}
	})
}

func TestEndless(t *testing.T) {
	faultKinds(t, func(t *testing.T, reg *Registry, img image) {
		reg.Faults.Inject("GET", `/blobs/`, Endless())
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", reg.URL.String()+"/v2/wasm/hello/blobs/"+img.layer.Digest.String(), nil)
		res, err := reg.Server.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if res.ContentLength != -1 {
			t.Errorf("Content-Length %d, want none", res.ContentLength)
		}
		const want = 8 << 20
		n, err := io.Copy(io.Discard, io.LimitReader(res.Body, want))
		if n != want || err != nil {
			t.Errorf("read %d bytes, %v; want %d", n, err, want)
		}
		cancel()
		res.Body.Close()

		// oras-go reads one byte past the descriptor's size to catch this.
		_, _, err = oras.FetchBytes(t.Context(), reg.Repository(t, "wasm/hello").Blobs(), img.layer.Digest.String(), oras.DefaultFetchBytesOptions)
		if !errors.Is(err, content.ErrTrailingData) {
			t.Errorf("oras-go: got %v, want ErrTrailingData", err)
		}
	})
}

func TestRespondAndRemove(t *testing.T) {
	reg := GGCR(t)
	rule := reg.Faults.Inject("GET", `^/v2/$`, Respond(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/v2/", http.StatusFound)
	})))
	client := reg.Server.Client()
	client.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 3 {
			return http.ErrUseLastResponse
		}
		return nil
	}
	res, err := client.Get(reg.URL.String() + "/v2/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusFound || rule.Applied() != 3 {
		t.Errorf("status %d after %d redirects", res.StatusCode, rule.Applied())
	}
	reg.Faults.Remove(rule)
	if code, _ := get(t, reg, "/v2/"); code != http.StatusOK {
		t.Errorf("after Remove: %d", code)
	}
	reg.Faults.Inject("", "", Status(500, 0))
	reg.Faults.Clear()
	if code, _ := get(t, reg, "/v2/"); code != http.StatusOK {
		t.Errorf("after Clear: %d", code)
	}
}

// TestRulesInOrder checks that a spent rule stops shadowing the next one.
func TestRulesInOrder(t *testing.T) {
	reg := GGCR(t)
	a := reg.Faults.Inject("GET", `^/v2/$`, Status(502, 1))
	b := reg.Faults.Inject("GET", `^/v2/$`, Status(503, 1))
	var codes []int
	for range 3 {
		code, _ := get(t, reg, "/v2/")
		codes = append(codes, code)
	}
	if fmt.Sprint(codes) != "[502 503 200]" {
		t.Errorf("codes %v, want [502 503 200]", codes)
	}
	if a.Applied() != 1 || b.Applied() != 1 || a.Matched() != 3 || b.Matched() != 3 {
		t.Errorf("a %d/%d b %d/%d", a.Applied(), a.Matched(), b.Applied(), b.Matched())
	}
	if s := a.String(); s != "GET ^/v2/$ → Status(502)" {
		t.Errorf("String() = %q", s)
	}
}

// TestRequestLogResolveOnce is the kind of assertion the log is for: a
// digest-pinned fetch makes no tag request, a tag fetch resolves once.
func TestRequestLogResolveOnce(t *testing.T) {
	faultKinds(t, func(t *testing.T, reg *Registry, img image) {
		repo := reg.Repository(t, "wasm/hello")
		if _, _, err := oras.FetchBytes(t.Context(), repo, img.manifest.Digest.String(), oras.DefaultFetchBytesOptions); err != nil {
			t.Fatal(err)
		}
		if n := reg.Faults.Count("", `/manifests/v1$`); n != 0 {
			t.Errorf("fetch by digest made %d tag requests", n)
		}
		if _, _, err := oras.FetchBytes(t.Context(), repo, "v1", oras.DefaultFetchBytesOptions); err != nil {
			t.Fatal(err)
		}
		if n := reg.Faults.Count("", `/manifests/v1$`); n != 1 {
			t.Errorf("fetch by tag made %d tag requests, want 1", n)
		}
		for _, r := range reg.Faults.Requests() {
			if r.Status != http.StatusOK || r.Fault != "" {
				t.Errorf("%s %s: status %d fault %q", r.Method, r.Path, r.Status, r.Fault)
			}
		}
		reg.Faults.ResetLog()
		if len(reg.Faults.Requests()) != 0 {
			t.Error("ResetLog left entries")
		}
	})
}
