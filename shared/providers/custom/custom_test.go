package custom

import (
	"errors"
	"testing"
	"time"

	"github.com/rsnc-network/resonance-webhook-relay/shared/webhook"
)

// The Standard Webhooks specification's published vector: what its libraries
// in every language produce, so a sender using one of them is accepted.
const (
	vectorSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vectorID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vectorTS     = "1614265330"
	vectorBody   = `{"test": 2432232314}`
	vectorSig    = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

var vectorTime = time.Unix(1614265330, 0)

func TestVector(t *testing.T) {
	if ts, sig := Sign(vectorID, vectorTime, []byte(vectorBody), vectorSecret); ts != vectorTS || sig != vectorSig {
		t.Fatalf("Sign = %s %s, want %s %s", ts, sig, vectorTS, vectorSig)
	}
	for _, c := range []struct {
		name, id, sig string
		secret        string
		want          error
	}{
		{"as signed", vectorID, vectorSig, vectorSecret, nil},
		{"secret without the whsec_ prefix", vectorID, vectorSig, vectorSecret[6:], nil},
		{"several signatures, one v1a", vectorID, "v1a,abcd v1,bm9wZQ== " + vectorSig, vectorSecret, nil},
		{"id changed", "msg_other", vectorSig, vectorSecret, webhook.ErrSignatureMismatch},
		{"no v1 entry", vectorID, "v2," + vectorSig[3:], vectorSecret, webhook.ErrMalformedSignature},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := &webhook.Request{
				Header: webhook.Header{HeaderID: c.id, HeaderTimestamp: vectorTS, HeaderSignature: c.sig},
				Body:   []byte(vectorBody),
			}
			err := Provider{}.Verify(r, [][]byte{[]byte(c.secret)}, vectorTime)
			if (c.want == nil) != (err == nil) || (c.want != nil && !errors.Is(err, c.want)) {
				t.Fatalf("Verify = %v, want %v", err, c.want)
			}
		})
	}
	r := &webhook.Request{Header: webhook.Header{HeaderID: vectorID, HeaderTimestamp: "16142653.30", HeaderSignature: vectorSig}}
	if err := (Provider{}).Verify(r, [][]byte{[]byte(vectorSecret)}, vectorTime); !errors.Is(err, webhook.ErrMalformedSignature) {
		t.Fatalf("fractional timestamp: Verify = %v", err)
	}
}

func TestParse(t *testing.T) {
	for _, c := range []struct {
		body, wantID, wantReason string
	}{
		{`{"id":"order-1001","type":"purchase","customerEmail":"a@b.c","data":{}}`, "order-1001", ""},
		{`{"type":"signup","customerEmail":"a@b.c"}`, "msg_h", ""},
		{`{"id":"x","customerEmail":"a@b.c"}`, "", webhook.ReasonMissingEventType},
		{`{"id":7,"type":"purchase"}`, "7", ""},
		{`{"ID":"o-2","Type":"purchase"}`, "o-2", ""}, // read as encoding/json reads it
		// Filtered as a signup, paid as a purchase, before both read one way.
		{`{"id":"o-1","type":"signup","customerEmail":"a@b.c","Type":"purchase"}`, "", webhook.ReasonAmbiguousPayload},
		{`{"id":"o-1","id":"o-2","type":"purchase"}`, "", webhook.ReasonAmbiguousPayload},
	} {
		d, err := Provider{}.Parse(&webhook.Request{Header: webhook.Header{HeaderID: "msg_h"}, Body: []byte(c.body)})
		var pe *webhook.ParseError
		if c.wantReason != "" {
			if !errors.As(err, &pe) || pe.Reason != c.wantReason {
				t.Errorf("Parse(%s) = %v, want %s", c.body, err, c.wantReason)
			}
		} else if err != nil || d.DeliveryID != c.wantID {
			t.Errorf("Parse(%s) = %+v, %v, want id %s", c.body, d, err, c.wantID)
		}
	}
}
