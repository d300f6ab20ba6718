package shopify

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/mapping"
	"github.com/rsnc-network/resonance-webhook-relay/shared/spec"
	"github.com/rsnc-network/resonance-webhook-relay/shared/webhook"
)

// FuzzVerify: no input panics, Verify accepts only the genuine signature, and
// Parse fails only with a *ParseError. Seeds: testdata/fuzz/FuzzVerify.
func FuzzVerify(f *testing.F) {
	f.Add(vectorSig, "orders/paid", []byte(vectorBody))
	f.Add("", "", []byte(""))
	f.Add("====", "orders/paid", []byte("{"))
	f.Fuzz(func(t *testing.T, sig, topic string, body []byte) {
		r := &webhook.Request{Header: webhook.Header{HeaderHMAC: sig, HeaderTopic: topic, HeaderEventID: "e"}, Body: body}
		err := Provider{}.Verify(r, [][]byte{[]byte(vectorSecret)}, time.Now())
		if err == nil && sig != Sign(vectorSecret, body) {
			t.Fatalf("accepted %q for a body it does not sign", sig)
		}
		var pe *webhook.ParseError
		if _, err := (Provider{}).Parse(r); err != nil && !errors.As(err, &pe) {
			t.Fatalf("Parse error %T %v is not a ParseError", err, err)
		}
	})
}

// FuzzMap: no body or topic panics the mapper; it fails only with a
// *mapping.ParkError; a reward's key is the body's order or customer id,
// of the topic's own kind, and the same under every topic of that kind
// (the topic is not signed); a reversal passes Check, names an order, and
// is what its body proves: a refund only under refunds/create, a
// cancellation only of a body whose cancelled_at is set, and never the
// same body as both. Seeds: testdata/fuzz/FuzzMap.
func FuzzMap(f *testing.F) {
	for _, name := range []string{"orders-paid.json", "customers-create.json", "orders-create-pending.json", "refunds-create.json", "orders-cancelled.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add("orders/paid", b)
		f.Add("customers/create", b)
		f.Add("refunds/create", b)
		f.Add("orders/cancelled", b)
	}
	f.Add("orders/paid", []byte(`{"id":1,"financial_status":"paid","created_at":"2026-03-14T09:41:07-04:00","total_price":"1.00","email":"a@b.c"}`))
	cfgs, err := mapping.Load(spec.Defaults(&Spec), `{"shopify":{"events":{"orders/create":"purchase","customers/update":"signup","checkouts/create":"purchase"}}}`)
	if err != nil {
		f.Fatal(err)
	}
	cfg := cfgs["shopify"]
	f.Fuzz(func(t *testing.T, topic string, body []byte) {
		mapAs := func(topic string) (mapping.Result, error) {
			env := &envelope.Envelope{Version: 1, Provider: "shopify", EventType: topic, DeliveryID: "d", ReceivedAt: received, Body: body}
			return Mapper{}.Map(env, cfg)
		}
		res, err := mapAs(topic)
		var pe *mapping.ParkError
		if err != nil && !errors.As(err, &pe) {
			t.Fatalf("Map error %T %v is not a ParkError", err, err)
		}
		if len(res.Reversals) > 0 {
			checkReversal(t, topic, body, res, mapAs)
			return
		}
		if len(res.Rewards) == 0 {
			return
		}
		key := res.Rewards[0].Key
		var other []string
		switch {
		case strings.HasPrefix(key, "shopify:order:") && !strings.HasPrefix(topic, "customers/"):
			other = []string{"orders/paid", "orders/create", "checkouts/create"}
		case strings.HasPrefix(key, "shopify:customer:") && !strings.HasPrefix(topic, "orders/"):
			other = []string{"customers/create", "customers/update", "checkouts/create"}
		default:
			t.Fatalf("topic %q earned key %q", topic, key)
		}
		for _, o := range other {
			if r, err := mapAs(o); err != nil || len(r.Rewards) != 1 || r.Rewards[0].Key != key {
				t.Fatalf("topic %q earned %q, topic %q earned %+v, %v", topic, key, o, r, err)
			}
		}
	})
}

func checkReversal(t *testing.T, topic string, body []byte, res mapping.Result, mapAs func(string) (mapping.Result, error)) {
	t.Helper()
	r := res.Reversals[0]
	if len(res.Reversals) != 1 || len(res.Rewards) != 0 {
		t.Fatalf("topic %q: %+v, want one reversal alone", topic, res)
	}
	if err := r.Check(); err != nil {
		t.Fatalf("topic %q: reversal %+v fails Check: %v", topic, r, err)
	}
	if !strings.HasPrefix(r.Key, "shopify:order:") || r.Key != "shopify:order:"+r.OrderID {
		t.Fatalf("topic %q: reversal keyed %q for order %q", topic, r.Key, r.OrderID)
	}
	var b struct {
		CancelledAt any `json:"cancelled_at"`
	}
	_ = json.Unmarshal(body, &b)
	other := "orders/cancelled"
	switch topic {
	case "refunds/create":
		if r.Reason != mapping.ReverseRefund || r.Full || r.Total {
			t.Fatalf("a refund reversed as %+v", r)
		}
	case "orders/cancelled":
		if s, _ := b.CancelledAt.(string); s == "" || r.Reason != mapping.ReverseCancellation || !r.Full || r.ID != "cancel:"+r.OrderID {
			t.Fatalf("an order with cancelled_at %v reversed as %+v", b.CancelledAt, r)
		}
		other = "refunds/create"
	default:
		t.Fatalf("topic %q, not mapped to a reversal, reversed %+v", topic, r)
	}
	if r2, _ := mapAs(other); len(r2.Reversals) != 0 {
		t.Fatalf("one body reversed under %s (%+v) and under %s (%+v)", topic, r, other, r2.Reversals[0])
	}
}
