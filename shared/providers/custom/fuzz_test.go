package custom

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"hash"
	"slices"
	"strings"
	"testing"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/mapping"
	"github.com/rsnc-network/resonance-webhook-relay/shared/webhook"
)

// FuzzVerify: no input panics, Verify accepts only a header holding the
// genuine MAC of id.timestamp.body, and Parse fails only with a *ParseError.
// Seeds: testdata/fuzz/FuzzVerify.
func FuzzVerify(f *testing.F) {
	f.Add(vectorID, vectorTS, vectorSig, []byte(vectorBody))
	f.Add("id", "1614265330", "v1, v1,,", []byte(`{"type":1}`))
	f.Add("", "-1", "v1a,AAAA", []byte(`{"id":"x","type":"purchase"}`))
	f.Fuzz(func(t *testing.T, id, ts, sig string, body []byte) {
		r := &webhook.Request{Header: webhook.Header{HeaderID: id, HeaderTimestamp: ts, HeaderSignature: sig}, Body: body}
		if err := (Provider{}).Verify(r, [][]byte{[]byte(vectorSecret)}, vectorTime); err == nil {
			want := webhook.Sum(Key([]byte(vectorSecret)), func(h hash.Hash) { h.Write([]byte(id + "." + ts + ".")); h.Write(body) })
			genuine := false
			for _, part := range strings.Fields(sig) {
				b, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(part, "v1,"))
				genuine = genuine || strings.HasPrefix(part, "v1,") && bytes.Equal(b, want)
			}
			if !genuine {
				t.Fatalf("accepted %q without the genuine signature", sig)
			}
		}
		var pe *webhook.ParseError
		if _, err := (Provider{}).Parse(r); err != nil && !errors.As(err, &pe) {
			t.Fatalf("Parse error %T %v is not a ParseError", err, err)
		}
	})
}

// FuzzMap: no body panics the mapper; it fails only with a
// *mapping.ParkError; a refund is never a reward, and its reversal passes
// Check and carries custom:<data.purchase_id>, the key a purchase with that
// id is paid under. Seeds: testdata/fuzz/FuzzMap.
func FuzzMap(f *testing.F) {
	f.Add([]byte(`{"id":"order-1001","type":"purchase","customerEmail":"a@b.c","data":{"order_value":42.5}}`))
	f.Add([]byte(`{"id":"r-1","type":"refund","data":{"purchase_id":"order-1001","amount":"10.00","currency":"EUR"}}`))
	f.Add([]byte(`{"id":7,"type":"refund","data":{"purchase_id":1001}}`))
	cfg := Spec.DefaultConfig()
	f.Fuzz(func(t *testing.T, body []byte) {
		env := &envelope.Envelope{Version: envelope.Version, Provider: "custom", EventType: "x", DeliveryID: "msg_1", Body: body}
		res, err := Mapper{}.Map(env, cfg)
		var pe *mapping.ParkError
		if err != nil && !errors.As(err, &pe) {
			t.Fatalf("Map error %T %v is not a ParkError", err, err)
		}
		for _, r := range res.Rewards {
			if r.Event.EventType == TypeRefund || r.Event.EventType == mapping.KindReversal {
				t.Fatalf("a %s earned a reward: %+v", r.Event.EventType, r)
			}
		}
		if len(res.Reversals) == 0 {
			return
		}
		r := res.Reversals[0]
		var ev struct {
			Data struct {
				PurchaseID mapping.ID `json:"purchase_id"`
			} `json:"data"`
		}
		if err := json.Unmarshal(body, &ev); err != nil || len(res.Reversals) != 1 || len(res.Rewards) != 0 || r.Check() != nil ||
			r.Key != "custom:"+string(ev.Data.PurchaseID) || r.Full != (r.Amount == "") {
			t.Fatalf("reversed %+v (purchase_id %q, %v)", res, ev.Data.PurchaseID, err)
		}
	})
}

// FuzzFields: nextField, called until nothing is left, splits a signature
// header exactly as strings.Fields does (any Unicode white space, invalid
// UTF-8 kept as it is). Seeds: testdata/fuzz/FuzzFields.
func FuzzFields(f *testing.F) {
	for _, s := range []string{vectorSig, "  v1,a \t v1,b\n", "v1,a\u0085v1,b\u00a0v1,c\u2003", "\xffv1, \xc2", "", "   "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var got []string
		for rest := s; ; {
			var part string
			if part, rest = nextField(rest); part == "" {
				break
			}
			got = append(got, part)
		}
		if want := strings.Fields(s); !slices.Equal(got, want) {
			t.Fatalf("nextField splits %q into %q, strings.Fields into %q", s, got, want)
		}
	})
}
