package stripe

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/mapping"
)

// Mapper maps Stripe events. Every payment event is keyed on the payment
// intent (or, where there is none, the object's own id), so a checkout
// session, its payment intent, its charge and its invoice reward once.
type Mapper struct{}

var _ mapping.Mapper = Mapper{}

// object holds the fields of every object type this mapper reads.
type object struct {
	ID              string          `json:"id"`
	PaymentIntent   json.RawMessage `json:"payment_intent"` // id, or expanded object
	PaymentStatus   string          `json:"payment_status"`
	Status          string          `json:"status"`
	Amount          json.Number     `json:"amount"`
	AmountReceived  json.Number     `json:"amount_received"`
	AmountTotal     json.Number     `json:"amount_total"`
	AmountPaid      json.Number     `json:"amount_paid"`
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
	Payments struct { // invoices on API versions without invoice.payment_intent
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
	customerID := idOf(o.Customer)
	if ev.Type == "customer.created" {
		email, err := mapping.Identity("stripe", o.Email, o.ID, cfg)
		if err != nil {
			return mapping.Result{}, err
		}
		return mapping.One("stripe:customer:"+o.ID, cfg, kind, email, map[string]any{"signup_source": "stripe"}), nil
	}

	var amount json.Number
	email := firstNonEmpty(o.CustomerDetails.Email, o.CustomerEmail, o.ReceiptEmail, o.BillingDetails.Email, o.Email)
	payment := idOf(o.PaymentIntent)
	switch {
	case strings.HasPrefix(ev.Type, "checkout.session."):
		if o.PaymentStatus != "paid" {
			return mapping.Result{Skipped: "session_not_paid"}, nil
		}
		amount = o.AmountTotal
	case ev.Type == "payment_intent.succeeded":
		payment, amount = o.ID, o.AmountReceived
	case ev.Type == "invoice.paid":
		if payment == "" && len(o.Payments.Data) > 0 {
			payment = idOf(o.Payments.Data[0].Payment.PaymentIntent)
		}
		amount = o.AmountPaid
	default: // charge.succeeded, and any other event mapped to a purchase
		amount = o.Amount
	}
	if amount == "" {
		amount = o.Amount
	}
	if payment == "" {
		payment = o.ID
	}
	value, err := FromMinorUnits(amount, o.Currency)
	if err != nil {
		return mapping.Result{}, &mapping.ParkError{Reason: mapping.ReasonInvalidPayload, Detail: err.Error()}
	}
	email, err = mapping.Identity("stripe", email, customerID, cfg)
	if err != nil {
		return mapping.Result{}, err
	}
	return mapping.One("stripe:payment:"+payment, cfg, kind, email, map[string]any{
		"order_id":    payment,
		"order_value": value,
		"currency":    strings.ToUpper(o.Currency),
		"source":      "stripe",
	}), nil
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

// Currencies whose minor unit is not 1/100 (Stripe's list).
var (
	zeroDecimal  = "BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF"
	threeDecimal = "BHD JOD KWD OMR TND"
)

// Exponent is the number of decimals of a currency's minor unit.
func Exponent(currency string) int {
	c := strings.ToUpper(currency)
	switch {
	case len(c) == 3 && strings.Contains(zeroDecimal, c):
		return 0
	case len(c) == 3 && strings.Contains(threeDecimal, c):
		return 3
	}
	return 2
}

// FromMinorUnits turns an integer amount in minor units into a decimal
// number: 4999 usd -> 49.99, 5000 jpy -> 5000, 1234 kwd -> 1.234.
func FromMinorUnits(amount json.Number, currency string) (json.Number, error) {
	n, err := amount.Int64()
	if err != nil {
		return "", fmt.Errorf("amount %q is not an integer", amount)
	}
	if currency == "" {
		return "", fmt.Errorf("no currency")
	}
	exp := Exponent(currency)
	if exp == 0 {
		return json.Number(fmt.Sprint(n)), nil
	}
	sign := ""
	if n < 0 {
		sign, n = "-", -n
	}
	div := int64(1)
	for range exp {
		div *= 10
	}
	return json.Number(fmt.Sprintf("%s%d.%0*d", sign, n/div, exp, n%div)), nil
}
