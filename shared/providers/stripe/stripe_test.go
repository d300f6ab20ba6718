package stripe

import (
	"errors"
	"testing"
	"time"

	"github.com/rsnc-network/resonance-webhook-relay/shared/webhook"
)

// The reference's vector.
const (
	vectorSecret = "whsec_test_secret"
	vectorBody   = `{"id":"evt_test_webhook","object":"event"}`
	vectorV1     = "d95c6b7477fbd7e9f90b1b0ef5f9c7ac25abca5382460e0d988c2b2a5b71b990"
)

var vectorTime = time.Unix(1700000000, 0)

func TestVector(t *testing.T) {
	if got, want := Sign(vectorTime, []byte(vectorBody), vectorSecret), "t=1700000000,v1="+vectorV1; got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
	other := "0000000000000000000000000000000000000000000000000000000000000000"
	for _, c := range []struct {
		name   string
		header string
		now    time.Time
		want   error
	}{
		{"as signed", "t=1700000000,v1=" + vectorV1, vectorTime, nil},
		{"with spaces and a v0", "t=1700000000, v1=" + vectorV1 + ", v0=abc", vectorTime, nil},
		{"second of two v1 matches", "t=1700000000,v1=" + other + ",v1=" + vectorV1, vectorTime, nil},
		{"only v0", "t=1700000000,v0=" + vectorV1, vectorTime, webhook.ErrMalformedSignature},
		{"undecodable v1 only", "t=1700000000,v1=zz", vectorTime, webhook.ErrMalformedSignature},
		{"no timestamp", "v1=" + vectorV1, vectorTime, webhook.ErrMalformedSignature},
		{"two timestamps", "t=1700000000,t=1700000001,v1=" + vectorV1, vectorTime, webhook.ErrMalformedSignature},
		{"timestamp changed", "t=1700000001,v1=" + vectorV1, vectorTime, webhook.ErrSignatureMismatch},
		{"301 s later", "t=1700000000,v1=" + vectorV1, vectorTime.Add(301 * time.Second), webhook.ErrTimestampOutOfRange},
		{"300 s later", "t=1700000000,v1=" + vectorV1, vectorTime.Add(300 * time.Second), nil},
		{"301 s earlier (clock skew)", "t=1700000000,v1=" + vectorV1, vectorTime.Add(-301 * time.Second), webhook.ErrTimestampOutOfRange},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := &webhook.Request{Header: webhook.Header{HeaderSignature: c.header}, Body: []byte(vectorBody)}
			err := Provider{}.Verify(r, [][]byte{[]byte("whsec_new"), []byte(vectorSecret)}, c.now)
			if (c.want == nil) != (err == nil) || (c.want != nil && !errors.Is(err, c.want)) {
				t.Fatalf("Verify = %v, want %v", err, c.want)
			}
		})
	}
}

func TestParse(t *testing.T) {
	for _, c := range []struct {
		body, wantType, wantID, wantReason string
	}{
		{`{"id":"evt_1","type":"invoice.paid","livemode":true}`, "invoice.paid", "evt_1", ""},
		{`{"id":"evt_1"}`, "", "", webhook.ReasonMissingEventType},
		{`{"type":"invoice.paid"}`, "", "", webhook.ReasonMissingDeliveryID},
		{`{"id":1,"type":"invoice.paid"}`, "", "", webhook.ReasonMissingDeliveryID},
		{`[]`, "", "", webhook.ReasonInvalidJSON},
	} {
		d, err := Provider{}.Parse(&webhook.Request{Body: []byte(c.body)})
		var pe *webhook.ParseError
		if c.wantReason != "" {
			if !errors.As(err, &pe) || pe.Reason != c.wantReason {
				t.Errorf("Parse(%s) err = %v, want %s", c.body, err, c.wantReason)
			}
			continue
		}
		if err != nil || d.EventType != c.wantType || d.DeliveryID != c.wantID || d.Headers["livemode"] != "true" {
			t.Errorf("Parse(%s) = %+v, %v", c.body, d, err)
		}
	}
}
