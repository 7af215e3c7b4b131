// Package permissions parses and validates the permission policy that a
// wasm artifact carries in its policy layer.
//
// The format is Microsoft Wassette's policy v1.0 YAML (the policy-mcp
// format), so a policy.yaml written for Wassette parses here unchanged:
//
//	$schema: https://raw.githubusercontent.com/microsoft/policy-mcp/main/schema/policy-v1.0.schema.json
//	version: "1.0"
//	description: "Weather tool"
//	permissions:
//	  storage:
//	    allow:
//	      - uri: "fs:///var/cache/weather/**"
//	        access: [read, write]
//	    deny:
//	      - uri: "fs:///var/cache/weather/keys/**"
//	        access: [read, write]
//	  network:
//	    allow:
//	      - host: "api.openweathermap.org"
//	      - cidr: "10.0.0.0/8"
//	  environment:
//	    allow:
//	      - key: OPENWEATHER_API_KEY
//	  resources:
//	    limits:
//	      cpu: "500m"
//	      memory: "512Mi"
//	      timeout: "30s"   # wasmgate's extension
//
// As in Wassette, resources sits under permissions; a top-level resources
// key is an error that says where it belongs. Wassette's legacy
// resources.cpu/memory/io, its runtime (Docker) settings and its ipc lists
// are accepted and kept, since Wassette accepts them.
//
// wasmgate extends the format in one place: permissions.resources.limits.timeout,
// a Go duration. Wassette ignores keys it does not know, so a policy that
// uses it still loads in Wassette, without the timeout.
//
// The parser is strict, because the bytes come from a registry and what it
// accepts becomes a sandbox: input over [MaxSize] is refused before parsing;
// exactly one YAML document; unknown keys, duplicate keys and aliases are
// errors (Wassette ignores unknown keys; here they would be permissions the
// publisher signed that no host enforces); every value is checked against
// what the format allows. Errors are [*Error] values with the line, column
// and field path, wrapping a sentinel from errors.go.
//
// The package only reads policies. Mapping one onto a sandbox, and
// intersecting it with what the host allows, is the loader's job.
package permissions
