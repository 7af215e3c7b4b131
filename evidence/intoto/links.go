package intoto

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"

	in_toto "github.com/in-toto/in-toto-golang/in_toto"

	"github.com/wasmgate/wasmgate/internal/boundedio"
)

// A LinkSource gives VerifyLayout the links of a layout's steps.
type LinkSource interface {
	// StepLinks are the links (or sublayouts) recorded for step, each by
	// the key ID of the functionary who signed it, or by that key ID's
	// first 8 hex digits as in-toto's file names carry it.
	StepLinks(step string) (map[string][]byte, error)
	// Sublayout is the source of the links of the sublayout that the
	// functionary keyID signed for step.
	Sublayout(step, keyID string) (LinkSource, error)
}

// Links are links held in memory, such as links fetched from a registry.
type Links struct {
	// Steps: step name → key ID (or its first 8 hex digits) → link bytes.
	Steps map[string]map[string][]byte
	// Sublayouts are the links of sublayouts, by the directory name
	// in-toto gives them: "<step>.<first 8 hex digits of the key ID>".
	Sublayouts map[string]*Links
}

// StepLinks implements LinkSource.
func (l *Links) StepLinks(step string) (map[string][]byte, error) {
	if l == nil {
		return nil, nil
	}
	return l.Steps[step], nil
}

// Sublayout implements LinkSource.
func (l *Links) Sublayout(step, keyID string) (LinkSource, error) {
	if l == nil {
		return (*Links)(nil), nil
	}
	return l.Sublayouts[fmt.Sprintf(in_toto.SublayoutLinkDirFormat, step, keyID)], nil
}

// LinkDir is a directory of links as in-toto-run writes them,
// "<step>.<first 8 hex digits of the key ID>.link", with a sublayout's
// links in the subdirectory "<step>.<first 8 hex digits>". Reads stay
// inside the directory (os.Root) and are bounded: MaxLinkBytes a link,
// MaxLinks links a step, maxDirEntries names listed.
type LinkDir string

// maxDirEntries bounds the names LinkDir lists in a directory.
const maxDirEntries = 1 << 16

// StepLinks implements LinkSource. It matches file names as
// in_toto.LoadLinksForLayout does (its glob "<step>.????????.link"),
// without a glob, so that a step name is never a pattern.
func (d LinkDir) StepLinks(step string) (map[string][]byte, error) {
	root, err := os.OpenRoot(string(d))
	if err != nil {
		return nil, err
	}
	defer root.Close()
	names, err := listDir(root)
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	for _, name := range names {
		rest, ok := strings.CutPrefix(name, step+".")
		if !ok {
			continue
		}
		id, ok := strings.CutSuffix(rest, ".link")
		if !ok || len(id) != 8 {
			continue
		}
		if len(out) == MaxLinks {
			return nil, fmt.Errorf("%s: more than %d links for step %q", d, MaxLinks, step)
		}
		f, err := root.Open(name)
		if err != nil {
			return nil, err
		}
		raw, err := boundedio.ReadAll(f, MaxLinkBytes)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s/%s: %w", d, name, err)
		}
		out[id] = raw
	}
	return out, nil
}

// Sublayout implements LinkSource.
func (d LinkDir) Sublayout(step, keyID string) (LinkSource, error) {
	name := fmt.Sprintf(in_toto.SublayoutLinkDirFormat, step, keyID)
	if !fs.ValidPath(name) || strings.ContainsAny(name, `/\`) {
		return nil, fmt.Errorf("sublayout directory %q is not a name inside %s", name, d)
	}
	return LinkDir(string(d) + string(os.PathSeparator) + name), nil
}

func listDir(root *os.Root) ([]string, error) {
	f, err := root.Open(".")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var names []string
	for {
		batch, err := f.ReadDir(1024)
		for _, e := range batch {
			if e.Type().IsRegular() {
				names = append(names, e.Name())
			}
		}
		if len(names) > maxDirEntries {
			return nil, fmt.Errorf("more than %d files", maxDirEntries)
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if len(batch) == 0 {
			break
		}
	}
	slices.Sort(names)
	return names, nil
}

// stepLinks parses the links src has for step and maps each to the full
// key ID of its signature, as in_toto.LoadLinksForLayout does. A link that
// does not parse, breaks in-toto's link format, names another step, or has
// no signature by the key ID it is filed under is left out, as in-toto
// leaves out links it cannot load; why is returned so that a threshold
// error can say it.
func (v *verification) stepLinks(src LinkSource, step string) (map[string]in_toto.Metadata, []error, error) {
	raw, err := src.StepLinks(step)
	if err != nil {
		return nil, nil, err
	}
	ids := make([]string, 0, len(raw))
	for id := range raw {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	loaded := map[string]in_toto.Metadata{}
	var skipped []error
	for _, id := range ids {
		v.links++
		if v.links > MaxLinks {
			return nil, nil, fmt.Errorf("more than %d links", MaxLinks)
		}
		b := raw[id]
		if len(b) > MaxLinkBytes {
			return nil, nil, fmt.Errorf("link %s.%.8s is larger than %d bytes", step, id, MaxLinkBytes)
		}
		name := fmt.Sprintf(in_toto.LinkNameFormat, step, id)
		md, err := v.load(b)
		if err != nil {
			skipped = append(skipped, fmt.Errorf("%s left out: %w", name, err))
			continue
		}
		switch p := md.GetPayload().(type) {
		case in_toto.Link:
			if err := in_toto.ValidateMetablock(in_toto.Metablock{Signed: p}); err != nil {
				skipped = append(skipped, fmt.Errorf("%s left out: %w", name, err))
				continue
			}
			if p.Name != step {
				skipped = append(skipped, fmt.Errorf("%s left out: it is the link of step %q", name, p.Name))
				continue
			}
		case in_toto.Layout: // a sublayout, verified as one once its signature is
		}
		if len(id) < 8 {
			skipped = append(skipped, fmt.Errorf("%s left out: %q is not a key ID", name, id))
			continue
		}
		found := false
		for _, sig := range md.Sigs() {
			if strings.HasPrefix(sig.KeyID, id) {
				loaded[sig.KeyID], found = md, true
				break
			}
		}
		if !found {
			skipped = append(skipped, fmt.Errorf("%s left out: no signature by key %s", name, id))
		}
	}
	return loaded, skipped, nil
}
