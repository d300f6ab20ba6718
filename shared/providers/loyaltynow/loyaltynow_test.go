package loyaltynow

import (
	"errors"
	"testing"
	"time"

	"github.com/rsnc-network/resonance-webhook-relay/shared/webhook"
)

// A vector computed independently with
//
//	printf '%s%s%s' "$body" "$url" "$date" | openssl dgst -sha256 -mac HMAC -macopt key:ln_test_secret -binary | base64
const (
	vectorSecret = "ln_test_secret"
	vectorBody   = `{"hook":"transaction.confirmed","data":{"id":"tx_1"},"sequence":42}`
	vectorURL    = "https://hooks.example.com/webhooks/loyaltynow"
	vectorDate   = "2025-01-02T03:04:05Z"
	vectorSig    = "oIOfEYxytdhL9nIMPPDm3Uzd56GJZNvhiCtzFwTw5VY="
)

func TestVector(t *testing.T) {
	at, _ := time.Parse(DateLayout, vectorDate)
	if date, sig := Sign(vectorSecret, []byte(vectorBody), vectorURL, at); date != vectorDate || sig != vectorSig {
		t.Fatalf("Sign = %s %s, want %s %s", date, sig, vectorDate, vectorSig)
	}
	for _, c := range []struct {
		name, date string
		now        time.Time
		want       error
	}{
		{"as signed", vectorDate, at, nil},
		{"59 s later", vectorDate, at.Add(59 * time.Second), nil},
		{"61 s later", vectorDate, at.Add(61 * time.Second), webhook.ErrTimestampOutOfRange},
		{"date with offset instead of Z", "2025-01-02T03:04:05+00:00", at, webhook.ErrMalformedSignature},
		{"date changed", "2025-01-02T03:04:06Z", at, webhook.ErrSignatureMismatch},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := &webhook.Request{
				Header: webhook.Header{HeaderSignature: vectorSig, HeaderRequestDate: c.date},
				Body:   []byte(vectorBody), URL: vectorURL,
			}
			err := Provider{}.Verify(r, [][]byte{[]byte("registration-2"), []byte(vectorSecret)}, c.now)
			if (c.want == nil) != (err == nil) || (c.want != nil && !errors.Is(err, c.want)) {
				t.Fatalf("Verify = %v, want %v", err, c.want)
			}
		})
	}
}

func TestParse(t *testing.T) {
	for _, c := range []struct {
		body, wantID, wantReason string
	}{
		{vectorBody, "42", ""},
		{`{"hook":"member.added","sequence":9007199254740993}`, "9007199254740993", ""},
		{`{"hook":"member.added","sequence":"s-1"}`, "s-1", ""},
		{`{"hook":"member.added"}`, "", webhook.ReasonMissingDeliveryID},
		{`{"sequence":1}`, "", webhook.ReasonMissingEventType},
	} {
		d, err := Provider{}.Parse(&webhook.Request{Header: webhook.Header{}, Body: []byte(c.body)})
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
