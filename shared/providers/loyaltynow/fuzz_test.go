package loyaltynow

import (
	"errors"
	"testing"
	"time"

	"github.com/rsnc-network/resonance-webhook-relay/shared/webhook"
)

// FuzzVerify: no input panics, Verify accepts only the genuine signature of
// body + URL + date, and Parse fails only with a *ParseError. Seeds:
// testdata/fuzz/FuzzVerify.
func FuzzVerify(f *testing.F) {
	f.Add(vectorSig, vectorDate, []byte(vectorBody))
	f.Add("", "2025-13-45T99:99:99Z", []byte(`{"hook":"x","sequence":{}}`))
	f.Add("AAAA", "", []byte(`{"sequence":"1"}`))
	now, _ := time.Parse(DateLayout, vectorDate)
	f.Fuzz(func(t *testing.T, sig, date string, body []byte) {
		r := &webhook.Request{Header: webhook.Header{HeaderSignature: sig, HeaderRequestDate: date}, Body: body, URL: vectorURL}
		if err := (Provider{}).Verify(r, [][]byte{[]byte(vectorSecret)}, now); err == nil {
			at, perr := time.Parse(DateLayout, date)
			if wantDate, want := Sign(vectorSecret, body, vectorURL, at); perr != nil || wantDate != date || want != sig {
				t.Fatalf("accepted %q at %q for a body it does not sign", sig, date)
			}
		}
		var pe *webhook.ParseError
		if _, err := (Provider{}).Parse(r); err != nil && !errors.As(err, &pe) {
			t.Fatalf("Parse error %T %v is not a ParseError", err, err)
		}
	})
}
