package serve

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// KyvernoRequest is the body of a Kyverno apiCall (or CEL http.Post) to
// PathKyverno: the images of the resource under admission. deploy/kyverno
// has a ClusterPolicy that builds it.
type KyvernoRequest struct {
	Images []string `json:"images"`
}

// KyvernoResponse is what the policy's conditions read: allowed, and a
// message naming every image that is not, and why.
type KyvernoResponse struct {
	Allowed bool       `json:"allowed"`
	Message string     `json:"message"`
	Results []Decision `json:"results"`
}

func (s *Server) kyverno(ctx context.Context, body []byte) (any, error) {
	var req KyvernoRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, fmt.Errorf("not a wasmgate Kyverno request ({\"images\": [...]}): %w", err)
	}
	decisions, err := s.checkAll(ctx, req.Images)
	if err != nil {
		return nil, err
	}
	resp := KyvernoResponse{Allowed: true, Results: decisions}
	var denied []string
	for i, d := range decisions {
		decisions[i].Result = nil // the conditions read the summary; the full report is in the logs and /gatekeeper

		if !d.Allowed {
			resp.Allowed = false
			denied = append(denied, d.Message())
		}
	}
	resp.Message = "every image verified"
	if len(denied) > 0 {
		resp.Message = "wasmgate: " + strings.Join(denied, "; ")
	}
	return resp, nil
}
