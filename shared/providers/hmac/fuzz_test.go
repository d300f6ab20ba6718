package hmac

import (
	"errors"
	"strings"
	"testing"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/mapping"
	"github.com/rsnc-network/resonance-webhook-relay/shared/resonance"
	"github.com/rsnc-network/resonance-webhook-relay/shared/webhook"
)

// FuzzVerify: no input panics; the genuine signature of any body verifies;
// Verify accepts a fuzzed signature only when it is the MAC of what the
// source signs (in either case of hex); Parse fails only with a
// *ParseError. Sources: acme (hex SHA-512 over timestamp "." body) and
// github (hex SHA-256 of the body, "sha256="). Seeds:
// testdata/fuzz/FuzzVerify.
func FuzzVerify(f *testing.F) {
	f.Add(false, "", "", []byte(`{"type":"order.paid"}`))
	f.Add(true, "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17", "", []byte("Hello, World!"))
	f.Add(false, strings.Repeat("0", 128), "1773495670", []byte(`{"type":"x","Type":"y"}`))
	srcs := sources(f)
	p := Provider{Sources: srcs}
	keys := map[string]string{"acme": acmeSecret, "github": "It's a Secret to Everybody"}
	f.Fuzz(func(t *testing.T, github bool, sig, ts string, body []byte) {
		source := "acme"
		if github {
			source = "github"
		}
		src, secret := srcs[source], [][]byte{[]byte(keys[source])}
		h, err := Sign(src, keys[source], SignInput{Body: body, Timestamp: acmeNow})
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Verify(&webhook.Request{Header: webhook.Header(h), Body: body, Source: source}, secret, acmeNow); err != nil {
			t.Fatalf("the genuine signature does not verify: %v", err)
		}
		r := &webhook.Request{Header: webhook.Header{src.Header: sig, "x-acme-timestamp": ts}, Body: body, Source: source}
		if err := p.Verify(r, secret, acmeNow); err == nil {
			want := h[src.Header] // the body alone: the fuzzed timestamp is not read
			if !github {
				want = hexString(src.mac(nil, secret[0], ts, "", body))
			}
			if src.Prefix+strings.ToLower(strings.TrimPrefix(sig, src.Prefix)) != want {
				t.Fatalf("accepted %q, not the MAC of what %s signs", sig, source)
			}
		}
		if _, err := p.Parse(r); err != nil {
			if _, ok := errors.AsType[*webhook.ParseError](err); !ok {
				t.Fatalf("Parse error %T %v is not a ParseError", err, err)
			}
		}
	})
}

func hexString(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

// FuzzParseSources: no document panics; every source it accepts signs and
// verifies its own deliveries and maps at least one event type. Seeds:
// testdata/fuzz/FuzzParseSources.
func FuzzParseSources(f *testing.F) {
	f.Add(testSources)
	f.Add(mappingSources)
	f.Add(`{"a": {"header": "x", "eventType": "t", "events": {"e": "signup"}, "email": "e", "occurredAt": "at", "require": {"s": [1, "x", true, null]}}}`)
	f.Add(`{"a": {"header": "x", "signed": "timestamp+body", "timestampHeader": "y", "separator": "", "tolerance": "1ns", "eventType": "t", "events": {"e": "signup"}, "email": "e"}}`)
	f.Add(`{"a": null}`)
	f.Fuzz(func(t *testing.T, doc string) {
		srcs, err := ParseSources(doc)
		if err != nil {
			return
		}
		p := Provider{Sources: srcs}
		for name, src := range srcs {
			if len(srcs.EventTypes(name)) == 0 {
				t.Fatalf("source %s maps nothing", name)
			}
			body := []byte(`{"t":"e"}`)
			h, err := Sign(src, "secret", SignInput{Body: body, Timestamp: acmeNow, URL: "https://relay.example/webhooks/hmac/" + name})
			if err != nil {
				t.Fatalf("Sign for %s: %v", name, err)
			}
			r := &webhook.Request{Header: webhook.Header(h), Body: body, Source: name, URL: "https://relay.example/webhooks/hmac/" + name}
			if err := p.Verify(r, [][]byte{[]byte("secret")}, acmeNow); err != nil {
				t.Fatalf("source %s does not verify its own signature: %v", name, err)
			}
		}
	})
}

// FuzzMap: no body panics the mapper; it fails only with a
// *mapping.ParkError; a reward is keyed under its source, on the kind of
// key its Resonance event takes, with an amount mapping.Decimal accepts.
// Seeds: testdata/fuzz/FuzzMap.
func FuzzMap(f *testing.F) {
	f.Add("acme", `{"type":"order.paid","livemode":true,"customer":{"email":"a@example.com"},"order":{"id":"A-1","total":100,"currency":"USD","status":"paid"}}`)
	f.Add("shop", `{"id":"o-1","topic":"orders/paid","created_at":"2026-03-14T13:41:10Z","financial_status":"paid","total_price":"10.00","email":"a@b.c"}`)
	f.Add("pts", `{"event":"review.posted","at":1773495670,"user":{"email":"ana@example.com"},"data":{"id":"rev-9"}}`)
	f.Add("acme", `{"type":"customer.created","customer":{"id":"c","email":"a@b.c"},"Customer":{}}`)
	srcs := mappingSrcs(f)
	f.Fuzz(func(t *testing.T, source, body string) {
		src := srcs[source]
		if src == nil {
			return
		}
		d, err := Provider{Sources: srcs}.Parse(&webhook.Request{Body: []byte(body), Source: source})
		if err != nil {
			return
		}
		env := &envelope.Envelope{Version: 1, Provider: ProviderName(source), EventType: d.EventType, ReceivedAt: received, Body: []byte(body)}
		res, err := Mapper{Sources: srcs}.Map(env, &mapping.Config{})
		if err != nil {
			if _, ok := errors.AsType[*mapping.ParkError](err); !ok {
				t.Fatalf("Map error %T %v is not a ParkError", err, err)
			}
			return
		}
		for _, r := range res.Rewards {
			kind := src.Events[d.EventType]
			want := map[string]string{resonance.Purchase: "order", resonance.Signup: "customer"}[kind]
			if want == "" {
				want = kind
			}
			if r.Event.EventType != kind || !strings.HasPrefix(r.Key, "hmac:"+source+":"+want+":") || len(r.Key) == len("hmac:"+source+":"+want+":") {
				t.Fatalf("%s event %q earned %s %q", source, d.EventType, r.Event.EventType, r.Key)
			}
			if kind == resonance.Purchase {
				v, _ := r.Event.Metadata["order_value"].(interface{ String() string })
				if v == nil {
					t.Fatalf("purchase without an amount: %v", r.Event.Metadata)
				}
				if _, ok := mapping.Decimal(v.String()); !ok {
					t.Fatalf("amount %q", v.String())
				}
			}
		}
	})
}
