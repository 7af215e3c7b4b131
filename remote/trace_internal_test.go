package remote

import (
	"net/url"
	"strings"
	"testing"
)

func TestRedactAuth(t *testing.T) {
	for in, want := range map[string]string{
		"Basic YWxpY2U6czNjcmV0":  "Basic REDACTED",
		"Bearer eyJhbGciOi.x.y":   "Bearer REDACTED",
		"ghp_bare-token-no-space": "REDACTED",
		"tok_en with space":       "REDACTED",
		"":                        "REDACTED",
	} {
		if got := redactAuth(in); got != want {
			t.Errorf("redactAuth(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRedactURL(t *testing.T) {
	cases := []struct{ in, want string }{
		{"https://r.example/v2/x/tags/list?n=10&last=v1", "https://r.example/v2/x/tags/list?last=v1&n=10"},
		{"https://auth.example/token?scope=repository%3Ax%3Apull&service=r&account=alice", "https://auth.example/token?account=alice&scope=repository%3Ax%3Apull&service=r"},
		{"https://bucket.s3.example/blob?X-Amz-Signature=abc&X-Amz-Credential=AKIA&X-Amz-Security-Token=t", "https://bucket.s3.example/blob?X-Amz-Credential=REDACTED&X-Amz-Security-Token=REDACTED&X-Amz-Signature=REDACTED"},
		{"https://acct.blob.example/c/b?sv=2020&sig=abc%2B&se=2030", "https://acct.blob.example/c/b?se=REDACTED&sig=REDACTED&sv=REDACTED"},
		{"https://cdn.example/b?token=abc&access_token=def&Signature=g&Key-Pair-Id=k", "https://cdn.example/b?Key-Pair-Id=REDACTED&Signature=REDACTED&access_token=REDACTED&token=REDACTED"},
		{"https://alice:s3cret@r.example/v2/#frag", "https://r.example/v2/"},
		{"https://r.example/v2/?%zz=1", "https://r.example/v2/?REDACTED"},
	}
	for _, tc := range cases {
		u, err := url.Parse(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := redactURL(u); got != tc.want {
			t.Errorf("redactURL(%s)\n = %s\nwant %s", tc.in, got, tc.want)
		}
	}
	link := `</v2/x/tags/list?n=10&last=b&token=abc>; rel="next"`
	if got := redactLinks(link); strings.Contains(got, "abc") || !strings.Contains(got, "last=b") {
		t.Errorf("redactLinks(%s) = %s", link, got)
	}
}

func TestPrintable(t *testing.T) {
	if got := printable("a\r\nhttp #9 > GET x\x1b[31m"); got != "ahttp #9 > GET x[31m" {
		t.Errorf("printable = %q", got)
	}
}
