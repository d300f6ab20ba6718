package shopify

import (
	"encoding/json"
	"strings"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/mapping"
)

// Mapper maps Shopify webhooks: an order (orders/paid) becomes a purchase
// keyed on its id, a customer (customers/create) a signup keyed on its id,
// and a refund (refunds/create) or a cancelled order (orders/cancelled),
// under a topic mapped to mapping.KindReversal, a reversal of its order's
// purchase (reversal.go).
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

// order is the part of an order or customer body the mapper reads, and
// what tells one from the other (kind).
type order struct {
	ID              mapping.ID      `json:"id"`
	GID             string          `json:"admin_graphql_api_id"`
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
	VerifiedEmail   json.RawMessage `json:"verified_email"`
	CancelledAt     json.RawMessage `json:"cancelled_at"` // orders
	OrderID         mapping.ID      `json:"order_id"`     // refunds
	Transactions    json.RawMessage `json:"transactions"` // refunds
}

// Kinds of body.
const (
	kindOrder    = "order"
	kindCustomer = "customer"
	kindRefund   = "refund"
)

// kind says what the signed body is: its admin_graphql_api_id names the
// object type (gid://shopify/Order/<id>, gid://shopify/Customer/<id>);
// without one, an order has total_price, financial_status or line_items
// and a customer verified_email. A refund is one only by its
// admin_graphql_api_id (gid://shopify/Refund/<id>): an order transaction
// has an order_id, an amount and a kind "refund" too. Anything else (a
// shop, a draft order: every webhook of an app is signed with the same
// secret) is "", never rewarded as an order or a customer.
func (o *order) kind() (string, error) {
	present := func(raw json.RawMessage) bool { return len(raw) > 0 && string(raw) != "null" }
	shaped := ""
	switch {
	case present(o.TotalPrice) || present(o.FinancialStatus) || present(o.LineItems):
		shaped = kindOrder
	case present(o.VerifiedEmail):
		shaped = kindCustomer
	}
	if o.GID == "" {
		return shaped, nil
	}
	named := ""
	switch {
	case o.GID == "gid://shopify/Order/"+string(o.ID):
		named = kindOrder
	case o.GID == "gid://shopify/Customer/"+string(o.ID):
		named = kindCustomer
	case o.GID == "gid://shopify/Refund/"+string(o.ID):
		named = kindRefund
	case strings.HasPrefix(o.GID, "gid://shopify/Order/"), strings.HasPrefix(o.GID, "gid://shopify/Customer/"),
		strings.HasPrefix(o.GID, "gid://shopify/Refund/"):
		return "", &mapping.ParkError{Reason: mapping.ReasonInvalidPayload, Detail: "admin_graphql_api_id names another id than the body's id"}
	default:
		return "", nil
	}
	if shaped != "" && shaped != named {
		return "", &mapping.ParkError{Reason: mapping.ReasonInvalidPayload, Detail: "admin_graphql_api_id names a " + named + " but the body has the fields of a " + shaped}
	}
	return named, nil
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
	body, err := o.kind()
	if err != nil {
		return mapping.Result{}, err
	}
	family, _, _ := strings.Cut(env.EventType, "/")
	switch {
	case body == "":
		return mapping.Result{}, &mapping.ParkError{Reason: ReasonTopicMismatch, Detail: "the body is neither an order, a customer nor a refund, under topic " + clip(env.EventType)}
	case family == "customers" && body != kindCustomer, family == "orders" && body != kindOrder, family == "refunds" && body != kindRefund:
		return mapping.Result{}, &mapping.ParkError{Reason: ReasonTopicMismatch, Detail: "a " + body + " body under topic " + clip(env.EventType)}
	case kind == mapping.KindReversal:
		return mapReversal(env, cfg, body, &o)
	case body == kindRefund:
		return mapping.Result{}, &mapping.ParkError{Reason: ReasonTopicMismatch, Detail: "a refund body under topic " + clip(env.EventType) + ", which is mapped to a reward, not a reversal"}
	case body == kindCustomer:
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
	value, badAmount := mapping.Amount("total_price", price)
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
