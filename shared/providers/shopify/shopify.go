// Package shopify verifies and reads Shopify webhooks.
//
// Shopify signs only the raw body: X-Shopify-Hmac-Sha256 is the base64
// HMAC-SHA256 of it, keyed with the app's client secret (or the store admin's
// webhook signing key). The newer "Events" deliveries send the same headers
// without the X- prefix; both spellings are accepted.
package shopify

import (
	"encoding/base64"
	"fmt"
	"hash"
	"time"

	"github.com/rsnc-network/resonance-webhook-relay/shared/webhook"
)

// Header names, lowercase as API Gateway delivers them.
const (
	HeaderHMAC        = "x-shopify-hmac-sha256"
	HeaderTopic       = "x-shopify-topic"
	HeaderShopDomain  = "x-shopify-shop-domain"
	HeaderAPIVersion  = "x-shopify-api-version"
	HeaderWebhookID   = "x-shopify-webhook-id"
	HeaderEventID     = "x-shopify-event-id"
	HeaderTriggeredAt = "x-shopify-triggered-at"
)

// Provider implements webhook.Provider for Shopify.
type Provider struct{}

var _ webhook.Provider = Provider{}

// header returns the X-Shopify-* header or its un-prefixed twin.
func header(h webhook.Header, name string) string {
	return h.First(name, name[2:])
}

// Verify checks X-Shopify-Hmac-Sha256 against every secret.
func (Provider) Verify(r *webhook.Request, secrets [][]byte, _ time.Time) error {
	if len(secrets) == 0 {
		return webhook.ErrNoSecrets
	}
	v := header(r.Header, HeaderHMAC)
	if v == "" {
		return webhook.ErrMissingSignature
	}
	sig, err := webhook.DecodeBase64(v)
	if err != nil || len(sig) != 32 {
		return fmt.Errorf("%w: %s is not a base64 SHA-256 MAC", webhook.ErrMalformedSignature, HeaderHMAC)
	}
	if !webhook.MatchAny(secrets, [][]byte{sig}, func(h hash.Hash) { h.Write(r.Body) }) {
		return webhook.ErrSignatureMismatch
	}
	return nil
}

// Parse reads the topic and the event id from the headers. The event id
// (X-Shopify-Event-Id) is the same across retries and across subscriptions;
// the webhook id is the fallback for older deliveries.
func (Provider) Parse(r *webhook.Request) (webhook.Delivery, error) {
	// Shopify's topic and ids are headers: the body is only checked to look
	// like a JSON object here (a full walk would cost more than the HMAC of
	// a large order); the forwarder decodes it and parks it if it is not.
	if !webhook.LooksLikeObject(r.Body) {
		return webhook.Delivery{}, &webhook.ParseError{Reason: webhook.ReasonInvalidJSON, Detail: "body is not a JSON object"}
	}
	d := webhook.Delivery{
		EventType:  header(r.Header, HeaderTopic),
		DeliveryID: header(r.Header, HeaderEventID),
		Headers:    make(map[string]string, 6),
	}
	if d.DeliveryID == "" {
		d.DeliveryID = header(r.Header, HeaderWebhookID)
	}
	for _, n := range []string{HeaderTopic, HeaderShopDomain, HeaderAPIVersion, HeaderWebhookID, HeaderEventID, HeaderTriggeredAt} {
		if v := header(r.Header, n); v != "" {
			d.Headers[n] = v
		}
	}
	switch {
	case d.EventType == "":
		return d, &webhook.ParseError{Reason: webhook.ReasonMissingEventType, Detail: "no X-Shopify-Topic header"}
	case d.DeliveryID == "":
		return d, &webhook.ParseError{Reason: webhook.ReasonMissingDeliveryID, Detail: "no X-Shopify-Event-Id or X-Shopify-Webhook-Id header"}
	}
	return d, nil
}

// Sign returns the X-Shopify-Hmac-Sha256 value for body, for tests and the
// sample events.
func Sign(secret string, body []byte) string {
	return base64.StdEncoding.EncodeToString(webhook.Sum([]byte(secret), func(h hash.Hash) { h.Write(body) }))
}
