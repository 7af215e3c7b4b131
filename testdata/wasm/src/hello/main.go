// Command hello is the source of testdata/wasm/hello.wasm, a WASI preview 1
// fixture used to exercise sandbox capabilities (env, preopened dirs,
// read-only mounts). Build with testdata/wasm/regen.sh.
//
// It avoids fmt on purpose to keep the binary small.
package main

import (
	"os"
	"strings"
)

func say(s string)  { os.Stdout.WriteString(s + "\n") }
func fail(s string) { os.Stderr.WriteString(s + "\n"); os.Exit(1) }

func main() {
	say("hello from wasmgate")
	if g, ok := os.LookupEnv("GREETING"); ok {
		say("greeting: " + g)
	}
	for _, arg := range os.Args[1:] {
		if path, ok := strings.CutPrefix(arg, "--write="); ok {
			if err := os.WriteFile(path, []byte("written by wasmgate\n"), 0o644); err != nil {
				fail("write " + path + ": error: " + err.Error())
			}
			continue
		}
		data, err := os.ReadFile(arg)
		if err != nil {
			fail("file " + arg + ": error: " + err.Error())
		}
		say("file " + arg + ": " + string(data))
	}
}
