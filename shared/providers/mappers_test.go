package providers_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/mapping"
	"github.com/rsnc-network/resonance-webhook-relay/shared/providers"
)

// TestMisconfiguredSourcesParkOnlyTheirOwn: an invalid HmacSources does
// not stop the forwarder (every provider's rewards would stop with it); the
// generic source's webhooks are parked with the reason, the others map.
func TestMisconfiguredSourcesParkOnlyTheirOwn(t *testing.T) {
	env := map[string]string{"HMAC_SOURCES": `{"acme":{"header":"x","algorithm":"md5"}}`}
	mappers, err := providers.Mappers(func(k string) string { return env[k] })
	if err == nil || !strings.Contains(err.Error(), "hmac") {
		t.Fatalf("Mappers = %v, want the hmac sources' error", err)
	}
	cfgs, _ := providers.LoadMapping("")
	_, err = mappers["hmac"].Map(&envelope.Envelope{Provider: "hmac:acme", EventType: "order.paid", ReceivedAt: time.Now(), Body: []byte(`{}`)}, cfgs["hmac"])
	var pe *mapping.ParkError
	if !errors.As(err, &pe) || pe.Reason != providers.ReasonMisconfigured {
		t.Fatalf("a generic source's webhook: %v, want parked %s", err, providers.ReasonMisconfigured)
	}
	for _, name := range []string{"shopify", "stripe", "custom"} {
		_, err := mappers[name].Map(&envelope.Envelope{Provider: name, EventType: "x", ReceivedAt: time.Now(), Body: []byte(`{}`)}, cfgs[name])
		if errors.As(err, &pe) && pe.Reason == providers.ReasonMisconfigured {
			t.Errorf("%s's webhooks parked for the generic sources' mistake", name)
		}
	}
}
