package loader

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Sandbox is what a module is granted: its publisher's policy, which fits
// within the [Host] ceiling (or had its limits clamped to it, see
// Host.ClampLimits). Only [Effective] builds one.
//
// Its JSON form (for `wasmgate run --print-permissions --json`) holds
// environment variable names, never their values.
type Sandbox struct {
	// Mounts are the directories the module sees, with their host
	// directories. A mount of a directory also grants everything below it.
	Mounts []Mount `json:"mounts"`
	// Env are the granted environment variables.
	Env []EnvVar `json:"env"`
	// MemoryBytes is the memory limit, a whole number of pages.
	MemoryBytes uint64 `json:"memoryBytes"`
	// Timeout stops the module when it expires; 0 means none.
	Timeout time.Duration `json:"-"`
	// NetworkDropped lists the network rules the policy asked for and the
	// module does not get, because the host set AllowNoNetwork.
	NetworkDropped []string `json:"networkDropped,omitempty"`
	// Unenforced lists limits the policy sets that the sandbox does not
	// enforce, such as a CPU quota, so that a user sees them.
	Unenforced []string `json:"unenforced,omitempty"`
	// Clamped lists the limits that Host.ClampLimits lowered to the
	// host's ceiling: the module gets less than its policy asks for.
	Clamped []Clamp `json:"clamped,omitempty"`
}

// Clamp is one limit lowered by Host.ClampLimits.
type Clamp struct {
	// Limit is "memory" or "timeout".
	Limit string `json:"limit"`
	// Asked is the policy's limit and Granted the host's ceiling, which
	// the module gets, as Lines prints them ("512 MiB", "5s").
	Asked   string `json:"asked"`
	Granted string `json:"granted"`
}

// EnvVar is one granted environment variable.
type EnvVar struct {
	Key string `json:"key"`
	// Set is false when the host has no value for Key; the module then
	// sees the variable as unset.
	Set   bool `json:"set"`
	value string
}

// MarshalJSON writes the timeout as a duration string ("30s"), or "none".
func (s Sandbox) MarshalJSON() ([]byte, error) {
	type plain Sandbox // without this method
	return json.Marshal(struct {
		plain
		Timeout string `json:"timeout"`
	}{plain(s), formatTimeout(s.Timeout)})
}

// Lines renders the sandbox one grant per line, for a user deciding
// whether to run the module.
func (s *Sandbox) Lines() []string {
	var lines []string
	for _, m := range s.Mounts {
		mode := "read-only"
		if m.Write {
			mode = "read-write"
		}
		lines = append(lines, fmt.Sprintf("mount %s %s (host %s)", m.Path, mode, m.Dir))
	}
	if len(s.Mounts) == 0 {
		lines = append(lines, "mounts none")
	}
	for _, e := range s.Env {
		if e.Set {
			lines = append(lines, "env "+e.Key)
		} else {
			lines = append(lines, "env "+e.Key+" (unset on the host)")
		}
	}
	if len(s.Env) == 0 {
		lines = append(lines, "env none")
	}
	lines = append(lines,
		"memory "+formatBytes(s.MemoryBytes)+s.clampNote("memory"),
		"timeout "+formatTimeout(s.Timeout)+s.clampNote("timeout"))
	if len(s.NetworkDropped) > 0 {
		lines = append(lines, "network none; dropped: "+strings.Join(s.NetworkDropped, ", "))
	} else {
		lines = append(lines, "network none")
	}
	for _, u := range s.Unenforced {
		lines = append(lines, "not enforced: "+u)
	}
	return lines
}

// clampNote says, after a limit's line, that it was clamped and from what.
func (s *Sandbox) clampNote(limit string) string {
	for _, c := range s.Clamped {
		if c.Limit == limit {
			return " (clamped to the host's ceiling; the policy asks for " + c.Asked + ")"
		}
	}
	return ""
}

// String is Lines joined by newlines.
func (s *Sandbox) String() string { return strings.Join(s.Lines(), "\n") }

func formatTimeout(d time.Duration) string {
	if d <= 0 {
		return "none"
	}
	return d.String()
}

// formatBytes prints whole MiB or KiB when exact, else bytes.
func formatBytes(n uint64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
