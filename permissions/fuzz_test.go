package permissions

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// FuzzParse checks that Parse never panics, that every rejection is an
// *Error wrapping a sentinel, and that every accepted policy holds only
// values the checks allow and marshals to JSON. The seeds are the fixtures.
//
//	go test -run='^$' -fuzz=FuzzParse -fuzztime=60s ./permissions
func FuzzParse(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("..", "testdata", "policy", "*.yaml"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed fixtures: %v", err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("version: 1.0\npermissions: {resources: {limits: {memory: 512, cpu: 1.5, timeout: 1m}}}\n"))
	f.Add([]byte("version: \"1.0\"\npermissions:\n  network: {allow: [{cidr: \"fd00::/8\"}, {host: \"*\"}]}\n"))
	f.Add([]byte("version: \"1.0\"\nx: &a [*a]\npermissions: {}\n"))
	f.Add([]byte("version: v1\npolicies:\n  - name: all\n    scopes: [\"*\"]\n    allowUnsigned: true\n")) // a trust policy

	sentinels := []error{ErrTooLarge, ErrSyntax, ErrUnsupportedVersion, ErrUnknownField, ErrInvalid}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(data)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error is not a *Error: %v", err)
			}
			found := false
			for _, s := range sentinels {
				found = found || errors.Is(err, s)
			}
			if !found || pe.Error() == "" {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			return
		}
		if _, err := json.Marshal(p.Summary()); err != nil {
			t.Fatalf("Summary does not marshal: %v", err)
		}
		if _, err := json.Marshal(p); err != nil {
			t.Fatalf("Policy does not marshal: %v", err)
		}
		checkInvariants(t, p)
	})
}

func checkInvariants(t *testing.T, p *Policy) {
	t.Helper()
	if p.Version != Version {
		t.Fatalf("version %q accepted", p.Version)
	}
	s := p.Permissions.Storage
	for _, r := range append(append([]StorageRule(nil), s.Allow...), s.Deny...) {
		if reason := checkStorageURI(r.URI); reason != "" || len(r.Access) == 0 || len(r.Access) > 2 {
			t.Fatalf("storage rule %+v accepted (%s)", r, reason)
		}
	}
	n := p.Permissions.Network
	for _, r := range append(append([]NetworkRule(nil), n.Allow...), n.Deny...) {
		set := 0
		if r.Host != "" {
			set++
			if reason := checkHost(r.Host); reason != "" {
				t.Fatalf("host %q accepted: %s", r.Host, reason)
			}
		}
		if r.CIDR != "" {
			set++
			if reason := checkCIDR(r.CIDR); reason != "" {
				t.Fatalf("cidr %q accepted: %s", r.CIDR, reason)
			}
		}
		if r.Defaults {
			set++
		}
		if set != 1 {
			t.Fatalf("network rule %+v accepted", r)
		}
	}
	for _, r := range p.Permissions.Environment.Allow {
		if reason := checkEnvKey(r.Key); reason != "" {
			t.Fatalf("environment key %q accepted: %s", r.Key, reason)
		}
	}
	if l := p.Permissions.Resources.Limits; l.CPUMillis < 0 || l.Timeout < 0 {
		t.Fatalf("negative limits accepted: %+v", l)
	}
}

// FuzzQuantity checks that the quantity parsers never panic and that an
// accepted memory size reads back the same when written in plain bytes.
func FuzzQuantity(f *testing.F) {
	for _, s := range []string{"512Mi", "1Gi", "64M", "1000000", "1.5Gi", "129e6", "500m", "2", "0.5", "1e-3", "16Ei", ".5Ki"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if b, reason := parseMemory(s); reason == "" {
			if b == 0 {
				t.Fatalf("parseMemory(%q) accepted zero", s)
			}
			if again, reason := parseMemory(strconv.FormatUint(b, 10)); reason != "" || again != b {
				t.Fatalf("parseMemory(%q) = %d, but %d reads back as %d (%s)", s, b, b, again, reason)
			}
		}
		if m, reason := parseCPU(s); reason == "" {
			if m <= 0 {
				t.Fatalf("parseCPU(%q) = %d", s, m)
			}
			if again, reason := parseCPU(strconv.FormatInt(m, 10) + "m"); reason != "" || again != m {
				t.Fatalf("parseCPU(%q) = %d, but %dm reads back as %d (%s)", s, m, m, again, reason)
			}
		}
	})
}
