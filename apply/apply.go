package apply

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/opencontainers/go-digest"

	"github.com/wasmgate/wasmgate/access"
	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/internal/atomicfile"
	"github.com/wasmgate/wasmgate/internal/boundedio"
	"github.com/wasmgate/wasmgate/loader"
	"github.com/wasmgate/wasmgate/permissions"
	"github.com/wasmgate/wasmgate/verify"
)

// DefaultConcurrency is how many components are applied at once: enough
// to keep a registry's round trips overlapped (a component is about five
// in a row). Each component in flight holds its wasm in memory, at most its
// policy's layer bound.
const DefaultConcurrency = 16

// recordFile, in a component's directory, records what was verified.
const recordFile = ".wasmgate-verified.json"

// ErrNotPinned: strict mode and a reference not pinned by digest.
var ErrNotPinned = errors.New("strict mode requires references pinned by digest")

// Options shape Apply.
type Options struct {
	// Dir holds one directory per component, named after it. Required.
	Dir string
	// Strict refuses references not pinned by digest (before any work).
	Strict bool
	// Concurrency bounds the components applied at once; 0 means
	// DefaultConcurrency.
	Concurrency int
	// Verify shapes every verification.
	Verify verify.Options
	// Load shapes the loading of the trust policies (how Sigstore trust
	// roots are obtained).
	Load verify.LoadOptions
}

// Status is what became of one component.
type Status string

const (
	// StatusPresent: already verified and written for this digest, policy
	// and trust material, and the files still match; nothing fetched.
	StatusPresent Status = "present"
	// StatusApplied: verified now and written.
	StatusApplied Status = "applied"
	// StatusDenied: verification denied it; nothing written.
	StatusDenied Status = "denied"
	// StatusRefused: verified, but its policy asks for more than its
	// grants allow; nothing written.
	StatusRefused Status = "refused"
	// StatusError: could not decide (registry, network, time).
	StatusError Status = "error"
)

// Outcome is the result for one component.
type Outcome struct {
	Name      string          `json:"name"`
	Reference string          `json:"reference"`
	Digest    digest.Digest   `json:"digest,omitempty"`
	Status    Status          `json:"status"`
	Reason    string          `json:"reason,omitempty"`
	Err       error           `json:"-"`
	Files     verify.Files    `json:"files,omitzero"`
	Sandbox   *loader.Sandbox `json:"sandbox,omitempty"`
	Result    *verify.Result  `json:"verification,omitempty"`
}

// record is what recordFile holds.
type record struct {
	Reference   string        `json:"reference"`
	Digest      digest.Digest `json:"digest"`
	Wasm        digest.Digest `json:"wasm"`
	WasmFile    string        `json:"wasmFile"`
	Policy      digest.Digest `json:"policy,omitempty"`
	PolicyFile  string        `json:"policyFile,omitempty"`
	TrustPolicy digest.Digest `json:"trustPolicy"`
	TrustDigest digest.Digest `json:"trustDigest"`
}

// Apply provisions every component of spec: in parallel, each verified
// under its trust policy through opener, its sandbox checked against its
// grants, and its verified files written to opts.Dir/<name>. A component
// that fails does not stop the others; the outcomes say what happened to
// each, in spec order. The error is for what stops everything before any
// work: a trust policy that does not load, an unpinned reference in strict
// mode.
func Apply(ctx context.Context, spec *Spec, opener *access.Opener, opts Options) ([]Outcome, error) {
	if opts.Dir == "" {
		return nil, errors.New("apply: Options.Dir is required")
	}
	policies := map[string]*verify.Policy{}
	for _, c := range spec.Components {
		if opts.Strict {
			if ref, _ := artifact.ParseReference(c.Ref); ref.Digest == "" {
				return nil, fmt.Errorf("%w: %s: %s", ErrNotPinned, c.Name, c.Ref)
			}
		}
		path := spec.policyPath(c)
		if policies[path] == nil {
			p, err := verify.LoadPolicy(ctx, path, opts.Load)
			if err != nil {
				return nil, err
			}
			policies[path] = p
		}
	}
	if opts.Verify.Layers == nil {
		// Components that share a layer (one module under several
		// configurations) fetch and hash it once.
		opts.Verify.Layers = verify.NewLayerMemo(0)
	}
	out := make([]Outcome, len(spec.Components))
	n := opts.Concurrency
	if n <= 0 {
		n = DefaultConcurrency
	}
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	for i, c := range spec.Components {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			out[i] = applyOne(ctx, spec, c, policies[spec.policyPath(c)], opener, opts)
		}()
	}
	wg.Wait()
	return out, nil
}

func applyOne(ctx context.Context, spec *Spec, c Component, policy *verify.Policy, opener *access.Opener, opts Options) Outcome {
	o := Outcome{Name: c.Name, Reference: c.Ref}
	host, err := spec.host(c)
	if err != nil {
		return o.fail(StatusError, err)
	}
	dir := filepath.Join(opts.Dir, c.Name)
	if rec, perms, ok := present(dir, c.Ref, policy); ok {
		o.Digest, o.Status = rec.Digest, StatusPresent
		o.Files = verify.Files{Wasm: filepath.Join(dir, rec.WasmFile)}
		if rec.PolicyFile != "" {
			o.Files.Policy = filepath.Join(dir, rec.PolicyFile)
		}
		if o.Sandbox, err = loader.Effective(perms, host); err != nil {
			return o.fail(StatusRefused, err)
		}
		return o
	}
	ref, err := artifact.ParseReference(c.Ref)
	if err != nil {
		return o.fail(StatusError, err)
	}
	v, err := verify.New(policy, opener, opts.Verify)
	if err != nil {
		return o.fail(StatusError, err)
	}
	a, res, err := v.Fetch(ctx, ref)
	o.Result = res
	if res != nil {
		o.Digest = res.Digest
	}
	if err != nil {
		if res != nil && res.Verdict == verify.VerdictDenied {
			return o.fail(StatusDenied, err)
		}
		return o.fail(StatusError, err)
	}
	if o.Sandbox, err = loader.Effective(a.Permissions(), host); err != nil {
		return o.fail(StatusRefused, err)
	}
	if _, err := loader.CheckComponent(a); err != nil {
		return o.fail(StatusRefused, err)
	}
	if o.Files, err = a.WriteFiles(dir); err != nil {
		return o.fail(StatusError, err)
	}
	rec := record{Reference: a.Reference(), Digest: a.Digest(), Wasm: a.WasmDigest(), WasmFile: filepath.Base(o.Files.Wasm),
		TrustPolicy: policy.Digest(), TrustDigest: policy.TrustDigest()}
	if raw := a.PolicyLayer(); raw != nil {
		rec.Policy, rec.PolicyFile = digest.FromBytes(raw), filepath.Base(o.Files.Policy)
	}
	if err := writeRecord(dir, rec); err != nil {
		return o.fail(StatusError, err)
	}
	o.Status = StatusApplied
	return o
}

func (o Outcome) fail(s Status, err error) Outcome {
	o.Status, o.Err, o.Reason = s, err, err.Error()
	return o
}

// present reports whether dir already holds ref verified under policy: the
// record names the same pinned digest, policy and trust material, and the
// files hash to what was verified. Only a reference pinned by digest can
// be present: a tag must be resolved, which is a fetch.
func present(dir, ref string, policy *verify.Policy) (record, *permissions.Policy, bool) {
	var rec record
	r, err := artifact.ParseReference(ref)
	if err != nil || r.Digest == "" {
		return rec, nil, false
	}
	raw, err := boundedio.ReadFile(filepath.Join(dir, recordFile), 64<<10)
	if err != nil || json.Unmarshal(raw, &rec) != nil {
		return rec, nil, false
	}
	if rec.Digest != r.Digest || rec.TrustPolicy != policy.Digest() || rec.TrustDigest != policy.TrustDigest() ||
		filepath.Base(rec.WasmFile) != rec.WasmFile || filepath.Base(rec.PolicyFile) != rec.PolicyFile {
		return rec, nil, false
	}
	if d, err := hashFile(filepath.Join(dir, rec.WasmFile)); err != nil || d != rec.Wasm {
		return rec, nil, false
	}
	if rec.PolicyFile == "" {
		return rec, nil, true
	}
	praw, err := boundedio.ReadFile(filepath.Join(dir, rec.PolicyFile), permissions.MaxSize)
	if err != nil || digest.FromBytes(praw) != rec.Policy {
		return rec, nil, false
	}
	perms, err := permissions.Parse(praw)
	if err != nil {
		return rec, nil, false
	}
	return rec, perms, true
}

func hashFile(path string) (digest.Digest, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return digest.NewDigest(digest.SHA256, h), nil
}

// writeRecord writes the record last, by temp file and rename: a crash
// before it leaves a directory that is not present and is applied again.
func writeRecord(dir string, rec record) error {
	raw, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dir, recordFile), raw)
}
