package ingest

import "strings"

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
