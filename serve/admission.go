package serve

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// image is one image reference in an admitted object and where it is.
type image struct {
	ref  string
	path string // JSON Pointer, for a patch
}

// podImages lists the images of a pod spec at pointer prefix.
func podImages(spec corev1.PodSpec, prefix string) []image {
	var out []image
	for i, c := range spec.InitContainers {
		out = append(out, image{c.Image, fmt.Sprintf("%s/initContainers/%d/image", prefix, i)})
	}
	for i, c := range spec.Containers {
		out = append(out, image{c.Image, fmt.Sprintf("%s/containers/%d/image", prefix, i)})
	}
	for i, c := range spec.EphemeralContainers {
		out = append(out, image{c.Image, fmt.Sprintf("%s/ephemeralContainers/%d/image", prefix, i)})
	}
	return out
}

// images lists the images of the object under admission: a Pod, the pod
// template of a workload (Deployment, StatefulSet, DaemonSet, ReplicaSet,
// Job, CronJob), or a SpinKube SpinApp's image. Other kinds have none.
func images(kind metav1.GroupVersionKind, raw []byte) ([]image, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	switch {
	case kind.Group == "" && kind.Kind == "Pod":
		var pod corev1.Pod
		if err := json.Unmarshal(raw, &pod); err != nil {
			return nil, err
		}
		return podImages(pod.Spec, "/spec"), nil
	case (kind.Group == "apps" || kind.Group == "batch") && kind.Kind != "CronJob":
		var w struct {
			Spec struct {
				Template corev1.PodTemplateSpec `json:"template"`
			} `json:"spec"`
		}
		if err := json.Unmarshal(raw, &w); err != nil {
			return nil, err
		}
		return podImages(w.Spec.Template.Spec, "/spec/template/spec"), nil
	case kind.Group == "batch" && kind.Kind == "CronJob":
		var cj struct {
			Spec struct {
				JobTemplate struct {
					Spec struct {
						Template corev1.PodTemplateSpec `json:"template"`
					} `json:"spec"`
				} `json:"jobTemplate"`
			} `json:"spec"`
		}
		if err := json.Unmarshal(raw, &cj); err != nil {
			return nil, err
		}
		return podImages(cj.Spec.JobTemplate.Spec.Template.Spec, "/spec/jobTemplate/spec/template/spec"), nil
	case kind.Group == "core.spinkube.dev" && kind.Kind == "SpinApp":
		var app struct {
			Spec struct {
				Image string `json:"image"`
			} `json:"spec"`
		}
		if err := json.Unmarshal(raw, &app); err != nil {
			return nil, err
		}
		if app.Spec.Image == "" {
			return nil, nil
		}
		return []image{{app.Spec.Image, "/spec/image"}}, nil
	}
	return nil, nil
}

// review reads an AdmissionReview and decides the images of its object.
func (s *Server) review(ctx context.Context, body []byte) (*admissionv1.AdmissionReview, []image, []Decision, error) {
	var rev admissionv1.AdmissionReview
	if err := json.Unmarshal(body, &rev); err != nil {
		return nil, nil, nil, fmt.Errorf("not an AdmissionReview: %w", err)
	}
	if rev.Request == nil {
		return nil, nil, nil, fmt.Errorf("an AdmissionReview without a request")
	}
	imgs, err := images(rev.Request.Kind, rev.Request.Object.Raw)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("the %s under admission does not read: %w", rev.Request.Kind.Kind, err)
	}
	keys := make([]string, len(imgs))
	for i, im := range imgs {
		keys[i] = im.ref
	}
	decisions, err := s.checkAll(ctx, keys)
	if err != nil {
		return nil, nil, nil, err
	}
	rev.Response = &admissionv1.AdmissionResponse{UID: rev.Request.UID, Allowed: true}
	rev.Request = nil // answered without echoing the object back
	return &rev, imgs, decisions, nil
}

// validate allows the object only when every image is allowed; the denial
// names each image that is not, and why, as kubectl prints it.
func (s *Server) validate(ctx context.Context, body []byte) (any, error) {
	rev, _, decisions, err := s.review(ctx, body)
	if err != nil {
		return nil, err
	}
	var denied []string
	for _, d := range decisions {
		switch {
		case !d.Allowed:
			denied = append(denied, d.Message())
		case d.Verdict != "verified":
			rev.Response.Warnings = append(rev.Response.Warnings, "wasmgate: "+d.Message())
		}
	}
	if len(denied) > 0 {
		rev.Response.Allowed = false
		rev.Response.Result = &metav1.Status{Status: metav1.StatusFailure, Code: http.StatusForbidden, Reason: metav1.StatusReasonForbidden,
			Message: "wasmgate: " + strings.Join(denied, "; ")}
	}
	return rev, nil
}

// mutate pins each verified image to the digest that was verified
// ("name:tag" becomes "name:tag@sha256:..."). It allows everything: what
// did not verify is left as it is, for the validating webhook to deny.
func (s *Server) mutate(ctx context.Context, body []byte) (any, error) {
	rev, imgs, decisions, err := s.review(ctx, body)
	if err != nil {
		return nil, err
	}
	type op struct {
		Op    string `json:"op"`
		Path  string `json:"path"`
		Value string `json:"value"`
	}
	var patch []op
	for i, d := range decisions {
		if d.Verdict != "verified" || d.Digest == "" || strings.Contains(imgs[i].ref, "@") {
			continue
		}
		patch = append(patch, op{Op: "replace", Path: imgs[i].path, Value: imgs[i].ref + "@" + d.Digest.String()})
	}
	if len(patch) > 0 {
		raw, err := json.Marshal(patch)
		if err != nil {
			return nil, err
		}
		pt := admissionv1.PatchTypeJSONPatch
		rev.Response.Patch, rev.Response.PatchType = raw, &pt
	}
	return rev, nil
}
