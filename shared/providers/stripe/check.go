package stripe

import (
	"fmt"
	"slices"
	"strings"

	"github.com/rsnc-network/resonance-webhook-relay/shared/mapping"
)

// Stripe sends several events for one payment, and not every payload names
// the others. The default set pays every payment through its charge, keyed on
// the charge's payment intent, the key its checkout session (in payment
// mode) and its payment intent share. An invoice cannot share it: from API
// version 2025-03-31 ("basil") an invoice names no payment intent and a
// charge names no invoice, so a subscription payment rewarded through both
// its invoice and its charge would be paid twice.

// stripeFamily says which of the two families a Stripe event type belongs
// to: "invoice", "payment", or "" for neither (customer.created, ...).
func stripeFamily(eventType string) string {
	switch {
	case strings.HasPrefix(eventType, "invoice.") || strings.HasPrefix(eventType, "invoice_payment."):
		return "invoice"
	case strings.HasPrefix(eventType, "charge.") || strings.HasPrefix(eventType, "payment_intent.") ||
		strings.HasPrefix(eventType, "checkout.session."):
		return "payment"
	}
	return ""
}

// Check refuses a Stripe configuration that rewards events of both
// families: nothing in the payloads links them, so one payment would earn
// two rewards. A reversal pays nothing, so it belongs to neither; only
// ReversalTypes can be one.
func Check(cfg *mapping.Config) error {
	if cfg == nil {
		return nil
	}
	var wrong []string
	for typ, kind := range cfg.Events {
		if kind == mapping.KindReversal && !slices.Contains(ReversalTypes, typ) {
			wrong = append(wrong, typ)
		}
	}
	if len(wrong) > 0 {
		slices.Sort(wrong)
		return fmt.Errorf("stripe: the mapping maps %s to %q: only %s are read as reversals",
			strings.Join(wrong, ", "), mapping.KindReversal, strings.Join(ReversalTypes, " and "))
	}
	byFamily := map[string][]string{}
	for typ, kind := range cfg.Events {
		if f := stripeFamily(typ); f != "" && kind != "" && kind != mapping.KindReversal {
			byFamily[f] = append(byFamily[f], typ)
		}
	}
	inv, pay := byFamily["invoice"], byFamily["payment"]
	if len(inv) == 0 || len(pay) == 0 {
		return nil
	}
	slices.Sort(inv)
	slices.Sort(pay)
	return fmt.Errorf("stripe: the mapping maps %s and %s: a subscription payment would be rewarded twice, since an invoice "+
		"does not name its payment intent (API versions from 2025-03-31); map the invoice events or the charge, "+
		"payment intent and checkout session events, not both (README, \"From webhook to reward\")",
		strings.Join(inv, ", "), strings.Join(pay, ", "))
}
