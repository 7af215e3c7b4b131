package artifact

// CheckShape is the schema part of ValidateDocument alone, on a document
// decoded with UseNumber: what the tests hold to image-spec's schema
// files.
func CheckShape(mediaType string, doc any) (at string, ok bool) {
	s, ok := documentShapes()[mediaType]
	if !ok {
		s = dockerShapes()[mediaType]
	}
	if err := s.check(doc, ""); err != nil {
		return err.at, false
	}
	return "", true
}

// The scanners of the schema's patterns, for the test that holds them to
// their regular expressions.
var (
	IsMediaTypeForTest = isMediaType
	IsDigestForTest    = isDigest
)
