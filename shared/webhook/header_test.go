package webhook

import (
	"maps"
	"strings"
	"testing"
)

// TestNewHeader: names come out lowercase whatever their case (ASCII or
// not), repeated names are joined, and a map already lowercase is used as
// it is.
func TestNewHeader(t *testing.T) {
	for _, c := range []struct {
		in, want map[string]string
	}{
		{map[string]string{"x-a": "1", "content-type": "json"}, map[string]string{"x-a": "1", "content-type": "json"}},
		{map[string]string{"X-A": "1", "x-b": "2"}, map[string]string{"x-a": "1", "x-b": "2"}},
		{map[string]string{"x-Ä": "1"}, map[string]string{"x-ä": "1"}},
		{map[string]string{"x-ä": "1", "x-\xff": "2"}, map[string]string{"x-ä": "1", "x-\ufffd": "2"}}, // as strings.ToLower
	} {
		got := NewHeader(c.in)
		if !maps.Equal(got, c.want) {
			t.Errorf("NewHeader(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	joined := NewHeader(map[string]string{"X-A": "1", "x-a": "2"})
	if v := joined["x-a"]; v != "1,2" && v != "2,1" {
		t.Errorf("repeated names: %q", v)
	}
	for _, k := range []string{"", "x-a", "X-a", "x-Ä", "x-ß", "\xff", "x-\u212a"} {
		if got, want := lowercase(k), k == strings.ToLower(k); got != want {
			t.Errorf("lowercase(%q) = %v, want %v", k, got, want)
		}
	}
}
