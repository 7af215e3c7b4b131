// Package artifact is the model of a WebAssembly artifact in an OCI
// registry, with no I/O beyond reading a local wasm file to pack it:
// references (registry, OCI layout, file, https), media types, the
// manifest and config wkg and the CNCF TAG-Runtime wasm layout write,
// parsing and classifying a manifest's layers (wasm, permission policy,
// unknown), module vs component detection, the OCI tag grammar, the
// errors that say content is bad, and the bounds on what is read.
//
// Reaching artifacts — registries, layouts, the cache, https, pushing and
// pulling with every digest checked — is package access; evidence about an
// artifact is package evidence and its subpackages. This package imports
// neither: a model that knows no trust and no transport.
package artifact
