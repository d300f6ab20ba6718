// Package providers names the five providers and signs test deliveries for
// each, as the sample events, the local stack and the tests need.
package providers

import (
	"fmt"
	"time"

	"github.com/rsnc-network/resonance-webhook-relay/shared/providers/custom"
	"github.com/rsnc-network/resonance-webhook-relay/shared/providers/loyaltynow"
	"github.com/rsnc-network/resonance-webhook-relay/shared/providers/shopify"
	"github.com/rsnc-network/resonance-webhook-relay/shared/providers/stripe"
	"github.com/rsnc-network/resonance-webhook-relay/shared/providers/zupy"
	"github.com/rsnc-network/resonance-webhook-relay/shared/webhook"
)

// Names lists the providers in a stable order.
var Names = []string{"shopify", "stripe", "zupy", "loyaltynow", "custom"}

// ByName returns each provider's verifier with its default settings.
var ByName = map[string]webhook.Provider{
	"shopify":    shopify.Provider{},
	"stripe":     stripe.Provider{},
	"zupy":       zupy.Provider{},
	"loyaltynow": loyaltynow.Provider{},
	"custom":     custom.Provider{},
}

// FromEnv returns provider name's verifier configured from the ingest
// function's environment, as its main builds it: Shopify reads its pinned
// shop domains (shopify.FromEnv); the others have no settings.
func FromEnv(name string) (webhook.Provider, error) {
	if name == "shopify" {
		return shopify.FromEnv()
	}
	p, ok := ByName[name]
	if !ok {
		return nil, fmt.Errorf("providers: unknown provider %q", name)
	}
	return p, nil
}

// FunctionIDs maps each provider to its ingest function's logical id in
// template.yaml.
var FunctionIDs = map[string]string{
	"shopify":    "ShopifyWebhookFunction",
	"stripe":     "StripeWebhookFunction",
	"zupy":       "ZupyWebhookFunction",
	"loyaltynow": "LoyaltyNowWebhookFunction",
	"custom":     "CustomWebhookFunction",
}

// SecretIDs maps each provider to the logical id in template.yaml of its
// webhook signing secret, which only its ingest function can read. The
// secret is a JSON document with that provider's entry alone, as
// secrets.ParseWebhookSecrets reads it: {"shopify":"new,old"}.
var SecretIDs = map[string]string{
	"shopify":    "ShopifyWebhookSecret",
	"stripe":     "StripeWebhookSecret",
	"zupy":       "ZupyWebhookSecret",
	"loyaltynow": "LoyaltyNowWebhookSecret",
	"custom":     "CustomWebhookSecret",
}

// Delivery describes a test delivery to sign.
type Delivery struct {
	Body []byte
	URL  string    // the URL the sender signs (Loyalty Now)
	At   time.Time // when it is signed
	// Headers are the provider's unsigned headers (topic, event id...). The
	// returned headers include them.
	Headers map[string]string
}

// Sign returns the headers with which provider name would deliver d, signed
// with every one of secrets (providers that send a single signature use the
// first).
func Sign(name string, d Delivery, secrets ...string) (map[string]string, error) {
	if len(secrets) == 0 {
		return nil, fmt.Errorf("providers: no secret to sign %s with", name)
	}
	h := make(map[string]string, len(d.Headers)+3)
	for k, v := range d.Headers {
		h[k] = v
	}
	switch name {
	case "shopify":
		h[shopify.HeaderHMAC] = shopify.Sign(secrets[0], d.Body)
	case "stripe":
		h[stripe.HeaderSignature] = stripe.Sign(d.At, d.Body, secrets...)
	case "zupy":
		h[zupy.HeaderSignature] = zupy.Sign(secrets[0], d.Body)
	case "loyaltynow":
		h[loyaltynow.HeaderRequestDate], h[loyaltynow.HeaderSignature] = loyaltynow.Sign(secrets[0], d.Body, d.URL, d.At)
	case "custom":
		id := h[custom.HeaderID]
		if id == "" {
			return nil, fmt.Errorf("providers: custom delivery needs a %s header", custom.HeaderID)
		}
		h[custom.HeaderTimestamp], h[custom.HeaderSignature] = custom.Sign(id, d.At, d.Body, secrets...)
	default:
		return nil, fmt.Errorf("providers: unknown provider %q", name)
	}
	return h, nil
}
