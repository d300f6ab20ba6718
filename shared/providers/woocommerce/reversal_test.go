package woocommerce

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/rsnc-network/resonance-webhook-relay/shared/mapping"
)

func describe(res mapping.Result) string {
	var parts []string
	for _, r := range res.Rewards {
		parts = append(parts, "reward "+r.Key)
	}
	for _, r := range res.Reversals {
		amount := string(r.Amount)
		if r.Full {
			amount = "full"
		}
		parts = append(parts, fmt.Sprintf("%s %s %s %s %s", r.Reason, r.Key, r.ID, amount, r.Currency))
	}
	if len(parts) == 0 {
		return "skip:" + res.Skipped
	}
	return strings.Join(parts, "; ")
}

// TestOrderReversals: WooCommerce has no refund topic, so the order's own
// body says what went back, under whichever order topic it comes: a refund
// in refunds[] by its amount (beside the purchase, which a paid body still
// earns once), a refunded order, or one cancelled after payment, in full;
// every reversal carries the key the purchase was paid under.
func TestOrderReversals(t *testing.T) {
	paid, err := deliver(t, "order.updated", golden(t, "order-updated-processing.json"), config())
	if err != nil || len(paid.Rewards) != 1 || paid.Rewards[0].Key != orderKey {
		t.Fatalf("purchase: %+v, %v", paid, err)
	}
	const st = "ridge-outfitters.example"
	for _, c := range []struct {
		name, topic string
		body        []byte
		want        string
	}{
		{"partially refunded, completed", "order.updated", golden(t, "order-updated-partially-refunded.json"),
			"reward " + orderKey + "; refund " + orderKey + " " + st + ":refund:731 10.00 USD"},
		{"the same body under order.created", "order.created", golden(t, "order-updated-partially-refunded.json"),
			"reward " + orderKey + "; refund " + orderKey + " " + st + ":refund:731 10.00 USD"},
		{"refunded", "order.updated", golden(t, "order-updated-refunded.json"),
			"refund " + orderKey + " " + st + ":refunded:727 full USD"},
		{"cancelled after payment", "order.updated", edit(t, "order-updated-processing.json", `"status":"processing"`, `"status":"cancelled"`),
			"cancellation " + orderKey + " " + st + ":cancelled:727 full USD"},
		{"a refund of nothing", "order.updated", edit(t, "order-updated-partially-refunded.json", `"total":"-10.00"`, `"total":"0.00"`),
			"reward " + orderKey},
		{"a refund total written positive", "order.updated", edit(t, "order-updated-partially-refunded.json", `"total":"-10.00"`, `"total":"10.00"`),
			"reward " + orderKey + "; refund " + orderKey + " " + st + ":refund:731 10.00 USD"},
		{"unpaid with a refund (an unusual body)", "order.updated", edit(t, "order-updated-partially-refunded.json", `"status":"completed"`, `"status":"on-hold"`),
			"refund " + orderKey + " " + st + ":refund:731 10.00 USD"},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, err := deliver(t, c.topic, c.body, config())
			if err != nil {
				t.Fatal(err)
			}
			if got := describe(res); got != c.want {
				t.Fatalf("got  %s\nwant %s", got, c.want)
			}
		})
	}
}

// TestAttackOrderReversals: the topic is not signed, and an order body is
// sent again at every change. A paid body with no refunds reverses nothing
// under any order topic, even one mapped to a reversal; a refund's amount
// must be an amount (a sign of its own is WooCommerce's, dropped once);
// an order cancelled before it was paid (an abandoned checkout, the most
// common cancellation) reverses nothing. Before, a refunded or cancelled
// body was only skipped as unpaid, and the money that went back was lost
// to the ledger.
func TestAttackOrderReversals(t *testing.T) {
	asReversal := config()
	asReversal.Events["order.updated"] = mapping.KindReversal
	for _, c := range []struct {
		name, topic string
		body        []byte
		cfg         bool // order.updated mapped to a reversal
		want        string
	}{
		{"paid, no refunds, under a reversal topic", "order.updated", golden(t, "order-updated-processing.json"), true, "skip:" + SkipNothingReversed},
		{"cancelled unpaid, under a reversal topic", "order.updated", edit(t, "order-created-pending.json", `"status":"pending"`, `"status":"cancelled"`), true, "skip:" + SkipNotPaid},
		{"refunded, under a reversal topic: no reward", "order.updated", golden(t, "order-updated-refunded.json"), true,
			"refund " + orderKey + " ridge-outfitters.example:refunded:727 full USD"},
		{"partially refunded, under a reversal topic: no reward", "order.updated", golden(t, "order-updated-partially-refunded.json"), true,
			"refund " + orderKey + " ridge-outfitters.example:refund:731 10.00 USD"},
		{"a refund total twice negative", "order.updated", edit(t, "order-updated-partially-refunded.json", `"total":"-10.00"`, `"total":"--10.00"`), false, "park:" + mapping.ReasonInvalidAmount},
		{"a refund total with an exponent", "order.updated", edit(t, "order-updated-partially-refunded.json", `"total":"-10.00"`, `"total":-1e3`), false, "park:" + mapping.ReasonInvalidAmount},
		{"a refund without an id", "order.updated", edit(t, "order-updated-partially-refunded.json", `{"id":731,`, `{`), false, "park:" + mapping.ReasonInvalidPayload},
		{"a refunded order replayed after the memory", "order.updated", edit(t, "order-updated-refunded.json", `"date_modified_gmt":"2026-03-20T13:45:31"`, `"date_modified_gmt":"2025-01-02T00:00:00"`), false, "park:" + mapping.ReasonStaleDelivery},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := config()
			if c.cfg {
				cfg = asReversal
			}
			res, err := deliver(t, c.topic, c.body, cfg)
			got := describe(res)
			var pe *mapping.ParkError
			if errors.As(err, &pe) {
				got = "park:" + pe.Reason
			} else if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Fatalf("got  %s\nwant %s", got, c.want)
			}
		})
	}
}
