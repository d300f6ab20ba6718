package ingest

import (
	"strings"

	"github.com/rsnc-network/resonance-webhook-relay/shared/mapping"
	"github.com/rsnc-network/resonance-webhook-relay/shared/spec"
	"github.com/rsnc-network/resonance-webhook-relay/shared/webhook"
)

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

// FilterOf allows exactly types, as written (no splitting or trimming: an
// event type the mapping pays is enqueued whatever characters it holds).
func FilterOf(types []string) EventFilter {
	f := EventFilter{types: make(map[string]bool, len(types))}
	for _, t := range types {
		f.types[t] = true
	}
	return f
}

// DefaultFilter is the filter of provider s under the mapping cfg when
// EVENT_TYPES is not set: every type for a provider that enqueues all (a
// custom sender), else exactly the event types cfg pays.
func DefaultFilter(s *spec.Spec, cfg *mapping.Config) EventFilter {
	if s.AllEventTypes {
		return EventFilter{all: true}
	}
	var paid []string
	for typ, kind := range cfg.Events {
		if kind != "" {
			paid = append(paid, typ)
		}
	}
	return FilterOf(paid)
}

// SourceFilters is, for a provider that serves several sources, each
// source's filter out of the box: the event types that source maps.
func SourceFilters(src webhook.Sourced) map[string]EventFilter {
	out := map[string]EventFilter{}
	for _, name := range src.SourceNames() {
		out[name] = FilterOf(src.EventTypes(name))
	}
	return out
}

// Allows reports whether eventType is enqueued.
func (f EventFilter) Allows(eventType string) bool { return f.all || f.types[eventType] }
