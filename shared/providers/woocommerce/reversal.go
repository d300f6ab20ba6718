package woocommerce

import (
	"encoding/json"
	"strings"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/mapping"
)

// Reversals. WooCommerce has no refund topic: an order's refunds show in
// its own body, sent again as order.updated at every change. So the body
// decides, under any order topic:
//
//   - status refunded: the whole purchase went back;
//   - status cancelled, once paid (date_paid set): the whole purchase; an
//     order cancelled unpaid (an abandoned checkout) was never rewarded and
//     reverses nothing;
//   - each entry of refunds[] ({id, reason, total}, total negative): that
//     much, identified by the refund's id, so an order sent again with the
//     same refunds counts each once.
//
// order.deleted sends only the order's id, with no _links to name its store,
// so it cannot be keyed and is not mapped.

// SkipNothingReversed: an order under a topic mapped to a reversal whose
// body shows nothing that went back.
const SkipNothingReversed = "nothing_reversed"

type refundRef struct {
	ID    mapping.ID      `json:"id"`
	Total json.RawMessage `json:"total"`
}

// reversals are what b shows went back of its order, each checked; skip
// says why there are none where that is worth saying.
func reversals(store string, b *body) ([]mapping.Reversal, string, error) {
	id := string(b.ID)
	currency := strings.ToUpper(b.Currency)
	if !mapping.IsCurrency(currency) {
		currency = ""
	}
	whole := func(what, reason string) []mapping.Reversal {
		return []mapping.Reversal{{Key: purchaseKey(store, b), ID: store + ":" + what + ":" + id, Reason: reason, Full: true, Currency: currency, OrderID: id}}
	}
	switch b.Status {
	case "refunded":
		return whole("refunded", mapping.ReverseRefund), "", nil
	case "cancelled":
		if b.DatePaidGMT == "" {
			return nil, SkipNotPaid, nil
		}
		return whole("cancelled", mapping.ReverseCancellation), "", nil
	}
	var out []mapping.Reversal
	for _, r := range b.Refunds {
		if r.ID == "" {
			return nil, "", &mapping.ParkError{Reason: mapping.ReasonInvalidPayload, Detail: "a refund in refunds[] has no id"}
		}
		var total string
		if err := json.Unmarshal(r.Total, &total); err != nil {
			total = string(r.Total)
		}
		// WooCommerce writes a refund's total as a negative amount.
		v, err := mapping.Amount("refunds[].total", strings.TrimPrefix(strings.TrimSpace(total), "-"))
		if err != nil {
			return nil, "", err
		}
		if mapping.Zero(v) {
			continue
		}
		out = append(out, mapping.Reversal{Key: purchaseKey(store, b), ID: store + ":refund:" + string(r.ID), Reason: mapping.ReverseRefund,
			Amount: v, Currency: currency, OrderID: id})
	}
	for i := range out {
		if err := out[i].Check(); err != nil {
			return nil, "", err
		}
	}
	return out, "", nil
}

// reversalsOnly is the Result of an order that reverses and pays nothing,
// dated by its last change (when it was refunded or cancelled).
func reversalsOnly(env *envelope.Envelope, cfg *mapping.Config, b *body, revs []mapping.Reversal, skip string) (mapping.Result, error) {
	if len(revs) == 0 {
		if skip == "" {
			skip = SkipNothingReversed
		}
		return mapping.Result{Skipped: skip}, nil
	}
	field, at := "date_modified_gmt", b.DateModifiedGMT
	if at == "" {
		field, at = "date_created_gmt", b.DateCreatedGMT
	}
	if err := mapping.CheckAge(env, cfg, field, gmt(at)); err != nil {
		return mapping.Result{}, err
	}
	return mapping.Result{Reversals: revs}, nil
}
