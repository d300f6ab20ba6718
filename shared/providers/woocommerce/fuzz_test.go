package woocommerce

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/mapping"
	"github.com/rsnc-network/resonance-webhook-relay/shared/webhook"
)

// FuzzVerify: no input panics; Verify accepts only the genuine signature,
// and calls a request a ping only when it is unsigned and exactly
// webhook_id=<digits>; Parse fails only with a *ParseError. Seeds:
// testdata/fuzz/FuzzVerify.
func FuzzVerify(f *testing.F) {
	for _, v := range vectors[:2] {
		f.Add(v.sig, "order.updated", []byte(v.body))
	}
	f.Add("", "", []byte("webhook_id=12"))
	f.Add("", "order.updated", []byte("webhook_id=12&x=1"))
	f.Add("====", "order.updated", []byte("{"))
	secret := []byte(vectors[1].secret)
	f.Fuzz(func(t *testing.T, sig, topic string, body []byte) {
		r := &webhook.Request{Header: webhook.Header{HeaderSignature: sig, HeaderTopic: topic, HeaderDeliveryID: "d"}, Body: body}
		err := Provider{}.Verify(r, [][]byte{secret}, time.Now())
		switch {
		case err == nil && sig != Sign(string(secret), body):
			t.Fatalf("accepted %q for a body it does not sign", sig)
		case errors.Is(err, ErrPing) && (sig != "" || !strings.HasPrefix(string(body), "webhook_id=") || strings.ContainsAny(string(body[11:]), "{}\"&=")):
			t.Fatalf("called %q signed %q a ping", body, sig)
		}
		var pe *webhook.ParseError
		if _, err := (Provider{}).Parse(r); err != nil && !errors.As(err, &pe) {
			t.Fatalf("Parse error %T %v is not a ParseError", err, err)
		}
	})
}

// FuzzMap: no body or topic panics the mapper; it fails only with a
// *mapping.ParkError; a reward's key is of the topic's own kind and the same
// under every topic of that kind (the topic is not signed); reversals pass
// Check, come only from an order topic, reverse the order's own key, and
// are the same under every order topic. Seeds: testdata/fuzz/FuzzMap.
func FuzzMap(f *testing.F) {
	for _, name := range []string{"order-updated-processing.json", "customer-created.json", "order-created-pending.json", "order-updated-partially-refunded.json", "order-updated-refunded.json"} {
		f.Add("order.updated", golden(f, name))
		f.Add("customer.created", golden(f, name))
	}
	cfg := config()
	cfg.Events["customer.updated"] = "signup"
	f.Fuzz(func(t *testing.T, topic string, body []byte) {
		mapAs := func(topic string) (mapping.Result, error) {
			env := &envelope.Envelope{Version: 1, Provider: "woocommerce", EventType: topic, DeliveryID: "d", ReceivedAt: received, Body: body}
			return Mapper{}.Map(env, cfg)
		}
		res, err := mapAs(topic)
		var pe *mapping.ParkError
		if err != nil && !errors.As(err, &pe) {
			t.Fatalf("Map error %T %v is not a ParkError", err, err)
		}
		if len(res.Reversals) > 0 {
			if !strings.HasPrefix(topic, "order.") {
				t.Fatalf("topic %q reversed %+v", topic, res.Reversals)
			}
			for _, r := range res.Reversals {
				if r.Check() != nil || !strings.HasSuffix(r.Key, ":order:"+r.OrderID) || (len(res.Rewards) > 0 && res.Rewards[0].Key != r.Key) {
					t.Fatalf("topic %q reversed %+v beside %+v", topic, r, res.Rewards)
				}
			}
			for _, o := range []string{"order.created", "order.updated"} {
				if r, err := mapAs(o); err != nil || !reflect.DeepEqual(r.Reversals, res.Reversals) {
					t.Fatalf("topic %q reversed %+v, topic %q %+v, %v", topic, res.Reversals, o, r, err)
				}
			}
		}
		if len(res.Rewards) == 0 {
			return
		}
		key := res.Rewards[0].Key
		var other []string
		switch {
		case strings.Contains(key, ":order:") && strings.HasPrefix(topic, "order."):
			other = []string{"order.created", "order.updated"}
		case strings.Contains(key, ":customer:") && strings.HasPrefix(topic, "customer."):
			other = []string{"customer.created", "customer.updated"}
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
