package zupy

import (
	"errors"
	"testing"
	"time"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/mapping"
)

// TestMapChecksEventAndAge: the mapper takes the event from the signed body
// too (an envelope whose event is not the body's is parked), and dates the
// delivery by the body's timestamp (awarded_at in Zupy's second shape): a
// captured delivery replayed past the memory less mapping.ReplayMargin is
// parked as stale_delivery. Before, a day-401 replay was paid again once
// its key had been forgotten.
func TestMapChecksEventAndAge(t *testing.T) {
	const earned = `{"event":"points.earned","timestamp":"2025-08-26T15:30:00Z","customer":{"member_id":"m1","email":"eva@example.com"},"transaction":{"transaction_id":"t1","order_value":189.9}}`
	sent := time.Date(2025, 8, 26, 15, 30, 0, 0, time.UTC)
	day := 24 * time.Hour
	for _, c := range []struct {
		name, event, body string
		at                time.Time
		wantKey, wantPark string
	}{
		{"genuine", "points.earned", earned, sent.Add(time.Minute), "zupy:transaction:t1", ""},
		{"replayed on day 31", "points.earned", earned, sent.Add(31 * day), "zupy:transaction:t1", ""},
		{"replayed on day 401", "points.earned", earned, sent.Add(401 * day), "", mapping.ReasonStaleDelivery},
		{"envelope names another event", "customer.registered", earned, sent, "", ReasonEventMismatch},
		{"body without event", "points.earned", `{"timestamp":"2025-08-26T15:30:00Z","customer":{"member_id":"m1","email":"eva@example.com"},"transaction":{"transaction_id":"t1","order_value":1}}`, sent, "", ReasonEventMismatch},
		{"no timestamp", "points.earned", `{"event":"points.earned","customer":{"member_id":"m1","email":"eva@example.com"},"transaction":{"transaction_id":"t1","order_value":1}}`, sent, "", mapping.ReasonNoBusinessTime},
		{"second shape dated by awarded_at", "customer.enrolled", `{"event":"customer.enrolled","customer_id":42,"email":"a@example.com","points_added":10,"awarded_at":"2025-08-26T15:30:00Z"}`, sent.Add(day), "zupy:member:42:signup", ""},
		{"second shape, awarded_at on day 401", "customer.enrolled", `{"event":"customer.enrolled","customer_id":42,"email":"a@example.com","awarded_at":"2025-08-26T15:30:00Z"}`, sent.Add(401 * day), "", mapping.ReasonStaleDelivery},
	} {
		t.Run(c.name, func(t *testing.T) {
			env := &envelope.Envelope{Version: 1, Provider: "zupy", EventType: c.event, DeliveryID: "d", ReceivedAt: c.at, Body: []byte(c.body)}
			res, err := Mapper{}.Map(env, Spec.DefaultConfig())
			var pe *mapping.ParkError
			switch {
			case c.wantPark != "":
				if !errors.As(err, &pe) || pe.Reason != c.wantPark {
					t.Fatalf("Map = %+v, %v; want parked %s", res, err, c.wantPark)
				}
			case err != nil || len(res.Rewards) != 1 || res.Rewards[0].Key != c.wantKey:
				t.Fatalf("Map = %+v, %v; want key %s", res, err, c.wantKey)
			}
		})
	}
}

// TestAttackNoReversal: Zupy publishes no refund event, so an event type
// mapped to a reversal by override (a merchant's mistake) is parked, never
// sent to Resonance as a reward event "reversal" under the purchase's key.
func TestAttackNoReversal(t *testing.T) {
	cfg := Spec.DefaultConfig()
	cfg.Events["points.earned"] = mapping.KindReversal
	body := `{"event":"points.earned","timestamp":"2025-08-26T15:30:00Z","customer":{"member_id":"m1","email":"eva@example.com"},"transaction":{"transaction_id":"t1","order_value":189.9}}`
	env := &envelope.Envelope{Version: 1, Provider: "zupy", EventType: "points.earned", DeliveryID: "d", ReceivedAt: time.Date(2025, 8, 26, 15, 31, 0, 0, time.UTC), Body: []byte(body)}
	res, err := Mapper{}.Map(env, cfg)
	var pe *mapping.ParkError
	if !errors.As(err, &pe) || len(res.Rewards)+len(res.Reversals) != 0 {
		t.Fatalf("Map = %+v, %v; want parked", res, err)
	}
}
