package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
)

// buildWasmgate builds the wasmgate binary, which the completion scripts
// run as a shell would, into a directory to put first on PATH.
func buildWasmgate(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the wasmgate binary")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool to build wasmgate with")
	}
	dir := t.TempDir()
	if out, err := exec.Command(goTool, "build", "-o", filepath.Join(dir, "wasmgate"), ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return dir
}

// shell runs script in shell with words as its arguments, bin first on
// PATH, in an empty directory (so no file name is a candidate), and
// returns the candidates it prints, one a line, sorted.
func shell(t *testing.T, bin, shell, script string, words ...string) []string {
	t.Helper()
	path, err := exec.LookPath(shell)
	if err != nil {
		t.Skipf("no %s here", shell)
	}
	args := []string{"-c", script, shell}
	if shell == "fish" {
		args = []string{"-c", script}
	}
	cmd := exec.Command(path, append(args, words...)...)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", shell, err, out)
	}
	var got []string
	for _, l := range strings.Split(string(out), "\n") {
		if l, _, _ = strings.Cut(l, "\t"); l != "" {
			got = append(got, l)
		}
	}
	slices.Sort(got)
	return got
}

// Each shell's script, loaded by that shell, driven as the shell drives
// it on TAB: the words so far, the cursor on the last.
var completionDrivers = map[string]string{
	// COMP_WORDS and COMP_CWORD are what bash sets before it calls the function.
	"bash": `source <(wasmgate completion bash) || exit 1
complete -p wasmgate >/dev/null || exit 1
COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=()
_wasmgate_complete
printf '%s\n' "${COMPREPLY[@]}"`,
	// words and CURRENT are what zsh's completion system sets; compadd
	// and _files are its builtins, stood in for by functions that print
	// (compadd: the candidates that start with the current word, as it
	// matches them).
	"zsh": `compdef() { :; }
compadd() { local c; for c in "${(@P)2}"; do [[ "$c" == "${words[CURRENT]}"* ]] && print -r -- "$c"; done; return 0; }
_files() { :; }
source <(wasmgate completion zsh) || exit 1
words=("$@"); CURRENT=$#
_wasmgate`,
	// fish completes a command line itself: complete -C.
	"fish": `wasmgate completion fish | source; or exit 1
complete -C (string join ' ' -- (string escape -- $argv))`,
}

// Regression: there was no shell completion. The scripts of
// `wasmgate completion bash|zsh|fish`, loaded by the real shell, complete
// subcommands and flags by asking the binary, and TAB never starts a
// command: no request reaches the registry a reference on the line names.
func TestCompletionScripts(t *testing.T) {
	reg := testregistry.Distribution(t)
	cliEnv(t, reg)
	ref := reg.Ref("wasm/hello", "v1")
	bin := buildWasmgate(t)
	cases := []struct {
		words []string
		want  []string
		// some, when set, are candidates that must be among many (the
		// whole flag list of a command), instead of want exactly.
		some []string
	}{
		{words: []string{"wasmgate", "ver"}, want: []string{"verify", "verify-attestation", "verify-blob", "verify-dsse", "verify-layout", "version"}},
		{words: []string{"wasmgate", "cache", "cl"}, want: []string{"clear"}},
		{words: []string{"wasmgate", "verify", "--po"}, want: []string{"--policy"}},
		{words: []string{"wasmgate", "push", "--perm"}, want: []string{"--permissions"}},
		{words: []string{"wasmgate", "pull", ref, "--allow-u"}, want: []string{"--allow-unknown-layers"}},
		{words: []string{"wasmgate", "pull", ref, "-o", ""}, want: nil},
		{words: []string{"wasmgate", "push", ""}, want: nil},
		// A bare "--" is the prefix of every long flag: they are offered, and
		// the reference before it is never acted on (no request below).
		{words: []string{"wasmgate", "pull", ref, "--"}, some: []string{"--allow-unknown-layers", "--verified", "--min-rate"}},
		{words: []string{"wasmgate", "run", ref, "--", "--"}, want: nil},
	}
	for _, sh := range []string{"bash", "zsh", "fish"} {
		t.Run(sh, func(t *testing.T) {
			for _, tc := range cases {
				words := tc.words
				if sh == "fish" && words[len(words)-1] == "" {
					words = words[:len(words)-1] // fish completes after the trailing space of the line
				}
				got := shell(t, bin, sh, completionDrivers[sh], words...)
				if tc.some != nil {
					for _, w := range tc.some {
						if !slices.Contains(got, w) {
							t.Errorf("%q: got %q, want %q among them", tc.words, got, w)
						}
					}
					continue
				}
				if sh == "fish" && tc.want == nil {
					got = nil // fish adds its own file candidates where the script has none
				}
				if !slices.Equal(got, tc.want) {
					t.Errorf("%q: got %q, want %q", tc.words, got, tc.want)
				}
			}
			if n := len(reg.Faults.Requests()); n != 0 {
				t.Errorf("completion made %d registry requests: %+v", n, reg.Faults.Requests())
			}
		})
	}
}

func TestCompletionUsage(t *testing.T) {
	for _, args := range [][]string{{"completion"}, {"completion", "powershell"}, {"completion", "bash", "zsh"}} {
		if code, _, stderr := wasmgate(t, args...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d: %s", args, code, exitUsage, stderr)
		}
	}
}

// Regression: there was no man page. `wasmgate man` prints one (roff,
// section 1) with every command; --markdown the same as Markdown.
func TestManPage(t *testing.T) {
	code, roff, stderr := wasmgate(t, "man")
	if code != 0 || !strings.HasPrefix(roff, ".nh\n.TH wasmgate 1") {
		t.Fatalf("man: exit %d: %s\n%.200s", code, stderr, roff)
	}
	code, md, stderr := wasmgate(t, "man", "--markdown")
	if code != 0 || !strings.HasPrefix(md, "# NAME") {
		t.Fatalf("man --markdown: exit %d: %s\n%.200s", code, stderr, md)
	}
	for _, c := range newApp(nil, nil).Commands {
		if c.Hidden {
			continue
		}
		name := strings.Join(c.Names(), ", ")
		if !strings.Contains(roff, "\n.SH "+name+"\n") {
			t.Errorf("the man page has no section %q", name)
		}
		if !strings.Contains(md, "\n## "+name+"\n") {
			t.Errorf("the Markdown has no section %q", name)
		}
	}
	if !strings.Contains(roff, `\fB--permissions\fP`) {
		t.Error("the man page does not list push's --permissions")
	}
}
