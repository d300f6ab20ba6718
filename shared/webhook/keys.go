package webhook

import (
	"bytes"
	"fmt"
	"slices"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// One reading of every body. The forwarder's mappers decode bodies with
// encoding/json, which matches an object's key to a struct field first
// exactly, then case-insensitively, and keeps the last of several keys that
// match one field. Its rule for "one key", which every reader in the relay
// follows (TopLevel, CheckKeys):
//
//  1. the key is unquoted: escapes decoded, each byte of invalid UTF-8 and
//     each lone UTF-16 surrogate escape turned into U+FFFD;
//  2. each rune is folded to the smallest rune of its Unicode simple
//     case-folding orbit, so 'k', 'K' and the Kelvin sign U+212A are one
//     letter, as are 's', 'S' and the long s U+017F;
//  3. two keys are one key when their folded forms are equal (what
//     bytes.EqualFold says of the unquoted keys).
//
// An object with two such keys is ambiguous: one reader could take the first
// and another the last, or one match exactly and another not. No reader in
// the relay picks one: such a body is refused (ReasonAmbiguousPayload).

// maxDepth is encoding/json's limit on nesting: json.Valid refuses deeper.
const maxDepth = 10000

// keySpan is one object key: its folded form in an arena, and where the key
// starts in the body (for the error message). int32 keeps the scratch arrays
// small: a webhook body is at most 1 MiB (SQS), and a folded key at most
// three times its bytes, so maxBody is far beyond anything that arrives.
type keySpan struct{ from, to, at int32 }

// maxBody is the longest body the key readers take.
const maxBody = 256 << 20

func tooLarge() error {
	return &ParseError{Reason: ReasonInvalidJSON, Detail: "body over 256 MiB"}
}

func span(from, to, at int) keySpan { return keySpan{int32(from), int32(to), int32(at)} }

// foldKey appends to dst the folded form of the JSON string starting at
// b[i] == '"' and returns the index just past its closing quote. It accepts
// what json.Valid accepts in a string and nothing else.
func foldKey(dst, b []byte, i int) ([]byte, int, error) {
	j := i + 1
	for j < len(b) {
		c := b[j]
		switch {
		case c == '"':
			return dst, j + 1, nil
		case c == '\\':
			if j+1 >= len(b) {
				return dst, 0, truncated()
			}
			switch e := b[j+1]; e {
			case '"', '\\', '/':
				dst = append(dst, e)
			case 'b':
				dst = append(dst, '\b')
			case 'f':
				dst = append(dst, '\f')
			case 'n':
				dst = append(dst, '\n')
			case 'r':
				dst = append(dst, '\r')
			case 't':
				dst = append(dst, '\t')
			case 'u':
				r := hex4(b, j+2)
				if r < 0 {
					return dst, 0, malformed(j, "four hex digits after \\u")
				}
				j += 6
				if utf16.IsSurrogate(r) {
					// A pair is consumed whole; anything else is U+FFFD and
					// what follows is read on its own (as encoding/json).
					if j+1 < len(b) && b[j] == '\\' && b[j+1] == 'u' {
						if d := utf16.DecodeRune(r, hex4(b, j+2)); d != unicode.ReplacementChar {
							dst = utf8.AppendRune(dst, foldRune(d))
							j += 6
							continue
						}
					}
					r = unicode.ReplacementChar
				}
				dst = utf8.AppendRune(dst, foldRune(r))
				continue
			default:
				return dst, 0, malformed(j, "a JSON escape")
			}
			j += 2
		case c < ' ':
			return dst, 0, malformed(j, "no control character in a string")
		case c < utf8.RuneSelf:
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			dst = append(dst, c)
			j++
		default:
			// A sequence cut short by the closing quote decodes as RuneError
			// here as it does in encoding/json, which sees the string without
			// its quote: a continuation byte is never '"'.
			r, n := utf8.DecodeRune(b[j:])
			dst = utf8.AppendRune(dst, foldRune(r))
			j += n
		}
	}
	return dst, 0, truncated()
}

// foldRune is encoding/json's: the smallest rune of r's simple folding orbit.
func foldRune(r rune) rune {
	for {
		r2 := unicode.SimpleFold(r)
		if r2 <= r {
			return r2
		}
		r = r2
	}
}

// foldGoString appends the folded form of a key already unquoted (a Go
// string, as in a struct tag).
func foldGoString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf {
			return foldRunes(dst, s[i:])
		} else if 'a' <= c && c <= 'z' {
			dst = append(dst, c-('a'-'A'))
		} else {
			dst = append(dst, c)
		}
	}
	return dst
}

func foldRunes(dst []byte, s string) []byte {
	for _, r := range s { // invalid UTF-8 ranges as U+FFFD, as the unquoting does
		dst = utf8.AppendRune(dst, foldRune(r))
	}
	return dst
}

// hex4 returns the value of the four hex digits at b[i:], or -1.
func hex4(b []byte, i int) rune {
	if i+4 > len(b) {
		return -1
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

// duplicate returns an error when two of keys are one key. A small object
// (most) is checked pair by pair, comparing lengths first; a larger one is
// sorted (so it costs O(n log n), however many keys an attacker sends).
func duplicate(keys []keySpan, arena []byte) error {
	if len(keys) <= 24 {
		for i := 1; i < len(keys); i++ {
			x := keys[i]
			for _, y := range keys[:i] {
				if y.to-y.from == x.to-x.from && bytes.Equal(arena[x.from:x.to], arena[y.from:y.to]) {
					return ambiguity(x, y)
				}
			}
		}
		return nil
	}
	slices.SortFunc(keys, func(x, y keySpan) int {
		return bytes.Compare(arena[x.from:x.to], arena[y.from:y.to])
	})
	for k := 1; k < len(keys); k++ {
		x, y := keys[k-1], keys[k]
		if bytes.Equal(arena[x.from:x.to], arena[y.from:y.to]) {
			return ambiguity(x, y)
		}
	}
	return nil
}

func ambiguity(x, y keySpan) error {
	return &ParseError{Reason: ReasonAmbiguousPayload, Detail: fmt.Sprintf(
		"the keys at offsets %d and %d are one key to encoding/json (equal but for case, or repeated)", min(x.at, y.at), max(x.at, y.at))}
}

// CheckKeys reads the whole of body and returns nil when it is valid JSON
// (exactly as json.Valid) and no object in it, at any depth, has two keys
// that are one key by the rule above: encoding/json would keep the last of
// them where another reader may keep the first. Otherwise it returns a
// *ParseError: ReasonInvalidJSON, or ReasonAmbiguousPayload. One pass, and
// no allocation unless the keys of the open objects outgrow a few kilobytes.
func CheckKeys(body []byte) error {
	if len(body) > maxBody {
		return tooLarge()
	}
	var (
		frames [32]frame
		keys   [64]keySpan
		arena  [2048]byte
	)
	return checkKeys(body, frames[:0], keys[:0], arena[:0])
}

// frame is an open object or array; keys and arena mark where an object's
// keys start.
type frame struct {
	object      bool
	keys, arena int
}

// checkKeys is CheckKeys with its scratch space given (kept in locals, not a
// struct, so that the arrays behind them stay on the caller's stack).
func checkKeys(b []byte, frames []frame, keys []keySpan, arena []byte) error {
	// key reads an object key at b[i] and its colon; it returns where the
	// value starts.
	key := func(i int, keys []keySpan, arena []byte) (int, []keySpan, []byte, error) {
		if i >= len(b) {
			return 0, keys, arena, truncated()
		}
		if b[i] != '"' {
			return 0, keys, arena, malformed(i, "a key")
		}
		from := len(arena)
		arena, end, err := foldKey(arena, b, i)
		if err != nil {
			return 0, keys, arena, err
		}
		keys = append(keys, span(from, len(arena), i))
		j := skipSpace(b, end)
		if j >= len(b) || b[j] != ':' {
			return 0, keys, arena, malformed(j, "':'")
		}
		return skipSpace(b, j+1), keys, arena, nil
	}
	i := skipSpace(b, 0)
	// An ambiguity is reported once the whole body is known to be JSON, so
	// that invalid JSON is always reported as such.
	var err, ambiguous error
	for {
		// A value starts at i.
		if i >= len(b) {
			return truncated()
		}
		switch ch := b[i]; {
		case ch == '{' || ch == '[':
			if len(frames) == maxDepth {
				return malformed(i, "at most 10000 levels of nesting")
			}
			frames = append(frames, frame{object: ch == '{', keys: len(keys), arena: len(arena)})
			i = skipSpace(b, i+1)
			if i < len(b) && b[i] == ch+2 { // '{'+2 == '}', '['+2 == ']'
				frames = frames[:len(frames)-1]
				i++
				break
			}
			if ch == '{' {
				if i, keys, arena, err = key(i, keys, arena); err != nil {
					return err
				}
			}
			continue
		case ch == '"':
			i, err = skipValidString(b, i)
		case ch == '-' || '0' <= ch && ch <= '9':
			i, err = skipNumber(b, i)
		case ch == 't':
			i, err = skipLiteral(b, i, "true")
		case ch == 'f':
			i, err = skipLiteral(b, i, "false")
		case ch == 'n':
			i, err = skipLiteral(b, i, "null")
		default:
			return malformed(i, "a value")
		}
		if err != nil {
			return err
		}
		// After a value: close what ends here, then find the next value.
		for {
			i = skipSpace(b, i)
			if len(frames) == 0 {
				if i != len(b) {
					return malformed(i, "the end of the body")
				}
				return ambiguous
			}
			if i >= len(b) {
				return truncated()
			}
			top := frames[len(frames)-1]
			if b[i] == ',' {
				i = skipSpace(b, i+1)
				if top.object {
					if i, keys, arena, err = key(i, keys, arena); err != nil {
						return err
					}
				}
				break
			}
			switch {
			case top.object && b[i] == '}':
				if ambiguous == nil {
					ambiguous = duplicate(keys[top.keys:], arena)
				}
				keys, arena = keys[:top.keys], arena[:top.arena]
			case !top.object && b[i] == ']':
			default:
				return malformed(i, "',' or the closing bracket")
			}
			frames = frames[:len(frames)-1]
			i++
		}
	}
}

// stringStop marks the bytes that end a run of plain string content.
var stringStop = func() (t [256]bool) {
	for c := range ' ' {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

// skipValidString returns the index just past the string at b[i] == '"',
// checking its escapes and that it holds no control character.
func skipValidString(b []byte, i int) (int, error) {
	j := i + 1
	for {
		for j < len(b) && !stringStop[b[j]] {
			j++
		}
		if j >= len(b) {
			return 0, truncated()
		}
		switch b[j] {
		case '"':
			return j + 1, nil
		case '\\':
			if j+1 >= len(b) {
				return 0, truncated()
			}
			switch b[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j += 2
			case 'u':
				if hex4(b, j+2) < 0 {
					return 0, malformed(j, "four hex digits after \\u")
				}
				j += 6
			default:
				return 0, malformed(j, "a JSON escape")
			}
		default:
			return 0, malformed(j, "no control character in a string")
		}
	}
}

// skipNumber returns the index just past the number at b[i]:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func skipNumber(b []byte, i int) (int, error) {
	j := i
	if b[j] == '-' {
		j++
	}
	digits := func(j int) int {
		for j < len(b) && '0' <= b[j] && b[j] <= '9' {
			j++
		}
		return j
	}
	switch {
	case j < len(b) && b[j] == '0':
		j++
	case j < len(b) && '1' <= b[j] && b[j] <= '9':
		j = digits(j + 1)
	default:
		return 0, malformed(j, "a digit")
	}
	if j < len(b) && b[j] == '.' {
		k := digits(j + 1)
		if k == j+1 {
			return 0, malformed(k, "a digit after '.'")
		}
		j = k
	}
	if j < len(b) && (b[j] == 'e' || b[j] == 'E') {
		j++
		if j < len(b) && (b[j] == '+' || b[j] == '-') {
			j++
		}
		k := digits(j)
		if k == j {
			return 0, malformed(k, "a digit in the exponent")
		}
		j = k
	}
	return j, nil
}

func skipLiteral(b []byte, i int, lit string) (int, error) {
	if !bytes.HasPrefix(b[i:], []byte(lit)) {
		return 0, malformed(i, lit)
	}
	return i + len(lit), nil
}
