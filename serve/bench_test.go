package serve_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/wasmgate/wasmgate/serve"
)

// BenchmarkAdmissionWarm is the validating webhook under load, in
// process: AdmissionReviews for Pods over 50 signed artifacts, 32 in
// flight, after each artifact was verified once. It reports the live heap
// after the run (bench/serve.sh measures the same over HTTP between
// processes, with p50 and p99).
func BenchmarkAdmissionWarm(b *testing.B) {
	f := newFleet(b, serve.Options{})
	bodies := make([][]byte, 50)
	for i := range bodies {
		repo := fmt.Sprintf("wasm/w%02d", i)
		f.publish(b, repo, true)
		pod := corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: f.reg.Ref(repo, "v1")}}}}
		bodies[i], _ = json.Marshal(admissionReview(b, podKind, pod))
	}
	h := f.server.Handler()
	post := func(i int) {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, serve.PathValidate, bytes.NewReader(bodies[i%len(bodies)])))
		if w.Code != http.StatusOK || !bytes.Contains(w.Body.Bytes(), []byte(`"allowed":true`)) {
			b.Errorf("request %d: %d %s", i, w.Code, w.Body.String())
		}
	}
	for i := range bodies {
		post(i) // each artifact verified once
	}
	b.ResetTimer()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < b.N; i = int(next.Add(1)) - 1 {
				post(i)
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "heap-MiB")
}
