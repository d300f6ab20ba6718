package shopify

import (
	"encoding/json"
	"strings"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/mapping"
)

// Mapper maps Shopify webhooks: an order (orders/paid) becomes a purchase
// keyed on its id, a customer (customers/create) a signup keyed on its id.
// Only the signed body decides: Shopify's ids are global, so the keys carry
// no shop (an unsigned header); the topic (unsigned too) only selects the
// configured event type and must agree with the body's shape; an order is
// paid only when its body says so, whatever the topic; and a body older
// than the reward keys' memory is parked (Shopify signs no timestamp).
type Mapper struct{}

var _ mapping.Mapper = Mapper{}

// ReasonTopicMismatch parks a delivery whose topic header names another
// kind of object than its body is (an order re-sent as customers/create).
const ReasonTopicMismatch = "topic_mismatch"

type customer struct {
	ID        mapping.ID `json:"id"`
	Email     string     `json:"email"`
	CreatedAt string     `json:"created_at"`
}

// order is the part of an order body the mapper reads. TotalPrice,
// FinancialStatus and LineItems also mark the body as an order: a customer
// has none of them.
type order struct {
	ID              mapping.ID      `json:"id"`
	Name            string          `json:"name"`
	Email           string          `json:"email"`
	ContactEmail    string          `json:"contact_email"`
	CreatedAt       string          `json:"created_at"`
	TotalPrice      json.RawMessage `json:"total_price"`
	Currency        string          `json:"currency"`
	FinancialStatus json.RawMessage `json:"financial_status"`
	Test            bool            `json:"test"`
	Customer        *customer       `json:"customer"`
	LineItems       json.RawMessage `json:"line_items"`
}

// isOrder reports whether the body has any field only an order has.
func (o *order) isOrder() bool {
	for _, raw := range []json.RawMessage{o.TotalPrice, o.FinancialStatus, o.LineItems} {
		if len(raw) > 0 && string(raw) != "null" {
			return true
		}
	}
	return false
}

// Map implements mapping.Mapper.
func (Mapper) Map(env *envelope.Envelope, cfg *mapping.Config) (mapping.Result, error) {
	kind := cfg.Events[env.EventType]
	if kind == "" {
		return mapping.Result{Skipped: "event_not_mapped"}, nil
	}
	var o order
	if err := mapping.DecodeBody(env, &o); err != nil {
		return mapping.Result{}, err
	}
	family, _, _ := strings.Cut(env.EventType, "/")
	switch isOrder := o.isOrder(); {
	case isOrder && family == "customers":
		return mapping.Result{}, &mapping.ParkError{Reason: ReasonTopicMismatch, Detail: "an order body under topic " + clip(env.EventType)}
	case !isOrder && family == "orders":
		return mapping.Result{}, &mapping.ParkError{Reason: ReasonTopicMismatch, Detail: "a body without total_price, financial_status or line_items under topic " + clip(env.EventType)}
	case !isOrder:
		return mapCustomer(env, cfg, kind, customer{ID: o.ID, Email: o.Email, CreatedAt: o.CreatedAt})
	}
	return mapOrder(env, cfg, kind, &o)
}

func mapCustomer(env *envelope.Envelope, cfg *mapping.Config, kind string, c customer) (mapping.Result, error) {
	if c.ID == "" {
		return mapping.Result{}, &mapping.ParkError{Reason: mapping.ReasonInvalidPayload, Detail: "customer has no id"}
	}
	if err := mapping.CheckAge(env, cfg, "created_at", c.CreatedAt); err != nil {
		return mapping.Result{}, err
	}
	email, err := mapping.Identity("shopify", c.Email, string(c.ID), cfg)
	if err != nil {
		return mapping.Result{}, err
	}
	return mapping.One("shopify:customer:"+string(c.ID), cfg, kind, email, map[string]any{"signup_source": "shopify"}), nil
}

func mapOrder(env *envelope.Envelope, cfg *mapping.Config, kind string, o *order) (mapping.Result, error) {
	if o.ID == "" {
		return mapping.Result{}, &mapping.ParkError{Reason: mapping.ReasonInvalidPayload, Detail: "order has no id"}
	}
	if o.Test && !cfg.IncludeTest {
		return mapping.Result{Skipped: "test_order"}, nil
	}
	// The body, not the topic, says whether the order is paid: an
	// orders/create body of an unpaid order re-sent as orders/paid is
	// still unpaid.
	var status string
	if err := json.Unmarshal(o.FinancialStatus, &status); err != nil || status != "paid" {
		return mapping.Result{Skipped: "order_not_paid"}, nil
	}
	if err := mapping.CheckAge(env, cfg, "created_at", o.CreatedAt); err != nil {
		return mapping.Result{}, err
	}
	var price string
	_ = json.Unmarshal(o.TotalPrice, &price)
	value, ok := mapping.Decimal(price)
	if !ok {
		return mapping.Result{}, &mapping.ParkError{Reason: mapping.ReasonInvalidPayload, Detail: "total_price is not a decimal string"}
	}
	email, customerID := o.Email, ""
	if email == "" {
		email = o.ContactEmail
	}
	if o.Customer != nil {
		customerID = string(o.Customer.ID)
		if email == "" {
			email = o.Customer.Email
		}
	}
	email, err := mapping.Identity("shopify", email, customerID, cfg)
	if err != nil {
		return mapping.Result{}, err
	}
	var lines []struct {
		Quantity json.Number `json:"quantity"`
	}
	if len(o.LineItems) > 0 {
		if err := json.Unmarshal(o.LineItems, &lines); err != nil {
			return mapping.Result{}, &mapping.ParkError{Reason: mapping.ReasonInvalidPayload, Detail: "line_items: " + err.Error()}
		}
	}
	items := int64(0)
	for _, li := range lines {
		q, _ := li.Quantity.Int64()
		items += q
	}
	meta := map[string]any{
		"order_id":    string(o.ID),
		"order_value": value,
		"currency":    o.Currency,
		"items":       items,
		"source":      "shopify",
	}
	if o.Name != "" {
		meta["order_name"] = o.Name
	}
	return mapping.One("shopify:order:"+string(o.ID), cfg, kind, email, meta), nil
}

// clip bounds an unsigned value quoted in a park detail.
func clip(s string) string {
	if len(s) > 64 {
		return strings.ToValidUTF8(s[:64], "") + "..."
	}
	return s
}
