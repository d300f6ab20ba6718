package forward

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/samples"
	"github.com/rsnc-network/resonance-webhook-relay/shared/mapping"
	"github.com/rsnc-network/resonance-webhook-relay/shared/providers"
	"github.com/rsnc-network/resonance-webhook-relay/shared/providers/stripe"
)

func env(provider, eventType, body string, headers map[string]string) *envelope.Envelope {
	return &envelope.Envelope{Version: 1, Provider: provider, EventType: eventType, DeliveryID: "d-1", Headers: headers, Body: []byte(body),
		ReceivedAt: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)}
}

// TestMappingEdges covers what the golden samples do not: test orders,
// unpaid sessions, missing identities, currencies, expanded references,
// configuration overrides.
func TestMappingEdges(t *testing.T) {
	shop := map[string]string{"x-shopify-shop-domain": "s.myshopify.com"}
	stripeEv := func(typ, obj string) string {
		return `{"id":"evt_1","type":"` + typ + `","livemode":true,"data":{"object":` + obj + `}}`
	}
	cases := []struct {
		name      string
		overrides string
		env       *envelope.Envelope
		wantKey   string // "" when no reward
		wantBody  string // substring of the request body
		wantSkip  string
		wantPark  string
	}{
		{"shopify order id beyond 2^53 stays exact", "", env("shopify", "orders/paid", `{"id":9007199254740993,"financial_status":"paid","created_at":"2026-11-23T06:58:12-05:00","email":"a@x.io","total_price":"10.10","currency":"EUR","line_items":[{"quantity":2}]}`, shop),
			"shopify:order:9007199254740993", `"order_id":"9007199254740993","order_value":10.10`, "", ""},
		{"shopify test order skipped", "", env("shopify", "orders/paid", `{"id":1,"financial_status":"paid","created_at":"2026-11-23T06:58:12-05:00","email":"a@x.io","total_price":"1.00","currency":"USD","test":true}`, shop), "", "", "test_order", ""},
		{"shopify test order rewarded when enabled", `{"shopify":{"includeTest":true}}`, env("shopify", "orders/paid", `{"id":1,"financial_status":"paid","created_at":"2026-11-23T06:58:12-05:00","email":"a@x.io","total_price":"1.00","currency":"USD","test":true}`, shop),
			"shopify:order:1", `"order_value":1.00`, "", ""},
		{"shopify orders/create unpaid skipped", `{"shopify":{"events":{"orders/create":"purchase"}}}`, env("shopify", "orders/create", `{"id":2,"email":"a@x.io","total_price":"1.00","currency":"USD","financial_status":"pending"}`, shop), "", "", "order_not_paid", ""},
		{"shopify null customer and no email parks", "", env("shopify", "orders/paid", `{"id":3,"financial_status":"paid","created_at":"2026-11-23T06:58:12-05:00","total_price":"1.00","currency":"USD","customer":null}`, shop), "", "", "", mapping.ReasonNoIdentity},
		{"shopify redacted email, synthetic identity enabled", `{"shopify":{"syntheticEmail":true}}`, env("shopify", "orders/paid", `{"id":4,"financial_status":"paid","created_at":"2026-11-23T06:58:12-05:00","total_price":"1.00","currency":"USD","customer":{"id":77}}`, shop),
			"shopify:order:4", `"userEmail":"shopify_77@rsnc.network"`, "", ""},
		{"shopify price not a decimal parks", "", env("shopify", "orders/paid", `{"id":5,"financial_status":"paid","created_at":"2026-11-23T06:58:12-05:00","email":"a@x.io","total_price":"1e3","currency":"USD"}`, shop), "", "", "", mapping.ReasonInvalidAmount},
		{"shopify topic mapped away", `{"shopify":{"events":{"orders/paid":""}}}`, env("shopify", "orders/paid", `{"id":6}`, shop), "", "", "event_not_mapped", ""},
		{"stripe checkout unpaid skipped", "", env("stripe", "checkout.session.completed", stripeEv("checkout.session.completed", `{"id":"cs_1","mode":"payment","payment_status":"unpaid","amount_total":100,"currency":"usd","customer_details":{"email":"a@x.io"}}`), nil), "", "", "session_not_paid", ""},
		{"stripe test mode skipped", "", env("stripe", "charge.succeeded", `{"id":"evt_1","type":"charge.succeeded","livemode":false,"data":{"object":{"id":"ch_1"}}}`, nil), "", "", "test_mode", ""},
		{"stripe JPY has no decimals", "", env("stripe", "charge.succeeded", stripeEv("charge.succeeded", `{"id":"ch_0","payment_intent":"pi_1","captured":true,"amount":5000,"currency":"jpy","receipt_email":"a@x.io"}`), nil),
			"stripe:payment:pi_1", `"currency":"JPY","order_id":"pi_1","order_value":5000`, "", ""},
		{"stripe KWD has three", "", env("stripe", "charge.succeeded", stripeEv("charge.succeeded", `{"id":"ch_1","payment_intent":"pi_2","captured":true,"amount":1234,"currency":"kwd","billing_details":{"email":"a@x.io"}}`), nil),
			"stripe:payment:pi_2", `"order_value":1.234`, "", ""},
		{"stripe expanded payment intent", "", env("stripe", "checkout.session.completed", stripeEv("checkout.session.completed", `{"id":"cs_2","mode":"payment","payment_status":"paid","payment_intent":{"id":"pi_3"},"amount_total":5,"currency":"usd","customer_details":{"email":"a@x.io"}}`), nil),
			"stripe:payment:pi_3", `"order_value":0.05`, "", ""},
		{"stripe invoice with payments list", `{"stripe":{"events":{"invoice.paid":"purchase","charge.succeeded":"","charge.captured":"","checkout.session.completed":"","checkout.session.async_payment_succeeded":""}}}`, env("stripe", "invoice.paid", stripeEv("invoice.paid", `{"id":"in_1","amount_paid":2000,"currency":"eur","customer_email":"a@x.io","payments":{"data":[{"payment":{"payment_intent":"pi_4"}}]}}`), nil),
			"stripe:payment:pi_4", `"order_value":20.00`, "", ""},
		{"stripe subscription session is paid by its invoice's charge", "", env("stripe", "checkout.session.completed", stripeEv("checkout.session.completed", `{"id":"cs_3","mode":"subscription","payment_status":"paid","payment_intent":null,"amount_total":900,"currency":"usd","customer_details":{"email":"a@x.io"}}`), nil),
			"", "", "session_paid_by_invoice", ""},
		{"stripe payment intent without email parks", `{"stripe":{"events":{"payment_intent.succeeded":"purchase"}}}`, env("stripe", "payment_intent.succeeded", stripeEv("payment_intent.succeeded", `{"id":"pi_5","amount_received":100,"currency":"usd","receipt_email":null,"customer":"cus_1"}`), nil), "", "", "", mapping.ReasonNoIdentity},
		{"stripe customer.created", "", env("stripe", "customer.created", stripeEv("customer.created", `{"id":"cus_9","email":"a@x.io"}`), nil),
			"stripe:customer:cus_9", `"eventType":"signup"`, "", ""},
		{"zupy WhatsApp-only member, synthetic identity", `{"zupy":{"syntheticEmail":true}}`, env("zupy", "points.earned", `{"event":"points.earned","timestamp":"2026-11-23T07:05:00Z","customer":{"member_id":"m1","whatsapp":"+55"},"transaction":{"transaction_id":"t9","order_value":10}}`, nil),
			"zupy:transaction:t9", `"userEmail":"zupy_m1@rsnc.network"`, "", ""},
		{"zupy second payload shape", "", env("zupy", "customer.enrolled", `{"event":"customer.enrolled","customer_id":42,"email":"a@x.io","points_added":10,"awarded_at":"2026-11-23T07:05:00Z"}`, nil),
			"zupy:member:42:signup", `"signup_source":"zupy"`, "", ""},
		{"loyalty now fields from configuration", `{"loyaltynow":{"currency":"NZD","fields":{"email":"data.person.mail","amount":"data.total.value","transactionId":"data.ref"}}}`,
			env("loyaltynow", "transaction.confirmed", `{"hook":"transaction.confirmed","data":{"person":{"mail":"a@x.io"},"total":{"value":12.5},"ref":"R1"},"sequence":5}`, nil),
			"loyaltynow:transaction:R1", `"currency":"NZD","order_id":"R1","order_value":12.5`, "", ""},
		{"loyalty now without transaction id keys on sequence", "", env("loyaltynow", "transaction.confirmed", `{"hook":"transaction.confirmed","data":{"email":"a@x.io","amount":3},"sequence":5}`, nil),
			"loyaltynow:sequence:d-1", `"order_value":3`, "", ""},
		{"custom event as sent", "", env("custom", "referral_complete", `{"id":"r-1","type":"referral_complete","customerEmail":"a@x.io","data":{"referred_email":"b@x.io","referral_code":"X"}}`, nil),
			"custom:r-1", `"eventType":"referral_complete","userEmail":"a@x.io","metadata":{"referral_code":"X","referred_email":"b@x.io"}`, "", ""},
		{"custom without email parks", "", env("custom", "purchase", `{"id":"p-1","type":"purchase","data":{}}`, nil), "", "", "", mapping.ReasonNoIdentity},
		{"custom type dropped by configuration", `{"custom":{"events":{"purchase":"purchase"}}}`, env("custom", "signup", `{"id":"s-1","type":"signup","customerEmail":"a@x.io"}`, nil), "", "", "event_not_mapped", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfgs, err := providers.LoadMapping(c.overrides)
			if err != nil {
				t.Fatal(err)
			}
			res, err := samples.Mappers()[c.env.Provider].Map(c.env, cfgs[c.env.Provider])
			var pe *mapping.ParkError
			switch {
			case c.wantPark != "":
				if !errors.As(err, &pe) || pe.Reason != c.wantPark {
					t.Fatalf("Map = %+v, %v; want parked %s", res, err, c.wantPark)
				}
			case err != nil:
				t.Fatalf("Map: %v", err)
			case c.wantSkip != "":
				if len(res.Rewards) != 0 || res.Skipped != c.wantSkip {
					t.Fatalf("Map = %+v, want skipped %s", res, c.wantSkip)
				}
			default:
				if len(res.Rewards) != 1 || res.Rewards[0].Key != c.wantKey {
					t.Fatalf("Map = %+v, want key %s", res, c.wantKey)
				}
				b, _ := res.Rewards[0].Event.Body()
				if !strings.Contains(string(b), c.wantBody) {
					t.Fatalf("body %s lacks %s", b, c.wantBody)
				}
			}
		})
	}
}

func TestLoadRejectsBadOverrides(t *testing.T) {
	for _, o := range []string{`[]`, `{"paypal":{}}`, `{"shopify":{"evnets":{}}}`} {
		if _, err := providers.LoadMapping(o); err == nil {
			t.Errorf("Load(%s) accepted", o)
		}
	}
}

func TestFromMinorUnits(t *testing.T) {
	for _, c := range []struct{ amount, cur, want string }{
		{"4999", "usd", "49.99"}, {"5", "eur", "0.05"}, {"250", "gbp", "2.50"}, {"5000", "JPY", "5000"},
		{"1234", "kwd", "1.234"}, {"1", "bhd", "0.001"}, {"9223372036854775807", "usd", "92233720368547758.07"},
	} {
		got, err := stripe.FromMinorUnits(jsonNumber(c.amount), c.cur)
		if err != nil || string(got) != c.want {
			t.Errorf("FromMinorUnits(%s %s) = %s, %v; want %s", c.amount, c.cur, got, err, c.want)
		}
	}
}
func jsonNumber(s string) json.Number { return json.Number(s) }
