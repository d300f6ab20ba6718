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
		{"header names the event", "customer.enrolled", `{"customer_id":"c1","reference_id":"r1"}`, "customer.enrolled", "customer.enrolled:r1"},
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
	_, err := Provider{}.Parse(&webhook.Request{Header: webhook.Header{}, Body: []byte(`{"x":1}`)})
	var pe *webhook.ParseError
	if !errors.As(err, &pe) || pe.Reason != webhook.ReasonMissingEventType {
		t.Fatalf("Parse without event = %v", err)
	}
}
