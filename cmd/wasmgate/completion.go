package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"
)

// The completion scripts ask wasmgate itself what comes next: urfave/cli
// answers `wasmgate SUBCOMMAND... [-FLAGPREFIX] --generate-bash-completion`
// with the subcommands (or the flags) that fit, one a line. The scripts
// send only the subcommand path they recognised, word by word, from those
// same answers, and a flag prefix, never a positional argument or a bare
// "--": with one of those on the line urfave/cli does not complete but
// runs the command, and pressing TAB must never pull, verify or run
// anything. After "--" (a module's arguments) they complete files. They
// leave out the help subcommand urfave/cli gives every command, which
// would otherwise stand in for file names after `push`, `pull`, ... (the
// --help flag stays).

const bashCompletion = `# bash completion for wasmgate.
# Load it now:  source <(wasmgate completion bash)
# For good:     wasmgate completion bash > /etc/bash_completion.d/wasmgate
_wasmgate_complete() {
  local cur="${COMP_WORDS[COMP_CWORD]}" w next IFS=$'\n'
  local -a cmd=("${COMP_WORDS[0]}")
  for w in "${COMP_WORDS[@]:1:COMP_CWORD-1}"; do
    [[ "$w" == "--" ]] && return 0
  done
  next=$("${cmd[@]}" --generate-bash-completion 2>/dev/null)
  for w in "${COMP_WORDS[@]:1:COMP_CWORD-1}"; do
    [[ $'\n'"$next"$'\n' == *$'\n'"$w"$'\n'* ]] || break
    cmd+=("$w")
    next=$("${cmd[@]}" --generate-bash-completion 2>/dev/null)
  done
  if [[ "$cur" == -* ]]; then
    w="$cur"
    [[ "$w" == "--" ]] && w="-"
    next=$("${cmd[@]}" "$w" --generate-bash-completion 2>/dev/null)
  fi
  next=$(grep -vx -e help -e h <<<"$next")
  COMPREPLY=($(compgen -W "$next" -- "$cur"))
}
complete -o bashdefault -o default -F _wasmgate_complete wasmgate
`

const zshCompletion = `#compdef wasmgate
# zsh completion for wasmgate.
# Load it now:  source <(wasmgate completion zsh)
# For good:     wasmgate completion zsh > "${fpath[1]}/_wasmgate"
_wasmgate() {
  local -a cmd cands
  local cur="${words[CURRENT]}" w next i
  for (( i = 2; i < CURRENT; i++ )); do
    [[ "${words[i]}" == "--" ]] && { _files; return }
  done
  cmd=("${words[1]}")
  next="$("${cmd[@]}" --generate-bash-completion 2>/dev/null)"
  for (( i = 2; i < CURRENT; i++ )); do
    w="${words[i]}"
    cands=("${(@f)next}")
    (( ${cands[(Ie)$w]} )) || break
    cmd+=("$w")
    next="$("${cmd[@]}" --generate-bash-completion 2>/dev/null)"
  done
  if [[ "$cur" == -* ]]; then
    w="$cur"
    [[ "$w" == "--" ]] && w="-"
    next="$("${cmd[@]}" "$w" --generate-bash-completion 2>/dev/null)"
  fi
  cands=("${(@f)next}")
  cands=("${(@)cands:#(help|h)}")
  if [[ -n "${cands[1]}" ]]; then
    compadd -a cands
  else
    _files
  fi
}
if [[ "$funcstack[1]" == "_wasmgate" ]]; then
  _wasmgate "$@"
else
  compdef _wasmgate wasmgate
fi
`

const fishCompletion = `# fish completion for wasmgate.
# Load it now:  wasmgate completion fish | source
# For good:     wasmgate completion fish > ~/.config/fish/completions/wasmgate.fish
function __wasmgate_complete
    set -l words (commandline -opc)
    set -l cmd $words[1]
    set -e words[1]
    contains -- -- $words; and return
    set -l next ($cmd --generate-bash-completion 2>/dev/null)
    for w in $words
        contains -- $w $next; or break
        set -a cmd $w
        set next ($cmd --generate-bash-completion 2>/dev/null)
    end
    set -l cur (commandline -ct)
    if string match -q -- '-*' $cur
        test "$cur" = "--"; and set cur -
        set next ($cmd $cur --generate-bash-completion 2>/dev/null)
    end
    string match -v -r -- '^(help|h)$' $next
end
complete -c wasmgate -a '(__wasmgate_complete)'
`

var completionScripts = map[string]string{"bash": bashCompletion, "zsh": zshCompletion, "fish": fishCompletion}

func completionCommand() *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print the shell completion script for bash, zsh or fish",
		ArgsUsage: "bash|zsh|fish",
		Description: "bash: source <(wasmgate completion bash)\n" +
			"zsh:  source <(wasmgate completion zsh)\n" +
			"fish: wasmgate completion fish | source\n\n" +
			"The scripts ask wasmgate for the subcommands and flags that fit, so they follow the installed version.",
		Action: func(c *cli.Context) error {
			script, ok := completionScripts[c.Args().First()]
			if c.NArg() != 1 || !ok {
				return usageError("completion wants one shell: bash, zsh or fish")
			}
			_, err := fmt.Fprint(c.App.Writer, script)
			return err
		},
	}
}

func manCommand() *cli.Command {
	return &cli.Command{
		Name:  "man",
		Usage: "print the manual page (roff, for man -l -), or Markdown with --markdown",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "markdown", Usage: "print Markdown instead of roff"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 0 {
				return usageError("man takes no arguments")
			}
			render := func() (string, error) { return c.App.ToManWithSection(1) }
			if c.Bool("markdown") {
				render = c.App.ToMarkdown
			}
			page, err := render()
			if err != nil {
				return err
			}
			_, err = fmt.Fprint(c.App.Writer, strings.TrimLeft(page, "\n"))
			return err
		},
	}
}
