package mapping

import (
	"encoding/json"
	"fmt"
	"strings"
)

// KindReversal, as the Resonance event of a provider's event type in
// Config.Events, maps that event type to a Reversal of a purchase reward
// instead of a reward: a refund, a cancellation or a dispute. A reversal
// never calls Resonance (it documents no way to take a reward back): it
// voids or reduces the purchase while the purchase is held
// (RewardHoldDays), and once the purchase is paid it is recorded against
// it, for the merchant to claw back by hand. Being an entry of Events, a
// reversal's event type is enqueued by ingest like any mapped type.
const KindReversal = "reversal"

// Reasons of a reversal.
const (
	ReverseRefund       = "refund"
	ReverseCancellation = "cancellation"
	ReverseDispute      = "dispute"
	ReverseReversal     = "reversal" // the sender's own word (Loyalty Now transaction.reversed)
)

// Reversal is money that went back on a purchase. Every field comes from
// the signed body.
type Reversal struct {
	// Key is the key of the purchase reward it reverses: exactly the key the
	// purchase maps to, whichever webhook carries the purchase.
	Key string
	// ID identifies this reversal at the provider (a refund id; the order
	// id for a cancellation): one reversal counts once, however often it is
	// delivered.
	ID string
	// Reason is one of the Reverse* constants.
	Reason string
	// Full: the whole purchase is reversed (cancelled, disputed), whatever
	// Amount says.
	Full bool
	// Amount is the money returned, in major units of the purchase's
	// currency, as Decimal accepts it; "" when Full.
	Amount json.Number
	// Total: Amount is the total returned so far on the purchase (Stripe's
	// amount_refunded), not this reversal's share: the largest total seen
	// counts, never a sum of totals.
	Total bool
	// Currency of Amount, uppercase; "" when unknown.
	Currency string
	// OrderID is the purchase's order id, for the ledger.
	OrderID string
}

// Check says whether r is one the forwarder can apply: a key and an id,
// a known reason, and an amount unless it is Full.
func (r *Reversal) Check() error {
	switch {
	case r.Key == "":
		return &ParkError{Reason: ReasonInvalidPayload, Detail: "reversal names no purchase"}
	case r.ID == "":
		return &ParkError{Reason: ReasonInvalidPayload, Detail: "reversal has no id"}
	}
	switch r.Reason {
	case ReverseRefund, ReverseCancellation, ReverseDispute, ReverseReversal:
	default:
		return &ParkError{Reason: ReasonInvalidPayload, Detail: fmt.Sprintf("reversal reason %q", clipBytes([]byte(r.Reason), 40))}
	}
	if r.Full {
		return nil
	}
	if _, err := Amount("reversal amount", string(r.Amount)); err != nil {
		return err
	}
	if r.Currency != strings.ToUpper(r.Currency) {
		return &ParkError{Reason: ReasonInvalidPayload, Detail: "reversal currency not uppercase"}
	}
	return nil
}

// Reverse is a Result of one reversal.
func Reverse(r Reversal) Result { return Result{Reversals: []Reversal{r}} }
