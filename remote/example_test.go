package remote_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http/httptest"
	"net/url"
	"time"

	"oras.land/oras-go/v2/registry"
	"oras.land/oras-go/v2/registry/remote/credentials"

	"github.com/wasmgate/wasmgate/access"
	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
	"github.com/wasmgate/wasmgate/remote"
)

// One Client per process reaches every registry. Plain HTTP is spoken
// only to the hosts named in Options.PlainHTTP (here an in-process
// registry on 127.0.0.1); every other host is https only.
func ExampleNew() {
	ctx := context.Background()
	srv := httptest.NewServer(testregistry.NewGGCRHandler())
	defer srv.Close()
	u, _ := url.Parse(srv.URL)

	c, err := remote.New(remote.Options{
		PlainHTTP: []string{u.Host},
		// Logins in memory: an example must not read ~/.docker/config.json.
		Credentials: credentials.NewMemoryStore(),
		Timeout:     10 * time.Second,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(c.IsPlainHTTP(u.Host), c.IsPlainHTTP("registry.example"))

	// Publish through package access, which opens registry references with
	// the client ...
	ref, err := artifact.ParseReference(u.Host + "/wasm/tiny:v1")
	if err != nil {
		log.Fatal(err)
	}
	dst, err := (&access.Opener{Client: c}).Destination(ref)
	if err != nil {
		log.Fatal(err)
	}
	pkg, err := artifact.Pack("../testdata/wasm/tiny.wasm", nil, artifact.BuildOptions{})
	if err != nil {
		log.Fatal(err)
	}
	if err := access.Push(ctx, dst, pkg, "v1", access.PushOptions{}); err != nil {
		log.Fatal(err)
	}

	// ... and read back with the oras-go repository the client hands out.
	repo := c.Repository(ref.Registry)
	desc, err := repo.Resolve(ctx, "v1")
	if err != nil {
		log.Fatal(remote.Classify("resolve", u.Host, err))
	}
	fmt.Println(desc.Digest == pkg.Manifest.Digest)
	err = repo.Tags(ctx, "", func(tags []string) error {
		fmt.Println(tags)
		return nil
	})
	if err != nil {
		log.Fatal(remote.Classify("tags", u.Host, err))
	}
	// Output:
	// true false
	// true
	// [v1]
}

// The repository's errors are oras-go's; Classify sorts them into this
// package's sentinels, so callers test errors.Is instead of reading status
// codes or error text.
func ExampleClassify() {
	ctx := context.Background()
	srv := httptest.NewServer(testregistry.NewGGCRHandler())
	defer srv.Close()
	u, _ := url.Parse(srv.URL)

	c, err := remote.New(remote.Options{PlainHTTP: []string{u.Host}, Credentials: credentials.NewMemoryStore()})
	if err != nil {
		log.Fatal(err)
	}
	ref, err := registry.ParseReference(u.Host + "/wasm/missing")
	if err != nil {
		log.Fatal(err)
	}
	_, err = c.Repository(ref).Resolve(ctx, "v1")
	err = remote.Classify("resolve", u.Host, err)

	var re *remote.Error
	fmt.Println(errors.Is(err, remote.ErrNotFound), errors.As(err, &re) && re.Op == "resolve")
	// Output: true true
}

// A whole operation (a pull: every request, retry and pause of it) is
// bounded by the client's deadline; when it passes, the cause is a
// DeadlineError, which is a timeout like a stall or a too-slow body.
func ExampleClient_WithDeadline() {
	c, err := remote.New(remote.Options{Credentials: credentials.NewMemoryStore(), Deadline: 20 * time.Millisecond})
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := c.WithDeadline(context.Background())
	defer cancel()
	<-ctx.Done() // an operation that never ends, cut short

	err = context.Cause(ctx)
	var de *remote.DeadlineError
	fmt.Println(errors.Is(err, remote.ErrTimeout), errors.Is(err, context.DeadlineExceeded), errors.As(err, &de))
	fmt.Println(err)
	// Output:
	// true true true
	// not done within the deadline of 20ms
}
