package square

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rsnc-network/resonance-webhook-relay/shared/mapping"
)

// refundAt is a day after refund-updated-completed.json's refund.
var refundAt = time.Date(2026, 3, 17, 9, 0, 0, 0, time.UTC)

// TestRefundReversesThePayment: a completed refund reverses the key its
// payment was paid under by its own amount, from minor units; a pending one
// (refund.created, as Square sends it) reverses nothing yet.
func TestRefundReversesThePayment(t *testing.T) {
	paid, err := deliver(t, golden(t, "payment-updated-completed.json"), received, config())
	if err != nil || len(paid.Rewards) != 1 {
		t.Fatalf("purchase: %+v, %v", paid, err)
	}
	res, err := deliver(t, golden(t, "refund-updated-completed.json"), refundAt, config())
	if err != nil || len(res.Reversals) != 1 || len(res.Rewards) != 0 {
		t.Fatalf("refund: %+v, %v", res, err)
	}
	want := mapping.Reversal{Key: paid.Rewards[0].Key, ID: "KkAkhdMsgzn59SM8A89WgKwekxLZY_xbGkGqDFHZ8KpNM9eRh3tGWzmCqZ8a4LnCvDYhTQ7sE",
		Reason: mapping.ReverseRefund, Amount: "15.00", Currency: "USD", OrderID: "KkAkhdMsgzn59SM8A89WgKwekxLZY"}
	if res.Reversals[0] != want {
		t.Fatalf("reversal %+v\nwant     %+v", res.Reversals[0], want)
	}
	if res, err := deliver(t, golden(t, "refund-created-pending.json"), refundAt, config()); err != nil || res.Skipped != SkipRefundNotCompleted {
		t.Fatalf("pending refund: %+v, %v; want skipped %s", res, err, SkipRefundNotCompleted)
	}
}

// TestRefundEdges: Square's type is in the signed body, so what is checked
// is that the body is a refund of its own id, completed, recent, with an
// amount; and that only a refund is ever a reversal.
func TestRefundEdges(t *testing.T) {
	refund := string(golden(t, "refund-updated-completed.json"))
	edit := func(old, new string) []byte { return []byte(strings.Replace(refund, old, new, 1)) }
	payment := string(golden(t, "payment-updated-completed.json"))
	for _, c := range []struct {
		name string
		body []byte
		at   time.Time
		want string
	}{
		{"yen", edit(`"currency": "USD"`, `"currency": "JPY"`), refundAt, "1500"},
		{"rejected", edit(`"status": "COMPLETED"`, `"status": "REJECTED"`), refundAt, "skip:" + SkipRefundNotCompleted},
		{"zero", edit(`"amount": 1500`, `"amount": 0`), refundAt, "skip:" + SkipNothingRefunded},
		{"negative", edit(`"amount": 1500`, `"amount": -1500`), refundAt, "park:" + mapping.ReasonInvalidAmount},
		{"no amount", edit(`"amount_money"`, `"other_money"`), refundAt, "park:" + mapping.ReasonInvalidAmount},
		{"no payment", edit(`"payment_id": "KkAkhdMsgzn59SM8A89WgKwekxLZY",`, ``), refundAt, "park:" + mapping.ReasonInvalidPayload},
		{"another refund's id in data.id", edit(`"id": "KkAkhdMsgzn59SM8A89WgKwekxLZY_xbGkGqDFHZ8KpNM9eRh3tGWzmCqZ8a4LnCvDYhTQ7sE",
    "object"`, `"id": "other",
    "object"`), refundAt, "park:" + mapping.ReasonInvalidPayload},
		{"replayed after the memory", golden(t, "refund-updated-completed.json"), refundAt.Add(400 * 24 * time.Hour), "park:" + mapping.ReasonStaleDelivery},
		{"a payment as refund.updated", []byte(strings.Replace(payment, `"type": "payment.updated"`, `"type": "refund.updated"`, 1)), refundAt, "park:" + ReasonTypeMismatch},
		{"a refund as payment.updated", edit(`"type": "refund.updated"`, `"type": "payment.updated"`), refundAt, "park:" + ReasonTypeMismatch},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, err := deliver(t, c.body, c.at, config())
			var got string
			var pe *mapping.ParkError
			switch {
			case errors.As(err, &pe):
				got = "park:" + pe.Reason
			case err != nil:
				t.Fatal(err)
			case len(res.Reversals) == 1:
				got = string(res.Reversals[0].Amount)
			default:
				got = "skip:" + res.Skipped
			}
			if got != c.want {
				t.Fatalf("got %s, want %s", got, c.want)
			}
		})
	}
}

// TestAttackOnlyARefundIsAReversal: a payment under a type mapped to a
// reversal (payment.updated by override) is parked, neither a reversal of
// it nor a reward sent to Resonance as an event "reversal". Before, the
// kind was taken for a Resonance event type like any other.
func TestAttackOnlyARefundIsAReversal(t *testing.T) {
	cfg := config()
	cfg.Events["payment.updated"] = mapping.KindReversal
	cfg.Events["customer.created"] = mapping.KindReversal
	for _, file := range []string{"payment-updated-completed.json", "customer-created.json"} {
		res, err := deliver(t, golden(t, file), received, cfg)
		var pe *mapping.ParkError
		if !errors.As(err, &pe) || pe.Reason != ReasonTypeMismatch || len(res.Rewards)+len(res.Reversals) != 0 {
			t.Fatalf("%s mapped to a reversal: %+v, %v; want parked %s", file, res, err, ReasonTypeMismatch)
		}
	}
}
