package square

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/mapping"
	"github.com/rsnc-network/resonance-webhook-relay/shared/webhook"
)

// FuzzVerify: no input panics, Verify accepts only the genuine signature
// of URL + body, and Parse fails only with a *ParseError. Seeds:
// testdata/fuzz/FuzzVerify.
func FuzzVerify(f *testing.F) {
	for _, v := range vectors {
		f.Add(v.sig, v.url, []byte(v.body))
	}
	f.Add("", "", []byte(""))
	f.Add("====", "https://example.com/webhook", []byte("{"))
	key := []byte(vectors[2].key)
	f.Fuzz(func(t *testing.T, sig, url string, body []byte) {
		r := &webhook.Request{Header: webhook.Header{HeaderSignature: sig}, Body: body, URL: url}
		err := Provider{}.Verify(r, [][]byte{key}, time.Now())
		if err == nil && (url == "" || sig != Sign(string(key), url, body)) {
			t.Fatalf("accepted %q for url %q and a body it does not sign", sig, url)
		}
		var pe *webhook.ParseError
		if _, err := (Provider{}).Parse(r); err != nil && !errors.As(err, &pe) {
			t.Fatalf("Parse error %T %v is not a ParseError", err, err)
		}
	})
}

// FuzzMap: no body panics the mapper; it fails only with a
// *mapping.ParkError; a reward is keyed on the body's own kind of object,
// the one its type names; a reversal comes only from a refund.* event,
// passes Check, and reverses a payment's key. Seeds: testdata/fuzz/FuzzMap.
func FuzzMap(f *testing.F) {
	for _, name := range []string{"payment-updated-completed.json", "customer-created.json", "payment-updated-approved.json", "refund-updated-completed.json", "refund-created-pending.json"} {
		f.Add(golden(f, name))
	}
	f.Add([]byte(`{"type":"payment.updated","data":{"type":"payment","id":"p","object":{"payment":{"id":"p","status":"COMPLETED","created_at":"2026-03-14T13:41:07Z","amount_money":{"amount":1,"currency":"usd"},"buyer_email_address":"a@b.c"}}}}`))
	cfg := config()
	f.Fuzz(func(t *testing.T, body []byte) {
		d, perr := Provider{}.Parse(&webhook.Request{Body: body})
		if perr != nil {
			return
		}
		env := &envelope.Envelope{Version: 1, Provider: "square", EventType: d.EventType, DeliveryID: d.DeliveryID, ReceivedAt: received, Body: body}
		res, err := Mapper{}.Map(env, cfg)
		var pe *mapping.ParkError
		if err != nil && !errors.As(err, &pe) {
			t.Fatalf("Map error %T %v is not a ParkError", err, err)
		}
		for _, r := range res.Reversals {
			if !strings.HasPrefix(d.EventType, "refund.") || r.Check() != nil || r.Key != "square:payment:"+r.OrderID || len(res.Rewards) != 0 {
				t.Fatalf("event %q reversed %+v", d.EventType, res)
			}
		}
		for _, r := range res.Rewards {
			family, _, _ := strings.Cut(d.EventType, ".")
			if !strings.HasPrefix(r.Key, "square:"+family+":") {
				t.Fatalf("event %q earned key %q", d.EventType, r.Key)
			}
		}
	})
}
