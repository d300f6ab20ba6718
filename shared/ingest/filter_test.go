package ingest

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/rsnc-network/resonance-webhook-relay/shared/local/samples"
	"github.com/rsnc-network/resonance-webhook-relay/shared/mapping"
	"github.com/rsnc-network/resonance-webhook-relay/shared/providers"
	"github.com/rsnc-network/resonance-webhook-relay/shared/webhook"
)

// defaultFilter is provider's ingest filter out of the box.
func defaultFilter(provider string) EventFilter {
	s := samples.Spec(provider)
	return DefaultFilter(s, s.DefaultConfig())
}

// perSource is, for a Sourced provider, each local source's filter (as
// FromEnv builds it); nil for the others.
func perSource(provider string) map[string]EventFilter {
	if src, ok := samples.Verifier(provider).(webhook.Sourced); ok {
		return SourceFilters(src)
	}
	return nil
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
		// An event type with a comma and spaces is one type (found by an
		// outside review: a comma-joined round trip split it in two).
		`{"zupy":{"events":{"points.earned, online ":"purchase"}},"custom":{"events":{"a,b":"purchase"}}}`,
	} {
		cfgs, err := providers.LoadMapping(overrides)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range providers.All {
			if s.Sourced {
				continue // each source's own, from HmacSources: TestSourcesFilterTheirOwnTypes
			}
			cfg := cfgs[s.Name]
			one, err := mapping.LoadOne(s.Name, s.Mapping, overrides)
			if err != nil {
				t.Fatal(err)
			}
			f := DefaultFilter(s, one)
			for typ, kind := range cfg.Events {
				if kind != "" && !f.Allows(typ) {
					t.Errorf("MAPPING %q: %s ingest ignores %q, which the forwarder pays", overrides, s.Name, typ)
				}
			}
			for _, typ := range []string{"not.mapped", "customers/create", "orders/paid, online "} {
				if _, paid := cfg.Events[typ]; !paid && !s.AllEventTypes && f.Allows(typ) {
					t.Errorf("MAPPING %q: %s ingest enqueues %q, which the forwarder does not pay", overrides, s.Name, typ)
				}
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
		// The reversal topics are mapped (to a reversal), so enqueued.
		{"", "", []string{"orders/paid", "customers/create", "refunds/create", "orders/cancelled"}, []string{"orders/create", "orders/updated"}},
		{`{"shopify":{"events":{"refunds/create":""}}}`, "", []string{"orders/cancelled"}, []string{"refunds/create"}},
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

// TestSourcesFilterTheirOwnTypes: the generic HMAC function enqueues, for
// each source, the event types that source maps (HMAC_SOURCES), unless
// EVENT_TYPES says otherwise.
func TestSourcesFilterTheirOwnTypes(t *testing.T) {
	for k, v := range map[string]string{"WEBHOOK_SECRET_ID": "s", "EVENTS_QUEUE_URL": "http://127.0.0.1:1/q",
		"DEAD_LETTER_QUEUE_URL": "http://127.0.0.1:1/d", "ENVELOPE_KEY_ID": "k", "AWS_REGION": "us-east-1",
		"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "HMAC_SOURCES": samples.HmacSources} {
		t.Setenv(k, v)
	}
	h, err := FromEnv(samples.Spec("hmac"))
	if err != nil {
		t.Fatal(err)
	}
	req := func(source string) *events.APIGatewayV2HTTPRequest {
		return &events.APIGatewayV2HTTPRequest{PathParameters: map[string]string{"source": source}}
	}
	for _, c := range []struct {
		source, typ string
		want        bool
	}{{"acme", "order.paid", true}, {"acme", "customer.created", true}, {"acme", "order.refunded", false}, {"other", "order.paid", false}} {
		if got := h.accepts(req(c.source), c.typ); got != c.want {
			t.Errorf("%s %s: accepted %v, want %v", c.source, c.typ, got, c.want)
		}
	}
	t.Setenv("EVENT_TYPES", "order.refunded")
	if h, err = FromEnv(samples.Spec("hmac")); err != nil {
		t.Fatal(err)
	}
	if !h.accepts(req("acme"), "order.refunded") || h.accepts(req("acme"), "order.paid") {
		t.Error("EVENT_TYPES does not replace the sources' own types")
	}
}

// TestNoSecretConfigured: a provider the deployment set no secret for (its
// secret is not created, WEBHOOK_SECRET_ID is empty) still starts, and
// refuses every delivery 401 no_secret_configured, queueing nothing.
func TestNoSecretConfigured(t *testing.T) {
	for k, v := range map[string]string{"WEBHOOK_SECRET_ID": "", "EVENTS_QUEUE_URL": "http://127.0.0.1:1/q",
		"DEAD_LETTER_QUEUE_URL": "http://127.0.0.1:1/d", "ENVELOPE_KEY_ID": "k", "AWS_REGION": "us-east-1",
		"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"} {
		t.Setenv(k, v)
	}
	h, err := FromEnv(samples.Spec("shopify"))
	if err != nil {
		t.Fatalf("FromEnv without a webhook secret: %v", err)
	}
	f := newFixture("shopify")
	f.h.Secrets = h.Secrets
	resp, _ := f.h.Handle(context.Background(), f.request(t, testSecret))
	if resp.StatusCode != 401 || len(f.events.msgs) != 0 || !strings.Contains(f.logs.String(), "no_secret_configured") {
		t.Fatalf("status %d, %d queued, log %s; want 401 no_secret_configured", resp.StatusCode, len(f.events.msgs), f.logs)
	}
}
