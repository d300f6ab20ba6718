package square

import (
	"github.com/rsnc-network/resonance-webhook-relay/shared/mapping"
	"github.com/rsnc-network/resonance-webhook-relay/shared/spec"
)

// Spec is everything the relay knows about Square: a provider of its own
// rather than a preset of the generic HMAC source, because a payment pays
// only in its COMPLETED state, its amount is in the currency's minor units,
// and its type must agree with the object the body carries.
var Spec = spec.Spec{
	Name: "square", Title: "Square",
	FunctionID: "SquareWebhookFunction", SecretID: "SquareWebhookSecret", Package: "square",
	SignatureHeader: HeaderSignature,
	Verifier:        spec.Fixed(Provider{}),
	Mapper:          spec.Static(Mapper{}),
	Mapping:         mapping.Config{Events: DefaultEvents()},
	SignedURL:       true,
	Sign:            spec.OneHeader("square", HeaderSignature, func(d spec.Delivery, secrets []string) string { return Sign(secrets[0], d.URL, d.Body) }),
	Minimal:         spec.Delivery{Body: []byte(`{"merchant_id":"M1","type":"payment.updated","event_id":"e-1","data":{}}`)},
	Benchmark:       "payment-updated.json",
	BodyTimes:       true,
}
