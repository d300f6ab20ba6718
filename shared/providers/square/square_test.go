package square

import (
	"errors"
	"testing"
	"time"

	"github.com/rsnc-network/resonance-webhook-relay/shared/webhook"
)

// Vectors published by Square: the signature-key/URL/body triples of the
// official Python SDK's tests (square/square-python-sdk,
// tests/integration/test_webhooks_helper.py), and the example of Square's
// "Validate notifications" guide, repeated in every SDK's sample server
// (key asdf1234, URL https://example.com/webhook, body {"hello":"world"}).
var vectors = []struct {
	name, key, url, body, sig string
}{
	{"python-sdk test notification", "Ibxx_5AKakO-3qeNVR61Dw", "https://webhook.site/679a4f3a-dcfa-49ee-bac5-9d0edad886b9",
		`{"merchant_id":"MLEFBHHSJGVHD","type":"webhooks.test_notification","event_id":"ac3ac95b-f97d-458c-a6e6-18981597e05f","created_at":"2022-07-13T20:30:59.037339943Z","data":{"type":"webhooks","id":"bc368e64-01aa-407e-b46e-3231809b1129"}}`,
		"GF4YkrJgGBDZ9NIYbNXBnMzqb2HoL4RW/S6vkZ9/2N4="},
	{"python-sdk escaped body", "signature-key", "https://webhook.site/webhooks",
		`{"data":{"type":"webhooks","id":">id<"}}`, "Cxt7+aTi4rKgcA0bC4g9EHdVtLSDWdqccmL5MvihU4U="},
	{"docs example", "asdf1234", "https://example.com/webhook", `{"hello":"world"}`, "2kRE5qRU2tR+tBGlDwMEw2avJ7QM4ikPYD/PJ3bd9Og="},
}

func TestVerifyPublishedVectors(t *testing.T) {
	for _, v := range vectors {
		t.Run(v.name, func(t *testing.T) {
			if got := Sign(v.key, v.url, []byte(v.body)); got != v.sig {
				t.Fatalf("Sign = %s, want %s", got, v.sig)
			}
			r := &webhook.Request{Header: webhook.Header{HeaderSignature: v.sig}, Body: []byte(v.body), URL: v.url}
			if err := (Provider{}).Verify(r, [][]byte{[]byte("old-key"), []byte(v.key)}, time.Now()); err != nil {
				t.Fatalf("Verify: %v", err)
			}
		})
	}
}

// The negative cases of the same SDK tests, and what each attack would
// change: another URL, another key, a reformatted or edited body, a
// truncated or non-base64 signature, a signature of the body alone (the
// URL left out), the deprecated SHA-1 header.
func TestVerifyRejects(t *testing.T) {
	v := vectors[0]
	bodyOnly := Sign(v.key, "", []byte(v.body))
	for _, c := range []struct {
		name        string
		header      webhook.Header
		key, url    string
		body        string
		want        error
		noSecretSet bool
	}{
		{"url mismatch", webhook.Header{HeaderSignature: v.sig}, v.key, "https://webhook.site/79a4f3a-dcfa-49ee-bac5-9d0edad886b9", v.body, webhook.ErrSignatureMismatch, false},
		{"url with trailing slash", webhook.Header{HeaderSignature: v.sig}, v.key, v.url + "/", v.body, webhook.ErrSignatureMismatch, false},
		{"no url", webhook.Header{HeaderSignature: v.sig}, v.key, "", v.body, webhook.ErrSignatureMismatch, false},
		{"invalid key", webhook.Header{HeaderSignature: v.sig}, "MCmhFRxGX82xMwg5FsaoQA", v.url, v.body, webhook.ErrSignatureMismatch, false},
		{"sha1-sized signature", webhook.Header{HeaderSignature: "1z2n3DEJJiUPKcPzQo1ftvbxGdw="}, v.key, v.url, v.body, webhook.ErrMalformedSignature, false},
		{"body edited", webhook.Header{HeaderSignature: v.sig}, v.key, v.url, v.body[:len(v.body)-1] + ` }`, webhook.ErrSignatureMismatch, false},
		{"signature of the body alone", webhook.Header{HeaderSignature: bodyOnly}, v.key, v.url, v.body, webhook.ErrSignatureMismatch, false},
		{"not base64", webhook.Header{HeaderSignature: "not base64!"}, v.key, v.url, v.body, webhook.ErrMalformedSignature, false},
		{"only the deprecated sha1 header", webhook.Header{"x-square-signature": "1z2n3DEJJiUPKcPzQo1ftvbxGdw="}, v.key, v.url, v.body, webhook.ErrMissingSignature, false},
		{"no secret", webhook.Header{HeaderSignature: v.sig}, "", v.url, v.body, webhook.ErrNoSecrets, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			var secrets [][]byte
			if !c.noSecretSet {
				secrets = [][]byte{[]byte(c.key)}
			}
			r := &webhook.Request{Header: c.header, Body: []byte(c.body), URL: c.url}
			if err := (Provider{}).Verify(r, secrets, time.Now()); !errors.Is(err, c.want) {
				t.Fatalf("Verify = %v, want %v", err, c.want)
			}
		})
	}
}

func TestParse(t *testing.T) {
	for _, c := range []struct {
		body, typ, id, reason string
	}{
		{vectors[0].body, "webhooks.test_notification", "ac3ac95b-f97d-458c-a6e6-18981597e05f", ""},
		{`{"type":"payment.updated"}`, "payment.updated", "", webhook.ReasonMissingDeliveryID},
		{`{"event_id":"e"}`, "", "e", webhook.ReasonMissingEventType},
		{`{"type":"payment.updated","Type":"customer.created","event_id":"e"}`, "", "", webhook.ReasonAmbiguousPayload},
		{`[1]`, "", "", webhook.ReasonInvalidJSON},
	} {
		d, err := (Provider{}).Parse(&webhook.Request{Body: []byte(c.body)})
		var pe *webhook.ParseError
		switch {
		case c.reason == "" && err != nil:
			t.Errorf("Parse(%s): %v", c.body, err)
		case c.reason != "" && (!errors.As(err, &pe) || pe.Reason != c.reason):
			t.Errorf("Parse(%s) = %v, want reason %s", c.body, err, c.reason)
		case c.reason == "" && (d.EventType != c.typ || d.DeliveryID != c.id):
			t.Errorf("Parse(%s) = %+v", c.body, d)
		}
	}
}
