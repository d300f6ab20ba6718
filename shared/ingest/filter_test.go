package ingest

import (
	"slices"
	"strings"
	"testing"

	"github.com/rsnc-network/resonance-webhook-relay/shared/local/samples"
	"github.com/rsnc-network/resonance-webhook-relay/shared/mapping"
	"github.com/rsnc-network/resonance-webhook-relay/shared/providers"
)

// defaultFilter is provider's ingest filter out of the box.
func defaultFilter(provider string) EventFilter {
	s := samples.Spec(provider)
	return ParseEventFilter(s.EventTypes(s.DefaultConfig()))
}

// TestEventTypesFollowTheMapping: ingest enqueues exactly the event types
// the forwarder rewards, out of the box and under MAPPING overrides (the
// ingest function reads the same MAPPING). One more would be queued for
// nothing; one fewer would be answered 200 and never paid.
func TestEventTypesFollowTheMapping(t *testing.T) {
	for _, overrides := range []string{
		"",
		`{"shopify":{"events":{"orders/create":"purchase","customers/create":""}},"stripe":{"events":{"customer.created":""}},` +
			`"woocommerce":{"events":{"order.updated":""}},"square":{"events":{"refund.updated":"custom_action"}}}`,
	} {
		cfgs, err := providers.LoadMapping(overrides)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range providers.All {
			cfg := cfgs[s.Name]
			one, err := mapping.LoadOne(s.Name, s.Mapping, overrides)
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Split(s.EventTypes(one), ",")
			var paid []string
			for typ, kind := range cfg.Events {
				if kind != "" {
					paid = append(paid, typ)
				}
			}
			slices.Sort(paid)
			if s.AllEventTypes {
				paid = []string{"*"}
			}
			if !slices.Equal(got, paid) {
				t.Errorf("MAPPING %q: %s ingest enqueues %v, the forwarder pays %v", overrides, s.Name, got, paid)
			}
		}
	}
}

// TestFromEnvFiltersByTheMapping: the ingest function's filter is derived
// from MAPPING when EVENT_TYPES is empty, and EVENT_TYPES still wins.
func TestFromEnvFiltersByTheMapping(t *testing.T) {
	for k, v := range map[string]string{"WEBHOOK_SECRET_ID": "s", "EVENTS_QUEUE_URL": "http://127.0.0.1:1/q",
		"DEAD_LETTER_QUEUE_URL": "http://127.0.0.1:1/d", "ENVELOPE_KEY_ID": "k", "AWS_REGION": "us-east-1",
		"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"} {
		t.Setenv(k, v)
	}
	shopify := samples.Spec("shopify")
	for _, c := range []struct {
		mapping, eventTypes string
		allowed, refused    []string
	}{
		{"", "", []string{"orders/paid", "customers/create"}, []string{"orders/create", "refunds/create"}},
		{`{"shopify":{"events":{"orders/create":"purchase","orders/paid":""}}}`, "", []string{"orders/create", "customers/create"}, []string{"orders/paid"}},
		{`{"shopify":{"events":{"orders/create":"purchase"}}}`, "orders/paid", []string{"orders/paid"}, []string{"orders/create", "customers/create"}},
	} {
		t.Setenv("MAPPING", c.mapping)
		t.Setenv("EVENT_TYPES", c.eventTypes)
		h, err := FromEnv(shopify)
		if err != nil {
			t.Fatal(err)
		}
		for _, typ := range c.allowed {
			if !h.Accept.Allows(typ) {
				t.Errorf("MAPPING %s, EVENT_TYPES %q: %s refused", c.mapping, c.eventTypes, typ)
			}
		}
		for _, typ := range c.refused {
			if h.Accept.Allows(typ) {
				t.Errorf("MAPPING %s, EVENT_TYPES %q: %s enqueued", c.mapping, c.eventTypes, typ)
			}
		}
	}
	t.Setenv("EVENT_TYPES", "")
	t.Setenv("MAPPING", `{"shopify":{"events":{"orders/paid":7}}}`)
	if _, err := FromEnv(shopify); err == nil {
		t.Error("FromEnv accepted a MAPPING it cannot read")
	}
}
