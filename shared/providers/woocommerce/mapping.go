package woocommerce

import (
	"encoding/json"
	"net/url"
	"regexp"
	"strings"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/mapping"
	"github.com/rsnc-network/resonance-webhook-relay/shared/resonance"
)

// DefaultEvents are WooCommerce's topics that earn a reward out of the box
// (Spec.Mapping). order.created and order.updated both pay, under one key
// per order, and only once the body says the order is paid.
func DefaultEvents() map[string]string {
	return map[string]string{"order.created": resonance.Purchase, "order.updated": resonance.Purchase, "customer.created": resonance.Signup}
}

// Mapper maps WooCommerce webhooks (REST API v3 payloads): an order pays
// once, on the first delivery whose body shows it paid, keyed on the store
// and the order id; an order whose body shows it refunded, cancelled after
// payment, or with refunds reverses that key (reversal.go); a customer is a
// signup keyed on the store and its id.
//
// WooCommerce's ids are per store (WordPress post and user ids), so the
// keys carry the store. It is read from the signed body: _links.self[0]
// .href, the REST URL of the object itself
// (https://shop.example/wp-json/wc/v3/orders/727), names the store (host
// and WordPress path, shop.example) and the kind of object (orders,
// customers) and must name the body's own id. X-WC-Webhook-Source says the
// same but is not signed, so it only labels. The topic (unsigned too) only
// selects the configured event type and must agree with the body's kind. A
// body older than the reward keys' memory is parked (WooCommerce signs no
// timestamp).
type Mapper struct{}

var _ mapping.Mapper = Mapper{}

// Park and skip reasons.
const (
	// ReasonTopicMismatch parks a delivery whose topic names another kind
	// of object than its body is (a customer body under order.updated).
	ReasonTopicMismatch = "topic_mismatch"
	// ReasonNoStore parks a body whose _links.self does not name its store
	// and its own object: its key could not be told from another store's.
	ReasonNoStore      = "no_store"
	SkipNotPaid        = "order_not_paid"
	SkipNothingPaid    = "nothing_paid"
	SkipEventNotMapped = "event_not_mapped"
)

type link struct {
	Href string `json:"href"`
}

type billing struct {
	Email string `json:"email"`
}

// body is the part of an order or customer body the mapper reads.
type body struct {
	ID             mapping.ID      `json:"id"`
	Status         string          `json:"status"`
	Number         string          `json:"number"`
	Currency       string          `json:"currency"`
	Total          json.RawMessage `json:"total"`
	DatePaidGMT    string          `json:"date_paid_gmt"`
	DateCreatedGMT string          `json:"date_created_gmt"`
	CustomerID     mapping.ID      `json:"customer_id"`
	Billing        *billing        `json:"billing"`
	Email          string          `json:"email"`
	LineItems      []struct {
		Quantity json.Number `json:"quantity"`
	} `json:"line_items"`
	DateModifiedGMT string      `json:"date_modified_gmt"`
	Refunds         []refundRef `json:"refunds"`
	Links           struct {
		Self []link `json:"self"`
	} `json:"_links"`
}

// route is the REST route of an object: wc/v<n>/<orders|customers>/<id>.
var route = regexp.MustCompile(`^/?wc/v[0-9]+/(orders|customers)/([0-9]+)/?$`)

// origin reads the store and the kind of object ("orders", "customers")
// from the body's _links.self href, and checks that it names id. It
// understands both permalink forms WordPress serves the REST API under:
// <site>/wp-json/<route> and <site>/?rest_route=/<route>.
func origin(b *body) (store, kind string, err error) {
	if len(b.Links.Self) != 1 {
		return "", "", &mapping.ParkError{Reason: ReasonNoStore, Detail: "the body has not exactly one _links.self"}
	}
	u, perr := url.Parse(b.Links.Self[0].Href)
	if perr != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.User != nil {
		return "", "", &mapping.ParkError{Reason: ReasonNoStore, Detail: "_links.self is not an http(s) URL"}
	}
	site, r, ok := strings.Cut(u.Path, "/wp-json/")
	if !ok {
		site, r = u.Path, u.Query().Get("rest_route")
	}
	m := route.FindStringSubmatch(r)
	if m == nil {
		return "", "", &mapping.ParkError{Reason: ReasonNoStore, Detail: "_links.self is not the REST URL of an order or a customer"}
	}
	if m[2] != string(b.ID) {
		return "", "", &mapping.ParkError{Reason: mapping.ReasonInvalidPayload, Detail: "_links.self names another id than the body's id"}
	}
	return strings.ToLower(u.Host) + strings.TrimRight(site, "/"), m[1], nil
}

// Map implements mapping.Mapper.
func (Mapper) Map(env *envelope.Envelope, cfg *mapping.Config) (mapping.Result, error) {
	kind := cfg.Events[env.EventType]
	if kind == "" {
		return mapping.Result{Skipped: SkipEventNotMapped}, nil
	}
	var b body
	if err := mapping.DecodeBody(env, &b); err != nil {
		return mapping.Result{}, err
	}
	if b.ID == "" {
		return mapping.Result{}, &mapping.ParkError{Reason: mapping.ReasonInvalidPayload, Detail: "the body has no id"}
	}
	store, object, err := origin(&b)
	if err != nil {
		return mapping.Result{}, err
	}
	resource, _, _ := strings.Cut(env.EventType, ".")
	switch {
	case resource == "order" && object == "orders":
		return mapOrder(env, cfg, kind, store, &b)
	case resource == "customer" && object == "customers":
		return mapCustomer(env, cfg, kind, store, &b)
	}
	return mapping.Result{}, &mapping.ParkError{Reason: ReasonTopicMismatch, Detail: "a body of " + object + " under topic " + clip(env.EventType)}
}

// unpaid are the statuses of an order that is not (or no longer) paid,
// whatever its date_paid says.
var unpaid = map[string]bool{
	"pending": true, "on-hold": true, "failed": true, "cancelled": true, "refunded": true,
	"checkout-draft": true, "draft": true, "auto-draft": true, "trash": true,
}

// paid says whether the body shows a paid order: a date_paid under any
// status that is not an unpaid one, or the status completed. processing
// alone is not enough: cash on delivery puts an order in processing at
// checkout ("payment to be made upon delivery") and sets date_paid only
// when the order is completed (WooCommerce's payment_complete status for
// it), so a COD order earns its reward once it is paid, not when it ships.
func paid(b *body) bool {
	switch {
	case unpaid[b.Status] || b.Status == "":
		return false
	case b.Status == "completed":
		return true
	}
	return b.DatePaidGMT != ""
}

func mapOrder(env *envelope.Envelope, cfg *mapping.Config, kind, store string, b *body) (mapping.Result, error) {
	// The body, not the topic, also says what of the order went back
	// (reversal.go): under a topic mapped to a reversal that is all it
	// says; under a purchase topic it comes beside the purchase.
	revs, skip, err := reversals(store, b)
	if err != nil {
		return mapping.Result{}, err
	}
	if kind == mapping.KindReversal || (!paid(b) && len(revs) > 0) {
		return reversalsOnly(env, cfg, b, revs, skip)
	}
	// The body, not the topic, says whether the order is paid; an order
	// is updated many times, and every paid state maps to the same key, so
	// it is paid once, on the first.
	if !paid(b) {
		return mapping.Result{Skipped: SkipNotPaid}, nil
	}
	if err := mapping.CheckAge(env, cfg, "date_created_gmt", gmt(b.DateCreatedGMT)); err != nil {
		return mapping.Result{}, err
	}
	var total string
	if err := json.Unmarshal(b.Total, &total); err != nil {
		total = string(b.Total) // a number, or nothing: Amount says which
	}
	value, err := mapping.Amount("total", total)
	if err != nil {
		return mapping.Result{}, err
	}
	if mapping.Zero(value) { // a free order (a 100% coupon) is no purchase
		return mapping.Result{Skipped: SkipNothingPaid, Reversals: revs}, nil
	}
	customerID := string(b.CustomerID)
	if customerID == "0" { // a guest
		customerID = ""
	}
	email := ""
	if b.Billing != nil {
		email = b.Billing.Email
	}
	email, err = mapping.Identity("woocommerce", email, customerID, cfg)
	if err != nil {
		return mapping.Result{}, err
	}
	items := int64(0)
	for _, li := range b.LineItems {
		q, _ := li.Quantity.Int64()
		items += q
	}
	meta := map[string]any{
		"order_id":    string(b.ID),
		"order_value": value,
		"currency":    strings.ToUpper(b.Currency),
		"items":       items,
		"store":       store,
		"source":      "woocommerce",
	}
	if b.Number != "" && b.Number != string(b.ID) {
		meta["order_number"] = b.Number
	}
	res := mapping.One(purchaseKey(store, b), cfg, kind, email, meta)
	res.Reversals = revs
	return res, nil
}

// purchaseKey is the key an order's purchase is paid under.
func purchaseKey(store string, b *body) string {
	return "woocommerce:" + store + ":order:" + string(b.ID)
}

func mapCustomer(env *envelope.Envelope, cfg *mapping.Config, kind, store string, b *body) (mapping.Result, error) {
	if err := mapping.CheckAge(env, cfg, "date_created_gmt", gmt(b.DateCreatedGMT)); err != nil {
		return mapping.Result{}, err
	}
	email, err := mapping.Identity("woocommerce", b.Email, string(b.ID), cfg)
	if err != nil {
		return mapping.Result{}, err
	}
	return mapping.One("woocommerce:"+store+":customer:"+string(b.ID), cfg, kind, email,
		map[string]any{"signup_source": "woocommerce", "store": store}), nil
}

// gmt makes WooCommerce's *_gmt times (2026-03-14T13:41:07, UTC without a
// zone) RFC 3339; a time that has a zone already is left as it is.
func gmt(s string) string {
	if len(s) == len("2006-01-02T15:04:05") {
		return s + "Z"
	}
	return s
}

// clip bounds an unsigned value quoted in a park detail.
func clip(s string) string {
	if len(s) > 64 {
		return strings.ToValidUTF8(s[:64], "") + "..."
	}
	return s
}
