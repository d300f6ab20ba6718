package zupy

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/mapping"
	"github.com/rsnc-network/resonance-webhook-relay/shared/resonance"
)

// Mapper maps Zupy webhooks: points.earned becomes a purchase in BRL keyed
// on the transaction, customer.registered and customer.enrolled a signup
// keyed on the member. Both of Zupy's published payload shapes are read.
// The event is the signed body's (ingest refuses a header that disagrees,
// and the mapper checks again); a body older than the reward keys' memory,
// by its timestamp (awarded_at in the second shape), is parked.
type Mapper struct{}

var _ mapping.Mapper = Mapper{}

// Map implements mapping.Mapper.
func (Mapper) Map(env *envelope.Envelope, cfg *mapping.Config) (mapping.Result, error) {
	kind := cfg.Events[env.EventType]
	if kind == "" {
		return mapping.Result{Skipped: "event_not_mapped"}, nil
	}
	if kind == mapping.KindReversal { // never a Resonance event "reversal"
		return mapping.Result{}, &mapping.ParkError{Reason: mapping.ReasonInvalidPayload, Detail: "Zupy publishes no refund or reversal event; " + clipEvent(env.EventType) + " cannot be mapped to one"}
	}
	var b struct {
		Event     string `json:"event"`
		Timestamp string `json:"timestamp"`
		AwardedAt string `json:"awarded_at"`
		Customer  struct {
			MemberID mapping.ID `json:"member_id"`
			Email    string     `json:"email"`
		} `json:"customer"`
		CustomerID  mapping.ID `json:"customer_id"`
		Email       string     `json:"email"`
		ReferenceID mapping.ID `json:"reference_id"`
		Transaction struct {
			TransactionID mapping.ID  `json:"transaction_id"`
			OrderID       mapping.ID  `json:"order_id"`
			OrderValue    json.Number `json:"order_value"`
			ItemsCount    json.Number `json:"items_count"`
			Platform      string      `json:"platform"`
		} `json:"transaction"`
	}
	if err := mapping.DecodeBody(env, &b); err != nil {
		return mapping.Result{}, err
	}
	if b.Event != env.EventType {
		return mapping.Result{}, &mapping.ParkError{Reason: ReasonEventMismatch, Detail: fmt.Sprintf("body event %.64q, envelope event %.64q", b.Event, env.EventType)}
	}
	field, at := "timestamp", b.Timestamp
	if at == "" && b.AwardedAt != "" {
		field, at = "awarded_at", b.AwardedAt
	}
	if err := mapping.CheckAge(env, cfg, field, at); err != nil {
		return mapping.Result{}, err
	}
	member := string(b.Customer.MemberID)
	if member == "" {
		member = string(b.CustomerID)
	}
	email := b.Customer.Email
	if email == "" {
		email = b.Email
	}
	email, err := mapping.Identity("zupy", email, member, cfg)
	if err != nil {
		return mapping.Result{}, err
	}
	if kind != resonance.Purchase {
		if member == "" {
			// Keyed "zupy:member::signup", every such signup would be a
			// duplicate of the first: park it for an operator instead.
			return mapping.Result{}, &mapping.ParkError{Reason: mapping.ReasonInvalidPayload, Detail: "no customer.member_id or customer_id to key the " + kind + " on"}
		}
		return mapping.One("zupy:member:"+member+":"+kind, cfg, kind, email, map[string]any{"signup_source": "zupy"}), nil
	}
	tx := string(b.Transaction.TransactionID)
	if tx == "" {
		tx = string(b.ReferenceID)
	}
	if tx == "" {
		return mapping.Result{}, &mapping.ParkError{Reason: mapping.ReasonInvalidPayload, Detail: "no transaction.transaction_id or reference_id"}
	}
	meta := map[string]any{"currency": cfg.Currency, "source": "zupy"}
	v, err := mapping.Amount("transaction.order_value", string(b.Transaction.OrderValue))
	if err != nil {
		return mapping.Result{}, err
	}
	meta["order_value"] = v
	meta["order_id"] = tx
	if o := string(b.Transaction.OrderID); o != "" {
		meta["order_id"] = o
	}
	if n, err := b.Transaction.ItemsCount.Int64(); err == nil {
		meta["items"] = n
	}
	if b.Transaction.Platform != "" {
		meta["platform"] = b.Transaction.Platform
	}
	return mapping.One("zupy:transaction:"+tx, cfg, kind, email, meta), nil
}

// clipEvent bounds an event name quoted in a park detail.
func clipEvent(s string) string {
	if len(s) > 64 {
		return strings.ToValidUTF8(s[:64], "") + "..."
	}
	return s
}
