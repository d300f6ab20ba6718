package hmac

import (
	"regexp"
	"strings"
	"testing"
)

// The patterns the name checkers were compiled from, before they were
// written byte by byte to keep 0.4 ms of regexp compilation out of every
// cold start.
var namePatterns = []struct {
	name  string
	re    *regexp.Regexp
	check func(string) bool
}{
	{"source name", regexp.MustCompile(sourceName), ValidName},
	{"key scope", regexp.MustCompile(`^[a-z0-9._-]{1,32}$`), scopeName},
	{"header token", regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$"), headerToken},
}

func TestNameCheckers(t *testing.T) {
	inputs := []string{"", "a", "A", "-", "-a", "a-", "acme", "acme-2", "Acme", "a.b", "a_b", "a b", "a\n", "\na",
		"x-acme-signature", "X-Acme-Signature", "!#$%&'*+.^_`|~", "a:b", "a/b", "a\x00", "é", "aé", "a\xff",
		strings.Repeat("a", 31), strings.Repeat("a", 32), strings.Repeat("a", 33),
		strings.Repeat("a", 127), strings.Repeat("a", 128), strings.Repeat("a", 129), "0abc", "9-9", "a..b", "\"", "(", "a,b"}
	for c := 0; c < 256; c++ {
		inputs = append(inputs, string([]byte{byte(c)}), "a"+string([]byte{byte(c)}))
	}
	for _, p := range namePatterns {
		for _, in := range inputs {
			if got, want := p.check(in), p.re.MatchString(in); got != want {
				t.Errorf("%s %q: %v, the pattern says %v", p.name, in, got, want)
			}
		}
	}
}

func FuzzNameCheckers(f *testing.F) {
	for _, s := range []string{"acme", "x-acme-signature", "a.b_c-d", "", "A", strings.Repeat("z", 32), "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		for _, p := range namePatterns {
			if got, want := p.check(in), p.re.MatchString(in); got != want {
				t.Errorf("%s %q: %v, the pattern says %v", p.name, in, got, want)
			}
		}
	})
}
