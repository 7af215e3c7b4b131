//go:build linux

package main

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal through /dev/ptmx: the master, which the
// test types into and reads the screen from, and the slave, the terminal
// the command sees as its standard input.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	fd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal here: %v", err)
	}
	n, err := unix.IoctlGetUint32(fd, unix.TIOCGPTN)
	if err == nil {
		err = unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0)
	}
	if err != nil {
		unix.Close(fd)
		t.Fatalf("unlocking the pseudo-terminal: %v", err)
	}
	// Non-blocking, so the master is pollable and reads take a deadline.
	if err := syscall.SetNonblock(fd, true); err != nil {
		t.Fatal(err)
	}
	master = os.NewFile(uintptr(fd), "/dev/ptmx")
	slave, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		master.Close()
		t.Fatalf("opening the terminal: %v", err)
	}
	t.Cleanup(func() { slave.Close(); master.Close() })
	return master, slave
}

// screen reads what the terminal showed so far.
func screen(t *testing.T, master *os.File) string {
	t.Helper()
	var b bytes.Buffer
	buf := make([]byte, 4096)
	for {
		master.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		n, err := master.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return b.String()
		}
	}
}

// Regression: `login -u me` on a terminal did not prompt for the
// password. It prompts on the terminal, reads without echo, logs in.
func TestLoginPromptsOnTerminal(t *testing.T) {
	for _, tc := range []struct {
		name  string
		args  []string
		typed string
		shown []string
	}{
		{"password", []string{"-u", "me"}, "s3cret\n", []string{"Password for me@"}},
		{"user name and password", nil, "me\ns3cret\n", []string{"Username for ", "Password for me@"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg, _ := authRegistry(t)
			cliEnv(t, reg)
			master, slave := openPTY(t)
			stdin(t, slave)
			// Typed ahead: the terminal keeps the lines until they are read.
			if _, err := master.Write([]byte(tc.typed)); err != nil {
				t.Fatal(err)
			}
			code, _, stderr := wasmgate(t, append(append([]string{"login"}, tc.args...), reg.Host)...)
			if code != 0 || !strings.Contains(stderr, "Login succeeded") {
				t.Fatalf("login: exit %d: %s", code, stderr)
			}
			shown := screen(t, master)
			for _, want := range tc.shown {
				if !strings.Contains(shown, want+"") {
					t.Errorf("the terminal shows %q, want a prompt %q", shown, want)
				}
			}
			assertLogout(t, reg.Host)
		})
	}
}
