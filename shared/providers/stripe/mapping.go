package stripe

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/mapping"
)

// Mapper maps Stripe events. A payment is rewarded once, under
// "stripe:payment:<its payment intent>", whichever of its events arrive:
//
//   - charge.succeeded and charge.captured pay every payment, one-off or
//     subscription (an invoice is paid by a charge), once it is captured; a
//     legacy charge without a payment intent keys on its own id;
//   - checkout.session.completed and .async_payment_succeeded pay a session
//     in payment mode under its payment intent, the key of its charge (they
//     carry the buyer's email); a session in subscription or setup mode is
//     skipped whatever the configuration, as its money, if any, arrives as
//     an invoice's charge;
//   - payment_intent.* events (by override) share that key;
//   - invoice.* events (by override, instead of all of the above: see
//     mapping.Load) key on the invoice's payment intent where the payload
//     names one (API versions before 2025-03-31), else on the invoice;
//   - charge.refunded and charge.dispute.created are reversals of that
//     key (reversal.go).
type Mapper struct{}

var _ mapping.Mapper = Mapper{}

// Reasons a Stripe event earns nothing.
const (
	SkipSessionByInvoice = "session_paid_by_invoice" // subscription mode: its invoice's charge pays
	SkipSessionNoPayment = "session_without_payment" // setup mode (or an unknown one)
	SkipSessionNotPaid   = "session_not_paid"
	SkipNotCaptured      = "charge_not_captured" // an authorisation: charge.captured pays it
	SkipNothingPaid      = "nothing_paid"        // zero amount (a trial's invoice)
)

// object holds the fields of every object type this mapper reads.
type object struct {
	ID              string          `json:"id"`
	PaymentIntent   json.RawMessage `json:"payment_intent"` // id, or expanded object
	Mode            string          `json:"mode"`           // checkout sessions
	PaymentStatus   string          `json:"payment_status"`
	Captured        *bool           `json:"captured"` // charges
	Amount          json.Number     `json:"amount"`
	AmountCaptured  json.Number     `json:"amount_captured"`
	AmountReceived  json.Number     `json:"amount_received"`
	AmountTotal     json.Number     `json:"amount_total"`
	AmountPaid      json.Number     `json:"amount_paid"`
	AmountRefunded  json.Number     `json:"amount_refunded"` // charges
	Refunded        bool            `json:"refunded"`
	Charge          json.RawMessage `json:"charge"` // disputes: id, or expanded object
	Currency        string          `json:"currency"`
	Customer        json.RawMessage `json:"customer"` // id, or expanded object
	Email           string          `json:"email"`
	CustomerEmail   string          `json:"customer_email"`
	ReceiptEmail    string          `json:"receipt_email"`
	CustomerDetails struct {
		Email string `json:"email"`
	} `json:"customer_details"`
	BillingDetails struct {
		Email string `json:"email"`
	} `json:"billing_details"`
	Payments struct { // invoices, when expanded (never in a webhook from 2025-03-31 on)
		Data []struct {
			Payment struct {
				PaymentIntent json.RawMessage `json:"payment_intent"`
			} `json:"payment"`
		} `json:"data"`
	} `json:"payments"`
}

// Map implements mapping.Mapper.
func (Mapper) Map(env *envelope.Envelope, cfg *mapping.Config) (mapping.Result, error) {
	var ev struct {
		ID       string `json:"id"`
		Type     string `json:"type"`
		Livemode bool   `json:"livemode"`
		Data     struct {
			Object object `json:"object"`
		} `json:"data"`
	}
	if err := mapping.DecodeBody(env, &ev); err != nil {
		return mapping.Result{}, err
	}
	kind := cfg.Events[ev.Type]
	if kind == "" {
		return mapping.Result{Skipped: "event_not_mapped"}, nil
	}
	if !ev.Livemode && !cfg.IncludeTest {
		return mapping.Result{Skipped: "test_mode"}, nil
	}
	o := &ev.Data.Object
	if o.ID == "" {
		return mapping.Result{}, &mapping.ParkError{Reason: mapping.ReasonInvalidPayload, Detail: "event has no data.object.id"}
	}
	if kind == mapping.KindReversal {
		return reversalOf(ev.Type, o)
	}
	customerID := idOf(o.Customer)
	if ev.Type == "customer.created" {
		email, err := mapping.Identity("stripe", o.Email, o.ID, cfg)
		if err != nil {
			return mapping.Result{}, err
		}
		return mapping.One("stripe:customer:"+o.ID, cfg, kind, email, map[string]any{"signup_source": "stripe"}), nil
	}

	p, skip, err := paymentOf(ev.Type, o)
	if skip != "" {
		return mapping.Result{Skipped: skip}, nil
	}
	if err != nil {
		return mapping.Result{}, &mapping.ParkError{Reason: mapping.ReasonInvalidPayload, Detail: err.Error()}
	}
	value, err := FromMinorUnits(p.amount, o.Currency)
	if err != nil {
		return mapping.Result{}, &mapping.ParkError{Reason: mapping.ReasonInvalidPayload, Detail: err.Error()}
	}
	// The amount rule every provider shares (if mapping.Decimal comes to
	// return an error, park with it here).
	if _, ok := mapping.Decimal(string(value)); !ok {
		return mapping.Result{}, &mapping.ParkError{Reason: mapping.ReasonInvalidPayload, Detail: fmt.Sprintf("amount %s is not one to reward", value)}
	}
	if n, _ := p.amount.Int64(); n == 0 {
		return mapping.Result{Skipped: SkipNothingPaid}, nil
	}
	email, err := mapping.Identity("stripe", p.email, customerID, cfg)
	if err != nil {
		return mapping.Result{}, err
	}
	return mapping.One("stripe:payment:"+p.key, cfg, kind, email, map[string]any{
		"order_id":    p.key,
		"order_value": value,
		"currency":    strings.ToUpper(o.Currency),
		"source":      "stripe",
	}), nil
}

// payment is what an event says of the payment it belongs to.
type payment struct {
	key    string      // the payment intent, else the object's own id
	amount json.Number // in minor units
	email  string
}

// paymentOf reads the payment an event of type eventType reports, or why it
// reports none to reward.
func paymentOf(eventType string, o *object) (p payment, skip string, err error) {
	family, _, _ := strings.Cut(eventType, ".")
	if strings.HasPrefix(eventType, "checkout.session.") {
		family = "checkout.session"
	}
	switch family {
	case "checkout.session":
		switch o.Mode {
		case "payment":
		case "subscription":
			return p, SkipSessionByInvoice, nil
		default:
			return p, SkipSessionNoPayment, nil
		}
		if o.PaymentStatus != "paid" {
			return p, SkipSessionNotPaid, nil
		}
		pi := idOf(o.PaymentIntent)
		if pi == "" {
			return p, "", fmt.Errorf("paid session %s in payment mode names no payment_intent", o.ID)
		}
		return payment{pi, o.AmountTotal, firstNonEmpty(o.CustomerDetails.Email, o.CustomerEmail)}, "", nil
	case "charge":
		if o.Captured == nil || !*o.Captured {
			return p, SkipNotCaptured, nil
		}
		amount := o.AmountCaptured
		if amount == "" {
			amount = o.Amount
		}
		return payment{firstNonEmpty(idOf(o.PaymentIntent), o.ID), amount, firstNonEmpty(o.BillingDetails.Email, o.ReceiptEmail)}, "", nil
	case "payment_intent":
		return payment{o.ID, json.Number(firstNonEmpty(string(o.AmountReceived), string(o.Amount))), o.ReceiptEmail}, "", nil
	case "invoice":
		key := idOf(o.PaymentIntent)
		if key == "" && len(o.Payments.Data) > 0 {
			key = idOf(o.Payments.Data[0].Payment.PaymentIntent)
		}
		return payment{firstNonEmpty(key, o.ID), o.AmountPaid, o.CustomerEmail}, "", nil
	}
	// Any other event mapped to a reward by override.
	return payment{firstNonEmpty(idOf(o.PaymentIntent), o.ID), o.Amount,
		firstNonEmpty(o.CustomerDetails.Email, o.CustomerEmail, o.ReceiptEmail, o.BillingDetails.Email, o.Email)}, "", nil
}

// idOf returns a Stripe reference's id: the string itself, or an expanded
// object's id.
func idOf(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var o struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(raw, &o) == nil {
		return o.ID
	}
	return ""
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// Exponent is the number of decimals of a currency's minor unit
// (mapping.Exponent, shared with the other providers that send minor units).
func Exponent(currency string) int { return mapping.Exponent(currency) }

// FromMinorUnits is mapping.FromMinorUnits: 4999 usd -> 49.99.
func FromMinorUnits(amount json.Number, currency string) (json.Number, error) {
	return mapping.FromMinorUnits(amount, currency)
}
