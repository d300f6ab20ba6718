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
