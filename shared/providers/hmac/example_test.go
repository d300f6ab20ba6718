package hmac_test

import (
	"fmt"
	"time"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/mapping"
	"github.com/rsnc-network/resonance-webhook-relay/shared/providers/hmac"
	"github.com/rsnc-network/resonance-webhook-relay/shared/webhook"
)

// A shop system that signs hex HMAC-SHA512 over "<unix seconds>.<body>",
// sends its event type in the body and its amounts in cents, configured
// as the source "acme" (HmacSources), served at /webhooks/hmac/acme with
// its own secret.
func Example() {
	sources, err := hmac.ParseSources(`{
	  "acme": {
	    "header": "X-Acme-Signature", "algorithm": "sha512", "encoding": "hex",
	    "signed": "timestamp+body", "timestampHeader": "X-Acme-Timestamp", "tolerance": "5m",
	    "eventType": "type", "deliveryId": {"header": "X-Acme-Delivery"},
	    "events": {"order.paid": "purchase", "customer.created": "signup"},
	    "email": "customer.email", "customerId": "customer.id",
	    "orderId": "order.id", "amount": "order.total", "amountUnit": "minor", "currency": "order.currency",
	    "eventRequire": {"order.paid": {"order.status": "paid"}}
	  }
	}`)
	if err != nil {
		fmt.Println(err)
		return
	}
	now := time.Date(2026, 3, 14, 13, 41, 10, 0, time.UTC)
	body := []byte(`{"type":"order.paid","customer":{"id":"c-77","email":"maya@example.com"},"order":{"id":"A-1001","total":4999,"currency":"USD","status":"paid"}}`)

	// The sender signs (here: hmac.Sign, as the local stack does).
	headers, _ := hmac.Sign(sources["acme"], "acme-secret", hmac.SignInput{Body: body, Timestamp: now})
	headers["x-acme-delivery"] = "dlv-1"
	fmt.Println("x-acme-timestamp:", headers["x-acme-timestamp"])

	// Ingest: the {source} path parameter picks the source and its secrets.
	req := &webhook.Request{Header: webhook.Header(headers), Body: body, Source: "acme"}
	p := hmac.Provider{Sources: sources}
	fmt.Println("verify:", p.Verify(req, [][]byte{[]byte("acme-secret")}, now))
	d, _ := p.Parse(req)
	fmt.Println("event:", d.EventType, "delivery:", d.DeliveryID)

	// The forwarder maps the envelope of provider "hmac:acme".
	env := &envelope.Envelope{Version: 1, Provider: hmac.ProviderName("acme"), EventType: d.EventType, DeliveryID: d.DeliveryID, ReceivedAt: now, Body: body}
	res, _ := hmac.Mapper{Sources: sources}.Map(env, &mapping.Config{})
	r := res.Rewards[0]
	fmt.Println("key:", r.Key)
	fmt.Println("reward:", r.Event.EventType, r.Event.UserEmail, r.Event.Metadata["order_value"], r.Event.Metadata["currency"])

	// The same request sent to another source's path does not verify.
	req.Source = "other"
	fmt.Println("other path:", p.Verify(req, [][]byte{[]byte("acme-secret")}, now))
	// Output:
	// x-acme-timestamp: 1773495670
	// verify: <nil>
	// event: order.paid delivery: dlv-1
	// key: hmac:acme:order:A-1001
	// reward: purchase maya@example.com 49.99 USD
	// other path: webhook: sender not allowed: no hmac source "other" is configured
}
