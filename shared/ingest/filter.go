package ingest

import "strings"

// DefaultEventTypes are the event types each provider's deployment rewards
// unless EVENT_TYPES says otherwise: those the forwarder maps to Resonance
// events by default.
var DefaultEventTypes = map[string]string{
	"shopify":    "orders/paid,customers/create",
	"stripe":     "charge.succeeded,charge.captured,checkout.session.completed,checkout.session.async_payment_succeeded,customer.created",
	"zupy":       "points.earned,customer.registered,customer.enrolled",
	"loyaltynow": "transaction.confirmed,member.added",
	"custom":     "*",
}

// EventFilter says which event types are enqueued. The zero value allows
// nothing.
type EventFilter struct {
	all   bool
	types map[string]bool
}

// ParseEventFilter reads a comma-separated list of event types; "*" allows
// every type. Matching is exact (Stripe and Shopify types are lowercase).
func ParseEventFilter(s string) EventFilter {
	f := EventFilter{types: map[string]bool{}}
	for t := range strings.SplitSeq(s, ",") {
		switch t = strings.TrimSpace(t); t {
		case "":
		case "*":
			f.all = true
		default:
			f.types[t] = true
		}
	}
	return f
}

// Allows reports whether eventType is enqueued.
func (f EventFilter) Allows(eventType string) bool { return f.all || f.types[eventType] }
