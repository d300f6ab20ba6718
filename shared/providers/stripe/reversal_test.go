package stripe

import (
	"errors"
	"fmt"
	"testing"

	"github.com/rsnc-network/resonance-webhook-relay/shared/mapping"
	"github.com/rsnc-network/resonance-webhook-relay/shared/spec"
)

// TestReversalsCarryThePaymentsKey: for every kind of payment, on both API
// versions, a partial refund, a full refund and a dispute of the charge
// that paid it carry the key the payment was rewarded under with the
// default set. With the invoice family they match before basil; from basil
// on they cannot (the invoice is keyed on itself, and neither the charge
// nor the dispute names it): the README says so, and this test notices if
// that changes.
func TestReversalsCarryThePaymentsKey(t *testing.T) {
	defaults, err := mapping.Load(spec.Defaults(&Spec), "")
	if err != nil {
		t.Fatal(err)
	}
	invoices, err := mapping.Load(spec.Defaults(&Spec), invoiceFamily)
	if err != nil {
		t.Fatal(err)
	}
	for _, version := range apiVersions {
		f := loadFixtures(t, version)
		for _, c := range payments(t, f) {
			t.Run(version+"/"+c.name, func(t *testing.T) {
				var paid map[string]any // the charge that paid, as last sent
				for _, d := range c.events {
					if (d.typ == "charge.succeeded" || d.typ == "charge.captured") && d.obj["captured"] == true {
						paid = d.obj
					}
				}
				if paid == nil {
					t.Fatal("no captured charge")
				}
				paid = deepCopy(t, paid) // numbers as JSON reads them
				amount, captured := int(paid["amount"].(float64)), int(paid["amount_captured"].(float64))
				refund := func(refunded int, full bool) map[string]any {
					o := deepCopy(t, paid)
					o["amount_refunded"], o["refunded"] = refunded, full
					return o
				}
				dispute := map[string]any{"id": "dp_" + paid["id"].(string), "object": "dispute", "amount": captured, "currency": paid["currency"],
					"charge": paid["id"], "payment_intent": paid["payment_intent"], "reason": "fraudulent", "status": "needs_response", "livemode": true}
				for _, d := range []struct {
					typ  string
					obj  map[string]any
					full bool
				}{
					{"charge.refunded", refund(amount-captured+100, false), false},
					{"charge.refunded", refund(amount, true), true},
					{"charge.dispute.created", dispute, true},
				} {
					res, err := Mapper{}.Map(f.event(t, "evt_r", d.typ, d.obj), defaults["stripe"])
					if err != nil || len(res.Reversals) != 1 || len(res.Rewards) != 0 {
						t.Fatalf("%s: %+v, %v; want one reversal", d.typ, res, err)
					}
					r := res.Reversals[0]
					if r.Key != c.key || r.Full != d.full || r.Currency != c.currency || "stripe:payment:"+r.OrderID != c.key {
						t.Errorf("%s reverses %+v; want key %s, full %v, currency %s", d.typ, r, c.key, d.full, c.currency)
					}
					inv, err := Mapper{}.Map(f.event(t, "evt_r", d.typ, d.obj), invoices["stripe"])
					if err != nil || len(inv.Reversals) != 1 {
						t.Fatalf("%s, invoice family: %+v, %v", d.typ, inv, err)
					}
					if c.subscription {
						invoiceKey := c.key // before basil
						if version >= "2025-03-31" {
							invoiceKey = "stripe:payment:" + c.invoice
						}
						if matches := inv.Reversals[0].Key == invoiceKey; matches != (version < "2025-03-31") {
							t.Errorf("%s, invoice family: reversal %s, invoice reward %s: match %v, documented %v", d.typ, inv.Reversals[0].Key, invoiceKey, matches, !matches)
						}
					}
				}
			})
		}
	}
}

// TestRefundAmounts: amount_refunded is a running total (Total), in minor
// units; refunded says full. The part of an authorisation that was never
// captured is counted in amount_refunded by Stripe and is no refund: before,
// a partial capture of 30.00 of 40.00 reversed 10.00 of a reward nobody had
// refunded.
func TestRefundAmounts(t *testing.T) {
	charge := func(fields string) string {
		return `{"id":"ch_1","object":"charge","payment_intent":"pi_1","captured":true,"currency":"usd",` + fields + `}`
	}
	for _, c := range []struct {
		name, typ, obj, overrides string
		want                      string // "key id amount|full" of the reversal, or skip:/park: reason
	}{
		{"partial", "charge.refunded", charge(`"amount":4999,"amount_captured":4999,"amount_refunded":1000,"refunded":false`), "", "stripe:payment:pi_1 ch_1 10.00"},
		{"two partial refunds: their total", "charge.refunded", charge(`"amount":4999,"amount_captured":4999,"amount_refunded":2500,"refunded":false`), "", "stripe:payment:pi_1 ch_1 25.00"},
		{"full", "charge.refunded", charge(`"amount":4999,"amount_captured":4999,"amount_refunded":4999,"refunded":true`), "", "stripe:payment:pi_1 ch_1 full"},
		{"all of it refunded, flag not set", "charge.refunded", charge(`"amount":4999,"amount_captured":4999,"amount_refunded":4999,"refunded":false`), "", "stripe:payment:pi_1 ch_1 full"},
		{"partial capture: the released part alone", "charge.refunded", charge(`"amount":4000,"amount_captured":3000,"amount_refunded":1000,"refunded":false`), "", "skip:" + SkipNothingRefunded},
		{"partial capture, then 5.00 refunded", "charge.refunded", charge(`"amount":4000,"amount_captured":3000,"amount_refunded":1500,"refunded":false`), "", "stripe:payment:pi_1 ch_1 5.00"},
		{"partial capture, all refunded", "charge.refunded", charge(`"amount":4000,"amount_captured":3000,"amount_refunded":4000,"refunded":true`), "", "stripe:payment:pi_1 ch_1 full"},
		{"no amount_captured (older payloads)", "charge.refunded", charge(`"amount":4000,"amount_refunded":1000,"refunded":false`), "", "stripe:payment:pi_1 ch_1 10.00"},
		{"yen", "charge.refunded", `{"id":"ch_2","payment_intent":"pi_2","captured":true,"currency":"jpy","amount":5000,"amount_captured":5000,"amount_refunded":1200,"refunded":false}`, "", "stripe:payment:pi_2 ch_2 1200"},
		{"dinar", "charge.refunded", `{"id":"ch_3","payment_intent":"pi_3","captured":true,"currency":"kwd","amount":5000,"amount_captured":5000,"amount_refunded":1234,"refunded":false}`, "", "stripe:payment:pi_3 ch_3 1.234"},
		{"legacy charge: keyed on itself", "charge.refunded", `{"id":"ch_legacy","payment_intent":null,"captured":true,"currency":"gbp","amount":700,"amount_refunded":700,"refunded":true}`, "", "stripe:payment:ch_legacy ch_legacy full"},
		{"expanded payment intent", "charge.refunded", `{"id":"ch_4","payment_intent":{"id":"pi_4","object":"payment_intent"},"captured":true,"currency":"usd","amount":700,"amount_captured":700,"amount_refunded":100,"refunded":false}`, "", "stripe:payment:pi_4 ch_4 1.00"},
		{"an authorisation released (never captured, never rewarded)", "charge.refunded", `{"id":"ch_1","payment_intent":"pi_1","captured":false,"currency":"usd","amount":4000,"amount_captured":0,"amount_refunded":4000,"refunded":true}`, "", "skip:" + SkipNotCaptured},
		{"nothing refunded", "charge.refunded", charge(`"amount":4999,"amount_captured":4999,"amount_refunded":0,"refunded":false`), "", "skip:" + SkipNothingRefunded},
		{"negative amount_refunded", "charge.refunded", charge(`"amount":4999,"amount_captured":4999,"amount_refunded":-100,"refunded":false`), "", "park:" + mapping.ReasonInvalidPayload},
		{"fractional amount_refunded", "charge.refunded", charge(`"amount":4999,"amount_captured":4999,"amount_refunded":1e2,"refunded":false`), "", "park:" + mapping.ReasonInvalidPayload},
		{"no currency", "charge.refunded", `{"id":"ch_5","payment_intent":"pi_5","captured":true,"amount":700,"amount_captured":700,"amount_refunded":100}`, "", "park:" + mapping.ReasonInvalidPayload},
		{"dispute", "charge.dispute.created", `{"id":"dp_1","object":"dispute","charge":"ch_1","payment_intent":"pi_1","amount":4999,"currency":"usd","reason":"fraudulent"}`, "", "stripe:payment:pi_1 dp_1 full"},
		{"dispute of a legacy charge", "charge.dispute.created", `{"id":"dp_2","charge":"ch_legacy","payment_intent":null,"amount":700,"currency":"gbp"}`, "", "stripe:payment:ch_legacy dp_2 full"},
		{"dispute with the charge expanded", "charge.dispute.created", `{"id":"dp_3","charge":{"id":"ch_9","payment_intent":"pi_9"},"payment_intent":"pi_9","amount":700,"currency":"usd"}`, "", "stripe:payment:pi_9 dp_3 full"},
		{"dispute naming nothing", "charge.dispute.created", `{"id":"dp_4","charge":null,"payment_intent":null,"amount":700,"currency":"usd"}`, "", "park:" + mapping.ReasonInvalidPayload},
		{"dispute, removed by override", "charge.dispute.created", `{"id":"dp_1","charge":"ch_1","payment_intent":"pi_1","amount":4999,"currency":"usd"}`, `{"stripe":{"events":{"charge.dispute.created":""}}}`, "skip:event_not_mapped"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfgs, err := mapping.Load(spec.Defaults(&Spec), c.overrides)
			if err != nil {
				t.Fatal(err)
			}
			res, err := Mapper{}.Map(stripeEnv(c.typ, c.obj), cfgs["stripe"])
			var got string
			var pe *mapping.ParkError
			switch {
			case errors.As(err, &pe):
				got = "park:" + pe.Reason
			case err != nil:
				t.Fatal(err)
			case len(res.Reversals) == 1:
				r := res.Reversals[0]
				amount := string(r.Amount)
				if r.Full {
					amount = "full"
				}
				if r.Reason != map[string]string{"charge.refunded": mapping.ReverseRefund, "charge.dispute.created": mapping.ReverseDispute}[c.typ] ||
					r.Total != (c.typ == "charge.refunded") || len(res.Rewards) != 0 {
					t.Fatalf("reversal %+v", res)
				}
				got = fmt.Sprintf("%s %s %s", r.Key, r.ID, amount)
			default:
				got = "skip:" + res.Skipped
			}
			if got != c.want {
				t.Fatalf("got %s, want %s", got, c.want)
			}
		})
	}
	// Test mode, as for purchases.
	env := stripeEnv("charge.refunded", charge(`"amount":4999,"amount_captured":4999,"amount_refunded":4999,"refunded":true`))
	env.Body = []byte(`{"id":"evt_1","type":"charge.refunded","livemode":false,"data":{"object":` + charge(`"amount":4999,"amount_refunded":4999,"refunded":true`) + `}}`)
	if res, err := (Mapper{}).Map(env, Spec.DefaultConfig()); err != nil || res.Skipped != "test_mode" {
		t.Fatalf("test-mode refund: %+v, %v; want skipped test_mode", res, err)
	}
}
