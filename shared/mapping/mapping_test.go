package mapping

import (
	"errors"
	"testing"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
)

func TestDecimal(t *testing.T) {
	for in, ok := range map[string]bool{"10.00": true, "-2.5": true, "7": true, " 3.10 ": true, "1e3": false, "1.": false, ".5": false, "": false, "-": false, "1.2.3": false, "NaN": false} {
		if _, got := Decimal(in); got != ok {
			t.Errorf("Decimal(%q) ok = %v, want %v", in, got, ok)
		}
	}
}

func TestMaskEmail(t *testing.T) {
	for in, want := range map[string]string{"jon@example.com": "j***@example.com", "x": "***", "@a.b": "***"} {
		if got := MaskEmail(in); got != want {
			t.Errorf("MaskEmail(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestDecodeBodyAmbiguous: a body that ingest and the decoder could read
// differently is parked, never mapped; the same keys in different objects,
// or differing by more than case, are fine.
func TestDecodeBodyAmbiguous(t *testing.T) {
	for _, c := range []struct {
		body, reason string
	}{
		{`{"id":"o-1","type":"signup","customerEmail":"a@b.c","Type":"purchase"}`, ReasonAmbiguousPayload},
		{`{"id":"o-1","type":"purchase","id":"o-2"}`, ReasonAmbiguousPayload},
		{`{"id":"o-1","\u0074ype":"purchase","TYPE":"signup"}`, ReasonAmbiguousPayload},
		{"{\"id\":\"o-1\",\"data\":{\"order_value\":1,\"order_\u212aalue\":2}}", ""}, // K is k, not v
		{"{\"id\":\"o-1\",\"data\":{\"sku\":1,\"\u017fku\":2}}", ReasonAmbiguousPayload},
		{`{"data":{"object":{"amount":100}},"Data":{"object":{"amount":1}}}`, ReasonAmbiguousPayload},
		{`{"x":[{"amount":1},{"amount":2}],"data":{"amount":3}}`, ""},
		{`{"id":"o-1"} {"id":"o-2"}`, ReasonInvalidPayload},
		{`{"id":"o-1",}`, ReasonInvalidPayload},
	} {
		var v struct {
			ID   string         `json:"id"`
			Type string         `json:"type"`
			Data map[string]any `json:"data"`
		}
		err := DecodeBody(&envelope.Envelope{Body: []byte(c.body)}, &v)
		var pe *ParkError
		if c.reason == "" {
			if err != nil {
				t.Errorf("DecodeBody(%s) = %v, want nil", c.body, err)
			}
		} else if !errors.As(err, &pe) || pe.Reason != c.reason {
			t.Errorf("DecodeBody(%s) = %v (decoded %+v), want %s", c.body, err, v, c.reason)
		}
	}
}
