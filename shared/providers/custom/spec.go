package custom

import (
	"fmt"

	"github.com/rsnc-network/resonance-webhook-relay/shared/spec"
)

// Spec is everything the relay knows about a custom sender (Standard
// Webhooks). Its event type is the Resonance event, so ingest enqueues
// every type by default.
var Spec = spec.Spec{
	Name: "custom", Title: "Custom sender",
	FunctionID: "CustomWebhookFunction", SecretID: "CustomWebhookSecret", Package: "custom",
	SignatureHeader: HeaderSignature,
	Verifier:        spec.Fixed(Provider{}),
	Mapper:          spec.Static(Mapper{}),
	AllEventTypes:   true,
	Sign: func(d spec.Delivery, secrets ...string) (map[string]string, error) {
		if err := spec.NeedSecret("custom", secrets); err != nil {
			return nil, err
		}
		id := d.Headers[HeaderID]
		if id == "" {
			return nil, fmt.Errorf("custom: a delivery needs a %s header", HeaderID)
		}
		return spec.Headers(d, func(h map[string]string) {
			h[HeaderTimestamp], h[HeaderSignature] = Sign(id, d.At, d.Body, secrets...)
		}), nil
	},
	Minimal: spec.Delivery{
		Body:    []byte(`{"id":"c-1","type":"purchase","customerEmail":"a@example.com","data":{}}`),
		Headers: map[string]string{HeaderID: "msg_1"},
	},
	Benchmark: "purchase.json",
}
