package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unicode"
)

// keyPairs are two keys, each as written in a body (the JSON string with its
// quotes), and whether encoding/json takes them for one key.
var keyPairs = []struct {
	a, b string
	same bool
}{
	{`"type"`, `"type"`, true},
	{`"type"`, `"Type"`, true},
	{`"type"`, `"TYPE"`, true},
	{`"type"`, `"\u0074ype"`, true},
	{`"type"`, `"\u0054YPE"`, true},
	{`"type"`, `"typ"`, false},
	{`"type"`, `"type "`, false},
	{`"k"`, "\"\u212a\"", true}, // Kelvin sign
	{`"K"`, `"\u212A"`, true},   // Kelvin sign, escaped
	{`"s"`, "\"\u017f\"", true}, // long s
	{`"sku"`, "\"\u017f\u212au\"", true},
	{`"ss"`, "\"\u00df\"", false},      // ß folds to ss only under full folding
	{`"i"`, "\"\u0130\"", false},       // dotted capital I has no simple fold
	{`"i"`, "\"\u0131\"", false},       // nor the dotless i
	{"\"\u01c4\"", "\"\u01c5\"", true}, // DŽ, Dž: one orbit of three
	{"\"\u01c5\"", "\"\u01c6\"", true},
	{"\"\u03c3\"", "\"\u03c2\"", true}, // σ, ς
	{"\"\u03a3\"", "\"\u03c2\"", true}, // Σ, ς
	{"\"\xff\"", `"\ufffd"`, true},     // invalid UTF-8 becomes U+FFFD
	{"\"\xff\"", "\"\xfe\"", true},
	{"\"\xff\"", "\"\xff\xff\"", false},
	{"\"\xe2\x84\"", `"\ufffd\ufffd"`, true}, // a cut sequence: one U+FFFD a byte
	{"\"a\xe2\x84\"", "\"A\xef\xbf\xbd\xef\xbf\xbd\"", true},
	{"\"\xed\xa0\x80\"", `"\ufffd\ufffd\ufffd"`, true}, // an encoded surrogate is invalid UTF-8
	{`"\ud800"`, `"\ufffd"`, true},                     // a lone surrogate escape
	{`"\udc00x"`, `"\ufffdX"`, true},
	{`"\ud800\u0041"`, `"\ufffda"`, true}, // a high surrogate then not a low one: both read
	{`"\ud83d\ude00"`, "\"\U0001F600\"", true},
	{`"\ud83d\ude00"`, `"\ufffd\ufffd"`, false},
	{`"\/"`, `"/"`, true},
	{`"a\"b"`, `"A\u0022B"`, true},
	{`"\n"`, `"\u000a"`, true},
	{`"\t"`, `"\u0009"`, true},
	{`""`, `""`, true},
	{`""`, `" "`, false},
	{`"id"`, `"i\u0000d"`, false},
	{"\"\u0101\"", "\"\u0100\"", true}, // ā, Ā
	{"\"\u1e9e\"", "\"\u00df\"", true}, // ẞ, ß
}

func unquote(t *testing.T, raw string) string {
	t.Helper()
	var s string
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		t.Fatalf("%s is not a JSON string: %v", raw, err)
	}
	return s
}

// TestKeyRule checks the key rule against encoding/json itself, three ways:
// bytes.EqualFold on what it unquotes (its documented rule), a struct field
// whose tag is one key receiving the other, and the relay's readers.
func TestKeyRule(t *testing.T) {
	for _, p := range keyPairs {
		a, b := unquote(t, p.a), unquote(t, p.b)
		if got := bytes.EqualFold([]byte(a), []byte(b)); got != p.same {
			t.Errorf("table is wrong: encoding/json folds %s and %s equal = %v", p.a, p.b, got)
		}
		// A struct tag cannot hold every key; where it can, decode into it.
		if isTagName(b) {
			typ := reflect.StructOf([]reflect.StructField{{Name: "F", Type: reflect.TypeFor[int](), Tag: reflect.StructTag(`json:"` + b + `"`)}})
			v := reflect.New(typ)
			if err := json.Unmarshal([]byte(`{`+p.a+`:7}`), v.Interface()); err != nil {
				t.Fatal(err)
			}
			if got := v.Elem().Field(0).Int() == 7; got != p.same {
				t.Errorf("encoding/json fills field %q from key %s = %v, want %v", b, p.a, got, p.same)
			}
		}
		fa, _, err := foldKey(nil, []byte(p.a), 0)
		if err != nil {
			t.Fatalf("foldKey(%s): %v", p.a, err)
		}
		fb, _, err := foldKey(nil, []byte(p.b), 0)
		if err != nil {
			t.Fatalf("foldKey(%s): %v", p.b, err)
		}
		if got := bytes.Equal(fa, fb); got != p.same {
			t.Errorf("foldKey(%s) = %q, foldKey(%s) = %q: same = %v, want %v", p.a, fa, p.b, fb, got, p.same)
		}
		if got := bytes.Equal(fa, foldGoString(nil, a)); !got {
			t.Errorf("foldGoString(%q) = %q, foldKey(%s) = %q", a, foldGoString(nil, a), p.a, fa)
		}
		// TopLevel finds a value under the other key exactly when they are one.
		f, err := TopLevel([]byte(`{`+p.a+`:7}`), b)
		if err != nil || (f[b] != nil) != p.same {
			t.Errorf("TopLevel({%s:7}, %q) = %q, %v; want found = %v", p.a, b, f, err, p.same)
		}
		// Both in one object: ambiguous exactly when they are one, at any depth.
		for _, body := range []string{`{` + p.a + `:1,` + p.b + `:2}`, `[{"x":{` + p.a + `:1,"z":0,` + p.b + `:2}}]`} {
			err := CheckKeys([]byte(body))
			if got := isReason(err, ReasonAmbiguousPayload); got != p.same || (!p.same && err != nil) {
				t.Errorf("CheckKeys(%s) = %v; want ambiguous = %v", body, err, p.same)
			}
		}
		_, err = TopLevel([]byte(`{`+p.a+`:1,`+p.b+`:2}`), "id")
		if got := isReason(err, ReasonAmbiguousPayload); got != p.same || (!p.same && err != nil) {
			t.Errorf("TopLevel({%s:1,%s:2}) = %v; want ambiguous = %v", p.a, p.b, err, p.same)
		}
	}
}

// isTagName says whether encoding/json would take s as a tag's name (its
// isValidTag).
func isTagName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c) && !unicode.IsLetter(c) && !unicode.IsDigit(c) {
			return false
		}
	}
	return true
}

func isReason(err error, reason string) bool {
	var pe *ParseError
	return errors.As(err, &pe) && pe.Reason == reason
}

func TestCheckKeys(t *testing.T) {
	deep := strings.Repeat("[", 10000) + strings.Repeat("]", 10000)
	tooDeep := strings.Repeat("[", 10001) + strings.Repeat("]", 10001)
	for _, c := range []struct {
		body   string
		reason string // "" for nil
	}{
		{`{"type":"signup","id":"1","Type":"purchase"}`, ReasonAmbiguousPayload},
		{`{"id":"1","id":"1"}`, ReasonAmbiguousPayload},
		{`{"data":{"object":{"amount":100,"AMOUNT":1}}}`, ReasonAmbiguousPayload},
		{`{"a":[{"k":1},{"k":2}],"b":{"k":1,"s":2}}`, ""},
		{`{"a":{"k":1},"b":{"K":1}}`, ""},                     // the same key in two objects
		{`{"a":{"x":1},"A":{"y":1}}`, ReasonAmbiguousPayload}, // encoding/json merges both into one struct
		{`{"a":{"x":1,"y":{}},"x":1}`, ""},                    // a parent's key after a child's
		{`{"x":{"a":1},"y":{"a":1},"a":1}`, ""},
		{`[{"a":1},{"a":1,"A":2}]`, ReasonAmbiguousPayload},
		{`{}`, ""}, {`[]`, ""}, {` null `, ""}, {`"x"`, ""}, {`-0.5e+7`, ""},
		{deep, ""},
		{tooDeep, ReasonInvalidJSON},
		{``, ReasonInvalidJSON},
		{`{"a":1}x`, ReasonInvalidJSON},
		{`{"a":1,}`, ReasonInvalidJSON},
		{`{"a" 1}`, ReasonInvalidJSON},
		{`{"a":01}`, ReasonInvalidJSON},
		{`{"a":1.}`, ReasonInvalidJSON},
		{`{"a":tru}`, ReasonInvalidJSON},
		{"{\"a\":\"\x01\"}", ReasonInvalidJSON},
		{`{"a":"\x"}`, ReasonInvalidJSON},
		{`{"\q":1}`, ReasonInvalidJSON},
		{`[1,]`, ReasonInvalidJSON},
		{`{"a":[}`, ReasonInvalidJSON},
		{`{"a":1]`, ReasonInvalidJSON},
	} {
		err := CheckKeys([]byte(c.body))
		name := c.body
		if len(name) > 40 {
			name = name[:40] + "..."
		}
		if (c.reason == "" && err != nil) || (c.reason != "" && !isReason(err, c.reason)) {
			t.Errorf("CheckKeys(%s) = %v, want %q", name, err, c.reason)
		}
		if valid := json.Valid([]byte(c.body)); valid != (c.reason != ReasonInvalidJSON) {
			t.Errorf("table is wrong: json.Valid(%s) = %v", name, valid)
		}
	}
}

// TestCheckKeysAllocs: objects of ordinary size are checked without
// allocating; a huge one costs its sort, not a quadratic scan.
func TestCheckKeysAllocs(t *testing.T) {
	body := []byte(`{"id":"evt_1","object":"event","data":{"object":{"id":"cs_1","amount_total":1000,"customer_details":{"email":"a@b.c","name":"A"},"metadata":{"k":"v"}}},"type":"checkout.session.completed"}`)
	if n := testing.AllocsPerRun(100, func() { _ = CheckKeys(body) }); n != 0 {
		t.Errorf("CheckKeys allocates %.0f times per call, want 0", n)
	}
	var sink map[string][]byte
	mapAllocs := testing.AllocsPerRun(100, func() {
		sink = make(map[string][]byte, 2)
		sink["id"], sink["type"] = body, body
	})
	if n := testing.AllocsPerRun(100, func() { sink, _ = TopLevel(body, "id", "type") }); n > mapAllocs {
		t.Errorf("TopLevel allocates %.0f times per call, want only its map's %.0f", n, mapAllocs)
	}
	_ = sink
	var b strings.Builder
	b.WriteString("{")
	for i := range 50000 {
		fmt.Fprintf(&b, `"k%d":0,`, i)
	}
	b.WriteString(`"K7":1}`)
	if err := CheckKeys([]byte(b.String())); !isReason(err, ReasonAmbiguousPayload) {
		t.Errorf("CheckKeys on 50001 keys = %v", err)
	}
}

// topLevelAmbiguous is the oracle: whether two of body's top-level keys are
// one key to encoding/json, read with its own tokenizer and EqualFold.
func keysAmbiguous(body []byte, topOnly bool) bool {
	dec := json.NewDecoder(bytes.NewReader(body))
	var walk func(depth int) bool
	walk = func(depth int) bool {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		switch tok {
		case json.Delim('{'):
			var keys []string
			found := false
			for dec.More() {
				k, _ := dec.Token()
				key := k.(string)
				for _, prev := range keys {
					if bytes.EqualFold([]byte(prev), []byte(key)) {
						found = true
					}
				}
				keys = append(keys, key)
				if walk(depth+1) && (!topOnly) {
					found = true
				}
			}
			dec.Token()
			return found
		case json.Delim('['):
			found := false
			for dec.More() {
				if walk(depth+1) && !topOnly {
					found = true
				}
			}
			dec.Token()
			return found
		}
		return false
	}
	return walk(0)
}

// readings is what the forwarder's decoder reads for the keys ingest reads.
type readings struct {
	ID       json.RawMessage `json:"id"`
	Type     json.RawMessage `json:"type"`
	Event    json.RawMessage `json:"event"`
	Hook     json.RawMessage `json:"hook"`
	Sequence json.RawMessage `json:"sequence"`
}

var readKeys = []string{"id", "type", "event", "hook", "sequence"}

// FuzzTopLevel cross-checks the two readings of a body: ingest's TopLevel
// and the forwarder's encoding/json decode behind CheckKeys. On any body
// encoding/json accepts: when no object in it has two keys that are one,
// both readings accept it and TopLevel's value for each key is the value
// encoding/json decodes into a struct field of that tag (compared raw and as
// String and Scalar return it); when one has, CheckKeys refuses it, and
// TopLevel refuses it too when the two keys are at the top level (deeper, it
// reads only top-level values, which are then unambiguous and equal).
// CheckKeys refuses as invalid exactly what json.Valid refuses.
// Seeds: testdata/fuzz/FuzzTopLevel.
func FuzzTopLevel(f *testing.F) {
	f.Add([]byte(`{"id":"evt_1","type":"x","data":{"id":"y"}}`))
	f.Add([]byte(`{"id":1e3,"type":null,"x":[{"}":"]"}]}`))
	f.Add([]byte(`{"id":"\ud800","type":"\\"}`))
	f.Add([]byte(`{"type":"signup","id":"1","Type":"purchase"}`))
	f.Add([]byte(`{"\u0074ype":"purchase","id":2}`))
	f.Add([]byte("{\"\u212aind\":1,\"\u017fequence\":7,\"HOOK\":\"a\"}"))
	f.Add([]byte("{\"\xffid\":1,\"\xfeID\":2}"))
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := TopLevel(body, readKeys...)
		checkErr := CheckKeys(body)
		valid := json.Valid(body)
		if valid == isReason(checkErr, ReasonInvalidJSON) {
			t.Fatalf("json.Valid = %v but CheckKeys = %v", valid, checkErr)
		}
		if !valid {
			return
		}
		if keysAmbiguous(body, false) != isReason(checkErr, ReasonAmbiguousPayload) {
			t.Fatalf("encoding/json's keys ambiguous = %v, CheckKeys = %v", !(checkErr == nil), checkErr)
		}
		if i := skipSpace(body, 0); body[i] != '{' {
			if err == nil {
				t.Fatalf("TopLevel read a body that is not an object: %q", got)
			}
			return
		}
		if keysAmbiguous(body, true) {
			if !isReason(err, ReasonAmbiguousPayload) {
				t.Fatalf("TopLevel read an ambiguous object: %q, %v", got, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("TopLevel failed on a valid object: %v", err)
		}
		var r readings
		if err := json.NewDecoder(bytes.NewReader(body)).Decode(&r); err != nil {
			t.Fatalf("encoding/json: %v", err)
		}
		for i, want := range []json.RawMessage{r.ID, r.Type, r.Event, r.Hook, r.Sequence} {
			k := readKeys[i]
			if !bytes.Equal(got[k], want) || (want != nil) != (got[k] != nil) {
				t.Fatalf("key %s: TopLevel %q, encoding/json %q", k, got[k], want)
			}
			var s string
			if json.Unmarshal(want, &s) == nil && String(got[k]) != s {
				t.Fatalf("key %s: String %q, encoding/json %q", k, String(got[k]), s)
			}
			var n json.Number
			if len(want) > 0 && want[0] != '"' && json.Unmarshal(want, &n) == nil && n != "" {
				if sc := Scalar(got[k]); sc != "" && sc != n.String() || (sc == n.String()) != IntegerID(want) {
					t.Fatalf("key %s: Scalar %q, encoding/json %q", k, sc, n)
				}
			}
		}
	})
}
