package stripe

import (
	"bytes"
	"encoding/json"
	"errors"
	"hash"
	"strings"
	"testing"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/mapping"
	"github.com/rsnc-network/resonance-webhook-relay/shared/spec"
	"github.com/rsnc-network/resonance-webhook-relay/shared/webhook"
)

// FuzzVerify: no header or body panics, and whatever Verify accepts carries
// a v1 equal to the genuine MAC of its own timestamp and body. Seeds:
// testdata/fuzz/FuzzVerify.
func FuzzVerify(f *testing.F) {
	f.Add("t=1700000000,v1="+vectorV1, []byte(vectorBody))
	f.Add("t=1700000000,v1="+vectorV1+",v1=00,v0=ff", []byte(vectorBody))
	f.Add("t=,v1=", []byte{})
	f.Add("t=-99999999999999999999,v1=zz", []byte("{}"))
	f.Fuzz(func(t *testing.T, header string, body []byte) {
		r := &webhook.Request{Header: webhook.Header{HeaderSignature: header}, Body: body}
		if err := (Provider{}).Verify(r, [][]byte{[]byte(vectorSecret)}, vectorTime); err == nil {
			var buf [8][32]byte
			ts, n, perr := parseHeader(header, &buf)
			sigs := buf[:n]
			if perr != nil {
				t.Fatalf("accepted a header parseHeader rejects: %v", perr)
			}
			want := webhook.Sum([]byte(vectorSecret), func(h hash.Hash) { h.Write([]byte(ts + ".")); h.Write(body) })
			genuine := false
			for _, s := range sigs {
				genuine = genuine || bytes.Equal(s[:], want)
			}
			if !genuine {
				t.Fatalf("accepted %q without the genuine v1", header)
			}
		}
		var pe *webhook.ParseError
		if _, err := (Provider{}).Parse(r); err != nil && !errors.As(err, &pe) {
			t.Fatalf("Parse error %T %v is not a ParseError", err, err)
		}
	})
}

// FuzzMap: no body panics the mapper, a failure is always a ParkError, and
// every reward it makes under the default configuration is keyed as a
// payment or a customer, with a non-negative decimal amount, and never comes
// from a checkout session that is not in payment mode; every reversal passes
// Check, is keyed as a payment, and comes only from charge.refunded or
// charge.dispute.created. Seeds: testdata/fuzz/FuzzMap.
func FuzzMap(f *testing.F) {
	f.Add([]byte(`{"id":"evt_1","type":"charge.succeeded","livemode":true,"data":{"object":{"id":"ch_1","payment_intent":"pi_1","captured":true,"amount":4999,"amount_captured":4999,"currency":"usd","billing_details":{"email":"a@x.io"}}}}`))
	f.Add([]byte(`{"id":"evt_2","type":"checkout.session.completed","livemode":true,"data":{"object":{"id":"cs_1","mode":"subscription","payment_status":"paid","payment_intent":null,"amount_total":900,"currency":"usd","customer_details":{"email":"a@x.io"}}}}`))
	f.Add([]byte(`{"id":"evt_3","type":"customer.created","livemode":true,"data":{"object":{"id":"cus_1","email":"a@x.io"}}}`))
	f.Add([]byte(`{"id":"evt_4","type":"charge.refunded","livemode":true,"data":{"object":{"id":"ch_1","payment_intent":"pi_1","captured":true,"amount":4999,"amount_captured":4999,"amount_refunded":1000,"refunded":false,"currency":"usd"}}}`))
	f.Add([]byte(`{"id":"evt_5","type":"charge.dispute.created","livemode":true,"data":{"object":{"id":"dp_1","charge":"ch_1","payment_intent":"pi_1","amount":4999,"currency":"usd"}}}`))
	cfgs, err := mapping.Load(spec.Defaults(&Spec), "")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		env := &envelope.Envelope{Version: envelope.Version, Provider: "stripe", EventType: "charge.succeeded", DeliveryID: "evt", Body: body}
		res, err := Mapper{}.Map(env, cfgs["stripe"])
		var pe *mapping.ParkError
		if err != nil {
			if !errors.As(err, &pe) {
				t.Fatalf("error %T %v is not a ParkError", err, err)
			}
			return
		}
		if len(res.Rewards) > 1 || len(res.Reversals) > 1 || len(res.Rewards)+len(res.Reversals) > 1 {
			t.Fatalf("%d rewards and %d reversals from one event", len(res.Rewards), len(res.Reversals))
		}
		for _, r := range res.Reversals {
			var ev struct {
				Type string `json:"type"`
			}
			_ = json.Unmarshal(body, &ev)
			if err := r.Check(); err != nil || r.Key != "stripe:payment:"+r.OrderID || r.OrderID == "" ||
				(ev.Type != "charge.refunded" && ev.Type != "charge.dispute.created") {
				t.Fatalf("%s reversed %+v (Check: %v)", ev.Type, r, err)
			}
		}
		for _, r := range res.Rewards {
			if strings.HasPrefix(r.Key, "stripe:customer:") {
				continue
			}
			if !strings.HasPrefix(r.Key, "stripe:payment:") || len(r.Key) == len("stripe:payment:") {
				t.Fatalf("reward key %q", r.Key)
			}
			v, _ := r.Event.Metadata["order_value"].(json.Number)
			if _, ok := mapping.Decimal(string(v)); !ok || strings.HasPrefix(string(v), "-") {
				t.Fatalf("order_value %q", v)
			}
			var ev struct {
				Type string `json:"type"`
				Data struct {
					Object struct {
						Mode string `json:"mode"`
					} `json:"object"`
				} `json:"data"`
			}
			_ = json.Unmarshal(body, &ev)
			if strings.HasPrefix(ev.Type, "checkout.session.") && ev.Data.Object.Mode != "payment" {
				t.Fatalf("a %q session earned %s", ev.Data.Object.Mode, r.Key)
			}
		}
	})
}
