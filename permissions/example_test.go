package permissions_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/wasmgate/wasmgate/permissions"
)

func ExampleParse() {
	policy, err := permissions.Parse([]byte(`
version: "1.0"
description: "Weather tool"
permissions:
  storage:
    allow:
      - uri: "fs:///var/cache/weather/**"
        access: [read, write]
  network:
    allow:
      - host: "api.openweathermap.org"
  environment:
    allow:
      - key: OPENWEATHER_API_KEY
  resources:
    limits:
      memory: "64Mi"
      timeout: "30s"
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range policy.Permissions.Storage.Allow {
		fmt.Println("mount", r.Path(), "write:", r.Can(permissions.AccessWrite))
	}
	limits := policy.Permissions.Resources.Limits
	fmt.Println("memory pages:", limits.MemoryBytes/65536, "timeout:", limits.Timeout)
	// Output:
	// mount /var/cache/weather/** write: true
	// memory pages: 1024 timeout: 30s
}

func ExampleParse_error() {
	_, err := permissions.Parse([]byte(`
version: "1.0"
permissions:
  storage:
    allow:
      - uri: "fs:///data"
        access: [read, execute]
`))
	var perr *permissions.Error
	if errors.Is(err, permissions.ErrInvalid) && errors.As(err, &perr) {
		fmt.Printf("line %d, column %d, field %s\n", perr.Line, perr.Column, perr.Field)
	}
	fmt.Println(err)
	// Output:
	// line 7, column 24, field permissions.storage.allow[0].access[1]
	// policy: line 7, column 24: permissions.storage.allow[0].access[1]: "execute" is not an access type; allowed: read, write
}

func ExamplePolicy_Summary() {
	policy, err := permissions.Parse([]byte(`
version: "1.0"
permissions:
  storage:
    allow:
      - uri: "fs://workspace/**"
        access: [read]
  network:
    allow:
      - host: "api.github.com"
      - cidr: "10.0.0.0/8"
  resources:
    limits:
      cpu: "500m"
      memory: "512Mi"
      timeout: "2m"
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(policy.Summary()); err != nil {
		fmt.Println(err)
	}
	// Output:
	// {
	//   "version": "1.0",
	//   "storage": [
	//     {
	//       "uri": "fs://workspace/**",
	//       "access": [
	//         "read"
	//       ]
	//     }
	//   ],
	//   "networkHosts": [
	//     "api.github.com"
	//   ],
	//   "networkCidrs": [
	//     "10.0.0.0/8"
	//   ],
	//   "cpuMillis": 500,
	//   "memoryBytes": 536870912,
	//   "timeout": "2m0s"
	// }
}
