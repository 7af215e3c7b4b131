package permissions

import "testing"

func TestParseMemory(t *testing.T) {
	tests := []struct {
		in   string
		want uint64 // 0: rejected
	}{
		{"512Mi", 512 << 20},
		{"1Gi", 1 << 30},
		{"256Ki", 256 << 10},
		{"2Ti", 2 << 40},
		{"1Pi", 1 << 50},
		{"15Ei", 15 << 60},
		{"1000000", 1000000},
		{"131072", 131072},
		{"64M", 64000000},
		{"1k", 1000},
		{"1G", 1e9},
		{"1T", 1e12},
		{"1P", 1e15},
		{"18E", 18e18},
		{"1.5Gi", 3 << 29},
		{"0.5Ki", 512},
		{".5Ki", 512},
		{"2.Mi", 2 << 20},
		{"129e6", 129000000},
		{"129E6", 129000000},
		{"1e+3", 1000},
		{"12e-1", 0},   // 1.2 bytes
		{"1200e-3", 0}, // 1.2 bytes
		{"1000e-3", 1},
		{"18446744073709551615", 1<<64 - 1},
		{"18446744073709551616", 0},
		{"16Ei", 0},
		{"19E", 0},
		{"0", 0},
		{"0Mi", 0},
		{"", 0},
		{"Mi", 0},
		{".", 0},
		{"-1", 0},
		{"+1", 0},
		{"1 Mi", 0},
		{" 1Mi", 0},
		{"1mi", 0},
		{"1MB", 0},
		{"1MiB", 0},
		{"1m", 0},
		{"1000m", 0}, // milli is never memory
		{"1e", 0},
		{"1e99999", 0},
		{"1e999", 0},
		{"1e-999", 0},
		{"0x10", 0},
		{"1_000", 0},
		{"１", 0}, // full-width digit
		{"1" + string(make([]byte, 70)), 0},
	}
	for _, tt := range tests {
		got, reason := parseMemory(tt.in)
		if tt.want == 0 {
			if reason == "" {
				t.Errorf("parseMemory(%q) = %d, want an error", tt.in, got)
			}
			continue
		}
		if reason != "" || got != tt.want {
			t.Errorf("parseMemory(%q) = %d, %q; want %d", tt.in, got, reason, tt.want)
		}
	}
}

func TestParseCPU(t *testing.T) {
	tests := []struct {
		in   string
		want int64 // 0: rejected
	}{
		{"500m", 500},
		{"1", 1000},
		{"2", 2000},
		{"0.5", 500},
		{"2.5", 2500},
		{"1.5", 1500},
		{"0.001", 1},
		{"50", 50000},
		{"1e3", 1000000},
		{"1e-3", 1},
		{"9223372036854775807m", 1<<63 - 1},
		{"9223372036854775808m", 0},
		{"0.0005", 0},
		{"0.5m", 0},
		{"0", 0},
		{"0m", 0},
		{"", 0},
		{"-1", 0},
		{"1k", 0},
		{"1Ki", 0},
		{"1M", 0},
		{"inf", 0},
		{"NaN", 0},
		{"invalidm", 0},
	}
	for _, tt := range tests {
		got, reason := parseCPU(tt.in)
		if tt.want == 0 {
			if reason == "" {
				t.Errorf("parseCPU(%q) = %d, want an error", tt.in, got)
			}
			continue
		}
		if reason != "" || got != tt.want {
			t.Errorf("parseCPU(%q) = %d, %q; want %d", tt.in, got, reason, tt.want)
		}
	}
}
