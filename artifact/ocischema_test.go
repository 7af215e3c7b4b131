package artifact_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/image-spec/schema"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
)

const (
	okDigest = "sha256:5b0bcabd1ed22e9fb1310cf6c2dec7cdef19f0ad69efa1f392e94a4333501270"
	// The empty JSON object, as image-spec's empty descriptor embeds it.
	emptyDigest = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
)

func desc(fields string) string {
	return `{"mediaType":"application/wasm","size":7,"digest":"` + okDigest + `"` + fields + `}`
}

func manifest(config, layers, extra string) string {
	return `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":` + config + `,"layers":[` + layers + `]` + extra + `}`
}

// schemaCases are, for each rule of the image-spec, a document that breaks
// it and one that keeps it. beyondUpstream marks a rule the spec states
// but image-spec's own Validator does not check (the digest encoding of a
// registered algorithm inside a manifest, embedded data that is not the
// content); for every other case, image-spec's Validator must agree.
var schemaCases = []struct {
	name           string
	mediaType      string
	doc            string
	valid          bool
	rule           string // where the failure is reported
	beyondUpstream bool
}{
	{"manifest", ocispec.MediaTypeImageManifest, manifest(desc(""), desc(""), ""), true, "", false},
	{"manifest schemaVersion 1", ocispec.MediaTypeImageManifest, strings.Replace(manifest(desc(""), desc(""), ""), `"schemaVersion":2`, `"schemaVersion":1`, 1), false, "/schemaVersion", false},
	{"manifest without config", ocispec.MediaTypeImageManifest, `{"schemaVersion":2,"layers":[` + desc("") + `]}`, false, "", false},
	{"manifest without layers", ocispec.MediaTypeImageManifest, manifest(desc(""), "", ""), false, "/layers", false},
	{"manifest mediaType invalid", ocispec.MediaTypeImageManifest, strings.Replace(manifest(desc(""), desc(""), ""), "application/vnd.oci.image.manifest.v1+json", "not a media type", 1), false, "/mediaType", false},
	{"manifest artifactType", ocispec.MediaTypeImageManifest, manifest(desc(""), desc(""), `,"artifactType":"application/vnd.example+json"`), true, "", false},
	{"manifest artifactType invalid", ocispec.MediaTypeImageManifest, manifest(desc(""), desc(""), `,"artifactType":"wasm"`), false, "/artifactType", false},
	{"manifest annotations not strings", ocispec.MediaTypeImageManifest, manifest(desc(""), desc(""), `,"annotations":{"a":1}`), false, "/annotations/a", false},
	{"manifest subject", ocispec.MediaTypeImageManifest, manifest(desc(""), desc(""), `,"subject":`+desc("")), true, "", false},
	{"manifest subject without size", ocispec.MediaTypeImageManifest, manifest(desc(""), desc(""), `,"subject":{"mediaType":"application/wasm","digest":"`+okDigest+`"}`), false, "/subject", false},
	{"layer without size", ocispec.MediaTypeImageManifest, manifest(desc(""), `{"mediaType":"application/wasm","digest":"`+okDigest+`"}`, ""), false, "/layers/0", false},
	{"layer without mediaType", ocispec.MediaTypeImageManifest, manifest(desc(""), `{"size":7,"digest":"`+okDigest+`"}`, ""), false, "/layers/0", false},
	{"layer negative size", ocispec.MediaTypeImageManifest, manifest(desc(""), strings.Replace(desc(""), `"size":7`, `"size":-1`, 1), ""), false, "/layers/0", true},
	{"layer size not an integer", ocispec.MediaTypeImageManifest, manifest(desc(""), strings.Replace(desc(""), `"size":7`, `"size":"7"`, 1), ""), false, "/layers/0/size", false},
	{"layer digest without algorithm", ocispec.MediaTypeImageManifest, manifest(desc(""), strings.Replace(desc(""), "sha256:", "", 1), ""), false, "/layers/0/digest", false},
	{"layer digest sha256+b64u (valid, unregistered)", ocispec.MediaTypeImageManifest, manifest(desc(""), strings.Replace(desc(""), okDigest, "sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564", 1), ""), true, "", false},
	{"layer digest multihash+base58 (valid, unregistered)", ocispec.MediaTypeImageManifest, manifest(desc(""), strings.Replace(desc(""), okDigest, "multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8", 1), ""), true, "", false},
	{"layer sha256 digest of the wrong length", ocispec.MediaTypeImageManifest, manifest(desc(""), strings.Replace(desc(""), okDigest, "sha256:5b0bca", 1), ""), false, "/layers/0", true},
	{"layer sha256 digest in upper case", ocispec.MediaTypeImageManifest, manifest(desc(""), strings.Replace(desc(""), okDigest, strings.ToUpper(okDigest[:7])+okDigest[7:], 1), ""), false, "/layers/0/digest", false},
	{"layer urls", ocispec.MediaTypeImageManifest, manifest(desc(""), desc(`,"urls":["https://example.com/blob"]`), ""), true, "", false},
	{"layer url malformed", ocispec.MediaTypeImageManifest, manifest(desc(""), desc(`,"urls":["not a url"]`), ""), false, "/layers/0/urls/0", false},
	{"layer artifactType invalid", ocispec.MediaTypeImageManifest, manifest(desc(""), desc(`,"artifactType":"x"`), ""), false, "/layers/0/artifactType", false},
	{"config data", ocispec.MediaTypeImageManifest, manifest(`{"mediaType":"application/vnd.oci.empty.v1+json","size":2,"digest":"`+emptyDigest+`","data":"e30="}`, desc(""), ""), true, "", false},
	{"config data not base64", ocispec.MediaTypeImageManifest, manifest(`{"mediaType":"application/vnd.oci.empty.v1+json","size":2,"digest":"`+emptyDigest+`","data":"e30"}`, desc(""), ""), false, "", false},
	{"config data not the content", ocispec.MediaTypeImageManifest, manifest(`{"mediaType":"application/vnd.oci.empty.v1+json","size":2,"digest":"`+emptyDigest+`","data":"W10="}`, desc(""), ""), false, "/config", true},
	{"config data longer than size", ocispec.MediaTypeImageManifest, manifest(`{"mediaType":"application/vnd.oci.empty.v1+json","size":1,"digest":"`+emptyDigest+`","data":"e30="}`, desc(""), ""), false, "/config", true},
	{"manifest not JSON", ocispec.MediaTypeImageManifest, `{"schemaVersion":2,`, false, "", false},
	{"manifest trailing data", ocispec.MediaTypeImageManifest, manifest(desc(""), desc(""), "") + `{}`, false, "", true},

	{"index", ocispec.MediaTypeImageIndex, `{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":7,"digest":"` + okDigest + `","platform":{"architecture":"wasm","os":"wasip1"}}]}`, true, "", false},
	{"index without manifests", ocispec.MediaTypeImageIndex, `{"schemaVersion":2}`, false, "", false},
	{"index entry without digest", ocispec.MediaTypeImageIndex, `{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":7}]}`, false, "/manifests/0", false},
	{"index entry platform without os", ocispec.MediaTypeImageIndex, `{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":7,"digest":"` + okDigest + `","platform":{"architecture":"wasm"}}]}`, false, "/manifests/0/platform", false},
	{"index entry media type invalid", ocispec.MediaTypeImageIndex, `{"schemaVersion":2,"manifests":[{"mediaType":"manifest","size":7,"digest":"` + okDigest + `"}]}`, false, "/manifests/0/mediaType", false},
	{"index entry sha512 digest too short", ocispec.MediaTypeImageIndex, `{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":7,"digest":"sha512:abcd"}]}`, false, "/manifests/0", true},

	{"config", ocispec.MediaTypeImageConfig, `{"architecture":"wasm","os":"wasip1","config":{"Env":["A=1","B="]},"rootfs":{"type":"layers","diff_ids":["` + okDigest + `"]}}`, true, "", false},
	{"config without os", ocispec.MediaTypeImageConfig, `{"architecture":"wasm","rootfs":{"type":"layers","diff_ids":[]}}`, false, "", false},
	{"config Env entry without =", ocispec.MediaTypeImageConfig, `{"architecture":"wasm","os":"wasip1","config":{"Env":["PATH"]},"rootfs":{"type":"layers","diff_ids":[]}}`, false, "/config/Env/0", false},
	{"config not JSON", ocispec.MediaTypeImageConfig, `wasm`, false, "", false},
	{"config created not a date", ocispec.MediaTypeImageConfig, `{"architecture":"wasm","os":"wasip1","created":"yesterday","rootfs":{"type":"layers","diff_ids":[]}}`, false, "", false},

	{"config rootfs type other than layers", ocispec.MediaTypeImageConfig, `{"architecture":"wasm","os":"wasip1","rootfs":{"type":"tar","diff_ids":[]}}`, false, "/rootfs/type", false},
	{"config rootfs without diff_ids", ocispec.MediaTypeImageConfig, `{"architecture":"wasm","os":"wasip1","rootfs":{"type":"layers"}}`, false, "/rootfs", false},
	{"config diff_id not a digest", ocispec.MediaTypeImageConfig, `{"architecture":"wasm","os":"wasip1","rootfs":{"type":"layers","diff_ids":["sha256:abc"]}}`, false, "/rootfs/diff_ids/0", true},
	{"config Labels value not a string", ocispec.MediaTypeImageConfig, `{"architecture":"wasm","os":"wasip1","config":{"Labels":{"a":1}},"rootfs":{"type":"layers","diff_ids":[]}}`, false, "/config/Labels/a", false},
	{"config Labels null", ocispec.MediaTypeImageConfig, `{"architecture":"wasm","os":"wasip1","config":{"Labels":null,"Cmd":null},"rootfs":{"type":"layers","diff_ids":[]}}`, true, "", false},
	{"config Cmd not an array", ocispec.MediaTypeImageConfig, `{"architecture":"wasm","os":"wasip1","config":{"Cmd":"run"},"rootfs":{"type":"layers","diff_ids":[]}}`, false, "/config/Cmd", false},
	{"config history entry empty_layer not a boolean", ocispec.MediaTypeImageConfig, `{"architecture":"wasm","os":"wasip1","rootfs":{"type":"layers","diff_ids":[]},"history":[{"empty_layer":"yes"}]}`, false, "/history/0/empty_layer", false},
	{"config os.features not an array", ocispec.MediaTypeImageConfig, `{"architecture":"wasm","os":"wasip1","os.features":"x","rootfs":{"type":"layers","diff_ids":[]}}`, false, "/os.features", false},
	{"index entry platform os.features", ocispec.MediaTypeImageIndex, `{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":7,"digest":"` + okDigest + `","platform":{"architecture":"wasm","os":"wasip1","os.features":["a"],"variant":"v1"}}]}`, true, "", false},
	{"index entry platform os.features not strings", ocispec.MediaTypeImageIndex, `{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":7,"digest":"` + okDigest + `","platform":{"architecture":"wasm","os":"wasip1","os.features":[1]}}]}`, false, "/manifests/0/platform/os.features/0", false},
	{"index annotations not strings", ocispec.MediaTypeImageIndex, `{"schemaVersion":2,"manifests":[],"annotations":{"a":true}}`, false, "/annotations/a", false},
	{"index schemaVersion 3", ocispec.MediaTypeImageIndex, `{"schemaVersion":3,"manifests":[]}`, false, "/schemaVersion", false},
	{"index subject", ocispec.MediaTypeImageIndex, `{"schemaVersion":2,"manifests":[],"subject":` + desc("") + `}`, true, "", false},
	{"index entry embedded data not the content", ocispec.MediaTypeImageIndex, `{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":2,"digest":"` + emptyDigest + `","data":"W10="}]}`, false, "/manifests/0", true},

	{"descriptor", ocispec.MediaTypeDescriptor, desc(""), true, "", false},
	{"descriptor not an object", ocispec.MediaTypeDescriptor, `[]`, false, "", false},
	{"descriptor sha256+b64 (valid, unregistered)", ocispec.MediaTypeDescriptor, strings.Replace(desc(""), okDigest, "sha256+b64:LCa0a2j0xo05m0U8HTBBNBNCLXBkg70g0YpeiGJm564=", 1), true, "", false},
	{"descriptor sha256+b64 with characters outside the grammar", ocispec.MediaTypeDescriptor, strings.Replace(desc(""), okDigest, "sha256+b64:LCa0a2j/xo/5m0U8HTBBNBNCLXBkg7+g+YpeiGJm564=", 1), false, "/digest", false},
	{"descriptor sha256+b64u (valid, unregistered)", ocispec.MediaTypeDescriptor, strings.Replace(desc(""), okDigest, "sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564=", 1), true, "", false},
	{"descriptor digest of an unknown algorithm with a bad grammar", ocispec.MediaTypeDescriptor, strings.Replace(desc(""), okDigest, "SHA256:abc", 1), false, "/digest", false},
	{"descriptor sha256 digest not hex", ocispec.MediaTypeDescriptor, strings.Replace(desc(""), okDigest, "sha256:"+strings.Repeat("z", 64), 1), false, "", false},

	{"layout header", ocispec.MediaTypeLayoutHeader, `{"imageLayoutVersion":"1.0.0"}`, true, "", false},
	{"layout header without version", ocispec.MediaTypeLayoutHeader, `{}`, false, "", false},
}

func TestValidateDocumentRules(t *testing.T) {
	for _, tc := range schemaCases {
		t.Run(tc.name, func(t *testing.T) {
			err := artifact.ValidateDocument(tc.mediaType, []byte(tc.doc))
			if tc.valid {
				if err != nil {
					t.Fatalf("valid document refused: %v", err)
				}
			} else {
				var se *artifact.SchemaError
				if !errors.Is(err, artifact.ErrInvalidDocument) || !errors.As(err, &se) {
					t.Fatalf("invalid document: got %v, want a SchemaError wrapping ErrInvalidDocument", err)
				}
				if !strings.HasPrefix(se.Rule, tc.rule) {
					t.Errorf("reported at %q, want under %q (%v)", se.Rule, tc.rule, err)
				}
			}
			if tc.beyondUpstream {
				return
			}
			upstream := schema.Validator(tc.mediaType).Validate(strings.NewReader(tc.doc))
			if (upstream == nil) != tc.valid {
				t.Errorf("image-spec's own Validator disagrees: %v", upstream)
			}
		})
	}
}

// TestValidateDocumentSpecExamples validates every example document of the
// image-spec's own pages (read from the module cache, as image-spec's
// tests read them): each is valid.
func TestValidateDocumentSpecExamples(t *testing.T) {
	n := 0
	for _, page := range []string{"manifest.md", "image-index.md", "config.md", "descriptor.md", "image-layout.md"} {
		for _, ex := range specExamples(t, testkit.ModuleFile(t, "github.com/opencontainers/image-spec", page)) {
			n++
			if err := artifact.ValidateDocument(ex.mediaType, []byte(ex.body)); err != nil {
				t.Errorf("%s %q (%s): %v", page, ex.title, ex.mediaType, err)
			}
		}
	}
	if n < 10 {
		t.Fatalf("found only %d examples in image-spec's pages", n)
	}
}

type specExample struct{ title, mediaType, body string }

// specExamples reads the fenced ```json,title=…&mediatype=… blocks of a
// page of the spec.
func specExamples(t *testing.T, path string) []specExample {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []specExample
	var cur *specExample
	var body strings.Builder
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case cur == nil && strings.HasPrefix(line, "```json,"):
			q, err := url.ParseQuery(strings.TrimPrefix(line, "```json,"))
			if err != nil || q.Get("mediatype") == "" {
				continue
			}
			cur = &specExample{title: q.Get("title"), mediaType: q.Get("mediatype")}
			body.Reset()
		case cur != nil && strings.HasPrefix(line, "```"):
			cur.body = body.String()
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			body.WriteString(line + "\n")
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestValidateDocumentUnknownType(t *testing.T) {
	err := artifact.ValidateDocument(artifact.MediaTypeDockerManifestV1Signed, []byte(`{}`))
	if !errors.Is(err, artifact.ErrInvalidDocument) {
		t.Fatalf("got %v", err)
	}
	if artifact.IsOCIDocument("application/vnd.docker.distribution.manifest.v2+json") || !artifact.IsOCIDocument(ocispec.MediaTypeImageIndex) {
		t.Fatal("IsOCIDocument")
	}
}

func BenchmarkValidateDocument(b *testing.B) {
	doc := []byte(manifest(desc(""), desc(""), `,"subject":`+desc("")))
	for b.Loop() {
		if err := artifact.ValidateDocument(ocispec.MediaTypeImageManifest, doc); err != nil {
			b.Fatal(err)
		}
	}
}

// The Go form of the schema gives the verdict of image-spec's schema files
// on every document of the rules' table and of the spec's own pages.
func TestShapeMatchesSchemaFiles(t *testing.T) {
	check := func(name, mediaType, body string) {
		dec := json.NewDecoder(strings.NewReader(body))
		dec.UseNumber()
		var doc any
		if err := dec.Decode(&doc); err != nil {
			return // not JSON: refused before any schema
		}
		at, ok := artifact.CheckShape(mediaType, doc)
		if want := oracleValid(t, mediaType, doc); ok != want {
			t.Errorf("%s: the schema files say valid=%v, the Go form %v (at %q)", name, want, ok, at)
		}
	}
	for _, tc := range schemaCases {
		check(tc.name, tc.mediaType, tc.doc)
	}
	for _, page := range []string{"manifest.md", "image-index.md", "config.md", "descriptor.md", "image-layout.md"} {
		for _, ex := range specExamples(t, testkit.ModuleFile(t, "github.com/opencontainers/image-spec", page)) {
			check(page+" "+ex.title, ex.mediaType, ex.body)
		}
	}
	// Values at the edges of the formats and numbers the schema names.
	for _, tc := range []struct{ mediaType, doc string }{
		{ocispec.MediaTypeImageManifest, `{"schemaVersion":2.0,"config":` + desc("") + `,"layers":[` + desc("") + `]}`},
		{ocispec.MediaTypeImageManifest, `{"schemaVersion":2e0,"config":` + desc("") + `,"layers":[` + desc("") + `]}`},
		{ocispec.MediaTypeImageManifest, `{"schemaVersion":2.5,"config":` + desc("") + `,"layers":[` + desc("") + `]}`},
		{ocispec.MediaTypeDescriptor, strings.Replace(desc(""), `"size":7`, `"size":9223372036854775999`, 1)},
		{ocispec.MediaTypeDescriptor, strings.Replace(desc(""), `"size":7`, `"size":9223372036854776001`, 1)},
		{ocispec.MediaTypeDescriptor, desc(`,"urls":["http://[::1]:80/x"]`)},
		{ocispec.MediaTypeDescriptor, desc(`,"urls":["http://::1/x"]`)},
		{ocispec.MediaTypeDescriptor, desc(`,"urls":["/relative"]`)},
		{ocispec.MediaTypeDescriptor, desc(`,"annotations":{"":1,"\n":2}`)},
		{ocispec.MediaTypeDescriptor, desc(`,"annotations":{"a\n":2}`)},
		{ocispec.MediaTypeDescriptor, desc(`,"mediaType":null`)},
		{ocispec.MediaTypeImageConfig, `{"architecture":"a","os":"o","rootfs":{"type":"layers","diff_ids":[]},"created":"2016-12-31T23:59:60Z"}`},
		{ocispec.MediaTypeImageConfig, `{"architecture":"a","os":"o","rootfs":{"type":"layers","diff_ids":[]},"created":"2016-12-31T23:59:60+01:00"}`},
		{ocispec.MediaTypeImageConfig, `{"architecture":"a","os":"o","rootfs":{"type":"layers","diff_ids":[]},"created":"2016-12-31t22:59:60-01:00"}`},
		{ocispec.MediaTypeImageConfig, `{"architecture":"a","os":"o","rootfs":{"type":"layers","diff_ids":[]},"created":"2016-12-31T23:59:59.Z"}`},
		{ocispec.MediaTypeImageConfig, `{"architecture":"a","os":"o","rootfs":{"type":"layers","diff_ids":[]},"config":{"Volumes":null,"ExposedPorts":{"80/tcp":{}}}}`},
		{ocispec.MediaTypeImageConfig, `{"architecture":"a","os":"o","rootfs":{"type":"layers","diff_ids":[]},"config":{"ExposedPorts":{"80/tcp":null}}}`},
		{ocispec.MediaTypeLayoutHeader, `{"imageLayoutVersion":1}`},
	} {
		check(tc.doc, tc.mediaType, tc.doc)
	}
}

// Mutations of valid documents, value by value (every node replaced by
// values of every JSON type, names added and removed), get the same
// verdict from the Go form of the schema as from image-spec's files.
func TestShapeMatchesSchemaFilesMutations(t *testing.T) {
	seeds := map[string]string{
		ocispec.MediaTypeImageManifest: manifest(`{"mediaType":"application/vnd.oci.empty.v1+json","size":2,"digest":"`+emptyDigest+`","data":"e30="}`,
			desc(`,"urls":["https://example.com/x"],"artifactType":"application/x+json","annotations":{"a":"b"}`), `,"artifactType":"application/vnd.x","subject":`+desc("")+`,"annotations":{"k":"v"}`),
		ocispec.MediaTypeImageIndex: `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":7,"digest":"` + okDigest +
			`","urls":["https://x/y"],"platform":{"architecture":"wasm","os":"wasip1","os.version":"1","os.features":["f"],"variant":"v"},"annotations":{"a":"b"}}],"subject":` + desc("") + `,"annotations":{"a":"b"}}`,
		ocispec.MediaTypeImageConfig: `{"created":"2026-01-01T00:00:00Z","author":"a","architecture":"wasm","variant":"v","os":"wasip1","os.version":"1","os.features":["f"],` +
			`"config":{"User":"u","ExposedPorts":{"80/tcp":{}},"Env":["A=1"],"Entrypoint":["e"],"Cmd":null,"Volumes":{"/v":{}},"WorkingDir":"/","Labels":{"l":"v"},"StopSignal":"TERM","ArgsEscaped":true},` +
			`"rootfs":{"type":"layers","diff_ids":["` + okDigest + `"]},"history":[{"created":"2026-01-01T00:00:00+01:00","author":"a","created_by":"c","comment":"x","empty_layer":false}]}`,
		ocispec.MediaTypeDescriptor:   desc(`,"urls":["https://example.com/x"],"data":"YWJjZGVmZw==","artifactType":"application/x","annotations":{"a":"b"}`),
		ocispec.MediaTypeLayoutHeader: `{"imageLayoutVersion":"1.0.0"}`,
	}
	replacements := []any{nil, true, json.Number("0"), json.Number("-1"), json.Number("2"), json.Number("2.5"), json.Number("1e400"),
		"", "x", "a/b", "layers", "1.0.0", "https://example.com", "::", "2026-13-01T00:00:00Z", "sha256:" + strings.Repeat("a", 64),
		[]any{}, []any{"s"}, []any{json.Number("1")}, map[string]any{}, map[string]any{"": "x"}}
	rng := rand.New(rand.NewPCG(19, 2026))
	n := 0
	for mediaType, seed := range seeds {
		var base any
		dec := json.NewDecoder(strings.NewReader(seed))
		dec.UseNumber()
		if err := dec.Decode(&base); err != nil {
			t.Fatal(err)
		}
		if _, ok := artifact.CheckShape(mediaType, base); !ok || !oracleValid(t, mediaType, base) {
			t.Fatalf("%s: the seed is not valid", mediaType)
		}
		for range 3000 {
			doc := mutate(rng, deepCopy(base), replacements)
			at, ok := artifact.CheckShape(mediaType, doc)
			if want := oracleValid(t, mediaType, doc); ok != want {
				raw, _ := json.Marshal(doc)
				t.Fatalf("%s: the schema files say valid=%v, the Go form %v (at %q): %s", mediaType, want, ok, at, raw)
			}
			n++
		}
	}
	t.Logf("%d mutated documents agree", n)
}

// mutate changes one to three values of doc: replaces one, deletes a
// property or an item, or adds one.
func mutate(rng *rand.Rand, doc any, repl []any) any {
	for range 1 + rng.IntN(3) {
		doc = mutateAt(rng, doc, repl)
	}
	return doc
}

// mutateAt picks a random node of v and changes it.
func mutateAt(rng *rand.Rand, v any, repl []any) any {
	switch x := v.(type) {
	case map[string]any:
		keys := sortedKeys(x)
		switch r := rng.IntN(10); {
		case r == 0 && len(keys) > 0:
			delete(x, keys[rng.IntN(len(keys))])
			return x
		case r == 1:
			x[[]string{"extra", "annotations", "mediaType", "size", "digest", "os", "Env", "rootfs", "layers"}[rng.IntN(9)]] = repl[rng.IntN(len(repl))]
			return x
		case r == 2 || len(keys) == 0:
			return repl[rng.IntN(len(repl))]
		default:
			k := keys[rng.IntN(len(keys))]
			x[k] = mutateAt(rng, x[k], repl)
			return x
		}
	case []any:
		switch r := rng.IntN(8); {
		case r == 0 && len(x) > 0:
			return x[:len(x)-1]
		case r == 1:
			return append(x, repl[rng.IntN(len(repl))])
		case r == 2 || len(x) == 0:
			return repl[rng.IntN(len(repl))]
		default:
			i := rng.IntN(len(x))
			x[i] = mutateAt(rng, x[i], repl)
			return x
		}
	}
	return repl[rng.IntN(len(repl))]
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = deepCopy(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = deepCopy(e)
		}
		return out
	}
	return v
}

// BenchmarkValidateDocumentImageSpec is image-spec's own Validator on the
// same manifest, side by side with BenchmarkValidateDocument: it compiles
// the schema files on every call.
func BenchmarkValidateDocumentImageSpec(b *testing.B) {
	doc := manifest(desc(""), desc(""), `,"subject":`+desc(""))
	for b.Loop() {
		if err := schema.ValidatorMediaTypeManifest.Validate(strings.NewReader(doc)); err != nil {
			b.Fatal(err)
		}
	}
}

// The scanners of the schema's two patterns match exactly what their
// regular expressions match: on the edges of each grammar, and on 200,000
// random strings over the characters that matter.
func TestPatternsMatchTheirRegexps(t *testing.T) {
	for _, tc := range []struct {
		name    string
		re      *regexp.Regexp
		match   func(string) bool
		edges   []string
		symbols string
	}{
		{"media type", regexp.MustCompile(artifact.MediaTypePattern), artifact.IsMediaTypeForTest,
			[]string{"", "a/b", "/b", "a/", "a//b", "a/b/c", "-a/b", "a/-b", "a+b/c.d", "application/vnd.oci.image.manifest.v1+json",
				strings.Repeat("a", 127) + "/b", strings.Repeat("a", 128) + "/b", "a/" + strings.Repeat("b", 127), "a/" + strings.Repeat("b", 128),
				"a/b\n", "\na/b", "é/b", "a/b c", "a/b;c", "A/B", "0/0", "a!#$&^_.+-/b"},
			"aZ09/!#$&^_.+- \n:é"},
		{"digest", regexp.MustCompile(artifact.DigestPattern), artifact.IsDigestForTest,
			[]string{"", ":", "a:", ":a", "sha256:abc", "sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564=", "a+:b", "+a:b", "a++b:c",
				"a+b.c_d-e:f", "A:b", "a:b:c", "a:b c", "a:b\n", "sha256:" + strings.Repeat("f", 64), "a:+", "a:/"},
			"az09AZ+._-=:/ \n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			check := func(s string) {
				if got, want := tc.match(s), tc.re.MatchString(s); got != want {
					t.Fatalf("%q: scanner %v, regexp %v", s, got, want)
				}
			}
			for _, s := range tc.edges {
				check(s)
			}
			rng := rand.New(rand.NewPCG(7, 2026))
			sym := []rune(tc.symbols)
			for range 200_000 {
				b := make([]rune, rng.IntN(12))
				for i := range b {
					b[i] = sym[rng.IntN(len(sym))]
				}
				check(string(b))
			}
		})
	}
}
