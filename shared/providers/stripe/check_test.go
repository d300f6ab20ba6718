package stripe

import (
	"strings"
	"testing"

	"github.com/rsnc-network/resonance-webhook-relay/shared/mapping"
)

// invoiceFamily is the documented alternative to the default Stripe set.
const invoiceFamily = `{"stripe":{"events":{"invoice.paid":"purchase","charge.succeeded":"","charge.captured":"",` +
	`"checkout.session.completed":"","checkout.session.async_payment_succeeded":""}}}`

// TestLoadRefusesStripeDoublePay: a configuration that rewards a payment
// through its invoice and through its charge, payment intent or checkout
// session pays a subscription twice (nothing links them from API version
// 2025-03-31), so it must fail at cold start (Spec.Mapping.Check), naming what conflicts.
func TestLoadRefusesStripeDoublePay(t *testing.T) {
	for _, c := range []struct {
		name, overrides string
		wantErr         []string // substrings of the error; nil: accepted
	}{
		{"the defaults", "", nil},
		{"invoice.paid added to the defaults", `{"stripe":{"events":{"invoice.paid":"purchase"}}}`, []string{"invoice.paid", "charge.succeeded", "checkout.session.completed", "twice"}},
		{"invoice.payment_succeeded added", `{"stripe":{"events":{"invoice.payment_succeeded":"purchase"}}}`, []string{"invoice.payment_succeeded"}},
		{"an invoice under a reward type of its own", `{"stripe":{"events":{"invoice.paid":"renewal"}}}`, []string{"invoice.paid"}},
		{"invoice_payment.paid added", `{"stripe":{"events":{"invoice_payment.paid":"purchase"}}}`, []string{"invoice_payment.paid"}},
		{"invoice with payment intents only", `{"stripe":{"events":{"invoice.paid":"purchase","payment_intent.succeeded":"purchase","charge.succeeded":"","charge.captured":"","checkout.session.completed":"","checkout.session.async_payment_succeeded":""}}}`,
			[]string{"invoice.paid and payment_intent.succeeded"}},
		// A reversal pays nothing: the invoice family keeps the default
		// charge.refunded and charge.dispute.created.
		{"the invoice family alone", invoiceFamily, nil},
		{"payment intents beside charges (one key)", `{"stripe":{"events":{"payment_intent.succeeded":"purchase"}}}`, nil},
		{"an invoice event removed", `{"stripe":{"events":{"invoice.paid":""}}}`, nil},
		{"a reversal of a type Stripe's mapping does not read as one", `{"stripe":{"events":{"refund.created":"reversal"}}}`, []string{"refund.created", "charge.refunded"}},
		{"another provider's invoice-like type", `{"custom":{"events":{"invoice.paid":"purchase"}},"zupy":{"events":{"invoice.paid":"purchase"}}}`, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := mapping.LoadOne("stripe", Spec.Mapping, c.overrides)
			if c.wantErr == nil {
				if err != nil || cfg == nil {
					t.Fatalf("Load = %v, want accepted", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Load accepted %s", c.overrides)
			}
			if cfg != nil {
				t.Errorf("Load returned configurations with its error")
			}
			for _, w := range c.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}
