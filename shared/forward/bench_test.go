package forward

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/rsnc-network/resonance-webhook-relay/shared/local/benchcmp"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/samples"
	"github.com/rsnc-network/resonance-webhook-relay/shared/providers"
)

// BenchmarkMap measures each provider's mapping and request building (the
// Resonance body) on its sample, beside a floor: one json.Valid pass over
// the same body, the least a mapper that reads the body must do. The two
// alternate in rounds (benchcmp.Compare), timed on CPU time; run with
// -benchtime=1x.
func BenchmarkMap(b *testing.B) {
	cfgs, err := providers.LoadMapping("")
	if err != nil {
		b.Fatal(err)
	}
	envs := sampleEnvelopes(b)
	for _, name := range []string{
		"ShopifyWebhookFunction/orders-paid.json", "StripeWebhookFunction/checkout-session-completed.json",
		"ZupyWebhookFunction/points-earned.json", "LoyaltyNowWebhookFunction/transaction-confirmed.json",
		"CustomWebhookFunction/purchase.json",
	} {
		env := envs[name]
		body := env.Body
		name, _, _ := strings.Cut(env.Provider, ":")
		m, cfg := samples.Mappers()[name], cfgs[name]
		b.Run(fmt.Sprintf("%s/%dB", env.Provider, len(body)), func(b *testing.B) {
			benchcmp.Compare(b, func() {
				res, err := m.Map(env, cfg)
				if err != nil || len(res.Rewards) != 1 {
					b.Fatal(err, res)
				}
				if _, err := res.Rewards[0].Event.Body(); err != nil {
					b.Fatal(err)
				}
			}, func() {
				if !json.Valid(body) {
					b.Fatal("invalid")
				}
			}, benchcmp.Options{})
		})
	}
}
