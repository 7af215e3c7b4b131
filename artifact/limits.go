package artifact

// Default bounds on what a registry or a layout can make wasmgate read.
const (
	DefaultMaxManifestBytes = 4 << 20
	DefaultMaxConfigBytes   = 1 << 20
	DefaultMaxLayerBytes    = 256 << 20
)
