package ingest

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/providers/shopify"
)

// TestUnsignedHeaders: headers the providers do not sign are refused
// rather than obeyed where they would decide something. A Shopify delivery
// without its shop domain, or for a shop the deployment does not serve, is
// a 401 (sender_not_allowed); a Zupy delivery whose X-Zupy-Event disagrees
// with its signed body is parked (event_mismatch) under the body's event.
func TestUnsignedHeaders(t *testing.T) {
	for _, c := range []struct {
		name         string
		provider     string
		setup        func(f *fixture)
		status       int
		events, dead int
		reason       string
	}{
		{"shopify, any shop", "shopify", nil, 200, 1, 0, ""},
		{"shopify, pinned shop", "shopify", func(f *fixture) { f.h.Provider = shopify.Provider{ShopDomains: []string{"s.myshopify.com"}} }, 200, 1, 0, ""},
		{"shopify, shop not pinned", "shopify", func(f *fixture) { f.h.Provider = shopify.Provider{ShopDomains: []string{"other.myshopify.com"}} }, 401, 0, 0, "sender_not_allowed"},
		{"shopify, no shop header", "shopify", func(f *fixture) { delete(f.headers, "x-shopify-shop-domain") }, 401, 0, 0, "sender_not_allowed"},
		{"zupy, header agrees", "zupy", func(f *fixture) { f.headers = map[string]string{"x-zupy-event": "points.earned"} }, 200, 1, 0, ""},
		{"zupy, header disagrees", "zupy", func(f *fixture) { f.headers = map[string]string{"x-zupy-event": "customer.registered"} }, 200, 0, 1, "event_mismatch"},
		{"zupy, body without event", "zupy", func(f *fixture) {
			f.body, f.headers = []byte(`{"customer_id":"c1","reference_id":"r1"}`), map[string]string{"x-zupy-event": "customer.enrolled"}
		}, 200, 0, 1, "missing_event_type"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(c.provider)
			f.headers = mapsClone(f.headers)
			if c.setup != nil {
				c.setup(f)
			}
			resp, _ := f.h.Handle(context.Background(), f.request(t, testSecret))
			if resp.StatusCode != c.status || len(f.events.msgs) != c.events || len(f.dead.msgs) != c.dead {
				t.Fatalf("status %d, %d enqueued, %d parked; want %d, %d, %d", resp.StatusCode, len(f.events.msgs), len(f.dead.msgs), c.status, c.events, c.dead)
			}
			var line map[string]any
			if err := json.Unmarshal(f.logs.Bytes(), &line); err != nil {
				t.Fatal(err)
			}
			if c.reason != "" && line["reason"] != c.reason {
				t.Fatalf("logged reason %v, want %s", line["reason"], c.reason)
			}
			if c.dead > 0 {
				if f.dead.msgs[0].attrs["reason"] != c.reason {
					t.Fatalf("parked with %v, want reason %s", f.dead.msgs[0].attrs, c.reason)
				}
				env, err := envelope.Decode([]byte(f.dead.msgs[0].body))
				if err != nil {
					t.Fatal(err)
				}
				if c.reason == "event_mismatch" && env.EventType != "points.earned" {
					t.Fatalf("parked envelope names %q, want the body's points.earned", env.EventType)
				}
			}
		})
	}
}

func mapsClone(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
