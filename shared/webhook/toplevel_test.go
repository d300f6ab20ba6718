package webhook

import (
	"errors"
	"strings"
	"testing"
	"unsafe"
)

func TestTopLevel(t *testing.T) {
	for _, c := range []struct {
		body string
		want map[string]string // key -> raw value
		err  bool
	}{
		{`{"id":"evt_1","type":"invoice.paid","data":{"object":{"id":"in_1","type":"x"}}}`, map[string]string{"id": `"evt_1"`, "type": `"invoice.paid"`}, false},
		{" {\n \"type\" : \"a\\\"b\" , \"id\": 12 }\n", map[string]string{"id": "12", "type": `"a\"b"`}, false},
		{`{"data":["}",{"id":"nested"}],"id":"top"}`, map[string]string{"id": `"top"`}, false},
		{`{"Id":"case","TYPE":"folded"}`, map[string]string{"id": `"case"`, "type": `"folded"`}, false},
		{"{\"\\u0074ype\":\"escaped\",\"\u212a\":1}", map[string]string{"type": `"escaped"`}, false},
		{`{"\u0069d":"escaped key"}`, map[string]string{"id": `"escaped key"`}, false},
		{`{}`, map[string]string{}, false},
		{`[]`, nil, true},
		{`{"id":"x"`, nil, true},
		{`{"id" "x"}`, nil, true},
		{`{"id":"x"} trailing`, nil, true},
		{`{"id":"x",}`, nil, true},
		{`{"a":{"b":[1,2}`, nil, true},
		{`{"id":"a\\\\","type":"b\\\"c"}`, map[string]string{"id": `"a\\\\"`, "type": `"b\\\"c"`}, false},
	} {
		got, err := TopLevel([]byte(c.body), "id", "type")
		var pe *ParseError
		if c.err {
			if !errors.As(err, &pe) {
				t.Errorf("TopLevel(%s) = %v, %v; want a ParseError", c.body, got, err)
			}
			continue
		}
		if err != nil || len(got) != len(c.want) {
			t.Errorf("TopLevel(%s) = %q, %v; want %q", c.body, got, err, c.want)
			continue
		}
		for k, v := range c.want {
			if string(got[k]) != v {
				t.Errorf("TopLevel(%s)[%s] = %s, want %s", c.body, k, got[k], v)
			}
		}
	}
}

// TestTopLevelAmbiguous: a body whose top-level keys two readers could read
// differently is refused, not read one way.
func TestTopLevelAmbiguous(t *testing.T) {
	for _, body := range []string{
		`{"type":"signup","id":"1","Type":"purchase"}`, // filtered as a signup, paid as a purchase
		`{"id":"first","id":"last"}`,
		`{"id":"a","\u0069d":"b"}`,
		"{\"kind\":1,\"\u212aind\":2}",
		`{"x":1,"x":{"nested":true}}`,
	} {
		got, err := TopLevel([]byte(body), "id", "type")
		if !isReason(err, ReasonAmbiguousPayload) {
			t.Errorf("TopLevel(%s) = %q, %v; want %s", body, got, err, ReasonAmbiguousPayload)
		}
	}
}

// TestScalar: delivery ids read at ingest follow mapping.ID's rule: a number
// is an id only as a plain integer literal.
func TestScalar(t *testing.T) {
	for raw, want := range map[string]string{
		`"abc"`: "abc", `"1e3"`: "1e3", `1000`: "1000", `-12`: "-12", `0`: "0", `12345678901234567890`: "12345678901234567890",
		`1e3`: "", `1000.0`: "", `-0`: "", `01`: "", `1.5`: "", `null`: "", `true`: "", `{}`: "", `[1]`: "", ``: "", `-`: "", `+1`: "",
	} {
		if got := Scalar([]byte(raw)); got != want {
			t.Errorf("Scalar(%s) = %q, want %q", raw, got, want)
		}
	}
}

// FuzzRequestStrings: a request's String and Scalar read what String and
// Scalar read, and without a copy exactly when the value lies in r.Text
// and needs no decoding; a body given as bytes only (no Text) is copied.
// Seeds: testdata/fuzz/FuzzRequestStrings.
func FuzzRequestStrings(f *testing.F) {
	f.Add(`{"id":"evt_1","type":"a\u0062c","n":42,"m":-0,"s":"caf\xc3\xa9","bad":"\xff"}`)
	f.Add(`{"id":7,"type":"","x":1e3}`)
	f.Fuzz(func(t *testing.T, body string) {
		keys := []string{"id", "type", "n", "m", "s", "bad", "x"}
		vals := make([][]byte, len(keys))
		r := &Request{Body: View(body), Text: body}
		if TopLevelInto(r.Body, keys, vals) != nil {
			return
		}
		copied := &Request{Body: []byte(body)}
		for i, raw := range vals {
			for _, c := range []struct {
				name      string
				got, want string
			}{{"String", r.String(raw), String(raw)}, {"Scalar", r.Scalar(raw), Scalar(raw)}, {"String of bytes", copied.String(raw), String(raw)}} {
				if c.got != c.want {
					t.Fatalf("%s(%s) = %q, want %q", c.name, keys[i], c.got, c.want)
				}
			}
			s := r.String(raw)
			inText := len(s) > 0 && unsafe.StringData(s) != nil &&
				uintptr(unsafe.Pointer(unsafe.StringData(s)))-uintptr(unsafe.Pointer(unsafe.StringData(body))) < uintptr(len(body))
			if plain := len(raw) >= 2 && raw[0] == '"' && plainString(raw[1:len(raw)-1]); inText != (plain && len(s) > 0) {
				t.Fatalf("String(%s) = %q: cut from the body %v, plain %v", keys[i], s, inText, plain)
			}
		}
	})
}

// TestRequestCutOutside: a value that does not lie in r.Text (a Body that
// is not its view, longer or elsewhere) is copied, never cut out of range.
func TestRequestCutOutside(t *testing.T) {
	long := []byte(`"` + strings.Repeat("x", 64) + `"`)
	for _, r := range []*Request{
		{Body: long, Text: `"x"`},
		{Body: []byte(`"abc"`), Text: `"abc"`},
	} {
		if got, want := r.String(r.Body), String(r.Body); got != want {
			t.Fatalf("String = %q, want %q", got, want)
		}
	}
}
