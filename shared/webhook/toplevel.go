package webhook

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"
	"unsafe"
)

// TopLevel reads the values of the named keys of a JSON object without
// decoding the rest: it walks the top level, skipping nested values by
// their brackets and strings, and returns each wanted key's raw value. It
// matches keys as encoding/json matches them to struct fields (see keys.go:
// `"Type"` and `"\u0074ype"` are both the key "type"), and it refuses, with
// ReasonAmbiguousPayload, an object in which two keys are one key by that
// rule (exact repeats included), so that what it reads is what the
// forwarder's decoder reads. It checks the structure it walks, not every
// literal: a value it skips is not validated, which the forwarder's CheckKeys
// and full decode do later.
func TopLevel(body []byte, keys ...string) (map[string][]byte, error) {
	var buf [8][]byte
	vals := buf[:0]
	if len(keys) > len(buf) {
		vals = make([][]byte, 0, len(keys))
	}
	vals = vals[:len(keys)]
	if err := TopLevelInto(body, keys, vals); err != nil {
		return nil, err
	}
	out := make(map[string][]byte, len(keys))
	for n, v := range vals {
		if v != nil {
			out[keys[n]] = v
		}
	}
	return out, nil
}

// TopLevelInto is TopLevel without a map: vals[n] is set to the raw value
// of keys[n], nil when absent. vals has at least len(keys) elements.
func TopLevelInto(body []byte, keys []string, vals [][]byte) error {
	if len(body) > maxBody {
		return tooLarge()
	}
	clear(vals[:len(keys)])
	var (
		wantBuf  [64]byte
		wantEnd  [8]int
		arenaBuf [512]byte
		spanBuf  [48]keySpan
	)
	want, ends := wantBuf[:0], wantEnd[:0]
	for _, k := range keys {
		want = foldGoString(want, k)
		ends = append(ends, len(want))
	}
	arena, seen := arenaBuf[:0], spanBuf[:0]
	i := skipSpace(body, 0)
	if i >= len(body) || body[i] != '{' {
		return &ParseError{Reason: ReasonInvalidJSON, Detail: "body is not a JSON object"}
	}
	i++
	for first := true; ; first = false {
		i = skipSpace(body, i)
		if i >= len(body) {
			return truncated()
		}
		if body[i] == '}' && first {
			i++
			break
		}
		if body[i] != '"' {
			return malformed(i, "a key")
		}
		from := len(arena)
		var end int
		var err error
		if arena, end, err = foldKey(arena, body, i); err != nil {
			return err
		}
		seen = append(seen, span(from, len(arena), i))
		i = skipSpace(body, end)
		if i >= len(body) || body[i] != ':' {
			return malformed(i, "':'")
		}
		i = skipSpace(body, i+1)
		vend, err := skipValue(body, i)
		if err != nil {
			return err
		}
		folded, w := arena[from:], 0
		for n, e := range ends {
			if bytes.Equal(folded, want[w:e]) {
				vals[n] = body[i:vend]
			}
			w = e
		}
		i = skipSpace(body, vend)
		if i >= len(body) {
			return truncated()
		}
		if body[i] == '}' {
			i++
			break
		}
		if body[i] != ',' {
			return malformed(i, "',' or '}'")
		}
		i++
	}
	if i = skipSpace(body, i); i != len(body) {
		return malformed(i, "the end of the body")
	}
	return duplicate(seen, arena)
}

// String decodes a raw JSON string value as encoding/json does (invalid
// UTF-8 becomes U+FFFD); anything else (absent, null, a number, an invalid
// string) is "".
func String(raw []byte) string {
	if len(raw) < 2 || raw[0] != '"' {
		return ""
	}
	if in := raw[1 : len(raw)-1]; plainString(in) {
		return string(in)
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

// String is String(raw) for a value read from r.Body, cut from r.Text
// rather than copied when the body was given as that string.
func (r *Request) String(raw []byte) string {
	if len(raw) >= 2 && raw[0] == '"' && plainString(raw[1:len(raw)-1]) {
		if s, ok := r.cut(raw[1 : len(raw)-1]); ok {
			return s
		}
	}
	return String(raw)
}

// Scalar is Scalar(raw) for a value read from r.Body, cut from r.Text
// rather than copied when the body was given as that string.
func (r *Request) Scalar(raw []byte) string {
	if len(raw) > 0 && raw[0] == '"' {
		return r.String(raw)
	}
	if IntegerID(raw) {
		if s, ok := r.cut(raw); ok {
			return s
		}
	}
	return Scalar(raw)
}

// cut returns b as a part of r.Text, when b lies within it (is a view of
// it, as r.Body is when r.Text is set).
func (r *Request) cut(b []byte) (string, bool) {
	if r.Text == "" || len(b) == 0 || len(b) > len(r.Text) {
		return "", false
	}
	base, p := uintptr(unsafe.Pointer(unsafe.StringData(r.Text))), uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	if p < base || p-base > uintptr(len(r.Text)-len(b)) {
		return "", false
	}
	off := int(p - base)
	return r.Text[off : off+len(b)], true
}

// plainString says whether s, between a string's quotes, reads as itself:
// valid UTF-8 without escapes, quotes or control characters.
func plainString(s []byte) bool {
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c < ' ' || c == '"' || c == '\\' {
				return false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && n == 1 {
			return false
		}
		i += n
	}
	return true
}

// Scalar returns a raw JSON string's value, or a raw number that is an
// integer id (see IntegerID) as written; anything else is "". A number with
// a fraction or an exponent is no id: 1e3 and 1000 are one number, and would
// otherwise be two ids.
func Scalar(raw []byte) string {
	if len(raw) > 0 && raw[0] == '"' {
		return String(raw)
	}
	if IntegerID(raw) {
		return string(raw)
	}
	return ""
}

// IntegerID reports whether raw is a JSON number written as a plain
// integer, -?(0|[1-9][0-9]*), and not -0: the one spelling a number id may
// have, so that one number is one id.
func IntegerID(raw []byte) bool {
	digits := raw
	if len(digits) > 0 && digits[0] == '-' {
		digits = digits[1:]
	}
	if len(digits) == 0 || (digits[0] == '0' && len(raw) > 1) {
		return false // "", "-", "-0", a leading zero
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func truncated() error {
	return &ParseError{Reason: ReasonInvalidJSON, Detail: "body ends inside the JSON object"}
}

func malformed(at int, want string) error {
	return &ParseError{Reason: ReasonInvalidJSON, Detail: fmt.Sprintf("expected %s at offset %d", want, at)}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index just past the string starting at b[i] == '"'.
// It jumps from quote to quote (IndexByte is vectorised) and counts the
// backslashes before each to tell an escaped quote from the closing one.
func skipString(b []byte, i int) (int, error) {
	j := i + 1
	for {
		q := bytes.IndexByte(b[j:], '"')
		if q < 0 {
			return 0, truncated()
		}
		j += q
		n := 0
		for k := j - 1; k > i && b[k] == '\\'; k-- {
			n++
		}
		if n%2 == 0 {
			return j + 1, nil
		}
		j++
	}
}

// structural marks the bytes skipValue looks at inside an object or array.
var structural = func() (t [256]bool) {
	for _, c := range `"\{}[]` {
		t[c] = true
	}
	return t
}()

// skipValue returns the index just past the value starting at b[i].
func skipValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, truncated()
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		// One pass over the bytes: brackets counted outside strings, a
		// string ended by the first quote not escaped (a backslash skips
		// the byte after it), as skipString reads one.
		depth, inString := 0, false
		for j := i; j < len(b); j++ {
			c := b[j]
			if !structural[c] {
				continue
			}
			switch {
			case inString && c == '\\':
				j++
			case inString:
				inString = c != '"'
			case c == '"':
				inString = true
			case c == '{' || c == '[':
				depth++
			case c == '}' || c == ']':
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, truncated()
	case ',', '}', ']', ':':
		return 0, malformed(i, "a value")
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\t' && b[j] != '\n' && b[j] != '\r' {
		j++
	}
	return j, nil
}
