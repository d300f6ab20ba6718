package ingest

import (
	"bytes"
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/apigw"
	"github.com/rsnc-network/resonance-webhook-relay/shared/providers/woocommerce"
	"github.com/rsnc-network/resonance-webhook-relay/shared/secrets"
)

// TestHandshake: WooCommerce's unsigned ping on webhook creation is
// answered 200 (or WooCommerce does not save the webhook) and nothing is
// queued; anything else unsigned, or a ping-shaped body with a signature
// that does not match, is still a 401.
func TestHandshake(t *testing.T) {
	for _, c := range []struct {
		name    string
		body    string
		headers map[string]string
		status  int
	}{
		{"ping", "webhook_id=12", map[string]string{"content-type": "application/x-www-form-urlencoded"}, 200},
		{"ping with a bad signature", "webhook_id=12", map[string]string{"x-wc-webhook-signature": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}, 401},
		{"an unsigned order", `{"id":1,"status":"processing"}`, map[string]string{"x-wc-webhook-topic": "order.updated"}, 401},
		{"a ping with more in it", "webhook_id=12&x=1", nil, 401},
	} {
		t.Run(c.name, func(t *testing.T) {
			events, dead := &fakeQueue{}, &fakeQueue{}
			h := &Handler{
				Name: "woocommerce", Provider: woocommerce.Provider{},
				Secrets: fakeSecrets{s: secrets.WebhookSecrets{"woocommerce": {[]byte("wc-secret")}}},
				Events:  events, DeadLetters: dead, Envelopes: envelope.StaticKeys{testEnvelopeKey},
				Accept: ParseEventFilter("*"), Now: time.Now, Log: slog.New(slog.NewJSONHandler(&bytes.Buffer{}, nil)),
			}
			resp, _ := h.Handle(context.Background(), apigw.Event(apigw.Request{Path: "/webhooks/woocommerce", Headers: c.headers, Body: []byte(c.body)}))
			if resp.StatusCode != c.status || len(events.msgs)+len(dead.msgs) != 0 {
				t.Fatalf("answered %d, queued %d, parked %d; want %d and nothing queued", resp.StatusCode, len(events.msgs), len(dead.msgs), c.status)
			}
		})
	}
}
