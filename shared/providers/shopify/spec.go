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
	}},
	Sign: func(d spec.Delivery, secrets ...string) (map[string]string, error) {
		if err := spec.NeedSecret("shopify", secrets); err != nil {
			return nil, err
		}
		return spec.Headers(d, func(h map[string]string) { h[HeaderHMAC] = Sign(secrets[0], d.Body) }), nil
	},
	Minimal: spec.Delivery{
		Body:    []byte(`{"id":820982911946154508,"email":"jon@example.com","total_price":"10.00","currency":"USD"}`),
		Headers: map[string]string{HeaderTopic: "orders/paid", HeaderEventID: "ev-1", HeaderShopDomain: "s.myshopify.com"},
	},
	Benchmark: "orders-paid.json",
	BodyTimes: true,
}
