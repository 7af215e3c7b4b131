package loader

import (
	"bytes"
	"fmt"

	"gopkg.in/yaml.v3"

	"github.com/wasmgate/wasmgate/permissions"
)

// Policy returns c as a Wassette permission policy (v1.0, the format
// package permissions reads), for `wassette` to load: the granted storage,
// network and environment rules, the deny rules, and the memory, CPU and
// time limits. Comment lines at its top list what the ceiling did not
// grant. No capabilities: `permissions: {}`.
//
// Wassette opens a storage URI at the same path on the host, so a ceiling
// that maps a directory elsewhere (Mount.Dir) holds for the wasmtime
// flags only; the policy keeps the paths the component was signed with.
//
// The document is parsed back with [permissions.Parse] before it is
// returned; an error means it would not load.
func (c *Capabilities) Policy() ([]byte, error) {
	type storageRule struct {
		URI    string               `yaml:"uri"`
		Access []permissions.Access `yaml:"access,flow"`
	}
	type rules[T any] struct {
		Allow []T `yaml:"allow,omitempty"`
		Deny  []T `yaml:"deny,omitempty"`
	}
	type netRule struct {
		Host     string `yaml:"host,omitempty"`
		CIDR     string `yaml:"cidr,omitempty"`
		Defaults bool   `yaml:"defaults,omitempty"`
	}
	type envRule struct {
		Key string `yaml:"key"`
	}
	type limits struct {
		CPU     string `yaml:"cpu,omitempty"`
		Memory  string `yaml:"memory,omitempty"`
		Timeout string `yaml:"timeout,omitempty"`
	}
	type resources struct {
		Limits limits `yaml:"limits"`
	}
	type perms struct {
		Storage     *rules[storageRule] `yaml:"storage,omitempty"`
		Network     *rules[netRule]     `yaml:"network,omitempty"`
		Environment *rules[envRule]     `yaml:"environment,omitempty"`
		Resources   *resources          `yaml:"resources,omitempty"`
	}
	var p perms
	if len(c.Storage)+len(c.StorageDeny) > 0 {
		p.Storage = &rules[storageRule]{}
		for _, r := range c.Storage {
			p.Storage.Allow = append(p.Storage.Allow, storageRule{r.URI, r.Access})
		}
		for _, r := range c.StorageDeny {
			p.Storage.Deny = append(p.Storage.Deny, storageRule{r.URI, r.Access})
		}
	}
	if len(c.Network)+len(c.NetworkDeny) > 0 {
		p.Network = &rules[netRule]{}
		for _, r := range c.Network {
			p.Network.Allow = append(p.Network.Allow, netRule(r))
		}
		for _, r := range c.NetworkDeny {
			p.Network.Deny = append(p.Network.Deny, netRule(r))
		}
	}
	if len(c.Env) > 0 {
		p.Environment = &rules[envRule]{}
		for _, k := range c.Env {
			p.Environment.Allow = append(p.Environment.Allow, envRule{k})
		}
	}
	var l limits
	if c.CPUMillis > 0 {
		l.CPU = fmt.Sprintf("%dm", c.CPUMillis)
	}
	if c.MemoryBytes > 0 {
		l.Memory = formatQuantity(c.MemoryBytes)
	}
	if c.Timeout > 0 {
		l.Timeout = c.Timeout.String()
	}
	if l != (limits{}) {
		p.Resources = &resources{Limits: l}
	}

	var b bytes.Buffer
	b.WriteString("# Effective permissions: the signed policy within the host's ceiling (wasmgate pull --verified).\n")
	for _, d := range c.Dropped {
		b.WriteString("# not granted by the host's ceiling: " + oneLine(d) + "\n")
	}
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	err := enc.Encode(struct {
		Version     string `yaml:"version"`
		Description string `yaml:"description"`
		Permissions perms  `yaml:"permissions"`
	}{permissions.Version, "effective permissions written by wasmgate pull --verified", p})
	if err == nil {
		err = enc.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("loader: writing the effective policy: %w", err)
	}
	if _, err := permissions.Parse(b.Bytes()); err != nil {
		return nil, fmt.Errorf("loader: the effective policy does not parse back: %w", err)
	}
	return b.Bytes(), nil
}

// networkRule prints a network rule as the policy writes it.
func networkRule(r permissions.NetworkRule) string {
	switch {
	case r.Host != "":
		return "host " + r.Host
	case r.CIDR != "":
		return "cidr " + r.CIDR
	}
	return "defaults"
}
