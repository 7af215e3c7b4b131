// Package ocilayout is an OCI image layout store that several processes can
// share without losing or corrupting each other's writes.
//
// wasmgate keeps its content-addressed cache in an OCI image layout under
// the user cache directory, and reads and writes layouts that users name
// with oci-layout:PATH. Two wasmgate processes often touch the cache at
// once (a build running pulls in parallel, an editor plugin verifying in the
// background), and oras-go's content/oci.Store cannot be shared that way: it
// keeps index.json in memory and rewrites the whole file in place, so the
// last process to save drops every tag the others added, and a reader can
// see the file half-written. This package keeps no state between calls:
//
//   - Blobs are written to a temporary file beside their final path,
//     checked against size and digest while streaming, synced, and renamed.
//     A blob path only ever holds content that matched its name when it was
//     written, and a crash leaves at worst a temporary file for Fsck.
//   - index.json is changed by read-modify-write under an exclusive lock on
//     index.json.lock, and replaced by rename. Readers take the lock shared.
//     The lock is a separate file because a rename replaces index.json's
//     inode, and a lock on the old inode would exclude nobody.
//   - Tags are index.json entries with the org.opencontainers.image.ref.name
//     annotation, one entry per tag, which is how oras, regctl and skopeo
//     read and write them; the layout stays theirs to read.
//
// Content read back is not trusted: another program, a disk error or a
// user's editor can change a blob after it was written, so readers verify as
// they read (content.NewVerifyReader) and Fsck finds and removes what no
// longer matches its name.
//
// Programs that write the layout without this package's lock (oras,
// skopeo) must not run at the same time as a writer that uses it.
package ocilayout
