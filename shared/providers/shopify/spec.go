package shopify

import (
	"github.com/rsnc-network/resonance-webhook-relay/shared/mapping"
	"github.com/rsnc-network/resonance-webhook-relay/shared/resonance"
	"github.com/rsnc-network/resonance-webhook-relay/shared/spec"
	"github.com/rsnc-network/resonance-webhook-relay/shared/webhook"
)

// Spec is everything the relay knows about Shopify.
var Spec = spec.Spec{
	Name: "shopify", Title: "Shopify",
	FunctionID: "ShopifyWebhookFunction", SecretID: "ShopifyWebhookSecret", Package: "shopify",
	SignatureHeader: HeaderHMAC,
	Verifier:        func(getenv spec.Getenv) (webhook.Provider, error) { return FromEnv(getenv) },
	Mapper:          spec.Static(Mapper{}),
	Mapping: mapping.Config{Events: map[string]string{
		"orders/paid": resonance.Purchase, "customers/create": resonance.Signup,
		"refunds/create": mapping.KindReversal, "orders/cancelled": mapping.KindReversal,
	}},
	Sign: spec.OneHeader("shopify", HeaderHMAC, func(d spec.Delivery, secrets []string) string { return Sign(secrets[0], d.Body) }),
	Minimal: spec.Delivery{
		Body:    []byte(`{"id":820982911946154508,"email":"jon@example.com","total_price":"10.00","currency":"USD"}`),
		Headers: map[string]string{HeaderTopic: "orders/paid", HeaderEventID: "ev-1", HeaderShopDomain: "s.myshopify.com"},
	},
	Benchmark: "orders-paid.json",
	BodyTimes: true,
}
