package loyaltynow

import (
	"strings"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/mapping"
	"github.com/rsnc-network/resonance-webhook-relay/shared/resonance"
)

// Mapper maps Loyalty Now hooks: transaction.confirmed becomes a purchase,
// member.added a signup, transaction.reversed a reversal of the purchase
// (reversal.go). Loyalty Now does not publish the data schemas, so
// where each value sits is configuration (Config.Fields: email, customerId,
// transactionId, amount, currency), with defaults that try the likely places.
type Mapper struct{}

var _ mapping.Mapper = Mapper{}

// Map implements mapping.Mapper.
func (Mapper) Map(env *envelope.Envelope, cfg *mapping.Config) (mapping.Result, error) {
	kind := cfg.Events[env.EventType]
	if kind == "" {
		return mapping.Result{Skipped: "event_not_mapped"}, nil
	}
	var doc map[string]any
	if err := mapping.DecodeBody(env, &doc); err != nil {
		return mapping.Result{}, err
	}
	if kind == mapping.KindReversal {
		return mapReversal(cfg, doc)
	}
	field := func(name string) string { return mapping.Lookup(doc, cfg.Fields[name]) }
	member, err := mapping.LookupID(doc, cfg.Fields["customerId"])
	if err != nil {
		return mapping.Result{}, err
	}
	email, err := mapping.Identity("loyaltynow", field("email"), member, cfg)
	if err != nil {
		return mapping.Result{}, err
	}
	if kind != resonance.Purchase {
		key := "loyaltynow:member:" + member + ":" + kind
		if member == "" {
			key = "loyaltynow:sequence:" + env.DeliveryID
		}
		return mapping.One(key, cfg, kind, email, map[string]any{"signup_source": "loyaltynow"}), nil
	}
	amount, err := mapping.Amount(cfg.Fields["amount"], field("amount"))
	if err != nil {
		return mapping.Result{}, err
	}
	currency := strings.ToUpper(field("currency"))
	if currency == "" {
		currency = cfg.Currency
	}
	tx, err := mapping.LookupID(doc, cfg.Fields["transactionId"])
	if err != nil {
		return mapping.Result{}, err
	}
	key := "loyaltynow:transaction:" + tx
	if tx == "" {
		tx, key = env.DeliveryID, "loyaltynow:sequence:"+env.DeliveryID
	}
	meta := map[string]any{"order_id": tx, "order_value": amount, "source": "loyaltynow"}
	if currency != "" {
		meta["currency"] = currency
	}
	return mapping.One(key, cfg, kind, email, meta), nil
}
