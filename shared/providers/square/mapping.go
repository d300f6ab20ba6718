package square

import (
	"encoding/json"
	"strings"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/mapping"
	"github.com/rsnc-network/resonance-webhook-relay/shared/resonance"
)

// DefaultEvents are Square's event types that earn a reward out of the box
// (Spec.Mapping).
func DefaultEvents() map[string]string {
	return map[string]string{"payment.updated": resonance.Purchase, "customer.created": resonance.Signup,
		"refund.created": mapping.KindReversal, "refund.updated": mapping.KindReversal}
}

// Mapper maps Square events: a completed payment (payment.updated with
// status COMPLETED) becomes a purchase keyed on the payment's id, a new
// customer (customer.created) a signup keyed on the customer's id, and a
// completed refund (refund.created, refund.updated) a reversal of its
// payment's purchase (reversal.go). Square's
// ids are global, so the keys carry no merchant. Everything it reads is in
// the signed body: the event type must agree with the object the body
// carries (data.type and data.object), the object's id with data.id, and
// the object's created_at dates the body (Square signs no timestamp).
type Mapper struct{}

var _ mapping.Mapper = Mapper{}

// ReasonTypeMismatch parks an event whose type names another kind of
// object than the one its data carries.
const ReasonTypeMismatch = "type_mismatch"

// Skip reasons.
const (
	SkipNotCompleted   = "payment_not_completed"
	SkipNothingPaid    = "nothing_paid"
	SkipEventNotMapped = "event_not_mapped"
)

type money struct {
	Amount   json.Number `json:"amount"`
	Currency string      `json:"currency"`
}

type payment struct {
	ID                mapping.ID `json:"id"`
	Status            string     `json:"status"`
	CreatedAt         string     `json:"created_at"`
	AmountMoney       *money     `json:"amount_money"`
	BuyerEmailAddress string     `json:"buyer_email_address"`
	CustomerID        mapping.ID `json:"customer_id"`
	OrderID           mapping.ID `json:"order_id"`
	LocationID        string     `json:"location_id"`
}

type customer struct {
	ID           mapping.ID `json:"id"`
	EmailAddress string     `json:"email_address"`
	CreatedAt    string     `json:"created_at"`
}

type event struct {
	Type string `json:"type"`
	Data struct {
		Type   string     `json:"type"`
		ID     mapping.ID `json:"id"`
		Object struct {
			Payment  *payment  `json:"payment"`
			Customer *customer `json:"customer"`
			Refund   *refund   `json:"refund"`
		} `json:"object"`
	} `json:"data"`
}

// Map implements mapping.Mapper.
func (Mapper) Map(env *envelope.Envelope, cfg *mapping.Config) (mapping.Result, error) {
	kind := cfg.Events[env.EventType]
	if kind == "" {
		return mapping.Result{Skipped: SkipEventNotMapped}, nil
	}
	var ev event
	if err := mapping.DecodeBody(env, &ev); err != nil {
		return mapping.Result{}, err
	}
	// The envelope's type was read from this body by ingest; a body whose
	// type differs was edited on the way (the queue is not signed).
	if ev.Type != env.EventType {
		return mapping.Result{}, &mapping.ParkError{Reason: ReasonTypeMismatch, Detail: "the envelope's event type is not the body's type"}
	}
	family, _, _ := strings.Cut(ev.Type, ".")
	reversal := kind == mapping.KindReversal
	switch {
	case family == "refund" && ev.Data.Type == "refund" && ev.Data.Object.Refund != nil && reversal:
		return mapRefund(env, cfg, string(ev.Data.ID), ev.Data.Object.Refund)
	case reversal:
		return mapping.Result{}, &mapping.ParkError{Reason: ReasonTypeMismatch, Detail: "event type " + clip(ev.Type) + " is mapped to a reversal, but only a refund in data can be one (data.type " + clip(ev.Data.Type) + ")"}
	case family == "payment" && ev.Data.Type == "payment" && ev.Data.Object.Payment != nil:
		return mapPayment(env, cfg, kind, string(ev.Data.ID), ev.Data.Object.Payment)
	case family == "customer" && ev.Data.Type == "customer" && ev.Data.Object.Customer != nil:
		return mapCustomer(env, cfg, kind, string(ev.Data.ID), ev.Data.Object.Customer)
	}
	return mapping.Result{}, &mapping.ParkError{Reason: ReasonTypeMismatch, Detail: "event type " + clip(ev.Type) + " does not carry its own kind of object in data (data.type " + clip(ev.Data.Type) + ")"}
}

func mapPayment(env *envelope.Envelope, cfg *mapping.Config, kind, dataID string, p *payment) (mapping.Result, error) {
	if p.ID == "" || string(p.ID) != dataID {
		return mapping.Result{}, &mapping.ParkError{Reason: mapping.ReasonInvalidPayload, Detail: "payment has no id, or not data.id"}
	}
	if p.Status != "COMPLETED" {
		return mapping.Result{Skipped: SkipNotCompleted}, nil
	}
	if err := mapping.CheckAge(env, cfg, "data.object.payment.created_at", p.CreatedAt); err != nil {
		return mapping.Result{}, err
	}
	if p.AmountMoney == nil {
		return mapping.Result{}, &mapping.ParkError{Reason: mapping.ReasonInvalidAmount, Detail: "no amount at data.object.payment.amount_money"}
	}
	minor, err := mapping.FromISOMinorUnits(p.AmountMoney.Amount, p.AmountMoney.Currency)
	if err != nil {
		return mapping.Result{}, &mapping.ParkError{Reason: mapping.ReasonInvalidAmount, Detail: "amount_money: " + err.Error()}
	}
	value, err := mapping.Amount("amount_money.amount", string(minor))
	if err != nil {
		return mapping.Result{}, err
	}
	if n, _ := p.AmountMoney.Amount.Int64(); n == 0 {
		return mapping.Result{Skipped: SkipNothingPaid}, nil
	}
	email, err := mapping.Identity("square", p.BuyerEmailAddress, string(p.CustomerID), cfg)
	if err != nil {
		return mapping.Result{}, err
	}
	meta := map[string]any{
		"payment_id":  string(p.ID),
		"order_value": value,
		"currency":    strings.ToUpper(p.AmountMoney.Currency),
		"source":      "square",
	}
	if p.OrderID != "" {
		meta["order_id"] = string(p.OrderID)
	}
	return mapping.One("square:payment:"+string(p.ID), cfg, kind, email, meta), nil
}

func mapCustomer(env *envelope.Envelope, cfg *mapping.Config, kind, dataID string, c *customer) (mapping.Result, error) {
	if c.ID == "" || string(c.ID) != dataID {
		return mapping.Result{}, &mapping.ParkError{Reason: mapping.ReasonInvalidPayload, Detail: "customer has no id, or not data.id"}
	}
	if err := mapping.CheckAge(env, cfg, "data.object.customer.created_at", c.CreatedAt); err != nil {
		return mapping.Result{}, err
	}
	email, err := mapping.Identity("square", c.EmailAddress, string(c.ID), cfg)
	if err != nil {
		return mapping.Result{}, err
	}
	return mapping.One("square:customer:"+string(c.ID), cfg, kind, email, map[string]any{"signup_source": "square"}), nil
}

// clip bounds a value quoted in a park detail.
func clip(s string) string {
	if len(s) > 64 {
		return strings.ToValidUTF8(s[:64], "") + "..."
	}
	return s
}
