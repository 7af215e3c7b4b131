package intoto

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	in_toto "github.com/in-toto/in-toto-golang/in_toto"
)

// Bounds on what one VerifyLayout reads, sublayouts included. A link lists
// every material and product with its hashes, so a link of a large source
// tree runs to megabytes.
const (
	MaxLayoutBytes    = 4 << 20
	MaxLinkBytes      = 16 << 20
	MaxLinks          = 1024
	MaxSublayoutDepth = 4
)

// LayoutResult is what VerifyLayout found. Inspections are never run (see
// ErrInspections): a layout that has any is refused, and Inspections
// lists them.
type LayoutResult struct {
	Verified bool      `json:"verified"`
	Expires  time.Time `json:"expires"`
	Readme   string    `json:"readme,omitempty"`
	// OwnerKeys are the key IDs of the layout keys whose signatures
	// verified (in-toto requires every key given to have signed).
	OwnerKeys   []string     `json:"ownerKeyIds,omitempty"`
	Steps       []StepResult `json:"steps,omitempty"`
	Inspections []string     `json:"inspections,omitempty"`
	// Materials and Products are the supply chain's summary as in-toto
	// makes it (GetSummaryLink): the first step's materials and the last
	// step's products, the final product set.
	Materials map[string]map[string]string `json:"materials,omitempty"`
	Products  map[string]map[string]string `json:"products,omitempty"`
	// Product is the final product VerifyLayoutFor matched to the artifact.
	Product string `json:"product,omitempty"`
	// Warnings are in-toto's soft checks: a link whose command differs from
	// its step's expected command does not fail verification.
	Warnings []string `json:"warnings,omitempty"`
	// FailedStep ("outer/inner" inside a sublayout) and FailedRule say
	// where verification failed; Reason says why; Err is the typed error.
	FailedStep string   `json:"failedStep,omitempty"`
	FailedRule []string `json:"failedRule,omitempty"`
	Reason     string   `json:"reason,omitempty"`
	Err        error    `json:"-"`
}

// StepResult is one step of a layout: whose links counted toward its
// threshold and, for a step carried out under a sublayout, that
// sublayout's result.
type StepResult struct {
	Name            string   `json:"name"`
	Threshold       int      `json:"threshold"`
	ExpectedCommand []string `json:"expectedCommand,omitempty"`
	// Functionaries are the key IDs whose links have a valid signature and
	// were counted, sorted.
	Functionaries []string      `json:"functionaries,omitempty"`
	Sublayout     *LayoutResult `json:"sublayout,omitempty"`
}

// LayoutError says which check of a layout failed, on which step and
// rule; it wraps both its Kind (one of the sentinels in errors.go) and the
// error in-toto-golang returned.
type LayoutError struct {
	Kind error
	Step string   // "" for the layout itself; "outer/inner" in a sublayout
	Rule []string // the artifact rule, for ErrArtifactRule
	Err  error
}

func (e *LayoutError) Error() string {
	var b strings.Builder
	b.WriteString(e.Kind.Error())
	if e.Step != "" {
		fmt.Fprintf(&b, ": step %q", e.Step)
	}
	if e.Rule != nil {
		fmt.Fprintf(&b, ": rule %q", strings.Join(e.Rule, " "))
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	return b.String()
}

// Unwrap makes errors.Is true for the Kind and for in-toto-golang's error.
func (e *LayoutError) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

// ParseKey reads a layout key (PEM: PKIX or PKCS#1 public key, or a
// certificate) as in-toto-golang does, with its default scheme for the
// key's type, so its key ID is the one in-toto-run and in-toto-sign
// write. A private key is refused: a layout key is the owner's public one.
func ParseKey(pemBytes []byte) (in_toto.Key, error) {
	var k in_toto.Key
	if err := k.LoadKeyReaderDefaults(bytes.NewReader(pemBytes)); err != nil {
		return in_toto.Key{}, err
	}
	if k.KeyVal.Private != "" {
		return in_toto.Key{}, errors.New("a private key: pass the layout owner's public key")
	}
	return k, nil
}

// VerifyLayout verifies a root layout (DSSE or in-toto's signed metadata)
// with the keys of its owner, and its steps' links from links, with
// in-toto-golang's own checks, called one at a time so that a failure
// names its step: the layout's signatures (every key given), its expiry,
// each step's links (a signature by one of its functionaries, at least
// threshold of them), sublayouts (recursively, the functionary's key as
// the sublayout's owner), that the links of a step agree, and each step's
// artifact rules. Command alignment is, as in in-toto, only a warning.
//
// It is InTotoVerify minus two things. Inspections: InTotoVerify runs the
// commands a layout names, and a verifier that runs what the evidence
// tells it to is no gate; a layout with inspections is refused with
// ErrInspections rather than verified without them, because the owner
// made them part of what verified means, and passing without them would
// weaken the layout silently. And parameter substitution: a layout is
// verified as signed.
//
// Two checks are stricter than in-toto-golang's: a link is counted for a
// step only if the name it signed is that step's (in-toto-golang trusts
// the file name), and a step with no valid link fails whatever its
// threshold (in-toto-golang panics on a threshold of 0 with no link).
//
// The result is never nil; its Err is the error returned.
func VerifyLayout(layout []byte, owners []in_toto.Key, links LinkSource) (*LayoutResult, error) {
	v := &verification{}
	defer v.close()
	res := &LayoutResult{}
	keys := make(map[string]in_toto.Key, len(owners))
	for _, k := range owners {
		keys[k.KeyID] = k
	}
	if _, err := v.verify(layout, keys, links, "", 0, res); err != nil {
		return fail(res, err), err
	}
	res.Verified = true
	return res, nil
}

func fail(res *LayoutResult, err error) *LayoutResult {
	res.Err, res.Reason = err, err.Error()
	var le *LayoutError
	if errors.As(err, &le) {
		res.FailedStep, res.FailedRule = le.Step, le.Rule
	}
	return res
}

// verification is the state of one VerifyLayout: the links read so far
// and the scratch directory in-toto-golang's parser reads from.
type verification struct {
	links   int
	scratch string
	n       int
}

func (v *verification) close() {
	if v.scratch != "" {
		os.RemoveAll(v.scratch)
	}
}

// load parses raw with in_toto.LoadMetadata, which reads only from a
// path: raw goes to a private scratch file first rather than through a
// copy of in-toto-golang's parser (DSSE envelope or signed metadata,
// required fields, unknown fields refused).
func (v *verification) load(raw []byte) (in_toto.Metadata, error) {
	if v.scratch == "" {
		dir, err := os.MkdirTemp("", "wasmgate-intoto-")
		if err != nil {
			return nil, err
		}
		v.scratch = dir
	}
	v.n++
	path := filepath.Join(v.scratch, fmt.Sprintf("%d.json", v.n))
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		return nil, err
	}
	defer os.Remove(path)
	return in_toto.LoadMetadata(path)
}

// verify verifies one layout (the root, or a sublayout at path) into res
// and returns its steps' metadata reduced to one link each, from which
// the caller summarizes a sublayout.
func (v *verification) verify(raw []byte, owners map[string]in_toto.Key, src LinkSource, path string, depth int, res *LayoutResult) (map[string]in_toto.Metadata, error) {
	invalid := func(err error) error { return &LayoutError{Kind: ErrInvalidLayout, Step: path, Err: err} }
	if len(raw) > MaxLayoutBytes {
		return nil, invalid(fmt.Errorf("more than %d bytes", MaxLayoutBytes))
	}
	md, err := v.load(raw)
	if err != nil {
		return nil, invalid(err)
	}
	return v.verifyMetadata(md, owners, src, path, depth, res)
}

// verifyMetadata is verify on parsed metadata (a sublayout's, loaded as
// a step's link).
func (v *verification) verifyMetadata(md in_toto.Metadata, owners map[string]in_toto.Key, src LinkSource, path string, depth int, res *LayoutResult) (map[string]in_toto.Metadata, error) {
	invalid := func(err error) error { return &LayoutError{Kind: ErrInvalidLayout, Step: path, Err: err} }
	layout, ok := md.GetPayload().(in_toto.Layout)
	if !ok {
		return nil, invalid(in_toto.ErrNotLayout)
	}
	if err := in_toto.ValidateMetablock(in_toto.Metablock{Signed: layout}); err != nil {
		return nil, invalid(err)
	}
	res.Readme = layout.Readme
	res.Expires, _ = time.Parse(in_toto.ISO8601DateSchema, layout.Expires) // validated above

	if err := in_toto.VerifyLayoutSignatures(md, owners); err != nil {
		return nil, &LayoutError{Kind: ErrLayoutSignature, Step: path, Err: err}
	}
	for id := range owners {
		res.OwnerKeys = append(res.OwnerKeys, id)
	}
	slices.Sort(res.OwnerKeys)
	if len(layout.Inspect) > 0 {
		for _, in := range layout.Inspect {
			res.Inspections = append(res.Inspections, in.Name)
		}
		return nil, &LayoutError{Kind: ErrInspections, Step: path,
			Err: fmt.Errorf("inspections %q", res.Inspections)}
	}
	if err := in_toto.VerifyLayoutExpiration(layout); err != nil {
		return nil, &LayoutError{Kind: ErrLayoutExpired, Step: path, Err: err}
	}
	rootPool, intermediatePool, err := in_toto.LoadLayoutCertificates(layout, nil)
	if err != nil {
		return nil, invalid(err)
	}

	verified := make(map[string]map[string]in_toto.Metadata, len(layout.Steps))
	for _, step := range layout.Steps {
		stepPath := join(path, step.Name)
		loaded, skipped, err := v.stepLinks(src, step.Name)
		if err != nil {
			return nil, &LayoutError{Kind: ErrInvalidLink, Step: stepPath, Err: err}
		}
		// One step at a time, so that the error names the step.
		one := layout
		one.Steps = []in_toto.Step{step}
		good, err := in_toto.VerifyLinkSignatureThesholds(one, map[string]map[string]in_toto.Metadata{step.Name: loaded}, rootPool, intermediatePool)
		if err == nil && len(good[step.Name]) == 0 {
			err = fmt.Errorf("step '%s' has no link with a valid signature from an authorized functionary", step.Name)
		}
		if err != nil {
			return nil, &LayoutError{Kind: ErrLinkThreshold, Step: stepPath, Err: errors.Join(append([]error{err}, skipped...)...)}
		}
		verified[step.Name] = good[step.Name]
		sr := StepResult{Name: step.Name, Threshold: step.Threshold, ExpectedCommand: step.ExpectedCommand}
		for id := range good[step.Name] {
			sr.Functionaries = append(sr.Functionaries, id)
		}
		slices.Sort(sr.Functionaries)
		res.Steps = append(res.Steps, sr)
	}

	// Sublayouts: a step's "link" that is a layout, signed by the
	// functionary, is verified with the functionary's key as its owner and
	// stands for the step as its summary. VerifySublayouts would do this
	// through InTotoVerify, which runs inspections and reads links unbounded.
	for i, step := range layout.Steps {
		for keyID, md := range verified[step.Name] {
			if _, ok := md.GetPayload().(in_toto.Layout); !ok {
				continue
			}
			stepPath := join(path, step.Name)
			if depth+1 > MaxSublayoutDepth {
				return nil, &LayoutError{Kind: ErrInvalidLink, Step: stepPath, Err: fmt.Errorf("sublayouts nested deeper than %d", MaxSublayoutDepth)}
			}
			sub, err := src.Sublayout(step.Name, keyID)
			if err != nil {
				return nil, &LayoutError{Kind: ErrInvalidLink, Step: stepPath, Err: err}
			}
			subRes := &LayoutResult{}
			res.Steps[i].Sublayout = subRes
			reduced, err := v.verifyMetadata(md, map[string]in_toto.Key{keyID: layout.Keys[keyID]}, sub, stepPath, depth+1, subRes)
			if err != nil {
				fail(subRes, err)
				return nil, err
			}
			subRes.Verified = true
			_, dsse := md.(*in_toto.Envelope)
			summary, err := in_toto.GetSummaryLink(md.GetPayload().(in_toto.Layout), reduced, step.Name, dsse)
			if err != nil {
				return nil, &LayoutError{Kind: ErrInvalidLink, Step: stepPath, Err: err}
			}
			verified[step.Name][keyID] = summary
		}
	}

	res.Warnings = append(res.Warnings, commandWarnings(path, layout, verified)...)

	reduced := make(map[string]in_toto.Metadata, len(layout.Steps))
	for _, step := range layout.Steps {
		one := layout
		one.Steps = []in_toto.Step{step}
		r, err := in_toto.ReduceStepsMetadata(one, map[string]map[string]in_toto.Metadata{step.Name: verified[step.Name]})
		if err != nil {
			return nil, &LayoutError{Kind: ErrLinksDisagree, Step: join(path, step.Name), Err: err}
		}
		reduced[step.Name] = r[step.Name]
	}
	for _, step := range layout.Steps {
		if err := in_toto.VerifyArtifacts([]any{step}, reduced); err != nil {
			return nil, &LayoutError{Kind: ErrArtifactRule, Step: join(path, step.Name), Rule: failedRule(step, reduced), Err: err}
		}
	}

	if len(layout.Steps) > 0 {
		summary, err := in_toto.GetSummaryLink(layout, reduced, "", false)
		if err == nil {
			if l, ok := summary.GetPayload().(in_toto.Link); ok {
				res.Materials, res.Products = l.Materials, l.Products
			}
		}
	}
	return reduced, nil
}

// failedRule finds the rule of step that VerifyArtifacts refused, by
// running it again on ever longer prefixes of the step's rules (material
// rules first, as in-toto applies them): in-toto-golang's error names the
// rule only in its text. Nil if no prefix fails.
func failedRule(step in_toto.Step, reduced map[string]in_toto.Metadata) []string {
	try := func(materials, products [][]string) bool {
		s := step
		s.ExpectedMaterials, s.ExpectedProducts = materials, products
		return in_toto.VerifyArtifacts([]any{s}, reduced) != nil
	}
	for k := 1; k <= len(step.ExpectedMaterials); k++ {
		if try(step.ExpectedMaterials[:k], nil) {
			return step.ExpectedMaterials[k-1]
		}
	}
	for k := 1; k <= len(step.ExpectedProducts); k++ {
		if try(step.ExpectedMaterials, step.ExpectedProducts[:k]) {
			return step.ExpectedProducts[k-1]
		}
	}
	return nil
}

// commandWarnings is in_toto.VerifyStepCommandAlignment's comparison,
// made here because that function prints its warnings to the process's
// stdout (which would corrupt a caller's JSON) instead of returning them.
func commandWarnings(path string, layout in_toto.Layout, verified map[string]map[string]in_toto.Metadata) []string {
	var out []string
	for _, step := range layout.Steps {
		expected := strings.Join(step.ExpectedCommand, " ")
		ids := make([]string, 0, len(verified[step.Name]))
		for id := range verified[step.Name] {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		for _, id := range ids {
			link, ok := verified[step.Name][id].GetPayload().(in_toto.Link)
			if !ok {
				continue
			}
			if got := strings.Join(link.Command, " "); got != expected {
				out = append(out, fmt.Sprintf("step %q: the link by %.8s ran %q, the layout expects %q",
					join(path, step.Name), id, got, expected))
			}
		}
	}
	return out
}

func join(path, step string) string {
	if path == "" {
		return step
	}
	return path + "/" + step
}
