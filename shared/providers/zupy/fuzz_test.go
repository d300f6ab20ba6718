package zupy

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rsnc-network/resonance-webhook-relay/shared/webhook"
)

// FuzzVerify: no input panics, Verify accepts only the genuine signature, and
// Parse fails only with a *ParseError. Seeds: testdata/fuzz/FuzzVerify.
func FuzzVerify(f *testing.F) {
	f.Add(vectorSig, "", []byte(vectorBody))
	f.Add("sha256=", "points.earned", []byte(`{"transaction":{"transaction_id":null}}`))
	f.Add("SHA256=ZZ", "", []byte(`{"reference_id":1e400}`))
	f.Fuzz(func(t *testing.T, sig, event string, body []byte) {
		r := &webhook.Request{Header: webhook.Header{HeaderSignature: sig, HeaderEvent: event}, Body: body}
		err := Provider{}.Verify(r, [][]byte{[]byte(vectorSecret)}, time.Now())
		if err == nil && !strings.EqualFold(sig, Sign(vectorSecret, body)) {
			t.Fatalf("accepted %q for a body it does not sign", sig)
		}
		var pe *webhook.ParseError
		if _, err := (Provider{}).Parse(r); err != nil && !errors.As(err, &pe) {
			t.Fatalf("Parse error %T %v is not a ParseError", err, err)
		}
	})
}
