package zupy

import (
	"github.com/rsnc-network/resonance-webhook-relay/shared/mapping"
	"github.com/rsnc-network/resonance-webhook-relay/shared/resonance"
	"github.com/rsnc-network/resonance-webhook-relay/shared/spec"
)

// Spec is everything the relay knows about Zupy.
var Spec = spec.Spec{
	Name: "zupy", Title: "Zupy",
	FunctionID: "ZupyWebhookFunction", SecretID: "ZupyWebhookSecret", Package: "zupy",
	SignatureHeader: HeaderSignature,
	Verifier:        spec.Fixed(Provider{}),
	Mapper:          spec.Static(Mapper{}),
	Mapping: mapping.Config{Currency: "BRL", Events: map[string]string{
		"points.earned": resonance.Purchase, "customer.registered": resonance.Signup, "customer.enrolled": resonance.Signup,
	}},
	Sign:      spec.OneHeader("zupy", HeaderSignature, func(d spec.Delivery, secrets []string) string { return Sign(secrets[0], d.Body) }),
	Minimal:   spec.Delivery{Body: []byte(`{"event":"points.earned","transaction":{"transaction_id":"t1"}}`)},
	Benchmark: "points-earned.json",
	BodyTimes: true,
}
