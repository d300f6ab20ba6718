package loyaltynow

import (
	"errors"
	"testing"
	"time"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/mapping"
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

// FuzzMap: no hook or body panics the mapper; it fails only with a
// *mapping.ParkError; a transaction.reversed reverses exactly the key its
// body's transaction would be paid under as transaction.confirmed, and is
// full only when no amount is found. Seeds: testdata/fuzz/FuzzMap.
func FuzzMap(f *testing.F) {
	f.Add("transaction.reversed", []byte(`{"hook":"transaction.reversed","data":{"transactionId":"t-1","email":"a@b.c","amount":"5.00"},"sequence":9}`))
	f.Add("transaction.reversed", []byte(`{"hook":"transaction.reversed","data":{"transaction":{"id":7}},"sequence":9}`))
	f.Add("transaction.confirmed", []byte(`{"hook":"transaction.confirmed","data":{"transactionId":"t-1","email":"a@b.c","amount":75.5,"currency":"AUD"},"sequence":1}`))
	f.Add("member.added", []byte(`{"hook":"member.added","data":{"memberId":"m-1","email":"a@b.c"},"sequence":2}`))
	cfg := Spec.DefaultConfig()
	cfg.SyntheticEmail = true
	f.Fuzz(func(t *testing.T, hook string, body []byte) {
		mapAs := func(hook string) (mapping.Result, error) {
			env := &envelope.Envelope{Version: envelope.Version, Provider: "loyaltynow", EventType: hook, DeliveryID: "9", ReceivedAt: time.Now(), Body: body}
			return Mapper{}.Map(env, cfg)
		}
		res, err := mapAs(hook)
		var pe *mapping.ParkError
		if err != nil && !errors.As(err, &pe) {
			t.Fatalf("Map error %T %v is not a ParkError", err, err)
		}
		if len(res.Reversals) == 0 {
			return
		}
		r := res.Reversals[0]
		if hook != "transaction.reversed" || len(res.Reversals) != 1 || len(res.Rewards) != 0 || r.Check() != nil || r.Full != (r.Amount == "") {
			t.Fatalf("hook %q reversed %+v", hook, res)
		}
		paid, err := mapAs("transaction.confirmed")
		if err == nil && len(paid.Rewards) == 1 && paid.Rewards[0].Key != r.Key {
			t.Fatalf("reversal keyed %s, its purchase %s", r.Key, paid.Rewards[0].Key)
		}
	})
}

// FuzzParseDate: parseDate reads every string exactly as time.Parse with
// DateLayout does: the same time, or an error for the same strings. Seeds:
// testdata/fuzz/FuzzParseDate.
func FuzzParseDate(f *testing.F) {
	for _, s := range []string{vectorDate, "2024-02-29T23:59:59Z", "2025-02-29T00:00:00Z", "2026-04-31T12:00:00Z",
		"0000-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "2026-11-23T24:00:00Z", "2026-11-23T23:60:00Z", "2026-11-23T23:59:60Z",
		"2026-11-23T08:13:26z", "2026-11-23 08:13:26Z", "+026-11-23T08:13:26Z", "2026-1-023T08:13:26Z", "2026-11-23T08:13:26.5Z",
		"2026-00-10T00:00:00Z", "2026-11-00T00:00:00Z", "٢٠٢٦-11-23T08:13:26Z", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseDate(s)
		want, werr := time.Parse(DateLayout, s)
		if (err == nil) != (werr == nil) || !got.Equal(want) || got.Location() != want.Location() {
			t.Fatalf("parseDate(%q) = %v, %v; time.Parse = %v, %v", s, got, err, want, werr)
		}
	})
}
