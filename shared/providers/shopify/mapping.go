package shopify

import (
	"encoding/json"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/mapping"
	"github.com/rsnc-network/resonance-webhook-relay/shared/resonance"
)

// Mapper maps Shopify webhooks: orders/paid becomes a purchase keyed on
// shop + order id (one reward per order, whatever topics or subscriptions
// deliver it), customers/create a signup keyed on shop + customer id.
type Mapper struct{}

var _ mapping.Mapper = Mapper{}

type customer struct {
	ID    mapping.ID `json:"id"`
	Email string     `json:"email"`
}

// Map implements mapping.Mapper.
func (Mapper) Map(env *envelope.Envelope, cfg *mapping.Config) (mapping.Result, error) {
	kind := cfg.Events[env.EventType]
	if kind == "" {
		return mapping.Result{Skipped: "event_not_mapped"}, nil
	}
	shop := env.Headers[HeaderShopDomain]
	if kind == resonance.Signup || env.EventType == "customers/create" {
		var c customer
		if err := mapping.DecodeBody(env, &c); err != nil {
			return mapping.Result{}, err
		}
		email, err := mapping.Identity("shopify", c.Email, string(c.ID), cfg)
		if err != nil {
			return mapping.Result{}, err
		}
		return mapping.One("shopify:"+shop+":customer:"+string(c.ID), cfg, kind, email, map[string]any{"signup_source": "shopify"}), nil
	}
	var o struct {
		ID              mapping.ID `json:"id"`
		Name            string     `json:"name"`
		Email           string     `json:"email"`
		ContactEmail    string     `json:"contact_email"`
		TotalPrice      string     `json:"total_price"`
		Currency        string     `json:"currency"`
		FinancialStatus string     `json:"financial_status"`
		Test            bool       `json:"test"`
		Customer        *customer  `json:"customer"`
		LineItems       []struct {
			Quantity json.Number `json:"quantity"`
		} `json:"line_items"`
	}
	if err := mapping.DecodeBody(env, &o); err != nil {
		return mapping.Result{}, err
	}
	if o.ID == "" {
		return mapping.Result{}, &mapping.ParkError{Reason: mapping.ReasonInvalidPayload, Detail: "order has no id"}
	}
	if o.Test && !cfg.IncludeTest {
		return mapping.Result{Skipped: "test_order"}, nil
	}
	if env.EventType == "orders/create" && o.FinancialStatus != "paid" {
		return mapping.Result{Skipped: "order_not_paid"}, nil
	}
	value, badAmount := mapping.Amount("total_price", o.TotalPrice)
	if badAmount != nil {
		return mapping.Result{}, badAmount
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
	items := int64(0)
	for _, li := range o.LineItems {
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
	return mapping.One("shopify:"+shop+":order:"+string(o.ID), cfg, kind, email, meta), nil
}
