// Command probe is the test module of package loader: one WASI preview 1
// command whose first argument picks what it tries, so that each test of
// the sandbox runs real Go code against the real wazero host.
//
//	probe readfile PATH        print the file
//	probe writefile PATH TEXT  write TEXT to PATH
//	probe symlink TARGET PATH  create a symbolic link
//	probe env KEY              print the variable; exit 3 when unset
//	probe alloc MIB            allocate and touch MIB mebibytes
//	probe loop                 spin until the host stops it
//	probe sleep SECONDS        sleep
//
// It exits 1 when the operation fails, after printing the error to stderr.
// It avoids fmt and strconv to keep the binary small.
package main

import (
	"errors"
	"os"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fail(errors.New("usage: probe readfile|writefile|symlink|env|alloc|loop|sleep ARGS"))
	}
	args := os.Args[2:]
	switch os.Args[1] {
	case "readfile":
		b, err := os.ReadFile(arg(args, 0))
		check(err)
		os.Stdout.Write(b)
	case "writefile":
		check(os.WriteFile(arg(args, 0), []byte(arg(args, 1)), 0o644))
	case "symlink":
		check(os.Symlink(arg(args, 0), arg(args, 1)))
	case "env":
		v, ok := os.LookupEnv(arg(args, 0))
		if !ok {
			os.Exit(3)
		}
		os.Stdout.WriteString(v)
	case "alloc":
		b := make([]byte, atoi(arg(args, 0))<<20)
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1
		}
		os.Stdout.WriteString("allocated\n")
	case "loop":
		for n := 0; ; n++ {
			if n < 0 {
				os.Exit(4) // never: keeps the loop from being optimised away
			}
		}
	case "sleep":
		time.Sleep(time.Duration(atoi(arg(args, 0))) * time.Second)
	default:
		fail(errors.New("unknown operation " + os.Args[1]))
	}
}

func arg(args []string, i int) string {
	if i >= len(args) {
		fail(errors.New(os.Args[1] + ": missing argument"))
	}
	return args[i]
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' || n > 1<<20 {
			fail(errors.New("not a small number: " + s))
		}
		n = n*10 + int(c-'0')
	}
	return n
}

func check(err error) {
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	os.Stderr.WriteString("probe: " + err.Error() + "\n")
	os.Exit(1)
}
