package loader

import (
	"fmt"
	"strings"

	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/permissions"
	"github.com/wasmgate/wasmgate/verify"
)

// Permission names a section of the permission policy that a component's
// import needs.
type Permission string

// The policy sections that WASI 0.2 interfaces need.
const (
	PermissionNetwork     Permission = "network"
	PermissionStorage     Permission = "storage"
	PermissionEnvironment Permission = "environment"
)

// ImportPermission returns the policy section that an import of a
// component needs, and false for an import that needs none of them. By
// interface, whatever its version:
//
//   - wasi:sockets/* and wasi:http/outgoing-handler: network;
//   - wasi:filesystem/*: storage;
//   - wasi:cli/environment: environment.
func ImportPermission(name string) (Permission, bool) {
	// "wasi:sockets/tcp@0.2.0" → package "wasi:sockets", interface "tcp".
	name, _, _ = strings.Cut(name, "@")
	pkg, iface, _ := strings.Cut(name, "/")
	switch {
	case pkg == "wasi:sockets", pkg == "wasi:http" && iface == "outgoing-handler":
		return PermissionNetwork, true
	case pkg == "wasi:filesystem":
		return PermissionStorage, true
	case pkg == "wasi:cli" && iface == "environment":
		return PermissionEnvironment, true
	}
	return "", false
}

// grants reports whether perms (nil grants nothing) allows anything in
// section p.
func grants(perms *permissions.Policy, p Permission) bool {
	if perms == nil {
		return false
	}
	switch p {
	case PermissionNetwork:
		return len(perms.Permissions.Network.Allow) > 0
	case PermissionStorage:
		return len(perms.Permissions.Storage.Allow) > 0
	case PermissionEnvironment:
		return len(perms.Permissions.Environment.Allow) > 0
	}
	return false
}

// Component is a verified component whose imports its policy grants.
type Component struct {
	Reference string
	Imports   []string
	Exports   []string
}

// CheckComponent is strict mode for a verified component, which no
// runtime here can run: before its bytes are handed to one (`wasmgate
// pull --verified`, apply), every import that needs a permission
// ([ImportPermission]) must have it in the policy its publisher signed.
// A component whose policy does not grant an import it has would be
// granted that capability by a runtime that links WASI, or fail there;
// either way the signed policy did not describe it.
//
// It returns an [*ImportError] wrapping [ErrImportNotGranted] listing every
// such import, an error wrapping [ErrNotVerified] for an Artifact package
// verify did not build, and one wrapping [ErrInvalidModule] (and
// [artifact.ErrInvalidComponent]) for bytes that cannot be read. A core
// module is not a component: it returns nil, nil, and [Load] applies the
// module's own rules.
func CheckComponent(a *verify.Artifact) (*Component, error) {
	if a == nil || a.Digest() == "" {
		return nil, fmt.Errorf("loader: %w: verify it with package verify (wasmgate verify) first", ErrNotVerified)
	}
	if a.Kind() != artifact.KindComponent {
		return nil, nil
	}
	imports, exports, err := artifact.ComponentInterfaces(a.Wasm())
	if err != nil {
		return nil, fmt.Errorf("loader: %s: %w: %w", a.Reference(), ErrInvalidModule, err)
	}
	if err := checkImports(a.Reference(), imports, a.Permissions()); err != nil {
		return nil, err
	}
	return &Component{Reference: a.Reference(), Imports: imports, Exports: exports}, nil
}

func checkImports(ref string, imports []string, perms *permissions.Policy) error {
	e := &ImportError{Reference: ref}
	for _, name := range imports {
		if p, ok := ImportPermission(name); ok && !grants(perms, p) {
			e.Denied = append(e.Denied, DeniedImport{Import: name, Permission: p})
		}
	}
	if len(e.Denied) == 0 {
		return nil
	}
	return e
}

// ImportError lists the imports of a component that its policy does not
// grant, all at once.
type ImportError struct {
	Reference string
	Denied    []DeniedImport
}

// DeniedImport is one import and the permission its policy lacks.
type DeniedImport struct {
	Import     string
	Permission Permission
}

func (e *ImportError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "loader: %s: the component imports what its signed policy does not grant:", e.Reference)
	for _, d := range e.Denied {
		fmt.Fprintf(&b, "\n  %s needs %s permission, and the policy grants none", d.Import, d.Permission)
	}
	return b.String()
}

func (e *ImportError) Unwrap() error { return ErrImportNotGranted }
