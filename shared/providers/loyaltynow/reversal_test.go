package loyaltynow

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/mapping"
	"github.com/rsnc-network/resonance-webhook-relay/shared/spec"
)

func mapHook(t *testing.T, hook, body, overrides string) (mapping.Result, error) {
	t.Helper()
	cfgs, err := mapping.Load(spec.Defaults(&Spec), overrides)
	if err != nil {
		t.Fatal(err)
	}
	env := &envelope.Envelope{Version: envelope.Version, Provider: "loyaltynow", EventType: hook, DeliveryID: "1048600",
		ReceivedAt: time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC), Body: []byte(body)}
	return Mapper{}.Map(env, cfgs["loyaltynow"])
}

// TestReversalCarriesThePurchaseKey: transaction.reversed reverses the key
// its transaction.confirmed was paid under, found at the same configured
// paths, in full unless it carries an amount.
func TestReversalCarriesThePurchaseKey(t *testing.T) {
	const confirmed = `{"hook":"transaction.confirmed","data":{"transactionId":"8d2f5c1e","memberId":"m-1","email":"gina@example.com","amount":75.5,"currency":"AUD"},"sequence":1048573}`
	for _, c := range []struct {
		name, purchase, reversal, overrides string
		want                                string // "key id full|amount currency", or park:<reason>
	}{
		{"in full", confirmed, `{"hook":"transaction.reversed","data":{"transactionId":"8d2f5c1e","memberId":"m-1","reason":"void"},"sequence":1048599}`, "",
			"loyaltynow:transaction:8d2f5c1e 8d2f5c1e full "},
		{"with an amount", confirmed, `{"hook":"transaction.reversed","data":{"transactionId":"8d2f5c1e","amount":"20.25","currency":"aud"},"sequence":1048599}`, "",
			"loyaltynow:transaction:8d2f5c1e 8d2f5c1e 20.25 AUD"},
		{"the merchant's currency", confirmed, `{"hook":"transaction.reversed","data":{"transactionId":"8d2f5c1e","amount":20},"sequence":1048599}`, `{"loyaltynow":{"currency":"nzd"}}`,
			"loyaltynow:transaction:8d2f5c1e 8d2f5c1e 20 NZD"},
		{"a nested transaction", `{"hook":"transaction.confirmed","data":{"transaction":{"id":4711,"amount":"9.99"},"email":"a@b.c"},"sequence":1}`,
			`{"hook":"transaction.reversed","data":{"transaction":{"id":4711}},"sequence":2}`, "",
			"loyaltynow:transaction:4711 4711 full "},
		{"configured paths", `{"hook":"transaction.confirmed","data":{"txn":{"ref":"T-9"},"total":"12.00","email":"a@b.c"},"sequence":1}`,
			`{"hook":"transaction.reversed","data":{"txn":{"ref":"T-9"},"total":"2.00"},"sequence":2}`,
			`{"loyaltynow":{"fields":{"transactionId":"data.txn.ref","amount":"data.total"}}}`,
			"loyaltynow:transaction:T-9 T-9 2.00 "},
	} {
		t.Run(c.name, func(t *testing.T) {
			paid, err := mapHook(t, "transaction.confirmed", c.purchase, c.overrides)
			if err != nil || len(paid.Rewards) != 1 {
				t.Fatalf("purchase: %+v, %v", paid, err)
			}
			res, err := mapHook(t, "transaction.reversed", c.reversal, c.overrides)
			if err != nil || len(res.Reversals) != 1 || len(res.Rewards) != 0 {
				t.Fatalf("reversal: %+v, %v", res, err)
			}
			r := res.Reversals[0]
			amount := string(r.Amount)
			if r.Full {
				amount = "full"
			}
			if got := fmt.Sprintf("%s %s %s %s", r.Key, r.ID, amount, r.Currency); got != c.want || r.Key != paid.Rewards[0].Key || r.Reason != mapping.ReverseReversal {
				t.Fatalf("reversal %+v (%s), want %s, the purchase's key %s", r, got, c.want, paid.Rewards[0].Key)
			}
		})
	}
}

// TestAttackReversalAmount: a reversal that carries an amount reduces the
// purchase by that much; one whose amount is there but not an amount (a
// negative, an exponent, an object) is parked. Before, anything Lookup could
// not read counted as no amount, and reversed the whole purchase.
func TestAttackReversalAmount(t *testing.T) {
	for _, c := range []struct {
		name, data string
		park       string
	}{
		{"negative", `"amount":"-20.00"`, mapping.ReasonInvalidAmount},
		{"exponent", `"amount":1e3`, mapping.ReasonInvalidAmount},
		{"an object", `"amount":{"value":"20.00"}`, mapping.ReasonInvalidAmount},
		{"true", `"amount":true`, mapping.ReasonInvalidAmount},
		{"empty", `"amount":""`, mapping.ReasonInvalidAmount},
		{"a list under another amount path", `"transaction":{"amount":[1]}`, mapping.ReasonInvalidAmount},
		{"no transaction id", `"memberId":"m-1"`, mapping.ReasonInvalidPayload},
		{"a transaction id that is no integer", `"transactionId":1e3`, mapping.ReasonInvalidPayload},
	} {
		t.Run(c.name, func(t *testing.T) {
			data := `{"transactionId":"t-1",` + c.data + `}`
			if c.park == mapping.ReasonInvalidPayload {
				data = `{` + c.data + `}`
			}
			res, err := mapHook(t, "transaction.reversed", `{"hook":"transaction.reversed","data":`+data+`,"sequence":9}`, "")
			var pe *mapping.ParkError
			if !errors.As(err, &pe) || pe.Reason != c.park || len(res.Reversals) != 0 {
				t.Fatalf("Map = %+v, %v; want parked %s", res, err, c.park)
			}
		})
	}
	// null is no amount: a full reversal.
	res, err := mapHook(t, "transaction.reversed", `{"hook":"transaction.reversed","data":{"transactionId":"t-1","amount":null},"sequence":9}`, "")
	if err != nil || len(res.Reversals) != 1 || !res.Reversals[0].Full {
		t.Fatalf("amount null: %+v, %v; want a full reversal", res, err)
	}
}
