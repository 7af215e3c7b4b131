// Package access reaches artifacts where they are: registries (through
// package remote's one client), OCI image layouts, the local cache and
// plain https URLs, and moves their content with every byte checked.
//
// An [Opener] turns a parsed reference into a target (oras-go's
// interfaces), serving from the cache and filling it. Every read is
// bounded and verified in the pass that reads it: [FetchVerified],
// [CopyVerified] and [FetchManifest] fail unless the bytes hash to their
// descriptor's digest and size, and a tag is resolved once, by the one GET
// of its manifest. [Pull] writes an artifact's files to a directory only
// after all of them verified; [Push] sends a packed artifact
// (artifact.Pack) blob by blob, skipping what the target has.
//
// What the bytes mean is package artifact's; whether they are trusted,
// package verify's.
package access
