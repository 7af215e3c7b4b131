package artifact

// ValidTag reports whether s follows the OCI distribution spec's tag
// grammar, [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}. It is written out because
// the regular expression's bounded repetition costs about a millisecond to
// compile at every start of the CLI.
func ValidTag(s string) bool {
	if s == "" || len(s) > 128 || s[0] == '.' || s[0] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !alnum(c) && c != '_' && c != '.' && c != '-' {
			return false
		}
	}
	return true
}

func alnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}
