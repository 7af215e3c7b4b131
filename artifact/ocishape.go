package artifact

import (
	"encoding/json"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// The image-spec's JSON schema (image-spec v1.1.1, schema/*.json) as Go
// values, evaluated as its JSON Schema draft-04 engine evaluates them.
//
// Why not the schema files themselves: image-spec's Validator compiles
// them on every call (3 ms and 2 MB a document), and a schema engine
// linked into the CLI costs every run of it at start-up (2 ms and 1 MB of
// initialisation for santhosh-tekuri/jsonschema v5, 13 ms for v6). The
// rules are few and stable; the tests hold this form to the files: every
// rule's cases are checked against image-spec's own Validator, and a
// differential fuzz target against the files compiled with its engine.

// shape is one schema node: the keywords image-spec's schema uses.
type shape struct {
	typ      string // "object", "array", "string", "integer", "boolean"; "" any
	nullable bool   // oneOf [typ, null]
	props    map[string]*shape
	required []string
	// values constrains every property whose name matches ".{1,}"
	// (patternProperties: a name with a character other than a newline).
	values   *shape
	items    *shape
	minItems int
	pattern  *pattern
	enum     string // the one value an enum allows; "" for none
	min, max *big.Rat
	format   string // "uri", "date-time"
}

// pattern is a schema "pattern": its text, for the message, and a
// matcher. The image-spec's two patterns are matched by scanners written
// from them: Go's regexp takes 40% of validating a 1,000-entry index, and
// the media type's counted repetitions make a large program. The tests
// hold each scanner to its regular expression (TestPatternsMatchTheirRegexps).
type pattern struct {
	text  string
	match func(string) bool
}

const (
	// MediaTypePattern and DigestPattern are the image-spec's
	// (schema/defs-descriptor.json).
	MediaTypePattern = `^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$`
	DigestPattern    = `^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$`
)

var (
	mediaTypeMatcher = &pattern{text: MediaTypePattern, match: isMediaType}
	digestMatcher    = &pattern{text: DigestPattern, match: isDigest}
)

// isMediaType matches MediaTypePattern: type "/" subtype, each 1 to 127
// characters, the first alphanumeric, the rest alphanumeric or one of
// !#$&^_.+- ("/" is not among them, so the first one splits).
func isMediaType(s string) bool {
	typ, sub, ok := strings.Cut(s, "/")
	return ok && mediaTypeName(typ) && mediaTypeName(sub)
}

func mediaTypeName(s string) bool {
	if len(s) == 0 || len(s) > 127 || !isAlnum(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && !strings.ContainsRune("!#$&^_.+-", rune(c)) {
			return false
		}
	}
	return true
}

// isDigest matches DigestPattern: an algorithm of lower-case alphanumeric
// components joined by single separators (+ . _ -), ":", and an encoded
// part of letters, digits, =, _ and - (":" is in neither, so the first one
// splits).
func isDigest(s string) bool {
	alg, enc, ok := strings.Cut(s, ":")
	if !ok || alg == "" || enc == "" {
		return false
	}
	component := 0 // the length of the current component
	for i := 0; i < len(alg); i++ {
		switch c := alg[i]; {
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
			component++
		case c == '+' || c == '.' || c == '_' || c == '-':
			if component == 0 {
				return false
			}
			component = 0
		default:
			return false
		}
	}
	if component == 0 {
		return false
	}
	for i := 0; i < len(enc); i++ {
		if c := enc[i]; !isAlnum(c) && c != '=' && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func str() *shape      { return &shape{typ: "string"} }
func strArray() *shape { return &shape{typ: "array", items: str()} }
func object(props map[string]*shape, required ...string) *shape {
	return &shape{typ: "object", props: props, required: required}
}

func integer(min, max string) *shape {
	lo, _ := new(big.Rat).SetString(min)
	hi, _ := new(big.Rat).SetString(max)
	return &shape{typ: "integer", min: lo, max: hi}
}

func nullable(s *shape) *shape { s.nullable = true; return s }

// The definitions of defs.json and defs-descriptor.json.
func mediaTypeShape() *shape     { return &shape{typ: "string", pattern: mediaTypeMatcher} }
func digestShape() *shape        { return &shape{typ: "string", pattern: digestMatcher} }
func int64Shape() *shape         { return integer("-9223372036854776000", "9223372036854776000") }
func mapStringString() *shape    { return &shape{typ: "object", values: str()} }
func mapStringObject() *shape    { return &shape{typ: "object", values: &shape{typ: "object"}} }
func schemaVersionShape() *shape { return integer("2", "2") }
func urlsShape() *shape          { return &shape{typ: "array", items: &shape{typ: "string", format: "uri"}} }
func contentDescriptor() *shape {
	return object(map[string]*shape{
		"mediaType": mediaTypeShape(), "size": int64Shape(), "digest": digestShape(), "urls": urlsShape(),
		"data": str(), "artifactType": mediaTypeShape(), "annotations": mapStringString(),
	}, "mediaType", "size", "digest")
}

// documentShapes are the schema of each document type, built on first
// use.
var documentShapes = sync.OnceValue(func() map[string]*shape {
	return map[string]*shape{
		ocispec.MediaTypeDescriptor: contentDescriptor(),
		ocispec.MediaTypeImageManifest: object(map[string]*shape{
			"schemaVersion": schemaVersionShape(), "mediaType": mediaTypeShape(), "artifactType": mediaTypeShape(),
			"config": contentDescriptor(), "subject": contentDescriptor(),
			"layers":      {typ: "array", minItems: 1, items: contentDescriptor()},
			"annotations": mapStringString(),
		}, "schemaVersion", "config", "layers"),
		ocispec.MediaTypeImageIndex: object(map[string]*shape{
			"schemaVersion": schemaVersionShape(), "mediaType": mediaTypeShape(), "artifactType": mediaTypeShape(),
			"subject": contentDescriptor(),
			"manifests": {typ: "array", items: object(map[string]*shape{
				"mediaType": mediaTypeShape(), "size": int64Shape(), "digest": digestShape(), "urls": urlsShape(),
				"platform": object(map[string]*shape{
					"architecture": str(), "os": str(), "os.version": str(), "os.features": strArray(), "variant": str(),
				}, "architecture", "os"),
				"annotations": mapStringString(),
			}, "mediaType", "size", "digest")},
			"annotations": mapStringString(),
		}, "schemaVersion", "manifests"),
		ocispec.MediaTypeImageConfig: object(map[string]*shape{
			"created": {typ: "string", format: "date-time"}, "author": str(), "architecture": str(), "variant": str(),
			"os": str(), "os.version": str(), "os.features": strArray(),
			"config": object(map[string]*shape{
				"User": str(), "ExposedPorts": mapStringObject(), "Env": strArray(),
				"Entrypoint": nullable(strArray()), "Cmd": nullable(strArray()), "Volumes": nullable(mapStringObject()),
				"WorkingDir": str(), "Labels": nullable(mapStringString()), "StopSignal": str(),
				"ArgsEscaped": {typ: "boolean"},
			}),
			"rootfs": object(map[string]*shape{"diff_ids": strArray(), "type": {typ: "string", enum: "layers"}}, "diff_ids", "type"),
			"history": {typ: "array", items: object(map[string]*shape{
				"created": {typ: "string", format: "date-time"}, "author": str(), "created_by": str(), "comment": str(),
				"empty_layer": {typ: "boolean"},
			})},
		}, "architecture", "os", "rootfs"),
		ocispec.MediaTypeLayoutHeader: object(map[string]*shape{"imageLayoutVersion": {typ: "string", enum: ocispec.ImageLayoutVersion}}, "imageLayoutVersion"),
	}
})

// shapeError is where a value breaks its shape: the JSON pointer of the
// value and the keyword's complaint.
type shapeError struct {
	at, reason string
}

func (e *shapeError) Error() string { return e.reason }

// check evaluates v (decoded with UseNumber) against s; at is v's JSON
// pointer. The first failure found is returned; properties are visited in
// name order, so the same document always names the same rule.
func (s *shape) check(v any, at string) *shapeError {
	fail := func(format string, args ...any) *shapeError {
		return &shapeError{at: at, reason: fmt.Sprintf(format, args...)}
	}
	if v == nil && s.nullable {
		return nil
	}
	if got := jsonTypeOf(v); s.typ != "" && got != s.typ && !(s.typ == "integer" && got == "number" && isInteger(v)) {
		want := s.typ
		if s.nullable {
			want += " or null"
		}
		return fail("expected %s, but got %s", want, got)
	}
	switch v := v.(type) {
	case map[string]any:
		var missing []string
		for _, name := range s.required {
			if _, ok := v[name]; !ok {
				missing = append(missing, "'"+name+"'")
			}
		}
		if len(missing) > 0 {
			return fail("missing properties: %s", strings.Join(missing, ", "))
		}
		names := make([]string, 0, len(v))
		for name := range v {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			child := at + "/" + escapePointer(name)
			if p, ok := s.props[name]; ok {
				if err := p.check(v[name], child); err != nil {
					return err
				}
			}
			if s.values != nil && hasNonNewline(name) {
				if err := s.values.check(v[name], child); err != nil {
					return err
				}
			}
		}
	case []any:
		if len(v) < s.minItems {
			return fail("minimum %d items required, but found %d items", s.minItems, len(v))
		}
		if s.items != nil {
			for i, item := range v {
				if err := s.items.check(item, at+"/"+strconv.Itoa(i)); err != nil {
					return err
				}
			}
		}
	case string:
		if s.pattern != nil && !s.pattern.match(v) {
			return fail("does not match pattern %q", s.pattern.text)
		}
		if s.format != "" && !formatOK(s.format, v) {
			return fail("%q is not valid %s", v, s.format)
		}
	case json.Number:
		n, _ := new(big.Rat).SetString(v.String())
		if s.min != nil && n.Cmp(s.min) < 0 {
			return fail("must be >= %s but found %s", s.min.RatString(), v)
		}
		if s.max != nil && n.Cmp(s.max) > 0 {
			return fail("must be <= %s but found %s", s.max.RatString(), v)
		}
	}
	if s.enum != "" && v != s.enum {
		return fail("value must be %q", s.enum)
	}
	return nil
}

// hasNonNewline is patternProperties' ".{1,}" (unanchored): a name with
// a character that "." matches, any but a newline.
func hasNonNewline(name string) bool {
	return strings.ContainsFunc(name, func(r rune) bool { return r != '\n' })
}

func jsonTypeOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case json.Number:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// isInteger: draft-04 calls a number with no fractional part an integer,
// whatever its notation (2, 2.0, 2e0).
func isInteger(v any) bool {
	n, ok := new(big.Rat).SetString(v.(json.Number).String())
	return ok && n.IsInt()
}

// escapePointer escapes a property name for a JSON pointer (RFC 6901).
func escapePointer(name string) string {
	if !strings.ContainsAny(name, "~/") {
		return name
	}
	return pointerEscaper.Replace(name)
}

var pointerEscaper = strings.NewReplacer("~", "~0", "/", "~1")

// formatOK checks the two formats image-spec's schema names, as its
// engine does: "uri" an absolute URL (an IPv6 host in brackets), and
// "date-time" RFC 3339, a leap second allowed at 23:59:60 UTC.
func formatOK(format, s string) bool {
	switch format {
	case "uri":
		u, err := url.Parse(s)
		if err != nil || !u.IsAbs() {
			return false
		}
		if h := u.Hostname(); strings.Contains(h, ":") {
			return strings.Contains(u.Host, "[") && strings.Contains(u.Host, "]") && isIPv6(h)
		}
		return true
	case "date-time":
		return len(s) >= 20 && (s[10] == 'T' || s[10] == 't') && isDate(s[:10]) && isTime(s[11:])
	}
	return true
}

func isIPv6(h string) bool {
	return strings.Contains(h, ":") && net.ParseIP(h) != nil
}

func isDate(s string) bool {
	_, err := time.Parse("2006-01-02", s)
	return err == nil
}

// isTime is RFC 3339's full-time: hh:mm:ss[.frac](Z|±hh:mm), seconds up
// to 60 for a leap second, which must fall at 23:59 UTC.
func isTime(s string) bool {
	if len(s) < 9 || s[2] != ':' || s[5] != ':' {
		return false
	}
	inRange := func(s string, lo, hi int) (int, bool) {
		n, err := strconv.Atoi(s)
		return n, err == nil && n >= lo && n <= hi
	}
	h, ok1 := inRange(s[0:2], 0, 23)
	m, ok2 := inRange(s[3:5], 0, 59)
	sec, ok3 := inRange(s[6:8], 0, 60)
	if !ok1 || !ok2 || !ok3 {
		return false
	}
	s = s[8:]
	if s[0] == '.' {
		s = s[1:]
		digits := 0
		for s != "" && s[0] >= '0' && s[0] <= '9' {
			digits++
			s = s[1:]
		}
		if digits == 0 {
			return false
		}
	}
	if s == "" {
		return false
	}
	if s[0] == 'z' || s[0] == 'Z' {
		if len(s) != 1 {
			return false
		}
	} else {
		if len(s) != 6 || s[3] != ':' {
			return false
		}
		sign := 0
		switch s[0] {
		case '+':
			sign = -1
		case '-':
			sign = 1
		default:
			return false
		}
		zh, ok1 := inRange(s[1:3], 0, 23)
		zm, ok2 := inRange(s[4:6], 0, 59)
		if !ok1 || !ok2 {
			return false
		}
		hm := (h*60 + m) + sign*(zh*60+zm)
		if hm < 0 {
			hm += 24 * 60
		}
		h, m = hm/60, hm%60
	}
	return sec != 60 || (h == 23 && m == 59)
}
