package permissions

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testdata", "policy", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestParseValidFixtures(t *testing.T) {
	tests := []struct {
		file string
		want Summary
	}{
		{
			file: "valid-minimal.yaml",
			want: Summary{Version: "1.0"},
		},
		{
			file: "valid-full.yaml",
			want: Summary{
				Version: "1.0",
				Storage: []StorageGrant{
					{URI: "fs:///var/cache/weather/**", Access: []Access{AccessRead, AccessWrite}},
					{URI: "fs://config/weather.yaml", Access: []Access{AccessRead}},
				},
				StorageDeny:     []StorageGrant{{URI: "fs:///var/cache/weather/keys/*", Access: []Access{AccessRead, AccessWrite}}},
				NetworkHosts:    []string{"api.openweathermap.org", "*.tile.openstreetmap.org"},
				NetworkCIDRs:    []string{"10.0.0.0/8"},
				NetworkDefaults: true,
				NetworkDeny:     []string{"*.doubleclick.net", "0.0.0.0/0"},
				EnvKeys:         []string{"OPENWEATHER_API_KEY", "LANG"},
				CPUMillis:       500,
				MemoryBytes:     512 << 20,
				Timeout:         "30s",
			},
		},
		{
			file: "valid-container.yaml",
			want: Summary{
				Version:      "1.0",
				Storage:      []StorageGrant{{URI: "fs://workspace/**", Access: []Access{AccessRead}}},
				NetworkHosts: []string{"localhost:8080"},
				IPC:          []string{"pipe://tool-service"},
				MemoryBytes:  256 << 20, // legacy resources.memory is MB
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			p, err := Parse(readFixture(t, tt.file))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := p.Summary(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Summary:\n got %+v\nwant %+v", got, tt.want)
			}
			if _, err := json.Marshal(p); err != nil {
				t.Errorf("json.Marshal(policy): %v", err)
			}
		})
	}
}

func TestParseFullFixtureDetails(t *testing.T) {
	p, err := Parse(readFixture(t, "valid-full.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Schema == "" || p.Description == "" {
		t.Errorf("$schema and description not kept: %+v", p)
	}
	allow := p.Permissions.Storage.Allow
	if got := allow[0].Path(); got != "/var/cache/weather/**" {
		t.Errorf("Path() = %q", got)
	}
	if !allow[1].Can(AccessRead) || allow[1].Can(AccessWrite) {
		t.Errorf("Can: %+v", allow[1])
	}
	if got := p.Permissions.Resources.Limits.Timeout; got != 30*time.Second {
		t.Errorf("Timeout = %v", got)
	}
}

func TestParseContainerFixtureDetails(t *testing.T) {
	p, err := Parse(readFixture(t, "valid-container.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	res := p.Permissions.Resources
	if res.LegacyCPUPercent == nil || *res.LegacyCPUPercent != 25 || *res.LegacyMemoryMiB != 256 || *res.LegacyIOPS != 500 {
		t.Errorf("legacy resources: %+v", res)
	}
	sec := p.Permissions.Runtime.Docker.Security
	if sec.Privileged == nil || *sec.Privileged || sec.NoNewPrivileges == nil || !*sec.NoNewPrivileges {
		t.Errorf("docker security: %+v", sec)
	}
	if got := sec.Capabilities; !reflect.DeepEqual(got, DockerCapabilities{Drop: []string{"ALL"}, Add: []string{}}) {
		t.Errorf("capabilities: %+v", got)
	}
	if got := p.Permissions.IPC.Deny; len(got) != 1 || got[0].URI != "socket://unix:/run/docker.sock" {
		t.Errorf("ipc deny: %+v", got)
	}
}

func TestParseInvalidFixtures(t *testing.T) {
	tests := []struct {
		file         string
		want         error
		field        string
		line, column int // 0: not asserted
	}{
		{"invalid-unknown-field.yaml", ErrUnknownField, "permissions.storage.allow[0].recursive", 7, 9},
		{"invalid-version.yaml", ErrUnsupportedVersion, "version", 1, 10},
		{"invalid-access.yaml", ErrInvalid, "permissions.storage.allow[1].access[1]", 8, 24},
		{"invalid-uri-scheme.yaml", ErrInvalid, "permissions.storage.allow[0].uri", 5, 14},
		{"invalid-two-documents.yaml", ErrInvalid, "", 3, 1},
		{"invalid-memory.yaml", ErrInvalid, "permissions.resources.limits.memory", 5, 15},
		{"invalid-top-level-resources.yaml", ErrUnknownField, "resources", 3, 1},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			p, err := Parse(readFixture(t, tt.file))
			if err == nil {
				t.Fatalf("Parse accepted it: %+v", p)
			}
			checkError(t, err, tt.want, tt.field, tt.line, tt.column)
		})
	}
}

func checkError(t *testing.T, err, want error, field string, line, column int) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("error %q does not wrap %q", err, want)
	}
	var pe *Error
	if !errors.As(err, &pe) {
		t.Fatalf("error %q is not a *permissions.Error", err)
	}
	if pe.Field != field {
		t.Errorf("Field = %q, want %q (error: %v)", pe.Field, field, err)
	}
	if line > 0 && (pe.Line != line || pe.Column != column) {
		t.Errorf("position = %d:%d, want %d:%d (error: %v)", pe.Line, pe.Column, line, column, err)
	}
	if pe.Reason == "" {
		t.Errorf("empty Reason")
	}
}

// policyWith wraps a permissions body (indented by two spaces) in a valid header.
func policyWith(body string) []byte {
	return []byte("version: \"1.0\"\npermissions:\n" + body)
}

func TestParseRejects(t *testing.T) {
	tests := []struct {
		name  string
		in    []byte
		want  error
		field string
	}{
		{"empty input", []byte(""), ErrInvalid, ""},
		{"comment only", []byte("# nothing\n"), ErrInvalid, ""},
		{"not yaml", []byte("version: [\n"), ErrSyntax, ""},
		{"tab indentation", []byte("version: \"1.0\"\npermissions:\n\tstorage: {}\n"), ErrSyntax, ""},
		{"root is a list", []byte("- version: \"1.0\"\n"), ErrInvalid, ""},
		{"missing version", []byte("permissions: {}\n"), ErrUnsupportedVersion, "version"},
		{"version 1.1", []byte("version: \"1.1\"\npermissions: {}\n"), ErrUnsupportedVersion, "version"},
		{"version integer", []byte("version: 1\npermissions: {}\n"), ErrUnsupportedVersion, "version"},
		{"version 1.00", []byte("version: 1.00\npermissions: {}\n"), ErrUnsupportedVersion, "version"},
		{"version list", []byte("version: [\"1.0\"]\npermissions: {}\n"), ErrUnsupportedVersion, "version"},
		{"missing permissions", []byte("version: \"1.0\"\n"), ErrInvalid, "permissions"},
		{"null permissions", []byte("version: \"1.0\"\npermissions:\n"), ErrInvalid, "permissions"},
		{"duplicate key", []byte("version: \"1.0\"\npermissions: {}\npermissions: {}\n"), ErrInvalid, "permissions"},
		{"non-string key", []byte("version: \"1.0\"\npermissions: {}\n1: x\n"), ErrInvalid, ""},
		{"merge key", []byte("version: \"1.0\"\nbase: &b {}\npermissions:\n  <<: *b\n"), ErrUnknownField, "base"},
		{"alias", []byte("version: \"1.0\"\npermissions:\n  storage:\n    allow:\n      - &g {uri: \"fs:///a\", access: [read]}\n      - *g\n"), ErrInvalid, "permissions.storage.allow[1]"},
		{"description number", []byte("version: \"1.0\"\ndescription: 5\npermissions: {}\n"), ErrInvalid, "description"},
		{"unknown section", policyWith("  filesystem: {}\n"), ErrUnknownField, "permissions.filesystem"},
		{"limits under permissions", policyWith("  limits: {memory: 1Gi}\n"), ErrUnknownField, "permissions.limits"},
		{"environment deny", policyWith("  environment:\n    deny: [{key: HOME}]\n"), ErrUnknownField, "permissions.environment.deny"},
		{"storage is a list", policyWith("  storage: []\n"), ErrInvalid, "permissions.storage"},
		{"allow is a mapping", policyWith("  storage:\n    allow: {uri: \"fs:///a\"}\n"), ErrInvalid, "permissions.storage.allow"},
		{"uri missing", policyWith("  storage:\n    allow: [{access: [read]}]\n"), ErrInvalid, "permissions.storage.allow[0].uri"},
		{"uri not a string", policyWith("  storage:\n    allow: [{uri: 5, access: [read]}]\n"), ErrInvalid, "permissions.storage.allow[0].uri"},
		{"uri empty path", policyWith("  storage:\n    allow: [{uri: \"fs://\", access: [read]}]\n"), ErrInvalid, "permissions.storage.allow[0].uri"},
		{"uri no scheme", policyWith("  storage:\n    allow: [{uri: \"/etc\", access: [read]}]\n"), ErrInvalid, "permissions.storage.allow[0].uri"},
		{"uri upper-case scheme", policyWith("  storage:\n    allow: [{uri: \"FS:///etc\", access: [read]}]\n"), ErrInvalid, "permissions.storage.allow[0].uri"},
		{"uri triple star", policyWith("  storage:\n    allow: [{uri: \"fs://a/***\", access: [read]}]\n"), ErrInvalid, "permissions.storage.allow[0].uri"},
		{"uri ** in segment", policyWith("  storage:\n    allow: [{uri: \"fs://a/**file\", access: [read]}]\n"), ErrInvalid, "permissions.storage.allow[0].uri"},
		{"uri two stars in segment", policyWith("  storage:\n    allow: [{uri: \"fs://a/*x*\", access: [read]}]\n"), ErrInvalid, "permissions.storage.allow[0].uri"},
		{"uri dot-dot", policyWith("  storage:\n    allow: [{uri: \"fs://work/../etc\", access: [read]}]\n"), ErrInvalid, "permissions.storage.allow[0].uri"},
		{"uri NUL", policyWith("  storage:\n    allow: [{uri: \"fs:///a\\0b\", access: [read]}]\n"), ErrInvalid, "permissions.storage.allow[0].uri"},
		{"access missing", policyWith("  storage:\n    allow: [{uri: \"fs:///a\"}]\n"), ErrInvalid, "permissions.storage.allow[0].access"},
		{"access empty", policyWith("  storage:\n    allow: [{uri: \"fs:///a\", access: []}]\n"), ErrInvalid, "permissions.storage.allow[0].access"},
		{"access string", policyWith("  storage:\n    allow: [{uri: \"fs:///a\", access: read}]\n"), ErrInvalid, "permissions.storage.allow[0].access"},
		{"access duplicate", policyWith("  storage:\n    allow: [{uri: \"fs:///a\", access: [read, read]}]\n"), ErrInvalid, "permissions.storage.allow[0].access[1]"},
		{"access upper case", policyWith("  storage:\n    allow: [{uri: \"fs:///a\", access: [READ]}]\n"), ErrInvalid, "permissions.storage.allow[0].access[0]"},
		{"deny access bad", policyWith("  storage:\n    deny: [{uri: \"fs:///a\", access: [rw]}]\n"), ErrInvalid, "permissions.storage.deny[0].access[0]"},
		{"host empty", policyWith("  network:\n    allow: [{host: \"\"}]\n"), ErrInvalid, "permissions.network.allow[0].host"},
		{"host with scheme", policyWith("  network:\n    allow: [{host: \"https://api.example.com\"}]\n"), ErrInvalid, "permissions.network.allow[0].host"},
		{"host inner wildcard", policyWith("  network:\n    allow: [{host: \"api.*.com\"}]\n"), ErrInvalid, "permissions.network.allow[0].host"},
		{"host two wildcards", policyWith("  network:\n    allow: [{host: \"*.*.example.com\"}]\n"), ErrInvalid, "permissions.network.allow[0].host"},
		{"host wildcard no domain", policyWith("  network:\n    deny: [{host: \"*.\"}]\n"), ErrInvalid, "permissions.network.deny[0].host"},
		{"host and cidr", policyWith("  network:\n    allow: [{host: a.com, cidr: 10.0.0.0/8}]\n"), ErrInvalid, "permissions.network.allow[0]"},
		{"network entry empty", policyWith("  network:\n    allow: [{}]\n"), ErrInvalid, "permissions.network.allow[0]"},
		{"network port field", policyWith("  network:\n    allow: [{host: a.com, port: 443}]\n"), ErrUnknownField, "permissions.network.allow[0].port"},
		{"cidr no slash", policyWith("  network:\n    allow: [{cidr: 10.0.0.0}]\n"), ErrInvalid, "permissions.network.allow[0].cidr"},
		{"cidr host bits", policyWith("  network:\n    allow: [{cidr: 10.0.0.1/8}]\n"), ErrInvalid, "permissions.network.allow[0].cidr"},
		{"defaults false", policyWith("  network:\n    allow: [{defaults: false}]\n"), ErrInvalid, "permissions.network.allow[0].defaults"},
		{"defaults string", policyWith("  network:\n    allow: [{defaults: common-http}]\n"), ErrInvalid, "permissions.network.allow[0].defaults"},
		{"env key empty", policyWith("  environment:\n    allow: [{key: \"\"}]\n"), ErrInvalid, "permissions.environment.allow[0].key"},
		{"env key wildcard", policyWith("  environment:\n    allow: [{key: \"AWS_*\"}]\n"), ErrInvalid, "permissions.environment.allow[0].key"},
		{"env key equals", policyWith("  environment:\n    allow: [{key: \"A=B\"}]\n"), ErrInvalid, "permissions.environment.allow[0].key"},
		{"env key missing", policyWith("  environment:\n    allow: [{name: HOME}]\n"), ErrUnknownField, "permissions.environment.allow[0].name"},
		{"env key number", policyWith("  environment:\n    allow: [{key: 5}]\n"), ErrInvalid, "permissions.environment.allow[0].key"},
		{"memory milli", policyWith("  resources:\n    limits: {memory: 128m}\n"), ErrInvalid, "permissions.resources.limits.memory"},
		{"memory zero", policyWith("  resources:\n    limits: {memory: \"0\"}\n"), ErrInvalid, "permissions.resources.limits.memory"},
		{"memory negative", policyWith("  resources:\n    limits: {memory: -1Gi}\n"), ErrInvalid, "permissions.resources.limits.memory"},
		{"memory overflow", policyWith("  resources:\n    limits: {memory: 16Ei}\n"), ErrInvalid, "permissions.resources.limits.memory"},
		{"memory number overflow", policyWith("  resources:\n    limits: {memory: 17592186044416}\n"), ErrInvalid, "permissions.resources.limits.memory"},
		{"memory float", policyWith("  resources:\n    limits: {memory: 1.5}\n"), ErrInvalid, "permissions.resources.limits.memory"},
		{"memory fraction of a byte", policyWith("  resources:\n    limits: {memory: \"0.5\"}\n"), ErrInvalid, "permissions.resources.limits.memory"},
		{"cpu zero", policyWith("  resources:\n    limits: {cpu: \"0\"}\n"), ErrInvalid, "permissions.resources.limits.cpu"},
		{"cpu binary suffix", policyWith("  resources:\n    limits: {cpu: 1Ki}\n"), ErrInvalid, "permissions.resources.limits.cpu"},
		{"cpu too fine", policyWith("  resources:\n    limits: {cpu: \"0.0001\"}\n"), ErrInvalid, "permissions.resources.limits.cpu"},
		{"cpu infinity", policyWith("  resources:\n    limits: {cpu: .inf}\n"), ErrInvalid, "permissions.resources.limits.cpu"},
		{"timeout number", policyWith("  resources:\n    limits: {timeout: 30}\n"), ErrInvalid, "permissions.resources.limits.timeout"},
		{"timeout zero", policyWith("  resources:\n    limits: {timeout: 0s}\n"), ErrInvalid, "permissions.resources.limits.timeout"},
		{"timeout negative", policyWith("  resources:\n    limits: {timeout: -5s}\n"), ErrInvalid, "permissions.resources.limits.timeout"},
		{"timeout no unit", policyWith("  resources:\n    limits: {timeout: \"30\"}\n"), ErrInvalid, "permissions.resources.limits.timeout"},
		{"timeout misplaced", policyWith("  resources:\n    timeout: 30s\n"), ErrUnknownField, "permissions.resources.timeout"},
		{"legacy cpu negative", policyWith("  resources:\n    cpu: -1\n"), ErrInvalid, "permissions.resources.cpu"},
		{"legacy memory string", policyWith("  resources:\n    memory: 1Gi\n"), ErrInvalid, "permissions.resources.memory"},
		{"legacy io float", policyWith("  resources:\n    io: 1.5\n"), ErrInvalid, "permissions.resources.io"},
		{"capability unknown", policyWith("  runtime:\n    docker:\n      security:\n        capabilities: {add: [SYS_PTRACE]}\n"), ErrInvalid, "permissions.runtime.docker.security.capabilities.add[0]"},
		{"privileged string", policyWith("  runtime:\n    docker:\n      security: {privileged: \"no\"}\n"), ErrInvalid, "permissions.runtime.docker.security.privileged"},
		{"hyperlight settings", policyWith("  runtime:\n    hyperlight: {memory: 1}\n"), ErrInvalid, "permissions.runtime.hyperlight"},
		{"runtime wasm", policyWith("  runtime:\n    wasm: {engine: wasmtime}\n"), ErrUnknownField, "permissions.runtime.wasm"},
		{"ipc empty uri", policyWith("  ipc:\n    allow: [{uri: \"\"}]\n"), ErrInvalid, "permissions.ipc.allow[0].uri"},
		{"custom tag", policyWith("  storage:\n    allow: [{uri: !path \"fs:///a\", access: [read]}]\n"), ErrInvalid, "permissions.storage.allow[0].uri"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse(tt.in)
			if err == nil {
				t.Fatalf("Parse accepted it: %+v", p)
			}
			checkError(t, err, tt.want, tt.field, 0, 0)
		})
	}
}

func TestParseAccepts(t *testing.T) {
	tests := []struct {
		name  string
		in    []byte
		check func(*Policy) bool
	}{
		{"version as a number", []byte("version: 1.0\npermissions: {}\n"), func(p *Policy) bool { return p.Version == "1.0" }},
		{"version single-quoted", []byte("version: '1.0'\npermissions: {}\n"), func(p *Policy) bool { return p.Version == "1.0" }},
		{"explicit document markers", []byte("---\nversion: \"1.0\"\npermissions: {}\n...\n"), nil},
		{"null sections", policyWith("  storage:\n  network:\n    allow:\n  environment: ~\n"), nil},
		{"anchor without alias", policyWith("  storage: &s {allow: []}\n"), nil},
		{"root wildcard host", policyWith("  network:\n    deny: [{host: \"*\"}]\n"), nil},
		{"ipv6 cidr", policyWith("  network:\n    allow: [{cidr: \"fd00::/8\"}]\n"), func(p *Policy) bool { return p.Permissions.Network.Allow[0].CIDR == "fd00::/8" }},
		{"root filesystem", policyWith("  storage:\n    allow: [{uri: \"fs:///\", access: [read]}]\n"), func(p *Policy) bool { return p.Permissions.Storage.Allow[0].Path() == "/" }},
		{"write before read", policyWith("  storage:\n    allow: [{uri: \"fs:///a\", access: [write, read]}]\n"), func(p *Policy) bool {
			return reflect.DeepEqual(p.Permissions.Storage.Allow[0].Access, []Access{AccessWrite, AccessRead})
		}},
		{"memory bare number is MiB", policyWith("  resources:\n    limits: {memory: 512}\n"), func(p *Policy) bool { return p.Permissions.Resources.Limits.MemoryBytes == 512<<20 }},
		{"memory string digits are bytes", policyWith("  resources:\n    limits: {memory: \"1000000\"}\n"), func(p *Policy) bool { return p.Permissions.Resources.Limits.MemoryBytes == 1000000 }},
		{"memory decimal suffix", policyWith("  resources:\n    limits: {memory: 64M}\n"), func(p *Policy) bool { return p.Permissions.Resources.Limits.MemoryBytes == 64000000 }},
		{"limits memory wins over legacy", policyWith("  resources:\n    memory: 1\n    limits: {memory: 2Mi}\n"), func(p *Policy) bool { return p.Summary().MemoryBytes == 2<<20 }},
		{"cpu number", policyWith("  resources:\n    limits: {cpu: 1.5}\n"), func(p *Policy) bool { return p.Permissions.Resources.Limits.CPUMillis == 1500 }},
		{"cpu cores string", policyWith("  resources:\n    limits: {cpu: \"2\"}\n"), func(p *Policy) bool { return p.Permissions.Resources.Limits.CPUMillis == 2000 }},
		{"timeout compound", policyWith("  resources:\n    limits: {timeout: 1m30s}\n"), func(p *Policy) bool { return p.Summary().Timeout == "1m30s" }},
		{"hyperlight empty mapping", policyWith("  runtime:\n    hyperlight: {}\n"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if tt.check != nil && !tt.check(p) {
				t.Errorf("unexpected result: %+v", p)
			}
		})
	}
}

func TestParseTooLarge(t *testing.T) {
	valid := readFixture(t, "valid-minimal.yaml")
	pad := func(n int) []byte {
		b := append([]byte(nil), valid...)
		b = append(b, '#')
		return append(b, bytes.Repeat([]byte("x"), n-len(b))...)
	}
	if _, err := Parse(pad(MaxSize)); err != nil {
		t.Errorf("a policy of exactly MaxSize bytes: %v", err)
	}
	_, err := Parse(pad(MaxSize + 1))
	checkError(t, err, ErrTooLarge, "", 0, 0)
	_, err = ParseReader(bytes.NewReader(pad(MaxSize + 1)))
	checkError(t, err, ErrTooLarge, "", 0, 0)
}

func TestParseReader(t *testing.T) {
	p, err := ParseReader(bytes.NewReader(readFixture(t, "valid-full.yaml")))
	if err != nil || len(p.Permissions.Storage.Allow) != 2 {
		t.Fatalf("ParseReader = %+v, %v", p, err)
	}
	readErr := errors.New("connection reset")
	_, err = ParseReader(iotest.ErrReader(readErr))
	if !errors.Is(err, readErr) {
		t.Errorf("read error not wrapped: %v", err)
	}
}

func TestErrorMessage(t *testing.T) {
	_, err := Parse(readFixture(t, "invalid-access.yaml"))
	msg := err.Error()
	for _, want := range []string{"line 8, column 24", "permissions.storage.allow[1].access[1]", `"execute"`, "read, write"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	_, err = Parse(readFixture(t, "invalid-top-level-resources.yaml"))
	if !strings.Contains(err.Error(), "permissions.resources.limits") {
		t.Errorf("message %q does not say where resources belong", err)
	}
}

func TestSyntaxErrorKeepsCause(t *testing.T) {
	_, err := Parse([]byte("version: [\n"))
	var pe *Error
	if !errors.As(err, &pe) || pe.Cause == nil {
		t.Fatalf("want *Error with the YAML parser's cause, got %v", err)
	}
	if !errors.Is(err, pe.Cause) {
		t.Errorf("cause not reachable through errors.Is")
	}
}

func TestPolicyJSON(t *testing.T) {
	p, err := Parse(readFixture(t, "valid-full.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(p.Permissions.Resources)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"limits":{"cpuMillis":500,"memoryBytes":536870912,"timeout":"30s"}}`; string(b) != want {
		t.Errorf("resources JSON = %s, want %s", b, want)
	}
	b, err = json.Marshal(p.Summary())
	if err != nil {
		t.Fatal(err)
	}
	var back Summary
	if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, p.Summary()) {
		t.Errorf("summary does not round-trip through JSON: %s (%v)", b, err)
	}
}
