package custom

import (
	"errors"
	"fmt"
	"testing"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/mapping"
	"github.com/rsnc-network/resonance-webhook-relay/shared/spec"
)

func mapBody(t *testing.T, body, overrides string) (mapping.Result, error) {
	t.Helper()
	cfgs, err := mapping.Load(spec.Defaults(&Spec), overrides)
	if err != nil {
		t.Fatal(err)
	}
	env := &envelope.Envelope{Version: envelope.Version, Provider: "custom", EventType: "x", DeliveryID: "msg_refund", Body: []byte(body)}
	return Mapper{}.Map(env, cfgs["custom"])
}

// TestRefundReversesThePurchase: a refund names the id of the purchase it
// reverses and carries that purchase's key, whether the ids are strings or
// numbers; without an amount it reverses the whole purchase.
func TestRefundReversesThePurchase(t *testing.T) {
	for _, c := range []struct {
		name, purchase, refund, overrides string
		want                              string // "key id full|amount currency"
	}{
		{"partial", `{"id":"order-1001","type":"purchase","customerEmail":"ann@example.com","data":{"order_id":"1001","order_value":42.50,"currency":"EUR"}}`,
			`{"id":"refund-77","type":"refund","data":{"purchase_id":"order-1001","amount":"10.00","currency":"eur"}}`, "",
			"custom:order-1001 refund-77 10.00 EUR"},
		{"full", `{"id":"order-1002","type":"purchase","customerEmail":"ann@example.com","data":{}}`,
			`{"id":"refund-78","type":"refund","data":{"purchase_id":"order-1002"}}`, "",
			"custom:order-1002 refund-78 full "},
		{"number ids", `{"id":1001,"type":"purchase","customerEmail":"ann@example.com","data":{"order_value":5}}`,
			`{"id":9001,"type":"refund","data":{"purchase_id":1001,"amount":2.5}}`, `{"custom":{"currency":"usd"}}`,
			"custom:1001 9001 2.5 USD"},
		{"a purchase sent without an id is keyed on its webhook-id", `{"type":"purchase","customerEmail":"ann@example.com","data":{}}`,
			`{"id":"refund-79","type":"refund","data":{"purchase_id":"msg_refund"}}`, "",
			"custom:msg_refund refund-79 full "},
		{"renamed", `{"id":"o-5","type":"sale","customerEmail":"ann@example.com","data":{}}`,
			`{"id":"r-5","type":"sale.refunded","data":{"purchase_id":"o-5","amount":"1"}}`, `{"custom":{"events":{"sale":"purchase","sale.refunded":"reversal"}}}`,
			"custom:o-5 r-5 1 "},
	} {
		t.Run(c.name, func(t *testing.T) {
			paid, err := mapBody(t, c.purchase, c.overrides)
			if err != nil || len(paid.Rewards) != 1 {
				t.Fatalf("purchase: %+v, %v", paid, err)
			}
			res, err := mapBody(t, c.refund, c.overrides)
			if err != nil || len(res.Reversals) != 1 || len(res.Rewards) != 0 {
				t.Fatalf("refund: %+v, %v", res, err)
			}
			r := res.Reversals[0]
			amount := string(r.Amount)
			if r.Full {
				amount = "full"
			}
			if got := fmt.Sprintf("%s %s %s %s", r.Key, r.ID, amount, r.Currency); got != c.want || r.Key != paid.Rewards[0].Key {
				t.Fatalf("reversal %s, want %s (the purchase's key %s)", got, c.want, paid.Rewards[0].Key)
			}
		})
	}
}

// TestAttackRefundIsNoReward: before, a refund was forwarded to Resonance
// like any type, as a reward event "refund" under the refund's own key; it
// must only ever reverse its purchase. One that does not say which purchase,
// or by how much in a form that is an amount, is parked.
func TestAttackRefundIsNoReward(t *testing.T) {
	for _, c := range []struct {
		name, body, overrides string
		park                  string
	}{
		{"no purchase_id", `{"id":"r-1","type":"refund","customerEmail":"ann@example.com","data":{"order_id":"1001","order_value":42.5}}`, "", mapping.ReasonInvalidPayload},
		{"purchase_id 1e3", `{"id":"r-1","type":"refund","data":{"purchase_id":1e3}}`, "", mapping.ReasonInvalidPayload},
		{"negative amount", `{"id":"r-1","type":"refund","data":{"purchase_id":"o-1","amount":"-10.00"}}`, "", mapping.ReasonInvalidAmount},
		{"amount not a number", `{"id":"r-1","type":"refund","data":{"purchase_id":"o-1","amount":{"value":1}}}`, "", mapping.ReasonInvalidAmount},
		{"currency not a code", `{"id":"r-1","type":"refund","data":{"purchase_id":"o-1","amount":"1","currency":"euros"}}`, "", mapping.ReasonInvalidPayload},
		{"ambiguous purchase_id", `{"id":"r-1","type":"refund","data":{"purchase_id":"o-1","Purchase_id":"o-2"}}`, "", mapping.ReasonAmbiguousPayload},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, err := mapBody(t, c.body, c.overrides)
			var pe *mapping.ParkError
			if !errors.As(err, &pe) || pe.Reason != c.park || len(res.Rewards)+len(res.Reversals) != 0 {
				t.Fatalf("Map = %+v, %v; want parked %s", res, err, c.park)
			}
		})
	}
	// A refund with everything a reward has is still no reward.
	res, err := mapBody(t, `{"id":"r-2","type":"refund","customerEmail":"ann@example.com","data":{"purchase_id":"o-1","order_value":"5.00"}}`, "")
	if err != nil || len(res.Rewards) != 0 || len(res.Reversals) != 1 {
		t.Fatalf("Map = %+v, %v; want one reversal and no reward", res, err)
	}
}
