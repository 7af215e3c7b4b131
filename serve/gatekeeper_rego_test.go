package serve_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	frameworksapis "github.com/open-policy-agent/frameworks/constraint/pkg/apis"
	constraintclient "github.com/open-policy-agent/frameworks/constraint/pkg/client"
	"github.com/open-policy-agent/frameworks/constraint/pkg/client/drivers/rego"
	"github.com/open-policy-agent/frameworks/constraint/pkg/client/reviews"
	"github.com/open-policy-agent/frameworks/constraint/pkg/externaldata"
	"github.com/open-policy-agent/gatekeeper/v3/pkg/gator/reader"
	"github.com/open-policy-agent/gatekeeper/v3/pkg/target"
	"github.com/open-policy-agent/gatekeeper/v3/pkg/util"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
	"github.com/wasmgate/wasmgate/serve"
)

// Gatekeeper as it runs in a cluster, in process: its admission target,
// frameworks/constraint's Rego driver with external data (the provider
// cache holding deploy/gatekeeper/provider.yaml's Provider, pointed at the
// test server over TLS 1.3), deploy/gatekeeper's ConstraintTemplate and
// Constraint as shipped, and Pods reviewed as the webhook reviews them. No
// Kubernetes API server runs here (its binaries are not served): this is
// Gatekeeper up to the point where it would answer the API server.
func TestGatekeeperConstraintTemplate(t *testing.T) {
	f := newFleet(t, serve.Options{})
	ctx := testkit.Context(t)

	providers := externaldata.NewCache()
	if err := providers.Upsert(f.provider()); err != nil {
		t.Fatal(err)
	}
	driver, err := rego.New(rego.Tracing(false), rego.AddExternalDataProviderCache(providers), rego.Externs())
	if err != nil {
		t.Fatal(err)
	}
	gk, err := constraintclient.NewClient(constraintclient.Targets(&target.K8sValidationTarget{}), constraintclient.Driver(driver),
		constraintclient.EnforcementPoints(util.WebhookEnforcementPoint))
	if err != nil {
		t.Fatal(err)
	}
	scheme := runtime.NewScheme()
	if err := frameworksapis.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	deploy := os.DirFS("../deploy/gatekeeper")
	tmpl, err := reader.ReadTemplate(scheme, deploy, "template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gk.AddTemplate(ctx, tmpl); err != nil {
		t.Fatalf("deploy/gatekeeper/template.yaml: %v", err)
	}
	constraint, err := reader.ReadConstraint(deploy, "constraint.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gk.AddConstraint(ctx, constraint); err != nil {
		t.Fatalf("deploy/gatekeeper/constraint.yaml: %v", err)
	}

	review := func(images ...string) []string {
		t.Helper()
		pod := corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"}, ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: "apps"}}
		for i, im := range images {
			pod.Spec.Containers = append(pod.Spec.Containers, corev1.Container{Name: "c" + string(rune('a'+i)), Image: im})
		}
		raw, err := json.Marshal(pod)
		if err != nil {
			t.Fatal(err)
		}
		req := &admissionv1.AdmissionRequest{UID: "3f2a", Kind: podKind, Resource: metav1.GroupVersionResource{Version: "v1", Resource: "pods"},
			Namespace: "apps", Name: "app", Operation: admissionv1.Create, Object: runtime.RawExtension{Raw: raw}}
		resp, err := gk.Review(ctx, &target.AugmentedReview{AdmissionRequest: req, IsAdmission: true, Source: "Original"},
			reviews.EnforcementPoint(util.WebhookEnforcementPoint))
		if err != nil {
			t.Fatal(err)
		}
		var msgs []string
		for _, r := range resp.Results() {
			msgs = append(msgs, r.Msg)
		}
		return msgs
	}
	if msgs := review(f.signed); len(msgs) != 0 {
		t.Errorf("a signed image: %v", msgs)
	}
	msgs := review(f.signed, f.unsigned)
	if len(msgs) != 1 || !strings.Contains(msgs[0], f.unsigned) || !strings.Contains(msgs[0], "no signature found") {
		t.Errorf("one unsigned image: %v", msgs)
	}
	// No verdict (the repository does not exist): denied, fail closed.
	if msgs := review(f.reg.Ref("wasm/absent", "v1")); len(msgs) != 1 || !strings.Contains(msgs[0], "could not be verified") {
		t.Errorf("an image that cannot be verified: %v", msgs)
	}
}
