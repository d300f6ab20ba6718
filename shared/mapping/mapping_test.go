package mapping

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/webhook"
)

// TestDecimal: an amount is a plain non-negative decimal within bounds;
// a negative, an exponent or an absurd size is refused, zero is kept.
func TestDecimal(t *testing.T) {
	for in, ok := range map[string]bool{
		"10.00": true, "7": true, " 3.10 ": true, "0": true, "0.00": true, "0.5": true,
		"999999999999.999999": true, "123456789012": true, "1.123456": true,
		"-2.5": false, "-500.00": false, "-0": false, "-0.00": false, "+1": false,
		"1e3": false, "1e400": false, "1E2": false, "NaN": false, "Infinity": false, "0x10": false,
		"1.": false, ".5": false, "": false, "-": false, "1.2.3": false, "1,00": false, "1 000": false,
		"1234567890123": false, "1.1234567": false, "01": false, "00.5": false, "1.000000000000000000001": false,
	} {
		if _, got := Decimal(in); got != ok {
			t.Errorf("Decimal(%q) ok = %v, want %v", in, got, ok)
		}
	}
	if n, _ := Decimal(" 3.10 "); n != "3.10" {
		t.Errorf("Decimal(\" 3.10 \") = %q, want 3.10 as written", n)
	}
	_, err := Amount("total_price", "-500.00")
	if pe, ok := errors.AsType[*ParkError](err); !ok || pe.Reason != ReasonInvalidAmount {
		t.Errorf("Amount(-500.00) = %v, want %s", err, ReasonInvalidAmount)
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

// TestIDNumbers: a number id is kept only as a plain integer literal, so one
// number is one key: 1e3, 1000.0 and 1000 would otherwise be three orders.
func TestIDNumbers(t *testing.T) {
	for _, c := range []struct {
		raw, want string
		ok        bool
	}{
		{`1000`, "1000", true},
		{`"1000"`, "1000", true},
		{`"1e3"`, "1e3", true}, // a string is an id as written
		{`-7`, "-7", true},
		{`0`, "0", true},
		{`9007199254740993`, "9007199254740993", true}, // beyond float64, kept exact
		{`null`, "", true},
		{`1e3`, "", false},
		{`1E3`, "", false},
		{`1000.0`, "", false},
		{`10e2`, "", false},
		{`-0`, "", false},
		{`0.5`, "", false},
		{`true`, "", false},
		{`{"id":1}`, "", false},
	} {
		var v struct {
			ID ID `json:"id"`
		}
		err := DecodeBody(&envelope.Envelope{Body: []byte(`{"id":` + c.raw + `}`)}, &v)
		var pe *ParkError
		if c.ok {
			if err != nil || string(v.ID) != c.want {
				t.Errorf("id %s = %q, %v; want %q", c.raw, v.ID, err, c.want)
			}
		} else if !errors.As(err, &pe) || pe.Reason != ReasonInvalidPayload {
			t.Errorf("id %s = %q, %v; want parked %s", c.raw, v.ID, err, ReasonInvalidPayload)
		}
	}
}

// FuzzID: the forwarder's ID and ingest's webhook.Scalar read one id the
// same way: where Scalar finds an id, ID decodes to it; where ID decodes a
// number, Scalar finds that number. Seeds: testdata/fuzz/FuzzID.
func FuzzID(f *testing.F) {
	for _, s := range []string{`1000`, `1e3`, `-0`, `"a\u0062"`, `null`, `1.0`, `-12`, `"\xff"`, `{}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if !json.Valid(raw) {
			return
		}
		var v struct {
			ID ID `json:"id"`
		}
		err := json.Unmarshal(append(append([]byte(`{"id":`), raw...), '}'), &v)
		sc := webhook.Scalar(bytes.TrimSpace(raw))
		if sc != "" && (err != nil || string(v.ID) != sc) {
			t.Fatalf("Scalar(%s) = %q but ID = %q, %v", raw, sc, v.ID, err)
		}
		if err == nil && v.ID != "" && string(v.ID) != sc {
			t.Fatalf("ID(%s) = %q but Scalar = %q", raw, v.ID, sc)
		}
	})
}

// TestISOMinorUnits: Square's and a generic source's amounts follow ISO
// 4217, which differs from Stripe's list (found by an outside review: IQD
// came out 10 times too large, ISK 100 times too small).
func TestISOMinorUnits(t *testing.T) {
	for _, c := range []struct{ amount, cur, iso, stripe string }{
		{"4999", "usd", "49.99", "49.99"},
		{"5000", "JPY", "5000", "5000"},
		{"12345", "iqd", "12.345", "123.45"},
		{"12345", "LYD", "12.345", "123.45"},
		{"5000", "isk", "5000", "50.00"},
		{"5000", "MGA", "50.00", "5000"},
		{"123456", "clf", "12.3456", "1234.56"},
		{"1234", "kwd", "1.234", "1.234"},
	} {
		iso, err1 := FromISOMinorUnits(json.Number(c.amount), c.cur)
		st, err2 := FromMinorUnits(json.Number(c.amount), c.cur)
		if err1 != nil || err2 != nil || string(iso) != c.iso || string(st) != c.stripe {
			t.Errorf("%s %s: ISO %s (%v), Stripe %s (%v); want %s and %s", c.amount, c.cur, iso, err1, st, err2, c.iso, c.stripe)
		}
	}
	for _, v := range []string{"0", "0.00", "000.000"} {
		if !Zero(json.Number(v)) {
			t.Errorf("Zero(%s) = false", v)
		}
	}
	if Zero("0.01") || Zero("10") {
		t.Error("Zero of a non-zero amount")
	}
}
