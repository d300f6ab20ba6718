package shopify

import (
	"encoding/json"
	"math/big"
	"strings"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/mapping"
)

// Skip reasons of reversals.
const (
	// SkipNothingRefunded: a refund that returned no money (a restock, a
	// refund whose transactions are pending or failed).
	SkipNothingRefunded = "nothing_refunded"
)

// mapReversal maps a body under a topic mapped to mapping.KindReversal: a
// refund (refunds/create) reverses the money of its successful refund
// transactions, a cancelled order (orders/cancelled) the whole purchase.
// Both carry the key the order's purchase maps to, shopify:order:<id>.
func mapReversal(env *envelope.Envelope, cfg *mapping.Config, body string, o *order) (mapping.Result, error) {
	switch body {
	case kindRefund:
		return mapRefund(env, cfg, o)
	case kindOrder:
		return mapCancellation(env, cfg, o)
	}
	return mapping.Result{}, &mapping.ParkError{Reason: ReasonTopicMismatch, Detail: "a " + body + " body under topic " + clip(env.EventType) + ", which is mapped to a reversal"}
}

// transaction is the part of a refund's transaction the mapper reads.
type transaction struct {
	Kind     string          `json:"kind"`
	Status   string          `json:"status"`
	Amount   json.RawMessage `json:"amount"` // a decimal string
	Currency string          `json:"currency"`
	Test     bool            `json:"test"`
}

// mapRefund: a refund returns the sum of its transactions of kind refund
// and status success (a pending or failed one returned nothing yet), summed
// exactly as decimals; a refund that returned nothing (a restock only) is
// skipped. Shopify's test flag is on the transactions.
func mapRefund(env *envelope.Envelope, cfg *mapping.Config, o *order) (mapping.Result, error) {
	if o.ID == "" || o.OrderID == "" {
		return mapping.Result{}, &mapping.ParkError{Reason: mapping.ReasonInvalidPayload, Detail: "refund has no id or no order_id"}
	}
	var txs []transaction
	if len(o.Transactions) > 0 && string(o.Transactions) != "null" {
		if err := json.Unmarshal(o.Transactions, &txs); err != nil {
			return mapping.Result{}, &mapping.ParkError{Reason: mapping.ReasonInvalidPayload, Detail: "transactions: " + err.Error()}
		}
	}
	var amounts []json.Number
	currency, test := "", false
	for _, tx := range txs {
		if tx.Kind != "refund" || tx.Status != "success" {
			continue
		}
		v, err := mapping.Amount("transactions[].amount", text(tx.Amount))
		if err != nil {
			return mapping.Result{}, err
		}
		c := strings.ToUpper(tx.Currency)
		switch {
		case c != "" && !mapping.IsCurrency(c):
			return mapping.Result{}, &mapping.ParkError{Reason: mapping.ReasonInvalidPayload, Detail: "transactions[].currency is not a currency code"}
		case currency != "" && c != currency:
			return mapping.Result{}, &mapping.ParkError{Reason: mapping.ReasonInvalidPayload, Detail: "refund transactions in two currencies"}
		}
		currency = c
		test = test || tx.Test
		amounts = append(amounts, v)
	}
	if test && !cfg.IncludeTest {
		return mapping.Result{Skipped: "test_order"}, nil
	}
	if err := mapping.CheckAge(env, cfg, "created_at", o.CreatedAt); err != nil {
		return mapping.Result{}, err
	}
	total, err := mapping.Amount("the refund's transactions", string(sumDecimals(amounts)))
	if err != nil {
		return mapping.Result{}, err
	}
	if mapping.Zero(total) {
		return mapping.Result{Skipped: SkipNothingRefunded}, nil
	}
	return reverse(mapping.Reversal{
		Key: "shopify:order:" + string(o.OrderID), ID: string(o.ID), Reason: mapping.ReverseRefund,
		Amount: total, Currency: currency, OrderID: string(o.OrderID),
	})
}

// mapCancellation: an order reverses its whole purchase only if its signed
// cancelled_at says it is cancelled. The topic is not signed: a genuine
// order re-sent as orders/cancelled is parked topic_mismatch, never voids
// its reward.
func mapCancellation(env *envelope.Envelope, cfg *mapping.Config, o *order) (mapping.Result, error) {
	if o.ID == "" {
		return mapping.Result{}, &mapping.ParkError{Reason: mapping.ReasonInvalidPayload, Detail: "order has no id"}
	}
	var at string
	if err := json.Unmarshal(o.CancelledAt, &at); err != nil || at == "" {
		return mapping.Result{}, &mapping.ParkError{Reason: ReasonTopicMismatch, Detail: "an order without cancelled_at under topic " + clip(env.EventType)}
	}
	if o.Test && !cfg.IncludeTest {
		return mapping.Result{Skipped: "test_order"}, nil
	}
	if err := mapping.CheckAge(env, cfg, "cancelled_at", at); err != nil {
		return mapping.Result{}, err
	}
	currency := strings.ToUpper(o.Currency)
	if !mapping.IsCurrency(currency) {
		currency = ""
	}
	return reverse(mapping.Reversal{
		Key: "shopify:order:" + string(o.ID), ID: "cancel:" + string(o.ID), Reason: mapping.ReverseCancellation,
		Full: true, Currency: currency, OrderID: string(o.ID),
	})
}

// reverse is the Result of r, or the ParkError that says why r cannot be
// applied.
func reverse(r mapping.Reversal) (mapping.Result, error) {
	if err := r.Check(); err != nil {
		return mapping.Result{}, err
	}
	return mapping.Reverse(r), nil
}

// text is a JSON string's value, or a number as written ("" for null or
// absent); anything else comes back as it is, for mapping.Amount to refuse.
func text(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	if string(raw) == "null" {
		return ""
	}
	return string(raw)
}

// sumDecimals adds amounts mapping.Decimal accepted, exactly (never
// through float64), with as many decimals as the finest of them: "10.00"
// and "5.5" make "15.50". No amounts make "0".
func sumDecimals(vs []json.Number) json.Number {
	scale := 0
	for _, v := range vs {
		if _, frac, ok := strings.Cut(strings.TrimSpace(string(v)), "."); ok {
			scale = max(scale, len(frac))
		}
	}
	sum := new(big.Int)
	for _, v := range vs {
		whole, frac, _ := strings.Cut(strings.TrimSpace(string(v)), ".")
		n, ok := new(big.Int).SetString(whole+frac+strings.Repeat("0", scale-len(frac)), 10)
		if ok {
			sum.Add(sum, n)
		}
	}
	s := sum.String()
	if scale == 0 {
		return json.Number(s)
	}
	if len(s) <= scale {
		s = strings.Repeat("0", scale-len(s)+1) + s
	}
	return json.Number(s[:len(s)-scale] + "." + s[len(s)-scale:])
}
