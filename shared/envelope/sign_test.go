package envelope

import (
	"errors"
	"testing"
	"time"
)

var key = []byte("relay-internal-key")

func signed(t testing.TB) *Envelope {
	e := &Envelope{Version: Version, Provider: "shopify", EventType: "orders/paid", DeliveryID: "d-1",
		ReceivedAt: time.Date(2026, 11, 26, 8, 0, 0, 123456789, time.UTC), RequestID: "r-1",
		Headers: map[string]string{"x-shopify-shop-domain": "s.myshopify.com"}, Body: []byte(`{"id":1}`)}
	if err := Sign(e, key); err != nil {
		t.Fatal(err)
	}
	return e
}

// TestSignature: a signed envelope verifies after the queue round trip, with
// the old key during a rotation; any edit of what the forwarder acts on, or
// another key, or no signature, does not.
func TestSignature(t *testing.T) {
	for _, c := range []struct {
		name string
		edit func(e *Envelope)
		keys [][]byte
		want error
	}{
		{"as signed", func(*Envelope) {}, [][]byte{key}, nil},
		{"during a rotation", func(*Envelope) {}, [][]byte{[]byte("new"), key}, nil},
		{"another key", func(*Envelope) {}, [][]byte{[]byte("attacker")}, ErrBadSignature},
		{"no key configured", func(*Envelope) {}, nil, ErrNoKey},
		{"unsigned", func(e *Envelope) { e.Sig = "" }, [][]byte{key}, ErrUnsigned},
		{"malformed", func(e *Envelope) { e.Sig = "v1=zz" }, [][]byte{key}, ErrBadSignature},
		{"body edited", func(e *Envelope) { e.Body = []byte(`{"id":2}`) }, [][]byte{key}, ErrBadSignature},
		{"provider", func(e *Envelope) { e.Provider = "custom" }, [][]byte{key}, ErrBadSignature},
		{"event type", func(e *Envelope) { e.EventType = "customers/create" }, [][]byte{key}, ErrBadSignature},
		{"delivery id", func(e *Envelope) { e.DeliveryID = "d-2" }, [][]byte{key}, ErrBadSignature},
		{"received at (the stale check reads it)", func(e *Envelope) { e.ReceivedAt = e.ReceivedAt.Add(time.Hour) }, [][]byte{key}, ErrBadSignature},
		{"a header", func(e *Envelope) { e.Headers["x-shopify-shop-domain"] = "o.myshopify.com" }, [][]byte{key}, ErrBadSignature},
		{"a header added", func(e *Envelope) { e.Headers["x"] = "" }, [][]byte{key}, ErrBadSignature},
		{"re-signer named", func(e *Envelope) { e.ResignedBy = "ops" }, [][]byte{key}, ErrBadSignature},
		{"fields shifted", func(e *Envelope) { e.EventType, e.DeliveryID = "orders/paidd", "-1" }, [][]byte{key}, ErrBadSignature},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := Decode([]byte(Encode(signed(t))))
			if err != nil {
				t.Fatal(err)
			}
			c.edit(got)
			if err := Verify(got, c.keys); !errors.Is(err, c.want) || (c.want == nil && err != nil) {
				t.Fatalf("Verify = %v, want %v", err, c.want)
			}
		})
	}
}

// FuzzSignature: whatever the fields hold (invalid UTF-8, quotes, control
// characters), an envelope signed by ingest verifies after Encode and
// Decode, and fails once its body changes.
func FuzzSignature(f *testing.F) {
	f.Add("shopify", "orders/paid", "d\xff-1", "x-h", "v\x00\"", []byte(`{"id":1}`))
	f.Add("", "\u2028", "\ufffe", "", "", []byte{0xff})
	f.Fuzz(func(t *testing.T, provider, eventType, id, hk, hv string, body []byte) {
		if provider == "" || eventType == "" {
			return // Decode refuses these
		}
		e := &Envelope{Version: Version, Provider: provider, EventType: eventType, DeliveryID: id,
			ReceivedAt: time.Unix(1700000000, 5).UTC(), Headers: map[string]string{hk: hv}, Body: body}
		if err := Sign(e, key); err != nil {
			t.Fatal(err)
		}
		got, err := Decode([]byte(Encode(e)))
		if err != nil {
			t.Fatalf("Decode: %v", err)
		}
		if err := Verify(got, [][]byte{key}); err != nil {
			t.Fatalf("a genuine envelope does not verify after the round trip: %v", err)
		}
		got.Body = append(got.Body, ' ')
		if Verify(got, [][]byte{key}) == nil {
			t.Fatal("an edited body verifies")
		}
	})
}
