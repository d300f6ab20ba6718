// Package square verifies and reads Square webhooks.
//
// Square signs the notification URL as registered followed by the raw
// body: x-square-hmacsha256-signature is the base64 HMAC-SHA256 of the two,
// keyed with the subscription's signature key. The deprecated
// x-square-signature (HMAC-SHA1) is ignored. The event type and the event
// id are in the signed body, so nothing unsigned decides anything; the
// signature carries no timestamp, so the mapper dates each body by its
// object's created_at (mapping.CheckAge).
package square

import (
	"encoding/base64"
	"fmt"
	"hash"
	"time"

	"github.com/rsnc-network/resonance-webhook-relay/shared/webhook"
)

// HeaderSignature is Square's signature header, lowercase as API Gateway
// delivers it.
const HeaderSignature = "x-square-hmacsha256-signature"

// Provider implements webhook.Provider for Square. The URL signed is
// webhook.Request.URL: the ingest function's SIGNED_URL when set (the URL
// exactly as registered in the Developer Console), else the request's own.
type Provider struct{}

var _ webhook.Provider = Provider{}

// Verify checks x-square-hmacsha256-signature over r.URL + r.Body against
// every signature key.
func (Provider) Verify(r *webhook.Request, secrets [][]byte, _ time.Time) error {
	if len(secrets) == 0 {
		return webhook.ErrNoSecrets
	}
	sig, err := webhook.Base64MAC(r.Header.Get(HeaderSignature), HeaderSignature)
	if err != nil {
		return err
	}
	if r.URL == "" {
		return fmt.Errorf("%w: no notification URL to check the signature against", webhook.ErrSignatureMismatch)
	}
	if !webhook.MatchAny(secrets, [][]byte{sig[:]}, func(h hash.Hash) { h.Write(webhook.View(r.URL)); h.Write(r.Body) }) {
		return webhook.ErrSignatureMismatch
	}
	return nil
}

// Parse reads the event type (type) and the delivery id (event_id, the
// value Square asks receivers to deduplicate on) from the signed body.
func (Provider) Parse(r *webhook.Request) (webhook.Delivery, error) {
	var f [3][]byte // type, event_id, merchant_id
	if err := webhook.TopLevelInto(r.Body, []string{"type", "event_id", "merchant_id"}, f[:]); err != nil {
		return webhook.Delivery{}, err
	}
	d := webhook.Delivery{EventType: r.String(f[0]), DeliveryID: r.String(f[1])}
	if m := r.String(f[2]); m != "" {
		d.Headers = map[string]string{"merchant_id": m}
	}
	switch {
	case d.EventType == "":
		return d, &webhook.ParseError{Reason: webhook.ReasonMissingEventType, Detail: "no type in event"}
	case d.DeliveryID == "":
		return d, &webhook.ParseError{Reason: webhook.ReasonMissingDeliveryID, Detail: "no event_id in event"}
	}
	return d, nil
}

// Sign returns the x-square-hmacsha256-signature value for body sent to
// url, for tests and the sample events.
func Sign(key, url string, body []byte) string {
	return base64.StdEncoding.EncodeToString(webhook.Sum([]byte(key), func(h hash.Hash) { h.Write([]byte(url)); h.Write(body) }))
}
