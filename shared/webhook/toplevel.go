package webhook

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// TopLevel reads the values of the named keys of a JSON object without
// decoding the rest: it walks the top level, skipping nested values by
// their brackets and strings, and returns each wanted key's raw value (the
// last one, as encoding/json does for a repeated key). It checks the
// structure it walks, not every literal: a value it skips is not validated,
// which the forwarder's full decode does later.
func TopLevel(body []byte, keys ...string) (map[string][]byte, error) {
	out := make(map[string][]byte, len(keys))
	i := skipSpace(body, 0)
	if i >= len(body) || body[i] != '{' {
		return nil, &ParseError{Reason: ReasonInvalidJSON, Detail: "body is not a JSON object"}
	}
	i++
	for first := true; ; first = false {
		i = skipSpace(body, i)
		if i >= len(body) {
			return nil, truncated()
		}
		if body[i] == '}' && first {
			i++
			break
		}
		if body[i] != '"' {
			return nil, malformed(i, "a key")
		}
		end, err := skipString(body, i)
		if err != nil {
			return nil, err
		}
		rawKey := body[i+1 : end-1]
		if bytes.IndexByte(rawKey, '\\') >= 0 {
			var key string
			if json.Unmarshal(body[i:end], &key) != nil {
				return nil, malformed(i, "a valid key")
			}
			rawKey = []byte(key)
		}
		i = skipSpace(body, end)
		if i >= len(body) || body[i] != ':' {
			return nil, malformed(i, "':'")
		}
		i = skipSpace(body, i+1)
		vend, err := skipValue(body, i)
		if err != nil {
			return nil, err
		}
		for _, k := range keys {
			if string(rawKey) == k { // compared without allocating
				out[k] = body[i:vend]
			}
		}
		i = skipSpace(body, vend)
		if i >= len(body) {
			return nil, truncated()
		}
		if body[i] == '}' {
			i++
			break
		}
		if body[i] != ',' {
			return nil, malformed(i, "',' or '}'")
		}
		i++
	}
	if i = skipSpace(body, i); i != len(body) {
		return nil, malformed(i, "the end of the body")
	}
	return out, nil
}

// String decodes a raw JSON string value; anything else (absent, null, a
// number) is "".
func String(raw []byte) string {
	if len(raw) < 2 || raw[0] != '"' {
		return ""
	}
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1])
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

// Scalar returns a raw JSON string's value or a raw number as written;
// anything else is "".
func Scalar(raw []byte) string {
	if len(raw) == 0 {
		return ""
	}
	if raw[0] == '"' {
		return String(raw)
	}
	var n json.Number
	if json.Unmarshal(raw, &n) != nil {
		return ""
	}
	return n.String()
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

// skipValue returns the index just past the value starting at b[i].
func skipValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, truncated()
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, err := skipString(b, j)
				if err != nil {
					return 0, err
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
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
