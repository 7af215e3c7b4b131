// Command admission-load sends AdmissionReview requests for Pods to a
// wasmgate-serve validating endpoint, for bench/serve.sh: round-robin over
// the images listed in a file, with a fixed number of concurrent clients,
// and prints the latency percentiles, the throughput and the verdicts as
// JSON.
//
//	admission-load -url http://127.0.0.1:PORT/admission/v1/validate -images images.txt -requests 10000 -concurrency 32
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
)

func main() {
	url := flag.String("url", "", "the validating endpoint")
	imagesFile := flag.String("images", "", "a file with one image reference per line")
	requests := flag.Int("requests", 1000, "requests to send")
	concurrency := flag.Int("concurrency", 32, "requests in flight")
	flag.Parse()
	raw, err := os.ReadFile(*imagesFile)
	if err != nil {
		log.Fatal(err)
	}
	images := strings.Fields(string(raw))
	if *url == "" || len(images) == 0 {
		log.Fatal("admission-load: -url and -images are required")
	}
	bodies := make([][]byte, len(images))
	for i, im := range images {
		pod := corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"}, ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: "bench"},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: im}}}}
		obj, _ := json.Marshal(pod)
		rev := admissionv1.AdmissionReview{TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
			Request: &admissionv1.AdmissionRequest{UID: types.UID(fmt.Sprint(i)), Kind: metav1.GroupVersionKind{Version: "v1", Kind: "Pod"},
				Operation: admissionv1.Create, Namespace: "bench", Object: runtime.RawExtension{Raw: obj}}}
		bodies[i], _ = json.Marshal(rev)
	}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: *concurrency}}
	latencies := make([]time.Duration, *requests)
	var next, allowed, denied, failed atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range *concurrency {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= *requests {
					return
				}
				t0 := time.Now()
				resp, err := client.Post(*url, "application/json", bytes.NewReader(bodies[i%len(bodies)]))
				if err != nil {
					failed.Add(1)
					continue
				}
				var out admissionv1.AdmissionReview
				err = json.NewDecoder(resp.Body).Decode(&out)
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				latencies[i] = time.Since(t0)
				switch {
				case err != nil || resp.StatusCode != http.StatusOK || out.Response == nil:
					failed.Add(1)
				case out.Response.Allowed:
					allowed.Add(1)
				default:
					denied.Add(1)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(latencies)
	pct := func(p float64) float64 {
		return float64(latencies[min(len(latencies)-1, int(p*float64(len(latencies))))].Microseconds()) / 1000
	}
	_ = json.NewEncoder(os.Stdout).Encode(map[string]any{
		"requests": *requests, "concurrency": *concurrency, "images": len(images),
		"allowed": allowed.Load(), "denied": denied.Load(), "failed": failed.Load(),
		"p50Ms": pct(0.50), "p99Ms": pct(0.99), "maxMs": pct(1), "seconds": elapsed.Seconds(),
		"perSecond": float64(*requests) / elapsed.Seconds(),
	})
}
