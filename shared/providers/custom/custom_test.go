package custom

import (
	"errors"
	"strings"
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

// TestLibraryVectors runs the Standard Webhooks reference libraries' own
// tests (libraries/go/webhook_test.go, libraries/javascript/src/
// webhook.test.ts, libraries/python/tests/test_webhooks.py in
// github.com/standard-webhooks/standard-webhooks) against Verify: every
// message they accept is accepted, every one they refuse is refused. The
// unpadded secrets are Python's; their signatures were computed with
// Python's base64.b64decode(secret + "==") at the vector's timestamp.
func TestLibraryVectors(t *testing.T) {
	const otherSig = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="
	for _, c := range []struct {
		name            string
		secret, id, sig string
		ts              string
		at              time.Time
		want            error
	}{
		{"valid signature is valid", vectorSecret, vectorID, vectorSig, vectorTS, vectorTime, nil},
		{"signature verification without prefix", vectorSecret[len(SecretPrefix):], vectorID, vectorSig, vectorTS, vectorTime, nil},
		{"missing id", vectorSecret, "", vectorSig, vectorTS, vectorTime, webhook.ErrMissingSignature},
		{"missing timestamp", vectorSecret, vectorID, vectorSig, "", vectorTime, webhook.ErrMissingSignature},
		{"missing signature", vectorSecret, vectorID, "", vectorTS, vectorTime, webhook.ErrMissingSignature},
		{"invalid timestamp", vectorSecret, vectorID, vectorSig, "hello", vectorTime, webhook.ErrMalformedSignature},
		{"invalid signature (go, js)", vectorSecret, vectorID, otherSig, vectorTS, vectorTime, webhook.ErrSignatureMismatch},
		{"invalid signature (python)", vectorSecret, vectorID, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA=", vectorTS, vectorTime, webhook.ErrSignatureMismatch},
		{"partial signature", vectorSecret, vectorID, "v1,", vectorTS, vectorTime, webhook.ErrMalformedSignature},
		{"old timestamp", vectorSecret, vectorID, vectorSig, vectorTS, vectorTime.Add(DefaultTolerance + time.Second), webhook.ErrTimestampOutOfRange},
		{"new timestamp", vectorSecret, vectorID, vectorSig, vectorTS, vectorTime.Add(-DefaultTolerance - time.Second), webhook.ErrTimestampOutOfRange},
		{"valid multi sig is valid", vectorSecret, vectorID, strings.Join([]string{otherSig, "v2," + otherSig[3:], vectorSig, otherSig}, " "), vectorTS, vectorTime, nil},
		{"unpadded secret, needs no padding", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", vectorID, vectorSig, vectorTS, vectorTime, nil},
		{"unpadded secret, needs one padding", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS", vectorID, "v1,LVOXivKoo4FWasi/IaHvzhE/u+7/cu2AME+zS/nXqzk=", vectorTS, vectorTime, nil},
		{"unpadded secret, needs two padding", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwBr", vectorID, "v1,yK2tMbA6BHPrMEJ1lLv7UlJJbgFoqGenJkiajZ29evg=", vectorTS, vectorTime, nil},
		{"unpadded secret with prefix", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwBr", vectorID, "v1,yK2tMbA6BHPrMEJ1lLv7UlJJbgFoqGenJkiajZ29evg=", vectorTS, vectorTime, nil},
		{"padded secret, signed by the unpadded one", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS=", vectorID, "v1,LVOXivKoo4FWasi/IaHvzhE/u+7/cu2AME+zS/nXqzk=", vectorTS, vectorTime, nil},
		{"empty prefixed secret verifies nothing", "whsec_", vectorID, vectorSig, vectorTS, vectorTime, webhook.ErrSignatureMismatch},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := &webhook.Request{Header: webhook.Header{HeaderID: c.id, HeaderTimestamp: c.ts, HeaderSignature: c.sig}, Body: []byte(vectorBody)}
			err := Provider{}.Verify(r, [][]byte{[]byte(c.secret)}, c.at)
			if (c.want == nil) != (err == nil) || (c.want != nil && !errors.Is(err, c.want)) {
				t.Fatalf("Verify = %v, want %v", err, c.want)
			}
		})
	}
	// Signing, as the libraries' sign tests: the same signature from the
	// padded and the unpadded spelling of one secret.
	if _, sig := Sign(vectorID, vectorTime, []byte(vectorBody), "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS"); sig != "v1,LVOXivKoo4FWasi/IaHvzhE/u+7/cu2AME+zS/nXqzk=" {
		t.Errorf("Sign with an unpadded secret = %s", sig)
	}
}

// TestCheckSecret: the secrets the libraries refuse to construct a verifier
// with are refused when the relay loads them, not at request time.
func TestCheckSecret(t *testing.T) {
	var _ webhook.SecretChecker = Provider{}
	for secret, ok := range map[string]bool{
		vectorSecret:                               true,
		"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS":          true, // unpadded
		"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwBr": true,
		"a plain secret, not base64!":              true, // used as its own bytes (no prefix)
		"":                                         false,
		"whsec_":                                   false, // the libraries' "may not be empty"
		"whsec_not base64!":                        false, // the prefix says base64
		"whsec_A":                                  false, // no length of base64 is 1 mod 4
		"whsec_====":                               false,
	} {
		err := Provider{}.CheckSecret([]byte(secret))
		if (err == nil) != ok {
			t.Errorf("CheckSecret(%q) = %v, want ok %v", secret, err, ok)
		}
		if err != nil && len(secret) > len(SecretPrefix) && strings.Contains(err.Error(), secret[len(SecretPrefix):]) {
			t.Errorf("CheckSecret's error %q carries the secret", err)
		}
	}
}
