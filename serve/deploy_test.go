package serve_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/open-policy-agent/frameworks/constraint/pkg/apis/externaldata/v1beta1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/yaml"

	"github.com/wasmgate/wasmgate/serve"
)

// documents splits a multi-document YAML file.
func documents(raw []byte) [][]byte {
	var out [][]byte
	for _, d := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(raw), -1) {
		if strings.TrimSpace(regexp.MustCompile(`(?m)^\s*#.*$`).ReplaceAllString(d, "")) != "" {
			out = append(out, []byte(d))
		}
	}
	return out
}

// strict decodes one manifest into the Kubernetes type of its kind,
// refusing any field the type does not have, and returns it.
func strict(t *testing.T, where string, doc []byte) any {
	t.Helper()
	js, err := yaml.YAMLToJSON(doc)
	if err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	var meta struct{ APIVersion, Kind string }
	if err := json.Unmarshal(js, &meta); err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	var obj any
	switch meta.APIVersion + " " + meta.Kind {
	case "v1 Namespace":
		obj = &corev1.Namespace{}
	case "v1 ConfigMap":
		obj = &corev1.ConfigMap{}
	case "v1 Service":
		obj = &corev1.Service{}
	case "apps/v1 Deployment":
		obj = &appsv1.Deployment{}
	case "policy/v1 PodDisruptionBudget":
		obj = &policyv1.PodDisruptionBudget{}
	case "admissionregistration.k8s.io/v1 ValidatingWebhookConfiguration":
		obj = &admissionregistrationv1.ValidatingWebhookConfiguration{}
	case "admissionregistration.k8s.io/v1 MutatingWebhookConfiguration":
		obj = &admissionregistrationv1.MutatingWebhookConfiguration{}
	case "externaldata.gatekeeper.sh/v1beta1 Provider":
		obj = &v1beta1.Provider{}
	default:
		return nil // checked elsewhere (the ConstraintTemplate, Kyverno's policy)
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(obj); err != nil {
		t.Fatalf("%s: %s %s: %v", where, meta.APIVersion, meta.Kind, err)
	}
	return obj
}

// checkManifests checks what the manifests tell the cluster against what
// wasmgate-serve serves: the paths, the port, the probes, the flags.
func checkManifests(t *testing.T, where string, objs []any) {
	t.Helper()
	seen := map[string]bool{}
	for _, o := range objs {
		switch o := o.(type) {
		case *admissionregistrationv1.ValidatingWebhookConfiguration:
			seen["validating"] = true
			for _, w := range o.Webhooks {
				if w.ClientConfig.Service == nil || *w.ClientConfig.Service.Path != serve.PathValidate || *w.ClientConfig.Service.Port != 8443 || *w.FailurePolicy == "" {
					t.Errorf("%s: validating webhook %s: %+v", where, w.Name, w.ClientConfig)
				}
			}
		case *admissionregistrationv1.MutatingWebhookConfiguration:
			seen["mutating"] = true
			for _, w := range o.Webhooks {
				if w.ClientConfig.Service == nil || *w.ClientConfig.Service.Path != serve.PathMutate {
					t.Errorf("%s: mutating webhook %s: %+v", where, w.Name, w.ClientConfig)
				}
			}
		case *v1beta1.Provider:
			seen["provider"] = true
			if !strings.HasPrefix(o.Spec.URL, "https://") || !strings.HasSuffix(o.Spec.URL, serve.PathGatekeeper) || o.Spec.Timeout <= 0 {
				t.Errorf("%s: provider %+v", where, o.Spec)
			}
		case *appsv1.Deployment:
			seen["deployment"] = true
			c := o.Spec.Template.Spec.Containers[0]
			if c.ReadinessProbe.HTTPGet.Path != serve.PathReadyz || c.LivenessProbe.HTTPGet.Path != serve.PathHealthz || c.Ports[0].ContainerPort != 8443 {
				t.Errorf("%s: deployment probes or port: %+v", where, c)
			}
			memLimit := false
			for _, e := range c.Env {
				memLimit = memLimit || (e.Name == "GOMEMLIMIT" && e.ValueFrom != nil && e.ValueFrom.ResourceFieldRef != nil &&
					e.ValueFrom.ResourceFieldRef.Resource == "limits.memory" && c.Resources.Limits.Memory() != nil)
			}
			if !memLimit {
				t.Errorf("%s: deployment: GOMEMLIMIT is not the container's memory limit", where)
			}
			for _, a := range c.Args {
				flag, _, _ := strings.Cut(strings.TrimPrefix(a, "--"), "=")
				if !slices.Contains(serveFlags, flag) {
					t.Errorf("%s: deployment passes %s, which wasmgate-serve does not take", where, a)
				}
			}
		}
	}
	for _, want := range []string{"deployment", "validating"} {
		if !seen[want] {
			t.Errorf("%s: no %s", where, want)
		}
	}
}

// serveFlags are wasmgate-serve's flags (cmd/wasmgate-serve).
var serveFlags = []string{"policy", "addr", "tls-cert", "tls-key", "client-ca", "insecure-listen-http", "plain-http",
	"verified-ttl", "denied-ttl", "request-timeout", "max-in-flight", "max-keys", "max-per-registry", "reload-interval", "read-timeout", "timeout", "log-format", "vsa-verifier-id", "vsa-key", "vsa-trust", "vsa-max-age"}

// The manifests under deploy/ decode strictly as the Kubernetes types they
// name, and point at what wasmgate-serve serves.
func TestDeployManifests(t *testing.T) {
	var objs []any
	files, _ := filepath.Glob("../deploy/*/*.yaml")
	if len(files) < 6 {
		t.Fatalf("deploy/: %d manifests", len(files))
	}
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, doc := range documents(raw) {
			if o := strict(t, file, doc); o != nil {
				objs = append(objs, o)
			}
		}
	}
	checkManifests(t, "deploy/", objs)

	// Kyverno's types are not served here: check what the endpoint reads.
	raw, err := os.ReadFile("../deploy/kyverno/clusterpolicy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cp struct {
		Kind string
		Spec struct {
			Rules []struct {
				Context []struct {
					APICall struct {
						Method  string
						Data    []struct{ Key string }
						Service struct{ URL string }
					} `json:"apiCall"`
				}
			}
		}
	}
	if err := yaml.Unmarshal(raw, &cp); err != nil || cp.Kind != "ClusterPolicy" || len(cp.Spec.Rules) == 0 {
		t.Fatalf("kyverno: %v %+v", err, cp)
	}
	for _, r := range cp.Spec.Rules {
		call := r.Context[0].APICall
		if call.Method != "POST" || !strings.HasSuffix(call.Service.URL, serve.PathKyverno) || call.Data[0].Key != "images" {
			t.Errorf("kyverno rule calls %+v", call)
		}
	}
}

// The Helm chart lints, and renders manifests that decode strictly and
// point at what wasmgate-serve serves, with every front door on. CI
// installs helm (go install helm.sh/helm/v4/cmd/helm); elsewhere the test
// is skipped when helm is missing, and says so.
func TestHelmChart(t *testing.T) {
	helm, err := exec.LookPath("helm")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("CI must have helm: .ci/run installs it")
		}
		t.Skip("helm is not installed (go install helm.sh/helm/v4/cmd/helm@v4.3.2)")
	}
	chart := filepath.Join("..", "deploy", "helm", "wasmgate")
	home := t.TempDir()
	env := append(os.Environ(), "HELM_CACHE_HOME="+home, "HELM_CONFIG_HOME="+home, "HELM_DATA_HOME="+home)
	lint := exec.Command(helm, "lint", "--strict", chart)
	lint.Env = env
	if out, err := lint.CombinedOutput(); err != nil {
		t.Fatalf("helm lint: %v\n%s", err, out)
	}
	tmpl := exec.Command(helm, "template", "wasmgate", chart, "--namespace", "wasmgate-system",
		"--set", "webhooks.mutating=true", "--set", "gatekeeper.provider=true", "--set", "tls.caBundle=Q0E=")
	tmpl.Env = env
	out, err := tmpl.Output()
	if err != nil {
		t.Fatalf("helm template: %v", err)
	}
	var objs []any
	for _, doc := range documents(out) {
		if o := strict(t, "helm template", doc); o != nil {
			objs = append(objs, o)
		}
	}
	checkManifests(t, "helm template", objs)
	if len(objs) != 7 {
		t.Errorf("helm template rendered %d known objects, want 7 (ConfigMap, Deployment, Service, PDB, 2 webhooks, Provider)", len(objs))
	}
}
