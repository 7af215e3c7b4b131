package notation

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/notaryproject/notation-go/dir"
)

// The trust policy files of a Notation configuration directory, as the
// notation CLI names them: the OCI policy (trustpolicy.oci.json, else the
// older trustpolicy.json) and the blob policy.
const (
	PathOCITrustPolicy  = "trustpolicy.oci.json"
	PathBlobTrustPolicy = "trustpolicy.blob.json"
)

// Config is the trust material of a Notation configuration directory: its
// OCI trust policy and its blob trust policy, each with the trust stores
// it names. Either is nil when the directory has no such policy.
type Config struct {
	OCI  *Trust
	Blob *BlobTrust
	// OCIPolicy and BlobPolicy are the files read ("" when absent).
	OCIPolicy, BlobPolicy string
}

// LoadConfig reads the trust policies of the Notation configuration
// directory configDir (what notation reads from $XDG_CONFIG_HOME/notation;
// nothing is read from the user's home unless configDir is it), finding
// them as the notation CLI does: the OCI policy in trustpolicy.oci.json,
// else in trustpolicy.json; the blob policy in trustpolicy.blob.json; the
// trust stores under configDir/truststore. A policy that is there must
// load ([LoadTrust], [LoadBlobTrust]); a directory with neither is an
// error wrapping [ErrInvalidTrustPolicy].
func LoadConfig(configDir string) (*Config, error) {
	if configDir == "" {
		return nil, fmt.Errorf("%w: no Notation configuration directory", ErrInvalidTrustPolicy)
	}
	var c Config
	for _, name := range []string{PathOCITrustPolicy, dir.PathTrustPolicy} {
		p, err := existing(configDir, name)
		if err != nil {
			return nil, err
		}
		if p != "" {
			if c.OCI, err = LoadTrust(p, configDir); err != nil {
				return nil, err
			}
			c.OCIPolicy = p
			break
		}
	}
	p, err := existing(configDir, PathBlobTrustPolicy)
	if err != nil {
		return nil, err
	}
	if p != "" {
		if c.Blob, err = LoadBlobTrust(p, configDir); err != nil {
			return nil, err
		}
		c.BlobPolicy = p
	}
	if c.OCI == nil && c.Blob == nil {
		return nil, fmt.Errorf("%w: %s holds none of %s, %s, %s", ErrInvalidTrustPolicy, configDir, PathOCITrustPolicy, dir.PathTrustPolicy, PathBlobTrustPolicy)
	}
	return &c, nil
}

// existing is configDir/name when it exists, "" when it does not.
func existing(configDir, name string) (string, error) {
	p := filepath.Join(configDir, name)
	if _, err := os.Stat(p); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", nil
		}
		return "", fmt.Errorf("%w: %w", ErrInvalidTrustPolicy, err)
	}
	return p, nil
}
