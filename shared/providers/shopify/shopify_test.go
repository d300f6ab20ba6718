package shopify

import (
	"errors"
	"testing"
	"time"

	"github.com/rsnc-network/resonance-webhook-relay/shared/webhook"
)

// The reference's vector, cross-checked with openssl.
const (
	vectorSecret = "hush"
	vectorBody   = `{"id":820982911946154508,"email":"jon@example.com","total_price":"10.00","currency":"USD","test":true}`
	vectorSig    = "2sbyrtHhDIV8EimWiKGC2zhXsL057natI3fIaXP5OQU="
)

func TestVector(t *testing.T) {
	if got := Sign(vectorSecret, []byte(vectorBody)); got != vectorSig {
		t.Fatalf("Sign = %s, want %s", got, vectorSig)
	}
	for _, c := range []struct {
		name    string
		headers map[string]string
		want    error
	}{
		{"X- prefixed header", map[string]string{"x-shopify-hmac-sha256": vectorSig}, nil},
		{"Events delivery without the X- prefix", map[string]string{"shopify-hmac-sha256": vectorSig}, nil},
		{"as sent, in canonical case", map[string]string{"X-Shopify-Hmac-Sha256": vectorSig}, nil},
		{"hex instead of base64", map[string]string{"x-shopify-hmac-sha256": "dac6f2aed1e10c857c12296894a182db3857b0bd39ee76ad2377c86973f93905"}, webhook.ErrMalformedSignature},
		{"truncated", map[string]string{"x-shopify-hmac-sha256": vectorSig[:20]}, webhook.ErrMalformedSignature},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := &webhook.Request{Header: webhook.NewHeader(c.headers), Body: []byte(vectorBody)}
			err := Provider{}.Verify(r, [][]byte{[]byte("other"), []byte(vectorSecret)}, time.Now())
			if (c.want == nil) != (err == nil) || (c.want != nil && !errors.Is(err, c.want)) {
				t.Fatalf("Verify = %v, want %v", err, c.want)
			}
		})
	}
}

func TestParse(t *testing.T) {
	body := []byte(vectorBody)
	for _, c := range []struct {
		name       string
		headers    map[string]string
		wantID     string
		wantReason string
	}{
		{"event id preferred", map[string]string{"x-shopify-topic": "orders/paid", "x-shopify-event-id": "e1", "x-shopify-webhook-id": "w1"}, "e1", ""},
		{"webhook id as fallback", map[string]string{"x-shopify-topic": "orders/paid", "x-shopify-webhook-id": "w1"}, "w1", ""},
		{"un-prefixed Events headers", map[string]string{"shopify-topic": "orders/paid", "shopify-event-id": "e2"}, "e2", ""},
		{"no topic", map[string]string{"x-shopify-event-id": "e1"}, "", webhook.ReasonMissingEventType},
		{"no id", map[string]string{"x-shopify-topic": "orders/paid"}, "", webhook.ReasonMissingDeliveryID},
	} {
		t.Run(c.name, func(t *testing.T) {
			d, err := Provider{}.Parse(&webhook.Request{Header: webhook.NewHeader(c.headers), Body: body})
			var pe *webhook.ParseError
			switch {
			case c.wantReason != "":
				if !errors.As(err, &pe) || pe.Reason != c.wantReason {
					t.Fatalf("Parse err = %v, want reason %s", err, c.wantReason)
				}
			case err != nil || d.DeliveryID != c.wantID || d.EventType != "orders/paid":
				t.Fatalf("Parse = %+v, %v; want id %s", d, err, c.wantID)
			case d.Headers[HeaderTopic] != "orders/paid":
				t.Fatalf("kept headers %v lack the topic under its X- name", d.Headers)
			}
		})
	}
}
