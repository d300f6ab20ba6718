package shopify

import (
	"errors"
	"testing"
	"time"

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
