package loader

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/wasmgate/wasmgate/internal/boundedio"
	"github.com/wasmgate/wasmgate/permissions"
)

// MaxGrantsBytes bounds a host ceiling file.
const MaxGrantsBytes = 1 << 20

// Grants is the host ceiling as a file writes it: `wasmgate run
// --host-policy FILE`, and the grants of each component in apply's
// components file. One format for both:
//
//	dirs: ["/data=./data", "/out=./out:rw", "/tmp"]  # PATH, PATH:rw, PATH=HOSTDIR[:rw] (as --allow-dir)
//	env: {GREETING: hello, HOME: null}               # a value, or null for the host's own
//	maxMemory: 64Mi
//	maxTime: 10s
//	allowNoNetwork: false
//	clampLimits: false   # true: a policy over maxMemory or maxTime runs under them (Host.ClampLimits)
//
// A relative HOSTDIR is relative to the file that names it. For files
// written for `run --host-policy` before this format, env may also be a
// list of names (each taking the host's value) and mounts a list of
// {path, dir, write}.
type Grants struct {
	Dirs           []string           `yaml:"dirs"`
	Env            map[string]*string `yaml:"env"`
	MaxMemory      string             `yaml:"maxMemory"`
	MaxTime        string             `yaml:"maxTime"`
	AllowNoNetwork bool               `yaml:"allowNoNetwork"`
	ClampLimits    bool               `yaml:"clampLimits"`
	// Mounts is the older spelling of Dirs.
	Mounts []Mount `yaml:"mounts"`
}

// UnmarshalYAML reads env as a mapping or, in older files, a list of
// names; anything else is refused, as are unknown fields.
func (g *Grants) UnmarshalYAML(n *yaml.Node) error {
	type plain struct {
		Dirs           []string  `yaml:"dirs"`
		Env            yaml.Node `yaml:"env"`
		MaxMemory      string    `yaml:"maxMemory"`
		MaxTime        string    `yaml:"maxTime"`
		AllowNoNetwork bool      `yaml:"allowNoNetwork"`
		ClampLimits    bool      `yaml:"clampLimits"`
		Mounts         []Mount   `yaml:"mounts"`
	}
	var p plain
	if err := decodeStrict(n, &p); err != nil {
		return err
	}
	*g = Grants{Dirs: p.Dirs, MaxMemory: p.MaxMemory, MaxTime: p.MaxTime, AllowNoNetwork: p.AllowNoNetwork, ClampLimits: p.ClampLimits, Mounts: p.Mounts}
	switch p.Env.Kind {
	case 0:
	case yaml.MappingNode:
		return p.Env.Decode(&g.Env)
	case yaml.SequenceNode:
		var names []string
		if err := p.Env.Decode(&names); err != nil {
			return err
		}
		g.Env = map[string]*string{}
		for _, k := range names {
			g.Env[k] = nil
		}
	default:
		return fmt.Errorf("line %d: env is a mapping of NAME: value (or null for the host's value)", p.Env.Line)
	}
	return nil
}

// decodeStrict decodes n refusing unknown fields, as the file decoder
// does (yaml.v3's KnownFields applies to a Decoder, not to Node.Decode).
func decodeStrict(n *yaml.Node, v any) error {
	raw, err := yaml.Marshal(n)
	if err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	return dec.Decode(v)
}

// Host is the ceiling the grants describe; relative host directories are
// resolved against base (the directory of the file that holds them).
// Variables with a value get it; the others (null) take the host's own.
func (g Grants) Host(base string) (Host, error) {
	var h Host
	for _, d := range g.Dirs {
		m, err := ParseMount(d)
		if err != nil {
			return h, err
		}
		h.Mounts = append(h.Mounts, m)
	}
	h.Mounts = append(h.Mounts, g.Mounts...)
	for i, m := range h.Mounts {
		if m.Dir != "" && !filepath.IsAbs(m.Dir) {
			h.Mounts[i].Dir = filepath.Join(base, m.Dir)
		}
	}
	values := map[string]string{}
	for k, v := range g.Env {
		h.EnvKeys = append(h.EnvKeys, k)
		if v != nil {
			values[k] = *v
		}
	}
	h.Env = func(key string) (string, bool) {
		if v, ok := values[key]; ok {
			return v, true
		}
		return os.LookupEnv(key)
	}
	if g.MaxMemory != "" {
		n, err := permissions.ParseBytes(g.MaxMemory)
		if err != nil {
			return h, fmt.Errorf("%w: maxMemory: %w", ErrHost, err)
		}
		h.MaxMemory = n
	}
	if g.MaxTime != "" {
		d, err := time.ParseDuration(g.MaxTime)
		if err != nil {
			return h, fmt.Errorf("%w: maxTime: %w", ErrHost, err)
		}
		h.MaxTime = d
	}
	h.AllowNoNetwork = g.AllowNoNetwork
	h.ClampLimits = g.ClampLimits
	return h, nil
}

// LoadGrants reads a host ceiling file (Grants) and returns its Host, with
// relative host directories resolved against the file's directory.
func LoadGrants(path string) (Host, error) {
	raw, err := boundedio.ReadFile(path, MaxGrantsBytes)
	if err != nil {
		return Host{}, fmt.Errorf("%w: %w", ErrHost, err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	var g Grants
	// An empty file is an empty ceiling.
	if err := dec.Decode(&g); err != nil && !errors.Is(err, io.EOF) {
		return Host{}, fmt.Errorf("%w: %s: %w", ErrHost, path, err)
	}
	base, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return Host{}, err
	}
	h, err := g.Host(base)
	if err != nil {
		return Host{}, fmt.Errorf("%s: %w", path, err)
	}
	return h, nil
}
