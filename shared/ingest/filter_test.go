package ingest

import (
	"slices"
	"strings"
	"testing"

	"github.com/rsnc-network/resonance-webhook-relay/shared/mapping"
)

// TestDefaultEventTypesMatchTheMapping: out of the box, ingest enqueues
// exactly the event types the forwarder rewards. One more would be queued
// for nothing; one fewer would be answered 200 and never paid.
func TestDefaultEventTypesMatchTheMapping(t *testing.T) {
	defaults := mapping.Defaults()
	if len(defaults) != len(DefaultEventTypes) {
		t.Fatalf("the mapping has defaults for %d providers, ingest for %d", len(defaults), len(DefaultEventTypes))
	}
	for provider, cfg := range defaults {
		var mapped []string
		for typ, kind := range cfg.Events {
			if kind != "" {
				mapped = append(mapped, typ)
			}
		}
		if len(mapped) == 0 {
			mapped = []string{"*"} // no Events: every type as sent (custom)
		}
		listed := strings.Split(DefaultEventTypes[provider], ",")
		slices.Sort(mapped)
		slices.Sort(listed)
		if !slices.Equal(mapped, listed) {
			t.Errorf("%s: ingest enqueues %v, the mapping rewards %v", provider, listed, mapped)
		}
	}
}
