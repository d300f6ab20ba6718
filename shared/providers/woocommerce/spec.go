package woocommerce

import (
	"github.com/rsnc-network/resonance-webhook-relay/shared/mapping"
	"github.com/rsnc-network/resonance-webhook-relay/shared/spec"
)

// Spec is everything the relay knows about WooCommerce: a provider of its
// own rather than a preset of the generic HMAC source, because what decides
// a reward is more than a path (an order pays once, on its first paid state,
// whichever of order.created and order.updated shows it; the store comes
// from the body's signed _links), and its creation ping must be answered
// 200 unsigned.
var Spec = spec.Spec{
	Name: "woocommerce", Title: "WooCommerce",
	FunctionID: "WooCommerceWebhookFunction", SecretID: "WooCommerceWebhookSecret", Package: "woocommerce",
	SignatureHeader: HeaderSignature,
	Verifier:        spec.Fixed(Provider{}),
	Mapper:          spec.Static(Mapper{}),
	Mapping:         mapping.Config{Events: DefaultEvents()},
	Sign:            spec.OneHeader("woocommerce", HeaderSignature, func(d spec.Delivery, secrets []string) string { return Sign(secrets[0], d.Body) }),
	Minimal: spec.Delivery{
		Body:    []byte(`{"id":727,"status":"processing"}`),
		Headers: map[string]string{HeaderTopic: "order.created", HeaderDeliveryID: "d-1", HeaderSource: "https://shop.example/"},
	},
	Benchmark: "order-updated.json",
	BodyTimes: true,
}
