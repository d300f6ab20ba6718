package stripe

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/rsnc-network/resonance-webhook-relay/shared/mapping"
)

// Reversals. A refund or a dispute names the charge, and the charge's
// payment intent, so it carries the key its payment was rewarded under
// whenever that payment was rewarded through its charge, its checkout
// session or its payment intent (the default set): the payment intent,
// else (a legacy charge) the charge. It cannot match a payment rewarded
// through its invoice (the invoice family, by override) from API version
// 2025-03-31 ("basil") on: that reward is keyed on the invoice, which
// neither the charge nor the dispute names. Before basil the invoice is
// keyed on its payment intent, and so is its refund.

// ReversalTypes are the event types Stripe's mapping reads as reversals
// (Check refuses the kind on any other).
var ReversalTypes = []string{"charge.refunded", "charge.dispute.created"}

// SkipNothingRefunded: a charge.refunded that returned nothing of what was
// captured (the part of an authorisation that was never captured is counted
// as refunded too).
const SkipNothingRefunded = "nothing_refunded"

// reversalOf maps an event of a type mapped to mapping.KindReversal; the
// type is signed (it is in the body).
func reversalOf(eventType string, o *object) (mapping.Result, error) {
	switch eventType {
	case "charge.refunded":
		return refundOf(o)
	case "charge.dispute.created":
		return disputeOf(o)
	}
	return mapping.Result{}, &mapping.ParkError{Reason: mapping.ReasonInvalidPayload,
		Detail: "stripe: only " + strings.Join(ReversalTypes, " and ") + " can be reversals, not " + clip(eventType)}
}

// refundOf: a charge's amount_refunded is the running total of its refunds
// (Total), and refunded says it is refunded in full. When an authorisation
// is captured in part, Stripe counts the part not captured as refunded
// ("any additional amount will be automatically refunded"), so that part
// is taken off: what went back is amount_refunded - (amount -
// amount_captured). A charge never captured was never rewarded.
func refundOf(o *object) (mapping.Result, error) {
	if o.Captured == nil || !*o.Captured {
		return mapping.Result{Skipped: SkipNotCaptured}, nil
	}
	amount, err1 := minor("amount", o.Amount)
	captured, err2 := minor("amount_captured", o.AmountCaptured)
	refunded, err3 := minor("amount_refunded", o.AmountRefunded)
	for _, err := range []error{err1, err2, err3} {
		if err != nil {
			return mapping.Result{}, err
		}
	}
	if o.AmountCaptured == "" {
		captured = amount
	}
	returned := refunded - max(amount-captured, 0)
	if returned <= 0 && !o.Refunded {
		return mapping.Result{Skipped: SkipNothingRefunded}, nil
	}
	key := firstNonEmpty(idOf(o.PaymentIntent), o.ID)
	r := mapping.Reversal{Key: "stripe:payment:" + key, ID: o.ID, Reason: mapping.ReverseRefund, Total: true,
		Currency: strings.ToUpper(o.Currency), OrderID: key}
	if r.Full = o.Refunded || returned >= captured; !r.Full {
		v, err := FromMinorUnits(json.Number(strconv.FormatInt(returned, 10)), o.Currency)
		if err != nil {
			return mapping.Result{}, &mapping.ParkError{Reason: mapping.ReasonInvalidPayload, Detail: err.Error()}
		}
		r.Amount = v
	}
	return reverse(r)
}

// disputeOf: a dispute reverses the whole payment of the charge it names.
func disputeOf(o *object) (mapping.Result, error) {
	key := firstNonEmpty(idOf(o.PaymentIntent), idOf(o.Charge))
	if key == "" {
		return mapping.Result{}, &mapping.ParkError{Reason: mapping.ReasonInvalidPayload, Detail: "dispute " + clip(o.ID) + " names no charge"}
	}
	currency := strings.ToUpper(o.Currency)
	if !mapping.IsCurrency(currency) {
		currency = ""
	}
	return reverse(mapping.Reversal{Key: "stripe:payment:" + key, ID: o.ID, Reason: mapping.ReverseDispute, Full: true,
		Currency: currency, OrderID: key})
}

// minor reads a non-negative integer amount in minor units ("" is 0).
func minor(field string, n json.Number) (int64, error) {
	if n == "" {
		return 0, nil
	}
	v, err := n.Int64()
	if err != nil || v < 0 {
		return 0, &mapping.ParkError{Reason: mapping.ReasonInvalidPayload, Detail: field + " " + clip(string(n)) + " is not a non-negative integer"}
	}
	return v, nil
}

// reverse is the Result of r, or the ParkError that says why r cannot be
// applied.
func reverse(r mapping.Reversal) (mapping.Result, error) {
	if err := r.Check(); err != nil {
		return mapping.Result{}, err
	}
	return mapping.Reverse(r), nil
}

// clip bounds a value quoted in a park detail.
func clip(s string) string {
	if len(s) > 64 {
		return strings.ToValidUTF8(s[:64], "") + "..."
	}
	return s
}
