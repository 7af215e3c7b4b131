package serve

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/open-policy-agent/frameworks/constraint/pkg/externaldata"
)

// GatekeeperAPIVersion is the external data protocol's version.
const GatekeeperAPIVersion = "externaldata.gatekeeper.sh/v1beta1"

// GatekeeperValue is the value of one item of a ProviderResponse: what a
// ConstraintTemplate reads (deploy/gatekeeper has one).
type GatekeeperValue struct {
	Allowed bool     `json:"allowed"`
	Verdict string   `json:"verdict"`
	Digest  string   `json:"digest,omitempty"`
	Pinned  string   `json:"pinned,omitempty"`
	Message string   `json:"message"`
	Reasons []string `json:"reasons,omitempty"`
}

// gatekeeper answers a ProviderRequest: one item per key, its value a
// GatekeeperValue, or its error when no verdict was reached (Gatekeeper
// reports item errors; a template denies on them: fail closed).
// systemError is for the service itself (no policy loaded).
func (s *Server) gatekeeper(ctx context.Context, body []byte) (any, error) {
	var req externaldata.ProviderRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, fmt.Errorf("not a Gatekeeper ProviderRequest: %w", err)
	}
	if req.Kind != "" && req.Kind != externaldata.ProviderRequestKind {
		return nil, fmt.Errorf("kind %q: want %s", req.Kind, externaldata.ProviderRequestKind)
	}
	resp := externaldata.ProviderResponse{APIVersion: GatekeeperAPIVersion, Kind: externaldata.ProviderResponseKind}
	if !s.Ready() {
		resp.Response.SystemError = ErrNoPolicy.Error()
		return resp, nil
	}
	decisions, err := s.checkAll(ctx, req.Request.Keys)
	if err != nil {
		return nil, err
	}
	resp.Response.Items = make([]externaldata.Item, len(decisions))
	for i, d := range decisions {
		item := externaldata.Item{Key: req.Request.Keys[i]}
		if d.Err != nil {
			item.Error = d.Message()
		} else {
			item.Value = GatekeeperValue{Allowed: d.Allowed, Verdict: string(d.Verdict), Digest: d.Digest.String(),
				Pinned: d.Pinned, Message: d.Message(), Reasons: d.Reasons}
		}
		resp.Response.Items[i] = item
	}
	return resp, nil
}
