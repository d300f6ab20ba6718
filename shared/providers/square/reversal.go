package square

import (
	"strings"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/mapping"
)

// Skip reasons of refunds.
const (
	SkipRefundNotCompleted = "refund_not_completed" // PENDING, REJECTED, FAILED: no money back (yet)
	SkipNothingRefunded    = "nothing_refunded"
)

type refund struct {
	ID          mapping.ID `json:"id"`
	Status      string     `json:"status"`
	CreatedAt   string     `json:"created_at"`
	AmountMoney *money     `json:"amount_money"`
	PaymentID   mapping.ID `json:"payment_id"`
}

// mapRefund: a refund names its payment, so it reverses the payment's key,
// square:payment:<payment_id>, by its own amount (each refund is one share,
// identified by its id), once Square says it is COMPLETED. refund.created
// (usually PENDING) and refund.updated share the refund's id, so however
// many of them show it completed, it counts once.
func mapRefund(env *envelope.Envelope, cfg *mapping.Config, dataID string, r *refund) (mapping.Result, error) {
	if r.ID == "" || string(r.ID) != dataID {
		return mapping.Result{}, &mapping.ParkError{Reason: mapping.ReasonInvalidPayload, Detail: "refund has no id, or not data.id"}
	}
	if r.PaymentID == "" {
		return mapping.Result{}, &mapping.ParkError{Reason: mapping.ReasonInvalidPayload, Detail: "refund names no payment_id"}
	}
	if r.Status != "COMPLETED" {
		return mapping.Result{Skipped: SkipRefundNotCompleted}, nil
	}
	if err := mapping.CheckAge(env, cfg, "data.object.refund.created_at", r.CreatedAt); err != nil {
		return mapping.Result{}, err
	}
	if r.AmountMoney == nil {
		return mapping.Result{}, &mapping.ParkError{Reason: mapping.ReasonInvalidAmount, Detail: "no amount at data.object.refund.amount_money"}
	}
	major, err := mapping.FromISOMinorUnits(r.AmountMoney.Amount, r.AmountMoney.Currency)
	if err != nil {
		return mapping.Result{}, &mapping.ParkError{Reason: mapping.ReasonInvalidAmount, Detail: "amount_money: " + err.Error()}
	}
	value, err := mapping.Amount("amount_money.amount", string(major))
	if err != nil {
		return mapping.Result{}, err
	}
	if mapping.Zero(value) {
		return mapping.Result{Skipped: SkipNothingRefunded}, nil
	}
	// OrderID is the payment: a refund's order_id may name the return's
	// own order, not the sale's the purchase reported.
	rev := mapping.Reversal{Key: "square:payment:" + string(r.PaymentID), ID: string(r.ID), Reason: mapping.ReverseRefund,
		Amount: value, Currency: strings.ToUpper(r.AmountMoney.Currency), OrderID: string(r.PaymentID)}
	if err := rev.Check(); err != nil {
		return mapping.Result{}, err
	}
	return mapping.Reverse(rev), nil
}
