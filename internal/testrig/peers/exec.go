package peers

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// commandTimeout bounds one CLI run. A run takes well under a second here;
// the bound is for a peer that, despite the proxy trap, waits on something.
const commandTimeout = 2 * time.Minute

// deadProxy is where HTTP(S)_PROXY point: nothing listens on the discard
// port, so a request that leaves the machine fails at once. Go never proxies
// loopback hosts, so the test registries are reached directly.
const deadProxy = "http://127.0.0.1:9"

// CommandError is a peer CLI that exited with an error. It carries what the
// command printed, because that is where the tools say what went wrong.
type CommandError struct {
	Args   []string // argv, binary path first
	Stdout []byte
	Stderr []byte
	Err    error // from exec, usually an *exec.ExitError
}

func (e *CommandError) Error() string {
	return fmt.Sprintf("%s: %v\nstdout:\n%s\nstderr:\n%s",
		strings.Join(e.Args, " "), e.Err, e.Stdout, e.Stderr)
}

func (e *CommandError) Unwrap() error { return e.Err }

// sandbox is one test's private home for the CLIs and their state.
type sandbox struct {
	dir string

	mu           sync.Mutex
	cosignConfig *cosignConfig   // signing config and trusted root, made once
	regctlHosts  map[string]bool // hosts already set to --tls disabled
}

var sandboxes sync.Map // testing.TB -> *sandbox

func sandboxFor(t testing.TB) *sandbox {
	t.Helper()
	if s, ok := sandboxes.Load(t); ok {
		return s.(*sandbox)
	}
	s := &sandbox{dir: t.TempDir(), regctlHosts: map[string]bool{}}
	for _, d := range []string{"home", "home/.docker", "config", "cache", "tuf", "tmp"} {
		if err := os.MkdirAll(filepath.Join(s.dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if prev, loaded := sandboxes.LoadOrStore(t, s); loaded {
		return prev.(*sandbox)
	}
	t.Cleanup(func() { sandboxes.Delete(t) })
	return s
}

// env is the whole environment of a peer CLI: nothing is inherited but
// PATH, so no COSIGN_REPOSITORY, credentials or proxy of the user's can
// change what a test writes or where.
func (s *sandbox) env() []string {
	home := filepath.Join(s.dir, "home")
	return []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"DOCKER_CONFIG=" + filepath.Join(home, ".docker"),
		"XDG_CONFIG_HOME=" + filepath.Join(s.dir, "config"),
		"XDG_CACHE_HOME=" + filepath.Join(s.dir, "cache"),
		"TMPDIR=" + filepath.Join(s.dir, "tmp"),
		"TUF_ROOT=" + filepath.Join(s.dir, "tuf"),
		"REGCTL_CONFIG=" + filepath.Join(s.dir, "config", "regctl.json"),
		"COSIGN_PASSWORD=",
		"COSIGN_YES=true",
		"HTTP_PROXY=" + deadProxy,
		"HTTPS_PROXY=" + deadProxy,
		"http_proxy=" + deadProxy,
		"https_proxy=" + deadProxy,
		"NO_PROXY=",
		"no_proxy=",
	}
}

// run runs bin with args in dir (the sandbox when empty) and returns its
// stdout; a failure is returned as a *CommandError.
func (s *sandbox) run(ctx context.Context, dir, bin string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = s.env()
	cmd.Dir = dir
	if dir == "" {
		cmd.Dir = s.dir
	}
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (after %v)", ctx.Err(), commandTimeout)
		}
		return stdout.Bytes(), &CommandError{Args: cmd.Args, Stdout: stdout.Bytes(), Stderr: stderr.Bytes(), Err: err}
	}
	return stdout.Bytes(), nil
}

// mustRun is run for helpers that fail the test.
func (s *sandbox) mustRun(t testing.TB, dir, bin string, args ...string) []byte {
	t.Helper()
	out, err := s.run(t.Context(), dir, bin, args...)
	if err != nil {
		t.Fatalf("peers: %v", err)
	}
	return out
}
