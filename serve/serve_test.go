package serve_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/open-policy-agent/frameworks/constraint/pkg/apis/externaldata/unversioned"
	"github.com/open-policy-agent/frameworks/constraint/pkg/externaldata"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	"github.com/wasmgate/wasmgate/internal/sample"
	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
	"github.com/wasmgate/wasmgate/remote"
	"github.com/wasmgate/wasmgate/serve"
	"github.com/wasmgate/wasmgate/sign"
)

const policyYAML = `version: v1
policies:
  - name: fleet
    scopes: ["*"]
    signatures:
      authorities:
        - name: release
          cosign: {key: release.pub, insecureIgnoreTlog: true}
`

// fleet is a registry with a signed and an unsigned artifact, a trust
// policy that requires the release key, and a server over TLS.
type fleet struct {
	reg      *testregistry.Registry
	site     *testkit.Site
	dir      string
	key      *ecdsa.PrivateKey
	signed   string // tag reference of the signed artifact
	unsigned string
	digest   string // of the signed artifact
	server   *serve.Server
	https    *httptest.Server
}

func newFleet(t testing.TB, opts serve.Options) *fleet {
	t.Helper()
	f := &fleet{reg: testregistry.GGCR(t), dir: t.TempDir()}
	ropts := remote.Options{Timeout: 5 * time.Second}
	if opts.RegistryTransport != nil {
		ropts.Transport = opts.RegistryTransport
	}
	f.site = testkit.Open(t, f.reg, f.reg.Ref("wasm/app", "v1"), ropts)
	var err error
	if f.key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		t.Fatal(err)
	}
	testkit.WritePublicKey(t, filepath.Join(f.dir, "release.pub"), f.key.Public())
	f.signed = f.reg.Ref("wasm/app", "v1")
	f.digest = f.publish(t, "wasm/app", true).Digest.String()
	f.unsigned = f.reg.Ref("wasm/unsigned", "v1")
	f.publish(t, "wasm/unsigned", false)
	f.writePolicy(t, policyYAML)
	opts.PolicyFile, opts.Opener = filepath.Join(f.dir, "trust.yaml"), f.site.Opener
	if f.server, err = serve.New(testkit.Context(t), opts); err != nil {
		t.Fatal(err)
	}
	f.https = httptest.NewUnstartedServer(f.server.Handler())
	f.https.EnableHTTP2 = true
	f.https.StartTLS()
	t.Cleanup(f.https.Close)
	f.reg.Faults.ResetLog()
	return f
}

// publish pushes the sample module to repo:v1, signed or not.
func (f *fleet) publish(t testing.TB, repo string, signed bool) ocispec.Descriptor {
	t.Helper()
	site := testkit.Open(t, f.reg, f.reg.Ref(repo, "v1"), remote.Options{})
	pkg := testkit.Push(t, site.Target, testkit.TempFile(t, "hello.wasm", sample.HelloWasm()), []byte(strings.Replace(string(sample.PolicyYAML()), "\n", "\n# "+repo+"\n", 1)), "v1")
	if signed {
		if _, err := sign.Cosign(testkit.Context(t), site.Target, pkg.Manifest, f.key, sign.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	return pkg.Manifest
}

func (f *fleet) writePolicy(t testing.TB, text string) {
	t.Helper()
	f.writePolicyAt(t, filepath.Join(f.dir, "trust.yaml"), text)
}

func (f *fleet) writePolicyAt(t testing.TB, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// provider is the Gatekeeper Provider resource naming the server, with
// its CA bundle, as deploy/gatekeeper/provider.yaml does.
func (f *fleet) provider() *unversioned.Provider {
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.https.Certificate().Raw})
	p := &unversioned.Provider{Spec: unversioned.ProviderSpec{URL: f.https.URL + serve.PathGatekeeper, Timeout: 3,
		CABundle: base64.StdEncoding.EncodeToString(ca)}}
	p.SetName("wasmgate")
	return p
}

func (f *fleet) post(t *testing.T, path string, body any) (int, []byte) {
	t.Helper()
	raw, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := f.https.Client().Post(f.https.URL+path, "application/json", bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// Gatekeeper's own external data client (frameworks/constraint's
// DefaultSendRequestToProvider: TLS 1.3, the Provider's CA bundle) gets one
// item per key: the signed image allowed and pinned, the unsigned one
// denied with the reason, a reference that is not one an error.
func TestGatekeeperProvider(t *testing.T) {
	f := newFleet(t, serve.Options{})
	keys := []string{f.signed, f.unsigned, "not a reference!", f.reg.Ref("wasm/absent", "v1")}
	resp, status, err := externaldata.DefaultSendRequestToProvider(testkit.Context(t), f.provider(), keys, nil)
	if err != nil || status != http.StatusOK {
		t.Fatalf("status %d, err %v", status, err)
	}
	if resp.Kind != externaldata.ProviderResponseKind || resp.Response.SystemError != "" || len(resp.Response.Items) != len(keys) {
		t.Fatalf("response %+v", resp)
	}
	value := func(i int) serve.GatekeeperValue {
		var v serve.GatekeeperValue
		raw, _ := json.Marshal(resp.Response.Items[i].Value)
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	items := resp.Response.Items
	if v := value(0); items[0].Key != f.signed || !v.Allowed || v.Verdict != "verified" || v.Digest != f.digest || !strings.HasSuffix(v.Pinned, "@"+f.digest) {
		t.Errorf("signed: %+v %+v", items[0], v)
	}
	if v := value(1); v.Allowed || v.Verdict != "denied" || len(v.Reasons) == 0 || !strings.Contains(v.Message, "no signature found") {
		t.Errorf("unsigned: %+v", v)
	}
	for _, i := range []int{2, 3} {
		if items[i].Error == "" || items[i].Value != nil {
			t.Errorf("key %q: %+v, want an error", keys[i], items[i])
		}
	}
	// What the Rego of a ConstraintTemplate reads.
	rego := externaldata.NewRegoResponse(status, resp)
	if len(rego.Responses) != 2 || len(rego.Errors) != 2 {
		t.Errorf("rego response: %d responses, %d errors", len(rego.Responses), len(rego.Errors))
	}
}

func admissionReview(t testing.TB, kind metav1.GroupVersionKind, obj any) admissionv1.AdmissionReview {
	t.Helper()
	raw, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	return admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{UID: types.UID("3f2a"), Kind: kind, Operation: admissionv1.Create,
			Namespace: "apps", Object: runtime.RawExtension{Raw: raw}},
	}
}

func (f *fleet) admit(t *testing.T, path string, rev admissionv1.AdmissionReview) *admissionv1.AdmissionResponse {
	t.Helper()
	status, body := f.post(t, path, rev)
	if status != http.StatusOK {
		t.Fatalf("%s: %d %s", path, status, body)
	}
	var out admissionv1.AdmissionReview
	if err := json.Unmarshal(body, &out); err != nil || out.Response == nil {
		t.Fatalf("%s: %v: %s", path, err, body)
	}
	if out.Response.UID != rev.Request.UID {
		t.Fatalf("uid %q, want %q", out.Response.UID, rev.Request.UID)
	}
	return out.Response
}

var podKind = metav1.GroupVersionKind{Version: "v1", Kind: "Pod"}

// A Pod is admitted only when every image (containers and init
// containers) verifies; the denial names the image and why. The mutating
// webhook pins each verified image to its digest.
func TestAdmissionPods(t *testing.T) {
	f := newFleet(t, serve.Options{})
	pod := func(images ...string) corev1.Pod {
		p := corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"}, ObjectMeta: metav1.ObjectMeta{Name: "app"}}
		p.Spec.InitContainers = []corev1.Container{{Name: "init", Image: images[0]}}
		for i, im := range images[1:] {
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "c" + string(rune('0'+i)), Image: im})
		}
		return p
	}
	ok := f.admit(t, serve.PathValidate, admissionReview(t, podKind, pod(f.signed, f.signed, f.signed)))
	if !ok.Allowed {
		t.Fatalf("all signed: denied: %+v", ok.Result)
	}
	bad := f.admit(t, serve.PathValidate, admissionReview(t, podKind, pod(f.signed, f.signed, f.unsigned)))
	if bad.Allowed || bad.Result == nil || bad.Result.Code != http.StatusForbidden ||
		!strings.Contains(bad.Result.Message, f.unsigned) || !strings.Contains(bad.Result.Message, "no signature found") || strings.Contains(bad.Result.Message, f.signed+" ") {
		t.Fatalf("one unsigned: %+v", bad.Result)
	}

	m := f.admit(t, serve.PathMutate, admissionReview(t, podKind, pod(f.signed, f.unsigned, f.signed)))
	if !m.Allowed || m.PatchType == nil || *m.PatchType != admissionv1.PatchTypeJSONPatch {
		t.Fatalf("mutate: %+v", m)
	}
	var patch []struct{ Op, Path, Value string }
	if err := json.Unmarshal(m.Patch, &patch); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"/spec/initContainers/0/image": f.signed + "@" + f.digest, "/spec/containers/1/image": f.signed + "@" + f.digest}
	if len(patch) != len(want) {
		t.Fatalf("patch %+v, want %v", patch, want)
	}
	for _, p := range patch {
		if p.Op != "replace" || want[p.Path] != p.Value {
			t.Errorf("patch op %+v", p)
		}
	}
}

// A SpinKube SpinApp's image is checked like a Pod's.
func TestAdmissionSpinApp(t *testing.T) {
	f := newFleet(t, serve.Options{})
	kind := metav1.GroupVersionKind{Group: "core.spinkube.dev", Version: "v1alpha1", Kind: "SpinApp"}
	app := func(image string) map[string]any {
		return map[string]any{"apiVersion": "core.spinkube.dev/v1alpha1", "kind": "SpinApp",
			"metadata": map[string]any{"name": "hello"}, "spec": map[string]any{"image": image, "replicas": 2, "executor": "containerd-shim-spin"}}
	}
	if r := f.admit(t, serve.PathValidate, admissionReview(t, kind, app(f.signed))); !r.Allowed {
		t.Fatalf("signed SpinApp denied: %+v", r.Result)
	}
	if r := f.admit(t, serve.PathValidate, admissionReview(t, kind, app(f.unsigned))); r.Allowed || !strings.Contains(r.Result.Message, f.unsigned) {
		t.Fatalf("unsigned SpinApp: %+v", r)
	}
}

// The Kyverno endpoint answers what a ClusterPolicy's conditions read.
func TestKyverno(t *testing.T) {
	f := newFleet(t, serve.Options{})
	status, body := f.post(t, serve.PathKyverno, serve.KyvernoRequest{Images: []string{f.signed, f.unsigned}})
	var resp serve.KyvernoResponse
	if err := json.Unmarshal(body, &resp); err != nil || status != http.StatusOK {
		t.Fatalf("%d %s", status, body)
	}
	if resp.Allowed || len(resp.Results) != 2 || !resp.Results[0].Allowed || !strings.Contains(resp.Message, f.unsigned) {
		t.Fatalf("%+v", resp)
	}
}

// One verification per digest: repeated requests are answered from the
// kept verdict (the tag still resolved each time), and a tag moved to
// another artifact is verified as that artifact.
func TestVerifyOncePerDigest(t *testing.T) {
	f := newFleet(t, serve.Options{})
	ctx := testkit.Context(t)
	for i := range 5 {
		d := f.server.Check(ctx, f.signed)
		if !d.Allowed || (i == 0) != (d.Source == serve.SourceVerified) {
			t.Fatalf("request %d: %+v", i, d)
		}
	}
	if n := f.reg.Faults.Count("GET", "/referrers/"); n != 1 {
		t.Errorf("%d referrer listings for 5 requests on one digest, want 1", n)
	}
	if n := f.reg.Faults.Count("HEAD", "/manifests/v1$"); n != 5 {
		t.Errorf("the tag was resolved %d times for 5 requests, want 5", n)
	}
	// The tag moves to an unsigned artifact: its own digest, denied.
	site := testkit.Open(t, f.reg, f.signed, remote.Options{})
	moved := testkit.Push(t, site.Target, filepath.Join("..", "testdata", "wasm", "tiny.wasm"), nil, "v1")
	d := f.server.Check(ctx, f.signed)
	if d.Allowed || d.Digest != moved.Manifest.Digest || d.Source != serve.SourceVerified {
		t.Fatalf("moved tag: %+v", d)
	}
}

// Identical concurrent requests share one verification.
func TestConcurrentRequestsCoalesce(t *testing.T) {
	f := newFleet(t, serve.Options{})
	slow := f.reg.Faults.Inject("GET", "/referrers/", testregistry.Delay(200*time.Millisecond))
	const n = 20
	var wg sync.WaitGroup
	sources := make([]serve.Source, n)
	for i := range n {
		wg.Go(func() { sources[i] = f.server.Check(testkit.Context(t), f.signed+"@"+f.digest).Source })
	}
	wg.Wait()
	if slow.Matched() != 1 {
		t.Errorf("%d verifications for %d identical requests", slow.Matched(), n)
	}
	verified := 0
	for _, s := range sources {
		if s == serve.SourceVerified {
			verified++
		}
	}
	if verified != 1 {
		t.Errorf("sources %v: want one verified, the rest from the cache", sources)
	}
}

// A reload with a broken policy keeps the old one; a valid new policy
// changes the key: nothing verified under the old policy is served.
func TestReload(t *testing.T) {
	f := newFleet(t, serve.Options{})
	ctx := testkit.Context(t)
	if d := f.server.Check(ctx, f.signed); !d.Allowed {
		t.Fatal(d.Message())
	}
	f.writePolicy(t, "version: v1\npolicies: [")
	if err := f.server.Reload(ctx); err == nil {
		t.Fatal("a broken policy loaded")
	}
	if d := f.server.Check(ctx, f.signed); !d.Allowed || d.Source != serve.SourceCache {
		t.Fatalf("after a failed reload: %+v", d)
	}
	f.writePolicy(t, strings.Replace(policyYAML, "release.pub", "other.pub", 1))
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	testkit.WritePublicKey(t, filepath.Join(f.dir, "other.pub"), other.Public())
	if err := f.server.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if d := f.server.Check(ctx, f.signed); d.Allowed || d.Source != serve.SourceVerified {
		t.Fatalf("after a reload to another key: %+v", d)
	}
}

// Everything a client controls is bounded: a body over the limit, more
// keys than allowed, and more requests in flight than allowed are refused
// at once; a registry that hangs gets an answer within the request time.
func TestBounds(t *testing.T) {
	f := newFleet(t, serve.Options{MaxBodyBytes: 1 << 10, MaxKeys: 3, MaxInFlight: 1, RequestTimeout: 500 * time.Millisecond})
	status, _ := f.post(t, serve.PathKyverno, serve.KyvernoRequest{Images: []string{strings.Repeat("a", 2<<10)}})
	if status != http.StatusRequestEntityTooLarge {
		t.Errorf("a 2 KiB body: %d", status)
	}
	status, _ = f.post(t, serve.PathKyverno, serve.KyvernoRequest{Images: []string{"a", "b", "c", "d"}})
	if status != http.StatusRequestEntityTooLarge {
		t.Errorf("4 keys: %d", status)
	}

	f.reg.Faults.Inject("HEAD", "/manifests/", testregistry.Hang())
	start := time.Now()
	done := make(chan int)
	go func() {
		s, _ := f.post(t, serve.PathKyverno, serve.KyvernoRequest{Images: []string{f.unsigned}})
		done <- s
	}()
	time.Sleep(100 * time.Millisecond) // the first request is now waiting on the registry
	if s, _ := f.post(t, serve.PathKyverno, serve.KyvernoRequest{Images: []string{f.signed}}); s != http.StatusTooManyRequests {
		t.Errorf("a second request while one is in flight (MaxInFlight 1): %d", s)
	}
	if s := <-done; s != http.StatusOK {
		t.Errorf("the hanging request: %d", s)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("a hanging registry held the request %s; the request time is 500ms", took)
	}
	f.reg.Faults.Close()
}

// Health, readiness and metrics.
func TestOperations(t *testing.T) {
	f := newFleet(t, serve.Options{RegistryTransport: serve.NewRegistryTransport(nil)})
	f.server.Check(testkit.Context(t), f.signed)
	for path, want := range map[string]string{serve.PathHealthz: "ok", serve.PathReadyz: "ok",
		serve.PathMetrics:               `wasmgate_serve_verdicts_total{source="verified",verdict="verified"} 1`,
		serve.PathMetrics + "?registry": `wasmgate_serve_registry_requests_total{code="200",host="` + f.reg.Host + `"}`} {
		resp, err := f.https.Client().Get(f.https.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
			t.Errorf("%s: %d, want %q in:\n%.2000s", path, resp.StatusCode, want, body)
		}
	}
}

// No verdict is a denial at admission (fail closed), never kept: once the
// registry answers again, the next request verifies. A burst during the
// outage runs one verification, not one per request.
func TestOutageDuringABurst(t *testing.T) {
	f := newFleet(t, serve.Options{})
	outage := f.reg.Faults.Inject("GET", "/referrers/", testregistry.Status(http.StatusServiceUnavailable, 0))
	const n = 30
	var wg sync.WaitGroup
	decisions := make([]serve.Decision, n)
	for i := range n {
		wg.Go(func() { decisions[i] = f.server.Check(testkit.Context(t), f.signed) })
	}
	wg.Wait()
	for i, d := range decisions {
		if d.Allowed || d.Err == nil || d.Source != serve.SourceUndecided {
			t.Fatalf("request %d during the outage: %+v", i, d)
		}
	}
	if m := outage.Matched(); m == 0 || m > 6 {
		t.Errorf("%d Referrers API requests for a burst of %d: want one verification (1 + the client's 5 retries)", m, n)
	}
	r := f.admit(t, serve.PathValidate, admissionReview(t, podKind, corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "a", Image: f.signed}}}}))
	if r.Allowed || !strings.Contains(r.Result.Message, "could not be verified") {
		t.Fatalf("admission during the outage: %+v", r)
	}
	// The admission request gave up at its deadline; its verification goes
	// on, retrying, and its verdict answers the next request once the
	// registry is back (or a new verification runs): either way, allowed.
	f.reg.Faults.Remove(outage)
	if d := f.server.Check(testkit.Context(t), f.signed); !d.Allowed {
		t.Fatalf("after the outage: %+v", d)
	}
}

// The default bounds: 10,000 keys and a 100 MiB body are refused, and the
// server goes on serving.
func TestDefaultBounds(t *testing.T) {
	f := newFleet(t, serve.Options{})
	keys := make([]string, 10000)
	for i := range keys {
		keys[i] = f.signed
	}
	if status, body := f.post(t, serve.PathGatekeeper, map[string]any{"apiVersion": serve.GatekeeperAPIVersion, "kind": "ProviderRequest",
		"request": map[string]any{"keys": keys}}); status != http.StatusRequestEntityTooLarge {
		t.Errorf("10,000 keys: %d %s", status, body)
	}
	body := io.MultiReader(strings.NewReader(`{"images": ["`), io.LimitReader(zeros{}, 100<<20))
	resp, err := f.https.Client().Post(f.https.URL+serve.PathKyverno, "application/json", body)
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("a 100 MiB body: %d", resp.StatusCode)
		}
	} // else: the server closed the connection after the first MiB, as it may
	if resp, err := f.https.Client().Get(f.https.URL + serve.PathReadyz); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("after the large body: %v %v", resp, err)
	}
}

// zeros reads as endless 'a's.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a'
	}
	return len(p), nil
}
