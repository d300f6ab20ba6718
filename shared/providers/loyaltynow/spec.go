package loyaltynow

import (
	"github.com/rsnc-network/resonance-webhook-relay/shared/mapping"
	"github.com/rsnc-network/resonance-webhook-relay/shared/resonance"
	"github.com/rsnc-network/resonance-webhook-relay/shared/spec"
)

// Spec is everything the relay knows about Loyalty Now. Its payloads are
// not published, so the mapping locates each value by Fields.
var Spec = spec.Spec{
	Name: "loyaltynow", Title: "Loyalty Now",
	FunctionID: "LoyaltyNowWebhookFunction", SecretID: "LoyaltyNowWebhookSecret", Package: "loyaltynow",
	SignatureHeader: HeaderSignature,
	Verifier:        spec.Fixed(Provider{}),
	Mapper:          spec.Static(Mapper{}),
	Mapping: mapping.Config{
		Events: map[string]string{
			"transaction.confirmed": resonance.Purchase, "member.added": resonance.Signup,
			"transaction.reversed": mapping.KindReversal,
		},
		Fields: map[string]string{
			"email":         "data.email|data.member.email|data.memberEmail",
			"customerId":    "data.memberId|data.member.id|data.member.memberId",
			"transactionId": "data.transactionId|data.id|data.transaction.id",
			"amount":        "data.amount|data.transaction.amount|data.value",
			"currency":      "data.currency|data.transaction.currency",
		},
	},
	SignedURL: true,
	Sign: func(d spec.Delivery, secrets ...string) (map[string]string, error) {
		if err := spec.NeedSecret("loyaltynow", secrets); err != nil {
			return nil, err
		}
		return spec.Headers(d, func(h map[string]string) {
			h[HeaderRequestDate], h[HeaderSignature] = Sign(secrets[0], d.Body, d.URL, d.At)
		}), nil
	},
	Minimal:   spec.Delivery{Body: []byte(`{"hook":"member.added","data":{},"sequence":7}`)},
	Benchmark: "transaction-confirmed.json",
}
