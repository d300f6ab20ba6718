// Package shopify verifies and reads Shopify webhooks.
//
// Shopify signs only the raw body: X-Shopify-Hmac-Sha256 is the base64
// HMAC-SHA256 of it, keyed with the app's client secret (or the store admin's
// webhook signing key). The newer "Events" deliveries send the same headers
// without the X- prefix; both spellings are accepted.
//
// No header is signed, so none decides a reward: the topic and the ids only
// route and label a delivery; the mapper keys rewards on the body's ids and
// checks the topic against the body's shape. The shop domain decides only
// whether a delivery is accepted at all (Provider.ShopDomains).
package shopify

import (
	"encoding/base64"
	"fmt"
	"hash"
	"slices"
	"strings"
	"time"

	"github.com/rsnc-network/resonance-webhook-relay/shared/spec"
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

// EnvShopDomains is the ingest function's variable that pins the shop
// domains it serves (template parameter ShopifyShopDomains).
const EnvShopDomains = "SHOPIFY_SHOP_DOMAINS"

// Provider implements webhook.Provider for Shopify.
type Provider struct {
	// ShopDomains, when not empty, are the only shops (lowercase
	// <name>.myshopify.com domains) whose deliveries are accepted; others
	// get 401. Empty accepts any shop. Either way a delivery must name its
	// shop (X-Shopify-Shop-Domain), as Shopify's own libraries require.
	ShopDomains []string
}

var _ webhook.Provider = Provider{}

// FromEnv returns the Provider the ingest function's environment asks for
// (SHOPIFY_SHOP_DOMAINS, comma-separated, empty for any shop).
func FromEnv(getenv spec.Getenv) (Provider, error) {
	domains, err := ParseShopDomains(getenv.Get(EnvShopDomains))
	if err != nil {
		return Provider{}, fmt.Errorf("%s: %w", EnvShopDomains, err)
	}
	return Provider{ShopDomains: domains}, nil
}

// ParseShopDomains reads a comma-separated list of shop domains
// ("a.myshopify.com, b.myshopify.com"), lowercased; empty is none. An entry
// that is not a bare host name (a URL, a path, a space inside) is an
// error, so that a typo fails the deployment rather than every delivery.
func ParseShopDomains(s string) ([]string, error) {
	var out []string
	for d := range strings.SplitSeq(s, ",") {
		d = strings.ToLower(strings.TrimSpace(d))
		if d == "" {
			continue
		}
		if !hostName(d) {
			return nil, fmt.Errorf("shopify: %q is not a shop domain such as example.myshopify.com", d)
		}
		if !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	return out, nil
}

// hostName reports whether d is a DNS name of two labels or more, made of
// lowercase letters, digits and inner hyphens.
func hostName(d string) bool {
	labels := strings.Split(d, ".")
	if len(labels) < 2 || len(d) > 253 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			if c := l[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// header returns the X-Shopify-* header or its un-prefixed twin.
func header(h webhook.Header, name string) string {
	return h.First(name, name[2:])
}

// Verify checks X-Shopify-Hmac-Sha256 against every secret, then that the
// delivery names its shop and that the shop is one this deployment serves.
// The shop header is not signed: pinning stops a genuine body signed for a
// shop elsewhere (an app installed on several shops shares its secret) from
// being accepted here, not a replay with a pinned shop's name.
func (p Provider) Verify(r *webhook.Request, secrets [][]byte, _ time.Time) error {
	if len(secrets) == 0 {
		return webhook.ErrNoSecrets
	}
	sig, err := webhook.Base64MAC(header(r.Header, HeaderHMAC), HeaderHMAC)
	if err != nil {
		return err
	}
	if !webhook.MatchAny(secrets, [][]byte{sig[:]}, func(h hash.Hash) { h.Write(r.Body) }) {
		return webhook.ErrSignatureMismatch
	}
	shop := strings.ToLower(strings.TrimSpace(header(r.Header, HeaderShopDomain)))
	switch {
	case shop == "":
		return fmt.Errorf("%w: no %s header", webhook.ErrSenderNotAllowed, HeaderShopDomain)
	case len(p.ShopDomains) > 0 && !slices.Contains(p.ShopDomains, shop):
		return fmt.Errorf("%w: shop %.100q is not in ShopifyShopDomains", webhook.ErrSenderNotAllowed, shop)
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
