package envelope

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestRoundTripKeepsExactBytes(t *testing.T) {
	for _, c := range []struct {
		name   string
		body   []byte
		base64 bool
	}{
		{"json with html and unicode", []byte(`{"note":"<b>&</b> café \u2028 ☃","id":820982911946154508}` + "\n"), false},
		{"control characters", []byte("{\"a\":\"\x00\x01\x1f\"}"), false},
		{"invalid utf-8", []byte{'{', 0xff, 0xfe, '}'}, true},
		{"U+FFFF, valid UTF-8 that SQS refuses", []byte("{\"a\":\"\uffff\"}"), true},
		{"empty", []byte{}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := &Envelope{Version: Version, Provider: "shopify", EventType: "orders/paid", DeliveryID: "d", ReceivedAt: time.Unix(1, 0).UTC()}
			e.SetBody(c.body)
			if (e.BodyBase64 != nil) != c.base64 {
				t.Fatalf("base64 = %v, want %v", e.BodyBase64 != nil, c.base64)
			}
			b, err := Encode(e)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.ContainsAny(b, "\x00\x01\x1f\uffff") || bytes.HasSuffix(b, []byte("\n")) {
				t.Fatalf("encoded envelope carries characters SQS refuses: %q", b)
			}
			got, err := Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.RawBody(), c.body) {
				t.Fatalf("RawBody = %q, want %q", got.RawBody(), c.body)
			}
		})
	}
}

func TestEncodeDoesNotEscapeHTML(t *testing.T) {
	e := &Envelope{Version: Version, Provider: "p", EventType: "t"}
	e.SetBody([]byte("<&>"))
	b, _ := Encode(e)
	if !strings.Contains(string(b), `"body":"<&>"`) {
		t.Fatalf("Encode = %s, want the body unescaped", b)
	}
}

func TestDecodeRejects(t *testing.T) {
	for _, c := range []struct {
		in   string
		want error
	}{
		{`not json`, ErrMalformed},
		{`{"v":2,"provider":"p","eventType":"t","body":""}`, ErrUnsupported},
		{`{"provider":"p","eventType":"t","body":""}`, ErrUnsupported},
		{`{"v":1,"eventType":"t","body":""}`, ErrMalformed},
		{`{"v":1,"provider":"p","body":""}`, ErrMalformed},
		{`{"v":1,"provider":"p","eventType":"t"}`, ErrMalformed},
		{`{"v":1,"provider":"p","eventType":"t","body":"","bodyBase64":""}`, ErrMalformed},
		{`{"v":1,"provider":"p","eventType":"t","bodyBase64":"!!"}`, ErrMalformed},
		{`{"v":1,"provider":"p","eventType":"t","receivedAt":"yesterday","body":""}`, ErrMalformed},
	} {
		if _, err := Decode([]byte(c.in)); !errors.Is(err, c.want) {
			t.Errorf("Decode(%s) = %v, want %v", c.in, err, c.want)
		}
	}
}

// FuzzDecode: Decode never panics, and whatever it accepts encodes and
// decodes again to the same raw body. Seeds: testdata/fuzz/FuzzDecode.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"v":1,"provider":"shopify","eventType":"orders/paid","deliveryId":"e1","receivedAt":"2026-01-01T00:00:00Z","body":"{}"}`))
	f.Add([]byte(`{"v":1,"provider":"p","eventType":"t","bodyBase64":"/w=="}`))
	f.Add([]byte(`{"v":1.0,"provider":"p","eventType":"t","body":"\ud800"}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		e, err := Decode(in)
		if err != nil {
			return
		}
		raw := e.RawBody()
		e.SetBody(raw)
		b, err := Encode(e)
		if err != nil {
			t.Fatalf("Encode after Decode: %v", err)
		}
		again, err := Decode(b)
		if err != nil || !bytes.Equal(again.RawBody(), raw) {
			t.Fatalf("round trip lost the body: %v", err)
		}
	})
}
