package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
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
		{`{"id":"first","id":"last"}`, map[string]string{"id": `"last"`}, false},
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

// FuzzTopLevel: on every valid JSON object TopLevel agrees with
// encoding/json; on anything else it fails cleanly or returns values that
// are slices of the body. Seeds: testdata/fuzz/FuzzTopLevel.
func FuzzTopLevel(f *testing.F) {
	f.Add([]byte(`{"id":"evt_1","type":"x","data":{"id":"y"}}`))
	f.Add([]byte(`{"id":1e3,"type":null,"x":[{"}":"]"}]}`))
	f.Add([]byte(`{"id":"\ud800","type":"\\"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := TopLevel(body, "id", "type")
		var m map[string]json.RawMessage
		if json.Unmarshal(body, &m) != nil || m == nil || !json.Valid(body) {
			return // not a JSON object: `null` unmarshals into a nil map without error
		}
		if err != nil {
			t.Fatalf("TopLevel failed on a valid object %q: %v", body, err)
		}
		for _, k := range []string{"id", "type"} {
			want, ok := m[k]
			if ok != (got[k] != nil) || (ok && !bytes.Equal(bytes.TrimSpace(want), got[k])) {
				t.Fatalf("key %s: got %q, encoding/json %q", k, got[k], want)
			}
		}
	})
}
