// Package woocommerce verifies and reads WooCommerce webhooks.
//
// WooCommerce signs only the raw body: X-WC-Webhook-Signature is the base64
// HMAC-SHA256 of it, keyed with the webhook's secret (class-wc-webhook.php,
// generate_signature; the key is the secret with HTML entities decoded, as
// the admin screen shows it). Every webhook has its own secret: configure
// one per webhook, several are tried.
//
// No header is signed, so none decides a reward: the topic and the ids only
// route and label a delivery. The mapper reads what kind of object the body
// is, and which store it comes from, from the body's own _links.self href,
// and checks the topic against it.
//
// When a webhook is created (or re-activated), WooCommerce posts an
// unsigned ping, the form body webhook_id=<n>, and saves the webhook only if
// it is answered 200. Verify returns ErrPing for it: the ingest handler
// answers that with 200 and enqueues nothing.
package woocommerce

import (
	"encoding/base64"
	"fmt"
	"hash"
	"time"

	"github.com/rsnc-network/resonance-webhook-relay/shared/webhook"
)

// Header names, lowercase as API Gateway delivers them.
const (
	HeaderSignature  = "x-wc-webhook-signature"
	HeaderTopic      = "x-wc-webhook-topic"
	HeaderSource     = "x-wc-webhook-source"
	HeaderResource   = "x-wc-webhook-resource"
	HeaderEvent      = "x-wc-webhook-event"
	HeaderWebhookID  = "x-wc-webhook-id"
	HeaderDeliveryID = "x-wc-webhook-delivery-id"
)

// ErrPing is what Verify returns for WooCommerce's ping on webhook creation:
// no signature and a body of exactly webhook_id=<digits>. It wraps
// webhook.ErrHandshake: the ingest handler answers it 200 and enqueues
// nothing. Nothing in a ping can earn a reward.
var ErrPing = fmt.Errorf("%w: woocommerce ping on webhook creation (unsigned)", webhook.ErrHandshake)

// Provider implements webhook.Provider for WooCommerce.
type Provider struct{}

var _ webhook.Provider = Provider{}

// IsPing reports whether r is WooCommerce's creation ping: no signature
// header and a body of exactly webhook_id=<1 to 20 digits>.
func IsPing(r *webhook.Request) bool {
	const prefix = "webhook_id="
	b := r.Body
	if r.Header.Get(HeaderSignature) != "" || len(b) <= len(prefix) || len(b) > len(prefix)+20 || string(b[:len(prefix)]) != prefix {
		return false
	}
	for _, c := range b[len(prefix):] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// Verify returns ErrPing for the creation ping, else checks
// X-WC-Webhook-Signature against every secret.
func (Provider) Verify(r *webhook.Request, secrets [][]byte, _ time.Time) error {
	if IsPing(r) {
		return ErrPing
	}
	if len(secrets) == 0 {
		return webhook.ErrNoSecrets
	}
	sig, err := webhook.Base64MAC(r.Header.Get(HeaderSignature), HeaderSignature)
	if err != nil {
		return err
	}
	if !webhook.MatchAny(secrets, [][]byte{sig[:]}, func(h hash.Hash) { h.Write(r.Body) }) {
		return webhook.ErrSignatureMismatch
	}
	return nil
}

// Parse reads the topic and the delivery id from the headers (WooCommerce
// puts neither in the body). Both only label the delivery: the mapper
// decides from the body.
func (Provider) Parse(r *webhook.Request) (webhook.Delivery, error) {
	if !webhook.LooksLikeObject(r.Body) {
		return webhook.Delivery{}, &webhook.ParseError{Reason: webhook.ReasonInvalidJSON, Detail: "body is not a JSON object"}
	}
	d := webhook.Delivery{
		EventType:  r.Header.Get(HeaderTopic),
		DeliveryID: r.Header.Get(HeaderDeliveryID),
		Headers:    r.Header.Keep(HeaderTopic, HeaderSource, HeaderResource, HeaderEvent, HeaderWebhookID, HeaderDeliveryID),
	}
	switch {
	case d.EventType == "":
		return d, &webhook.ParseError{Reason: webhook.ReasonMissingEventType, Detail: "no X-WC-Webhook-Topic header"}
	case d.DeliveryID == "":
		return d, &webhook.ParseError{Reason: webhook.ReasonMissingDeliveryID, Detail: "no X-WC-Webhook-Delivery-ID header"}
	}
	return d, nil
}

// Sign returns the X-WC-Webhook-Signature value for body, for tests and the
// sample events.
func Sign(secret string, body []byte) string {
	return base64.StdEncoding.EncodeToString(webhook.Sum([]byte(secret), func(h hash.Hash) { h.Write(body) }))
}
