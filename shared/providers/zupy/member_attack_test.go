package zupy

import (
	"testing"
	"time"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
)

// TestAttackSignupsWithoutMemberIDShareOneKey: a Zupy signup whose body
// names an email but no member id (customer.member_id and customer_id both
// absent: Zupy documents neither as required) is keyed
// "zupy:member::signup", so every such signup after the first is
// acknowledged as a duplicate of the first and its reward silently lost.
// Two different people must never share a reward key: such a body should
// be parked (no member id to key on) or keyed on something of its own, as
// Loyalty Now falls back to the delivery's sequence.
func TestAttackSignupsWithoutMemberIDShareOneKey(t *testing.T) {
	at := time.Date(2025, 8, 26, 15, 30, 0, 0, time.UTC)
	bodies := []string{
		`{"event":"customer.registered","timestamp":"2025-08-26T15:30:00Z","customer":{"email":"ana@example.com","whatsapp":"+5511999990001"}}`,
		`{"event":"customer.registered","timestamp":"2025-08-26T15:31:00Z","customer":{"email":"bia@example.com","whatsapp":"+5511999990002"}}`,
	}
	keys := map[string]string{}
	for i, body := range bodies {
		env := &envelope.Envelope{Version: 1, Provider: "zupy", EventType: "customer.registered", DeliveryID: "d" + string(rune('0'+i)),
			ReceivedAt: at.Add(time.Minute), Body: []byte(body)}
		res, err := Mapper{}.Map(env, Spec.DefaultConfig())
		if err != nil {
			continue // parked: held for an operator, not lost
		}
		for _, r := range res.Rewards {
			if other, ok := keys[r.Key]; ok {
				t.Errorf("the signups of %s and %s share the key %q: the second is paid as a duplicate of the first, i.e. never", other, r.Event.UserEmail, r.Key)
			}
			keys[r.Key] = r.Event.UserEmail
		}
	}
}
