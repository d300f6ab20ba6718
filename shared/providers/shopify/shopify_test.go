package shopify

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rsnc-network/resonance-webhook-relay/shared/webhook"
)

// The reference's vector, cross-checked with openssl.
const (
	vectorSecret = "hush"
	vectorBody   = `{"id":820982911946154508,"email":"jon@example.com","total_price":"10.00","currency":"USD","test":true}`
	vectorSig    = "2sbyrtHhDIV8EimWiKGC2zhXsL057natI3fIaXP5OQU="
)

func TestVector(t *testing.T) {
	if got := Sign(vectorSecret, []byte(vectorBody)); got != vectorSig {
		t.Fatalf("Sign = %s, want %s", got, vectorSig)
	}
	for _, c := range []struct {
		name    string
		headers map[string]string
		want    error
	}{
		{"X- prefixed header", map[string]string{"x-shopify-hmac-sha256": vectorSig, "x-shopify-shop-domain": "s.myshopify.com"}, nil},
		{"Events delivery without the X- prefix", map[string]string{"shopify-hmac-sha256": vectorSig, "shopify-shop-domain": "s.myshopify.com"}, nil},
		{"as sent, in canonical case", map[string]string{"X-Shopify-Hmac-Sha256": vectorSig, "X-Shopify-Shop-Domain": "s.myshopify.com"}, nil},
		{"hex instead of base64", map[string]string{"x-shopify-hmac-sha256": "dac6f2aed1e10c857c12296894a182db3857b0bd39ee76ad2377c86973f93905"}, webhook.ErrMalformedSignature},
		{"truncated", map[string]string{"x-shopify-hmac-sha256": vectorSig[:20]}, webhook.ErrMalformedSignature},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := &webhook.Request{Header: webhook.NewHeader(c.headers), Body: []byte(vectorBody)}
			err := Provider{}.Verify(r, [][]byte{[]byte("other"), []byte(vectorSecret)}, time.Now())
			if (c.want == nil) != (err == nil) || (c.want != nil && !errors.Is(err, c.want)) {
				t.Fatalf("Verify = %v, want %v", err, c.want)
			}
		})
	}
}

func TestParse(t *testing.T) {
	body := []byte(vectorBody)
	for _, c := range []struct {
		name       string
		headers    map[string]string
		wantID     string
		wantReason string
	}{
		{"event id preferred", map[string]string{"x-shopify-topic": "orders/paid", "x-shopify-event-id": "e1", "x-shopify-webhook-id": "w1"}, "e1", ""},
		{"webhook id as fallback", map[string]string{"x-shopify-topic": "orders/paid", "x-shopify-webhook-id": "w1"}, "w1", ""},
		{"un-prefixed Events headers", map[string]string{"shopify-topic": "orders/paid", "shopify-event-id": "e2"}, "e2", ""},
		{"no topic", map[string]string{"x-shopify-event-id": "e1"}, "", webhook.ReasonMissingEventType},
		{"no id", map[string]string{"x-shopify-topic": "orders/paid"}, "", webhook.ReasonMissingDeliveryID},
	} {
		t.Run(c.name, func(t *testing.T) {
			d, err := Provider{}.Parse(&webhook.Request{Header: webhook.NewHeader(c.headers), Body: body})
			var pe *webhook.ParseError
			switch {
			case c.wantReason != "":
				if !errors.As(err, &pe) || pe.Reason != c.wantReason {
					t.Fatalf("Parse err = %v, want reason %s", err, c.wantReason)
				}
			case err != nil || d.DeliveryID != c.wantID || d.EventType != "orders/paid":
				t.Fatalf("Parse = %+v, %v; want id %s", d, err, c.wantID)
			case d.Headers[HeaderTopic] != "orders/paid":
				t.Fatalf("kept headers %v lack the topic under its X- name", d.Headers)
			}
		})
	}
}

// TestShopDomains: a delivery must name its shop, as Shopify's own
// libraries require (shopify-api-js webhooks/validate.ts lists
// X-Shopify-Shop-Domain among the headers whose absence makes a delivery
// invalid, "missing_headers"; shopify-api-ruby Webhooks::Request raises
// InvalidWebhookError without x-shopify-topic, x-shopify-hmac-sha256 and
// x-shopify-shop-domain), and a deployment that pins its shops refuses the
// others. Both are 401s, checked after the signature.
func TestShopDomains(t *testing.T) {
	pinned := Provider{ShopDomains: []string{"ridge-outfitters.myshopify.com", "ridge-outlet.myshopify.com"}}
	for _, c := range []struct {
		name string
		p    Provider
		shop map[string]string
		sig  string
		want error
	}{
		{"any shop when none is pinned", Provider{}, map[string]string{"x-shopify-shop-domain": "other.myshopify.com"}, vectorSig, nil},
		{"pinned shop", pinned, map[string]string{"x-shopify-shop-domain": "ridge-outlet.myshopify.com"}, vectorSig, nil},
		{"pinned shop, other case and spaces", pinned, map[string]string{"X-Shopify-Shop-Domain": " Ridge-Outfitters.myshopify.com "}, vectorSig, nil},
		{"pinned shop, Events header", pinned, map[string]string{"shopify-shop-domain": "ridge-outfitters.myshopify.com"}, vectorSig, nil},
		{"shop not pinned", pinned, map[string]string{"x-shopify-shop-domain": "elsewhere.myshopify.com"}, vectorSig, webhook.ErrSenderNotAllowed},
		{"two shops joined by API Gateway", pinned, map[string]string{"x-shopify-shop-domain": "ridge-outfitters.myshopify.com,elsewhere.myshopify.com"}, vectorSig, webhook.ErrSenderNotAllowed},
		{"no shop header, none pinned", Provider{}, nil, vectorSig, webhook.ErrSenderNotAllowed},
		{"empty shop header", Provider{}, map[string]string{"x-shopify-shop-domain": " "}, vectorSig, webhook.ErrSenderNotAllowed},
		{"no shop header, pinned", pinned, nil, vectorSig, webhook.ErrSenderNotAllowed},
		{"forged, pinned shop: the signature is what fails", pinned, map[string]string{"x-shopify-shop-domain": "ridge-outlet.myshopify.com"}, Sign("other", []byte(vectorBody)), webhook.ErrSignatureMismatch},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := map[string]string{"x-shopify-hmac-sha256": c.sig}
			for k, v := range c.shop {
				h[k] = v
			}
			err := c.p.Verify(&webhook.Request{Header: webhook.NewHeader(h), Body: []byte(vectorBody)}, [][]byte{[]byte(vectorSecret)}, time.Now())
			if (c.want == nil) != (err == nil) || (c.want != nil && !errors.Is(err, c.want)) {
				t.Fatalf("Verify = %v, want %v", err, c.want)
			}
		})
	}
}

func TestParseShopDomains(t *testing.T) {
	for _, c := range []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{"", nil, false},
		{" , ", nil, false},
		{"A.myshopify.com, b.myshopify.com,a.myshopify.com", []string{"a.myshopify.com", "b.myshopify.com"}, false},
		{"shop.example.com", []string{"shop.example.com"}, false},
		{"https://a.myshopify.com", nil, true},
		{"a.myshopify.com/admin", nil, true},
		{"myshopify", nil, true},
		{"a..myshopify.com", nil, true},
		{"-a.myshopify.com", nil, true},
		{"a b.myshopify.com", nil, true},
	} {
		got, err := ParseShopDomains(c.in)
		if (err != nil) != c.wantErr || !slices.Equal(got, c.want) {
			t.Errorf("ParseShopDomains(%q) = %v, %v; want %v (error %v)", c.in, got, err, c.want, c.wantErr)
		}
	}
}

func TestFromEnv(t *testing.T) {
	t.Setenv(EnvShopDomains, "a.myshopify.com")
	if p, err := FromEnv(os.Getenv); err != nil || !slices.Equal(p.ShopDomains, []string{"a.myshopify.com"}) {
		t.Fatalf("FromEnv = %+v, %v", p, err)
	}
	t.Setenv(EnvShopDomains, "https://a.myshopify.com")
	if _, err := FromEnv(os.Getenv); err == nil || !strings.Contains(err.Error(), EnvShopDomains) {
		t.Fatalf("FromEnv with a URL: %v, want an error naming %s", err, EnvShopDomains)
	}
}
