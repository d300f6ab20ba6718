package stripe

import (
	"github.com/rsnc-network/resonance-webhook-relay/shared/mapping"
	"github.com/rsnc-network/resonance-webhook-relay/shared/resonance"
	"github.com/rsnc-network/resonance-webhook-relay/shared/spec"
)

// Spec is everything the relay knows about Stripe. Every payment is paid
// through its charge (stripe.go says why); Check refuses a mapping that
// adds the invoice events to these.
var Spec = spec.Spec{
	Name: "stripe", Title: "Stripe",
	FunctionID: "StripeWebhookFunction", SecretID: "StripeWebhookSecret", Package: "stripe",
	SignatureHeader: HeaderSignature,
	Verifier:        spec.Fixed(Provider{}),
	Mapper:          spec.Static(Mapper{}),
	Mapping: mapping.Config{Check: Check, Events: map[string]string{
		"charge.succeeded":                         resonance.Purchase,
		"charge.captured":                          resonance.Purchase,
		"checkout.session.completed":               resonance.Purchase,
		"checkout.session.async_payment_succeeded": resonance.Purchase,
		"customer.created":                         resonance.Signup,
		"charge.refunded":                          mapping.KindReversal,
		"charge.dispute.created":                   mapping.KindReversal,
	}},
	Sign:      spec.OneHeader("stripe", HeaderSignature, func(d spec.Delivery, secrets []string) string { return Sign(d.At, d.Body, secrets...) }),
	Minimal:   spec.Delivery{Body: []byte(`{"id":"evt_1","type":"charge.succeeded","livemode":false}`)},
	Benchmark: "checkout-session-completed.json",
}
