package loyaltynow

import (
	"strings"

	"github.com/rsnc-network/resonance-webhook-relay/shared/mapping"
)

// mapReversal maps a hook mapped to mapping.KindReversal
// (transaction.reversed): the transaction is found at the same configured
// paths as a purchase's (Fields["transactionId"]), so the reversal carries
// the purchase's key, loyaltynow:transaction:<id>. It reverses the whole
// purchase unless an amount is found at Fields["amount"]: then that much.
// A purchase without a transaction id was keyed on its own delivery's
// sequence, which no later hook names: a reversal without one cannot be
// matched and is parked.
func mapReversal(cfg *mapping.Config, doc map[string]any) (mapping.Result, error) {
	tx, err := mapping.LookupID(doc, cfg.Fields["transactionId"])
	if err != nil {
		return mapping.Result{}, err
	}
	if tx == "" {
		return mapping.Result{}, &mapping.ParkError{Reason: mapping.ReasonInvalidPayload,
			Detail: "a reversal names no transaction at " + cfg.Fields["transactionId"] + ": it cannot be matched to its purchase"}
	}
	r := mapping.Reversal{Key: "loyaltynow:transaction:" + tx, ID: tx, Reason: mapping.ReverseReversal, OrderID: tx, Full: true}
	// An amount that is there but unreadable is parked, not taken for a
	// full reversal.
	if s := mapping.Lookup(doc, cfg.Fields["amount"]); s != "" || found(doc, cfg.Fields["amount"]) {
		v, err := mapping.Amount(cfg.Fields["amount"], s)
		if err != nil {
			return mapping.Result{}, err
		}
		r.Full, r.Amount = false, v
	}
	if r.Currency = strings.ToUpper(mapping.Lookup(doc, cfg.Fields["currency"])); r.Currency == "" {
		r.Currency = strings.ToUpper(cfg.Currency)
	}
	if err := r.Check(); err != nil {
		return mapping.Result{}, err
	}
	return mapping.Reverse(r), nil
}

// found says whether one of the dotted paths (separated by "|") leads to a
// value other than null.
func found(doc any, paths string) bool {
	for path := range strings.SplitSeq(paths, "|") {
		v := doc
		for part := range strings.SplitSeq(strings.TrimSpace(path), ".") {
			m, ok := v.(map[string]any)
			if !ok {
				v = nil
				break
			}
			v = m[part]
		}
		if v != nil {
			return true
		}
	}
	return false
}
