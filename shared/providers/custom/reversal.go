package custom

import (
	"encoding/json"
	"strings"

	"github.com/rsnc-network/resonance-webhook-relay/shared/mapping"
)

// TypeRefund is the type of a custom event that reverses a purchase:
//
//	{"id": "refund-77", "type": "refund",
//	 "data": {"purchase_id": "order-1001", "amount": "10.00", "currency": "EUR"}}
//
// data.purchase_id is the id of the purchase event it reverses (its
// webhook-id, if the purchase had no id), so the reversal carries the
// purchase's key, custom:<purchase_id>. Without data.amount the whole
// purchase is reversed. The refund's own id (else its webhook-id)
// identifies it: sent again, it counts once.
const TypeRefund = "refund"

func mapRefund(cfg *mapping.Config, id string, data map[string]any) (mapping.Result, error) {
	purchase, err := mapping.LookupID(data, "purchase_id")
	if err != nil {
		return mapping.Result{}, err
	}
	if purchase == "" {
		return mapping.Result{}, &mapping.ParkError{Reason: mapping.ReasonInvalidPayload, Detail: "a refund names no data.purchase_id"}
	}
	orderID, err := mapping.LookupID(data, "order_id")
	if err != nil || orderID == "" {
		orderID = purchase
	}
	r := mapping.Reversal{Key: "custom:" + purchase, ID: id, Reason: mapping.ReverseRefund, Full: true, OrderID: orderID}
	if v, ok := data["amount"]; ok && v != nil {
		if r.Amount, err = mapping.Amount("data.amount", text(v)); err != nil {
			return mapping.Result{}, err
		}
		r.Full = false
	}
	r.Currency = strings.ToUpper(cfg.Currency)
	if v, ok := data["currency"]; ok && v != nil {
		c, _ := v.(string)
		if !mapping.IsCurrency(c) {
			return mapping.Result{}, &mapping.ParkError{Reason: mapping.ReasonInvalidPayload, Detail: "data.currency is not a three-letter currency code"}
		}
		r.Currency = strings.ToUpper(c)
	}
	if err := r.Check(); err != nil {
		return mapping.Result{}, err
	}
	return mapping.Reverse(r), nil
}

// text is an amount as sent: a string, or a number as written; anything
// else is named by its type, for mapping.Amount to refuse.
func text(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	}
	return "a non-number"
}
