package zupy

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rsnc-network/resonance-webhook-relay/shared/webhook"
)

// The reference's vector.
const (
	vectorSecret = "zupy_test_secret"
	vectorBody   = `{"event":"points.earned","timestamp":"2025-08-26T15:30:00Z"}`
	vectorSig    = "sha256=d91f5510fcae36d52a20882a0c39ece0090ac39eec6eac9c93a66257c158debd"
)

func TestVector(t *testing.T) {
	if got := Sign(vectorSecret, []byte(vectorBody)); got != vectorSig {
		t.Fatalf("Sign = %s, want %s", got, vectorSig)
	}
	for _, c := range []struct {
		name, header string
		want         error
	}{
		{"as signed", vectorSig, nil},
		{"upper-case hex and prefix", "SHA256=" + strings.ToUpper(vectorSig[7:]), nil},
		{"no prefix", vectorSig[7:], webhook.ErrMalformedSignature},
		{"sha1 prefix", "sha1=" + vectorSig[7:], webhook.ErrMalformedSignature},
		{"short", vectorSig[:40], webhook.ErrMalformedSignature},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := &webhook.Request{Header: webhook.Header{HeaderSignature: c.header}, Body: []byte(vectorBody)}
			err := Provider{}.Verify(r, [][]byte{[]byte(vectorSecret)}, time.Now())
			if (c.want == nil) != (err == nil) || (c.want != nil && !errors.Is(err, c.want)) {
				t.Fatalf("Verify = %v, want %v", err, c.want)
			}
		})
	}
}

func TestParse(t *testing.T) {
	for _, c := range []struct {
		name, header, body, wantType, wantID string
	}{
		{"transaction id", "", `{"event":"points.earned","transaction":{"transaction_id":"tx_9"}}`, "points.earned", "points.earned:tx_9"},
		{"numeric transaction id", "", `{"event":"points.earned","transaction":{"transaction_id":12345678901234567890}}`, "points.earned", "points.earned:12345678901234567890"},
		{"header repeats the body's event", "customer.enrolled", `{"event":"customer.enrolled","customer_id":"c1","reference_id":"r1"}`, "customer.enrolled", "customer.enrolled:r1"},
		{"no id: body hash", "", `{"event":"customer.registered"}`, "customer.registered", "sha256:"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := webhook.Header{}
			if c.header != "" {
				h[HeaderEvent] = c.header
			}
			d, err := Provider{}.Parse(&webhook.Request{Header: h, Body: []byte(c.body)})
			if err != nil || d.EventType != c.wantType || !strings.HasPrefix(d.DeliveryID, c.wantID) {
				t.Fatalf("Parse = %+v, %v; want %s %s", d, err, c.wantType, c.wantID)
			}
		})
	}
}

// TestTheBodyNamesTheEvent: X-Zupy-Event is not signed. Before, it decided
// the event (a points.earned body re-sent with X-Zupy-Event:
// customer.registered was forwarded as a signup) and stood in for a body
// without one. Now a header that disagrees parks the delivery at ingest,
// with the body's event on the envelope, and a body without an event is
// parked whatever the header says.
func TestTheBodyNamesTheEvent(t *testing.T) {
	earned := `{"event":"points.earned","timestamp":"2026-11-23T07:05:00Z","customer":{"member_id":"m1"},"transaction":{"transaction_id":"t1","order_value":10}}`
	for _, c := range []struct {
		name, header, body string
		wantType           string
		wantReason         string
	}{
		{"no header", "", earned, "points.earned", ""},
		{"header agrees", "points.earned", earned, "points.earned", ""},
		{"header names a signup", "customer.registered", earned, "points.earned", ReasonEventMismatch},
		{"header names an unmapped event", "coupon.used", earned, "points.earned", ReasonEventMismatch},
		{"header differs in case", "Points.Earned", earned, "points.earned", ReasonEventMismatch},
		{"body without event, header names one", "customer.enrolled", `{"customer_id":"c1","reference_id":"r1"}`, "", webhook.ReasonMissingEventType},
		{"body event not a string, header names one", "points.earned", `{"event":7,"transaction":{"transaction_id":"t1"}}`, "", webhook.ReasonMissingEventType},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := webhook.Header{}
			if c.header != "" {
				h[HeaderEvent] = c.header
			}
			d, err := Provider{}.Parse(&webhook.Request{Header: h, Body: []byte(c.body)})
			var pe *webhook.ParseError
			switch {
			case c.wantReason != "":
				if !errors.As(err, &pe) || pe.Reason != c.wantReason {
					t.Fatalf("Parse = %+v, %v; want a ParseError %s", d, err, c.wantReason)
				}
			case err != nil:
				t.Fatalf("Parse: %v", err)
			}
			if d.EventType != c.wantType {
				t.Fatalf("event type %q, want the body's %q", d.EventType, c.wantType)
			}
			if c.header != "" && c.wantType != "" && d.Headers[HeaderEvent] != c.header {
				t.Fatalf("kept headers %v, want the header as received for the operator", d.Headers)
			}
		})
	}
}
