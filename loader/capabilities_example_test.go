package loader_test

import (
	"fmt"
	"strings"

	"github.com/wasmgate/wasmgate/loader"
	"github.com/wasmgate/wasmgate/permissions"
)

func ExampleComponentCapabilities() {
	policy, err := permissions.Parse([]byte(`
version: "1.0"
permissions:
  storage:
    allow:
      - uri: "fs:///data/**"
        access: [read]
      - uri: "fs:///out/**"
        access: [read, write]
  network:
    allow:
      - host: "api.example.com"
  environment:
    allow:
      - key: GREETING
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	caps, err := loader.ComponentCapabilities(policy, &loader.Host{
		Mounts:  []loader.Mount{{Path: "/data", Dir: "/srv/app/data"}, {Path: "/out", Dir: "/srv/app/out", Write: true}},
		EnvKeys: []string{"GREETING"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(strings.Join(caps.WasmtimeFlags(), " "))
	for _, n := range caps.WasmtimeNotes() {
		fmt.Println("note:", n)
	}
	wassette, err := caps.Policy()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(string(wassette))
	// Output:
	// --dir /srv/app/out::/out --env GREETING -S inherit-network=y -S allow-ip-name-lookup=y -S http=y
	// note: storage /data is read-only in the policy, and wasmtime's --dir grants read and write; not granted (add --dir /srv/app/data::/data only when the host directory is read-only to wasmtime, e.g. a read-only bind mount)
	// note: network: the policy allows host api.example.com; wasmtime cannot restrict a guest to hosts or addresses, so -S inherit-network=y grants the whole network
	// # Effective permissions: the signed policy within the host's ceiling (wasmgate pull --verified).
	// version: "1.0"
	// description: effective permissions written by wasmgate pull --verified
	// permissions:
	//   storage:
	//     allow:
	//       - uri: fs:///data/**
	//         access: [read]
	//       - uri: fs:///out/**
	//         access: [read, write]
	//   network:
	//     allow:
	//       - host: api.example.com
	//   environment:
	//     allow:
	//       - key: GREETING
}
