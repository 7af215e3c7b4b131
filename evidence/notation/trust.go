package notation

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/notaryproject/notation-go/dir"
	"github.com/notaryproject/notation-go/verifier/trustpolicy"
	"github.com/notaryproject/notation-go/verifier/truststore"
	"github.com/opencontainers/go-digest"

	"github.com/wasmgate/wasmgate/internal/boundedio"
)

// MaxTrustPolicyBytes bounds trustpolicy.json.
const MaxTrustPolicyBytes = 1 << 20

// Trust is the trust material of a Notation user: a trust policy document
// and the certificates of every trust store it names, read once by
// [LoadTrust]. A Trust is immutable and safe for concurrent use.
type Trust struct {
	policy *trustpolicy.Document
	stores memoryStore
}

// LoadTrust reads the trust policy at policyPath (the OCI trustpolicy.json
// of the Notary Project, version 1.0) and, from storeDir, every trust store
// a statement names. storeDir is a notation configuration directory (the
// one holding truststore/, as $XDG_CONFIG_HOME/notation does) or the
// truststore directory itself (the one holding x509/); both are laid out
// as the notation CLI lays them out:
// truststore/x509/{ca,signingAuthority,tsa}/<name>/*.{pem,crt}.
//
// Nothing is read from the user's home: both paths are required. Stores
// are read with notation-go's own reader, so what notation refuses is
// refused here (symlinks, subdirectories, certificates that are neither CA
// nor self-signed); unlike notation, which reads a store when a signature
// first needs it, every store a statement names must be valid now.
// Errors wrap [ErrInvalidTrustPolicy] or [ErrInvalidTrustStore] and
// notation-go's error.
func LoadTrust(policyPath, storeDir string) (*Trust, error) {
	if policyPath == "" || storeDir == "" {
		return nil, fmt.Errorf("%w: both a trust policy file and a trust store directory are required", ErrInvalidTrustPolicy)
	}
	raw, err := boundedio.ReadFile(policyPath, MaxTrustPolicyBytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalidTrustPolicy, policyPath, err)
	}
	doc, err := ParseTrustPolicy(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", policyPath, err)
	}
	stores, err := loadStores(storeDir, doc.TrustPolicies)
	if err != nil {
		return nil, err
	}
	return &Trust{policy: doc, stores: stores}, nil
}

// loadStores reads, from storeDir, every trust store the statements name
// (see [LoadTrust]).
func loadStores(storeDir string, statements []trustpolicy.TrustPolicy) (memoryStore, error) {
	fsys, err := openStoreDir(storeDir)
	if err != nil {
		return nil, err
	}
	reader := truststore.NewX509TrustStore(fsys)
	stores := memoryStore{}
	for _, p := range statements {
		for _, ref := range p.TrustStores {
			if _, ok := stores[ref]; ok {
				continue
			}
			typ, name, _ := strings.Cut(ref, ":") // Validate checked the separator
			certs, err := reader.GetCertificates(context.Background(), truststore.Type(typ), name)
			if err != nil {
				return nil, fmt.Errorf("%w: %s (named by trust policy %q) in %s: %w", ErrInvalidTrustStore, ref, p.Name, storeDir, err)
			}
			stores[ref] = certs
		}
	}
	return stores, nil
}

// ParseTrustPolicy parses and validates a trust policy document with
// notation-go's rules. Errors wrap [ErrInvalidTrustPolicy].
func ParseTrustPolicy(raw []byte) (*trustpolicy.Document, error) {
	var doc trustpolicy.Document
	if err := json.NewDecoder(bytes.NewReader(raw)).Decode(&doc); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidTrustPolicy, err)
	}
	if err := doc.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidTrustPolicy, err)
	}
	return &doc, nil
}

// Policy returns a copy of the trust policy document.
func (t *Trust) Policy() trustpolicy.Document {
	out := trustpolicy.Document{Version: t.policy.Version}
	for _, p := range t.policy.TrustPolicies {
		p.RegistryScopes = append([]string(nil), p.RegistryScopes...)
		p.TrustStores = append([]string(nil), p.TrustStores...)
		p.TrustedIdentities = append([]string(nil), p.TrustedIdentities...)
		out.TrustPolicies = append(out.TrustPolicies, p)
	}
	return out
}

// applicable returns the statement that covers scope, as notation selects
// it (an exact registry scope, else "*") for subject, the artifact in that
// scope being verified (its name is in notation-go's error).
func (t *Trust) applicable(scope string, subject digest.Digest) (*trustpolicy.TrustPolicy, *trustpolicy.VerificationLevel, error) {
	p, err := t.policy.GetApplicableTrustPolicy(scope + "@" + subject.String())
	if err != nil {
		return nil, nil, &NoTrustPolicyError{Scope: scope, Reference: scope + "@" + subject.String(), Err: err}
	}
	level, err := p.SignatureVerification.GetVerificationLevel()
	if err != nil { // Validate accepted it
		return nil, nil, fmt.Errorf("%w: %w", ErrInvalidTrustPolicy, err)
	}
	return p, level, nil
}

// memoryStore is the trust stores read by LoadTrust, keyed "type:name":
// verification reads no file, so a store edited meanwhile cannot change
// one verdict halfway.
type memoryStore map[string][]*x509.Certificate

func (m memoryStore) GetCertificates(_ context.Context, typ truststore.Type, name string) ([]*x509.Certificate, error) {
	certs, ok := m[string(typ)+":"+name]
	if !ok {
		return nil, truststore.TrustStoreError{Msg: fmt.Sprintf("trust store %s:%s was not loaded", typ, name)}
	}
	return append([]*x509.Certificate(nil), certs...), nil
}

// storeFS presents a trust store directory to notation-go's reader, which
// asks for "truststore/x509/...": root is the configuration directory, or
// the truststore directory itself with that prefix dropped.
type storeFS struct {
	fs.FS
	root      string
	storeRoot bool
}

func (s storeFS) SysPath(items ...string) (string, error) {
	p := path.Join(items...)
	if s.storeRoot {
		rest, ok := strings.CutPrefix(p, dir.TrustStoreDir+"/")
		if !ok {
			return "", fmt.Errorf("%q is outside the trust store", p)
		}
		p = rest
	}
	return filepath.Join(s.root, filepath.FromSlash(p)), nil
}

func openStoreDir(d string) (dir.SysFS, error) {
	isDir := func(p string) bool {
		fi, err := os.Lstat(p)
		return err == nil && fi.IsDir()
	}
	switch {
	case isDir(filepath.Join(d, dir.TrustStoreDir)):
		return storeFS{FS: os.DirFS(d), root: d}, nil
	case isDir(filepath.Join(d, "x509")):
		return storeFS{FS: os.DirFS(d), root: d, storeRoot: true}, nil
	}
	if _, err := os.Stat(d); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidTrustStore, err)
	}
	return nil, fmt.Errorf("%w: %s holds neither truststore/ (a notation configuration directory) nor x509/ (a trust store directory)", ErrInvalidTrustStore, d)
}
