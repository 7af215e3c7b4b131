package main

import (
	"io"
	"os"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/schollz/progressbar/v3"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/wasmgate/wasmgate/access"
)

func isatty(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// progress returns a progress bar factory when stderr is a terminal and
// the output is text; nil otherwise (pipes, CI logs, JSON).
func progress(c *cli.Context) access.ProgressFunc {
	f, ok := isTerminal(c.App.ErrWriter)
	if !ok || jsonOutput(c) {
		return nil
	}
	return func(desc ocispec.Descriptor, title string) io.WriteCloser {
		if title == "" {
			title = desc.Digest.Encoded()[:12]
		}
		bar := progressbar.NewOptions64(desc.Size,
			progressbar.OptionSetWriter(f),
			progressbar.OptionSetDescription(title),
			progressbar.OptionShowBytes(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
		return barCloser{bar}
	}
}

type barCloser struct{ *progressbar.ProgressBar }

func (b barCloser) Close() error { return b.Finish() }
